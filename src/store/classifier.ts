/**
 * Shapes drawn on a slide as classifier training examples (issue 6): per
 * slide, in drawing order, each with its class name. The panel turns them
 * into labelled patches (shapeRegions) when it trains.
 */
import type { StateCreator } from 'zustand';
import type { DrawnShape } from '../models/classifier/dataset';
import type { AppState } from './index';

export interface ClassifierSlice {
  classifierShapes: Record<string, DrawnShape[]>;
  setClassifierShapes(slideId: string, shapes: DrawnShape[]): void;
}

export const createClassifierSlice: StateCreator<AppState, [], [], ClassifierSlice> = (set) => ({
  classifierShapes: {},
  setClassifierShapes(slideId, shapes) {
    set((state) => ({ classifierShapes: { ...state.classifierShapes, [slideId]: shapes } }));
  },
});
