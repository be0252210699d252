/**
 * Entry of `npm run eval` (eval/vitest.config.ts): the whole evaluation
 * suite, or the part the EVAL_* variables select (eval/README.md). Fails when
 * a variant failed or a target was missed, after the report is written.
 */
import { it } from 'vitest';
import path from 'node:path';
import { REPO_ROOT, evalOptionsFromEnv, mergeReports, runSuite } from './run';

it('evaluation suite', async () => {
  // EVAL_MERGE=dir,dir…: no run, one report from runs made in parallel (eval/README.md).
  const merge = process.env.EVAL_MERGE?.split(',').filter(Boolean);
  const { problems, files } = merge
    ? mergeReports(merge.map((d) => path.resolve(REPO_ROOT, d)), process.env.EVAL_OUT ? path.resolve(REPO_ROOT, process.env.EVAL_OUT) : path.join(REPO_ROOT, 'eval'))
    : await runSuite(evalOptionsFromEnv());
  const lines = [...problems].flatMap(([name, list]) => list.map((p) => `${name}: ${p}`));
  if (lines.length > 0) {
    throw new Error(`${lines.length} problem(s); report in ${files.markdown}\n${lines.join('\n')}`);
  }
});
