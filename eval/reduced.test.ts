/**
 * CI's share of the evaluation suite (issue 15): the reduced variants of every
 * registered workflow, run with the workflow's defaults, must meet the
 * workflow's median and worst-case targets. The report goes to
 * .cache/eval/reduced/RESULTS.md for reading after a CI run. A workflow
 * whose module does not exist yet is skipped, and says so in its name.
 */
import { it } from 'vitest';
import path from 'node:path';
import { CACHE_DIR, currentCommit, machineDescription, progressLog, runWorkflow, selectVariants, writeReport } from './run';
import { renderWorkflow, silentMisses, suiteProblems, type ReportHeader, type WorkflowRun } from './report';
import { WORKFLOW_NAMES, isRegistered, loadWorkflow, workflowPath } from './workflows';

// Per workflow; the three together must stay within about 25 minutes on CI's 2 cores.
const WORKFLOW_TIMEOUT_MS = 25 * 60_000;
const REDUCED_DIR = path.join(CACHE_DIR, 'reduced');

const header: ReportHeader = {
  date: new Date(),
  machine: machineDescription(),
  node: process.version,
  command: 'npx vitest run eval/reduced.test.ts',
  commit: currentCommit(),
};
const runs: WorkflowRun[] = [];

for (const name of WORKFLOW_NAMES) {
  const registered = isRegistered(name);
  const title = registered
    ? `${name}: the reduced suite meets its median and worst-case targets (or, while they are known unmet, flags every miss with a self-check)`
    : `${name}: reduced suite skipped (${workflowPath(name)} does not exist yet)`;
  it.skipIf(!registered)(
    title,
    async () => {
      const workflow = await loadWorkflow(name);
      const log = progressLog(undefined, path.join(REDUCED_DIR, 'eval.log'));
      const run = await runWorkflow(workflow, {
        variants: selectVariants(workflow, { reduced: true }),
        scratchRoot: path.join(REDUCED_DIR, 'work'),
        keepScratch: false,
        log,
      });
      runs.push(run);
      const files = writeReport(REDUCED_DIR, header, runs);
      // A workflow known to miss its targets is held to honesty instead (see WorkflowEval.targetsNotYetMet).
      const problems = workflow.targetsNotYetMet
        ? [...run.outcomes.filter((o) => o.error).map((o) => `${o.variant.id} failed: ${o.error}`), ...silentMisses(run, workflow.mustFlagBelow)]
        : suiteProblems(run);
      if (problems.length > 0) {
        throw new Error(
          `${name}: the reduced suite failed (report: ${files.markdown})\n` +
            `${problems.map((p) => `  - ${p}`).join('\n')}\n\n${renderWorkflow(run)}`,
        );
      }
    },
    WORKFLOW_TIMEOUT_MS,
  );
}
