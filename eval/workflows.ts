/**
 * The workflows of the evaluation suite. Each lives in
 * eval/<name>/workflow.ts and exports `workflow: WorkflowEval`. The modules
 * are found by Vite's glob import, so a workflow counts as registered once its
 * file exists; until then the runner and the reduced test leave it out and
 * say so (the harness could land before every workflow).
 */
import type { WorkflowEval, WorkflowName } from './types';

export const WORKFLOW_NAMES: readonly WorkflowName[] = ['cish', 'nuclei', 'classifier'];

// Literal paths (not './*/workflow.ts'): a stray folder must not become a workflow.
const modules = import.meta.glob<{ workflow?: WorkflowEval }>([
  './cish/workflow.ts',
  './nuclei/workflow.ts',
  './classifier/workflow.ts',
]);

export function workflowPath(name: string): string {
  return `eval/${name}/workflow.ts`;
}

export function isRegistered(name: string): boolean {
  return `./${name}/workflow.ts` in modules;
}

export function registeredNames(): WorkflowName[] {
  return WORKFLOW_NAMES.filter(isRegistered);
}

/** Imports a registered workflow; throws when its module is missing or exports the wrong thing. */
export async function loadWorkflow(name: WorkflowName): Promise<WorkflowEval> {
  const load = modules[`./${name}/workflow.ts`];
  if (!load) throw new Error(`workflow "${name}" is not registered: ${workflowPath(name)} does not exist`);
  const { workflow } = await load();
  if (!workflow || typeof workflow.run !== 'function' || typeof workflow.variants !== 'function') {
    throw new Error(`${workflowPath(name)} must export \`workflow: WorkflowEval\``);
  }
  if (workflow.name !== name) {
    throw new Error(`${workflowPath(name)} exports the workflow "${workflow.name}", expected "${name}"`);
  }
  return workflow;
}
