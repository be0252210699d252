/**
 * The latent explorer's named selections per slide, with their undo/redo
 * history. Items are the rows of the slide's analysis (kept tiles); the
 * history lives here too so that undo is one action from anywhere.
 */
import type { StateCreator } from 'zustand';
import type { AppState } from './index';
import { SelectionHistory, emptySelectionSet, type SelectionSet } from '../analysis/selections';

export interface SlideSelections {
  set: SelectionSet;
  canUndo: boolean;
  canRedo: boolean;
}

export interface SelectionsSlice {
  selections: Record<string, SlideSelections>;
  /** Applies an edit to the slide's selections (recorded for undo); `items` sizes a fresh set. */
  editSelections(slideId: string, items: number, edit: (set: SelectionSet) => SelectionSet): void;
  undoSelections(slideId: string): void;
  redoSelections(slideId: string): void;
  /** Forgets the slide's selections and history (e.g. when its items change). */
  resetSelections(slideId: string): void;
  /** Puts back stored selections, with a fresh history (nothing to undo). */
  loadSelections(slideId: string, set: SelectionSet): void;
}

export const createSelectionsSlice: StateCreator<AppState, [], [], SelectionsSlice> = (set, get) => {
  // Histories hold mutable stacks, so they stay outside the immutable state.
  const histories = new Map<string, SelectionHistory>();
  const publish = (slideId: string, history: SelectionHistory) =>
    set((state) => ({
      selections: { ...state.selections, [slideId]: { set: history.current, canUndo: history.canUndo, canRedo: history.canRedo } },
    }));
  const historyOf = (slideId: string, items: number) => {
    let history = histories.get(slideId);
    if (!history || history.current.items !== items) {
      history = new SelectionHistory(emptySelectionSet(items));
      histories.set(slideId, history);
    }
    return history;
  };
  return {
    selections: {},
    editSelections(slideId, items, edit) {
      const history = historyOf(slideId, items);
      history.push(edit(history.current));
      publish(slideId, history);
    },
    undoSelections(slideId) {
      const history = histories.get(slideId);
      if (!history) return;
      history.undo();
      publish(slideId, history);
    },
    redoSelections(slideId) {
      const history = histories.get(slideId);
      if (!history) return;
      history.redo();
      publish(slideId, history);
    },
    loadSelections(slideId, loaded) {
      const history = new SelectionHistory(loaded);
      histories.set(slideId, history);
      publish(slideId, history);
    },
    resetSelections(slideId) {
      histories.delete(slideId);
      if (!(slideId in get().selections)) return;
      set((state) => {
        const selections = { ...state.selections };
        delete selections[slideId];
        return { selections };
      });
    },
  };
};
