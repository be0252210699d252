/**
 * Jobs: long user actions (open, train, encode, cluster…) with progress, ETA
 * and cancellation. `runJob` is the one way to start one; it never rejects, the
 * outcome is in the returned JobResult so UI callbacks can simply `void` it.
 */
import type { StateCreator } from 'zustand';
import { EtaEstimator } from './eta';
import type { AppState } from './index';

export type JobStatus = 'running' | 'done' | 'failed' | 'cancelled';

export interface Job {
  id: string;
  label: string;
  /** 0..1 */
  progress: number;
  /** Seconds left; null while unknown. */
  etaSeconds: number | null;
  /** Optional short text from the job, e.g. "epoch 3/10". */
  detail?: string;
  status: JobStatus;
  error?: string;
  startedAt: number;
  finishedAt?: number;
  cancel: () => void;
}

export type ReportProgress = (progress: number, detail?: string) => void;
export type JobFn<T> = (reportProgress: ReportProgress, signal: AbortSignal) => Promise<T>;

export type JobResult<T> =
  | { status: 'done'; value: T }
  | { status: 'cancelled' }
  | { status: 'failed'; error: unknown };

export interface JobsSlice {
  jobs: Job[];
  runJob<T>(label: string, fn: JobFn<T>): Promise<JobResult<T>>;
  cancelJob(id: string): void;
  dismissJob(id: string): void;
}

/** Finished jobs kept for display. */
const KEEP_FINISHED = 10;
/** Store updates from progress callbacks are throttled to this interval (ms). */
const PROGRESS_INTERVAL_MS = 100;

let jobCounter = 0;

export function isAbortError(error: unknown): boolean {
  return (
    (error instanceof DOMException && error.name === 'AbortError') ||
    (error instanceof Error && error.name === 'AbortError')
  );
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export const createJobsSlice =
  (now: () => number): StateCreator<AppState, [], [], JobsSlice> =>
  (set, get) => {
    const patchJob = (id: string, patch: Partial<Job>) =>
      set((state) => ({ jobs: state.jobs.map((job) => (job.id === id ? { ...job, ...patch } : job)) }));

    const finishJob = (id: string, patch: Partial<Job>) =>
      set((state) => {
        const jobs = state.jobs.map((job) => (job.id === id ? { ...job, ...patch, finishedAt: now() } : job));
        const finished = jobs.filter((job) => job.status !== 'running');
        if (finished.length <= KEEP_FINISHED) return { jobs };
        const drop = new Set(finished.slice(0, finished.length - KEEP_FINISHED).map((job) => job.id));
        return { jobs: jobs.filter((job) => !drop.has(job.id)) };
      });

    return {
      jobs: [],

      async runJob<T>(label: string, fn: JobFn<T>): Promise<JobResult<T>> {
        const id = `job-${++jobCounter}`;
        const controller = new AbortController();
        const estimator = new EtaEstimator();
        const startedAt = now();
        estimator.update(0, startedAt);
        let lastPush = -Infinity;

        set((state) => ({
          jobs: [
            ...state.jobs,
            {
              id,
              label,
              progress: 0,
              etaSeconds: null,
              status: 'running',
              startedAt,
              cancel: () => controller.abort(),
            },
          ],
        }));

        const report: ReportProgress = (progress, detail) => {
          if (controller.signal.aborted) return;
          const t = now();
          const etaSeconds = estimator.update(progress, t);
          if (t - lastPush < PROGRESS_INTERVAL_MS && progress < 1) return;
          lastPush = t;
          patchJob(id, { progress: Math.min(1, Math.max(0, progress)), etaSeconds, detail });
        };

        try {
          const value = await fn(report, controller.signal);
          if (controller.signal.aborted) {
            finishJob(id, { status: 'cancelled', etaSeconds: null });
            return { status: 'cancelled' };
          }
          finishJob(id, { status: 'done', progress: 1, etaSeconds: 0 });
          return { status: 'done', value };
        } catch (error) {
          if (controller.signal.aborted || isAbortError(error)) {
            finishJob(id, { status: 'cancelled', etaSeconds: null });
            return { status: 'cancelled' };
          }
          const message = errorMessage(error);
          finishJob(id, { status: 'failed', error: message, etaSeconds: null });
          get().pushAlert(`${label}: ${message}`);
          return { status: 'failed', error };
        }
      },

      cancelJob(id) {
        get().jobs.find((job) => job.id === id)?.cancel();
      },

      dismissJob(id) {
        set((state) => ({ jobs: state.jobs.filter((job) => job.id !== id || job.status === 'running') }));
      },
    };
  };
