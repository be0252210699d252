/**
 * Entry of `npm run eval` (eval/vitest.config.ts): the whole evaluation
 * suite, or the part the EVAL_* variables select (eval/README.md). Fails when
 * a variant failed or a target was missed, after the report is written.
 */
import { it } from 'vitest';
import { evalOptionsFromEnv, runSuite } from './run';

it('evaluation suite', async () => {
  const { problems, files } = await runSuite(evalOptionsFromEnv());
  const lines = [...problems].flatMap(([name, list]) => list.map((p) => `${name}: ${p}`));
  if (lines.length > 0) {
    throw new Error(`${lines.length} problem(s); report in ${files.markdown}\n${lines.join('\n')}`);
  }
});
