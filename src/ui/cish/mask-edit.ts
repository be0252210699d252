/**
 * Brush editing of the tissue mask. A stroke paints into a working copy that
 * the overlay shows as it grows; when the stroke ends the copy becomes the
 * stored mask (a new array, so every view updates) and is saved. The masks
 * replaced by strokes are kept for undo.
 */
import { appStore, type AnalysisMask } from '../../store';
import { paintStroke } from '../viewer/draw-geometry';
import type { BrushStrokeEvent } from '../viewer/draw-tools';
import { saveEditedMask, showEditedMask, syncOverlays } from './cish-service';

/** Undo keeps at most this many strokes, and at most this many bytes of old masks. */
const UNDO_STEPS = 20;
const UNDO_BYTES = 64 * 1024 * 1024;

interface Edit {
  before: Uint8Array;
  after: Uint8Array;
}

const undoStacks = new Map<string, Edit[]>();
const strokes = new Map<string, { working: AnalysisMask; changed: boolean }>();

function storedMask(slideId: string): AnalysisMask | null {
  return appStore.getState().analysis[slideId]?.mask ?? null;
}

/** Applies one piece of a brush stroke to the slide's mask: 1 paints tissue, 0 erases it. */
export function applyBrushStroke(slideId: string, event: BrushStrokeEvent, radius0: number, value: 0 | 1): void {
  if (event.phase === 'start') {
    const mask = storedMask(slideId);
    if (!mask) return;
    const working = { ...mask, data: mask.data.slice() };
    const box = paintStroke(working, event.points, radius0, value);
    strokes.set(slideId, { working, changed: box !== null });
    showEditedMask(slideId, working, mask.data, box);
    return;
  }
  const stroke = strokes.get(slideId);
  if (!stroke) return;
  if (event.phase === 'move') {
    const box = paintStroke(stroke.working, event.points, radius0, value);
    if (!box) return;
    stroke.changed = true;
    showEditedMask(slideId, stroke.working, stroke.working.data, box);
    return;
  }
  strokes.delete(slideId);
  const before = storedMask(slideId);
  if (!stroke.changed || !before || before.data.length !== stroke.working.data.length) {
    // Nothing painted (or the mask was recomputed meanwhile): show the stored mask again.
    syncOverlays(slideId);
    return;
  }
  const stack = undoStacks.get(slideId) ?? [];
  stack.push({ before: before.data, after: stroke.working.data });
  let bytes = stack.reduce((sum, edit) => sum + edit.before.byteLength, 0);
  while (stack.length > UNDO_STEPS || (stack.length > 1 && bytes > UNDO_BYTES)) bytes -= stack.shift()!.before.byteLength;
  undoStacks.set(slideId, stack);
  saveEditedMask(slideId, stroke.working);
}

/** True when the last stroke can be undone (a recomputed mask ends the history). */
export function canUndoMaskEdit(slideId: string): boolean {
  const stack = undoStacks.get(slideId);
  const top = stack?.[stack.length - 1];
  return !!top && top.after === storedMask(slideId)?.data;
}

/** Restores the mask from before the last stroke. */
export function undoMaskEdit(slideId: string): boolean {
  const mask = storedMask(slideId);
  if (!mask || !canUndoMaskEdit(slideId)) {
    undoStacks.delete(slideId);
    return false;
  }
  const edit = undoStacks.get(slideId)!.pop()!;
  saveEditedMask(slideId, { ...mask, data: edit.before });
  return true;
}
