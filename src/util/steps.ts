/**
 * Long computations written once as generators that `yield` between
 * pieces of work (an FCM iteration, a k-means start), then
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
