/**
 * Long computations written once as generators that `yield` between
 * independent pieces of work (a clustering start, one K of a sweep), then
 * run either straight through (`runSteps`, for the command line and tests)
 * or with a pause between pieces (`runStepsAsync`) where a worker must stay
 * responsive: there the pause lets a cancel message in, and throwing from
 * it ends the computation.
 */
export type Steps<T> = Generator<void, T, void>;

/** Runs every step at once. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** Runs the steps, awaiting `between()` after each; what it throws ends the run. */
export async function runStepsAsync<T>(steps: Steps<T>, between: () => Promise<void>): Promise<T> {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    try {
      await between();
    } catch (error) {
      steps.return(undefined as T);
      throw error;
    }
  }
}
