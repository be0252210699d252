/**
 * The application store: one Zustand store made of small slices. Non-React
 * code uses `appStore.getState()`/`subscribe`; components use `useAppStore`
 * with a narrow selector so they re-render only for what they show.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { createSlidesSlice, type SlidesSlice } from './slides';
import { createJobsSlice, type JobsSlice } from './jobs';
import { createAlertsSlice, type AlertsSlice } from './alerts';
import { createOverlaysSlice, type OverlaysSlice } from './overlays';
import { createAnalysisSlice, type AnalysisSlice } from './analysis';
import { createSelectionsSlice, type SelectionsSlice } from './selections';
import { createNucleiSlice, type NucleiSlice } from './nuclei';
import { createClassifierSlice, type ClassifierSlice } from './classifier';

export type AppState = SlidesSlice & JobsSlice & AlertsSlice & OverlaysSlice & AnalysisSlice & SelectionsSlice & NucleiSlice & ClassifierSlice;
export type AppStore = StoreApi<AppState>;

export interface StoreOptions {
  /** Clock for job timing (ms); injectable for tests. */
  now?: () => number;
}

export function createAppStore(options: StoreOptions = {}): AppStore {
  const now = options.now ?? (() => performance.now());
  return createStore<AppState>()((...args) => ({
    ...createSlidesSlice(...args),
    ...createJobsSlice(now)(...args),
    ...createAlertsSlice(...args),
    ...createOverlaysSlice(...args),
    ...createAnalysisSlice(...args),
    ...createSelectionsSlice(...args),
    ...createNucleiSlice(...args),
    ...createClassifierSlice(...args),
  }));
}

/** The one store of the running app. */
export const appStore = createAppStore();

export function useAppStore<T>(selector: (state: AppState) => T): T {
  return useStore(appStore, selector);
}

export type { OpenSlide } from './slides';
export { effectiveMpp, selectActiveSlide } from './slides';
export type { Job, JobResult, JobStatus, ReportProgress, JobFn } from './jobs';
export { isAbortError, errorMessage } from './jobs';
export type { Alert, AlertLevel } from './alerts';
export { formatEta } from './eta';
export type { CishAnalysis, AnalysisTiles, AnalysisMask, TrainingState, BackendStatus } from './analysis';
export { nucleiAnalysisKey } from './analysis';
export type { SlideSelections } from './selections';
export type { NucleusAnnotations, SlideNuclei } from './nuclei';
export { NUCLEI_POINT_DEFAULTS } from './nuclei';
export type { ClassifierSlice } from './classifier';
