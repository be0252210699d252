/**
 * Overlay layers drawn over the viewer (tile maps, points, custom drawings).
 * The layer data are the same typed arrays the analysis produces; the store
 * only holds references, so adding a layer copies nothing.
 */
import type { StateCreator } from 'zustand';
import type { OverlayLayer } from './overlay-types';
import type { AppState } from './index';

export interface OverlaysSlice {
  overlays: OverlayLayer[];
  /** Adds or replaces (same id) a layer. */
  addOverlay(layer: OverlayLayer): void;
  /** Patches display fields or swaps data; pass a full layer of the same kind to change data. */
  updateOverlay(id: string, patch: Partial<Pick<OverlayLayer, 'opacity' | 'visible' | 'name'>>): void;
  removeOverlay(id: string): void;
  /**
   * Swipe comparison: the divider's x as a share of the viewer width (0..1),
   * or null when off. Layers with `swipe: true` are drawn only left of it.
   */
  swipe: number | null;
  setSwipe(position: number | null): void;
}

export const createOverlaysSlice: StateCreator<AppState, [], [], OverlaysSlice> = (set) => ({
  overlays: [],

  addOverlay(layer) {
    set((state) => {
      const index = state.overlays.findIndex((existing) => existing.id === layer.id);
      if (index < 0) return { overlays: [...state.overlays, layer] };
      const overlays = state.overlays.slice();
      overlays[index] = layer;
      return { overlays };
    });
  },

  updateOverlay(id, patch) {
    set((state) => ({
      overlays: state.overlays.map((layer) => (layer.id === id ? ({ ...layer, ...patch } as OverlayLayer) : layer)),
    }));
  },

  removeOverlay(id) {
    set((state) => ({ overlays: state.overlays.filter((layer) => layer.id !== id) }));
  },

  swipe: null,

  setSwipe(position) {
    set({ swipe: position === null ? null : Math.max(0, Math.min(1, position)) });
  },
});
