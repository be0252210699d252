/**
 * Nucleus detection results per slide (seed 001's CAE): the trained model's
 * summary and the last detections, which the panel, the overlay and the
 * counts read.
 */
import type { StateCreator } from 'zustand';
import type { NucleiDetections, NucleiFineTuneOutcome, NucleiModelInfo, NucleiPointParams } from '../workers/cish-protocol';
import type { AppState } from './index';

export interface SlideNuclei {
  model: NucleiModelInfo | null;
  detections: NucleiDetections | null;
  /** Level-0 rectangle the detections cover; null: the whole slide. */
  roi: [number, number, number, number] | null;
  points: NucleiPointParams;
  /** Ground-truth nucleus points imported for evaluation (level-0 px). */
  annotations: NucleusAnnotations | null;
  /** The detection CNN fine-tuned on the annotations, when there is one, and whether detection uses it. */
  fineTuned: NucleiFineTuneOutcome | null;
  useFineTuned: boolean;
  /** Scores of the unsupervised detections against the annotations, kept when fine-tuning starts (F1 before and after). */
  baseline: { precision: number; recall: number; f1: number } | null;
}

export interface NucleusAnnotations {
  /** File the points came from. */
  name: string;
  x: Float64Array;
  y: Float64Array;
}

export interface NucleiSlice {
  nuclei: Record<string, SlideNuclei>;
  patchNuclei(slideId: string, patch: Partial<SlideNuclei>): void;
  forgetNuclei(slideId: string): void;
}

export const NUCLEI_POINT_DEFAULTS: NucleiPointParams = { threshold: 0.3, minDistance: 4, sigma: 2 };

export const createNucleiSlice: StateCreator<AppState, [], [], NucleiSlice> = (set) => ({
  nuclei: {},
  patchNuclei(slideId, patch) {
    set((state) => {
      const current = state.nuclei[slideId] ?? { model: null, detections: null, roi: null, points: NUCLEI_POINT_DEFAULTS, annotations: null, fineTuned: null, useFineTuned: false, baseline: null };
      return { nuclei: { ...state.nuclei, [slideId]: { ...current, ...patch } } };
    });
  },
  forgetNuclei(slideId) {
    set((state) => {
      const nuclei = { ...state.nuclei };
      delete nuclei[slideId];
      return { nuclei };
    });
  },
});
