/**
 * Open slides. Pixels never live here: a slide is its metadata, the display
 * settings the viewer renders with, and the id the decoder pool knows it by.
 */
import type { StateCreator } from 'zustand';
import type { SlideMetadata } from '../slide/types';
import type { DisplaySettings } from '../slide/display';
import type { AppState } from './index';

export interface OpenSlide {
  /** Decoder-pool id, unique per opened file (the same file opened twice gets two ids). */
  id: string;
  /** File name as given by the user (untrusted text). */
  name: string;
  metadata: SlideMetadata;
  display: DisplaySettings;
  /** Manual µm/px (level 0) entered by the user; wins over the file's value. */
  mppOverride?: number;
}

export interface SlidesSlice {
  slides: OpenSlide[];
  activeSlideId: string | null;
  /** Adds a slide and makes it the active one. */
  addSlide(slide: OpenSlide): void;
  removeSlide(id: string): void;
  setActiveSlide(id: string): void;
  setDisplay(id: string, display: DisplaySettings): void;
  /** `undefined` clears the override. Non-positive or non-finite values are ignored. */
  setMppOverride(id: string, mpp: number | undefined): void;
}

/** µm per level-0 pixel actually used (override first, then the file's x value). */
export function effectiveMpp(slide: Pick<OpenSlide, 'metadata' | 'mppOverride'>): number | undefined {
  return slide.mppOverride ?? slide.metadata.mppX ?? slide.metadata.mppY;
}

export function selectActiveSlide(state: Pick<AppState, 'slides' | 'activeSlideId'>): OpenSlide | undefined {
  return state.slides.find((slide) => slide.id === state.activeSlideId);
}

const patchSlide = (slides: OpenSlide[], id: string, patch: Partial<OpenSlide>) =>
  slides.map((slide) => (slide.id === id ? { ...slide, ...patch } : slide));

export const createSlidesSlice: StateCreator<AppState, [], [], SlidesSlice> = (set) => ({
  slides: [],
  activeSlideId: null,

  addSlide(slide) {
    set((state) => ({ slides: [...state.slides.filter((s) => s.id !== slide.id), slide], activeSlideId: slide.id }));
  },

  removeSlide(id) {
    set((state) => {
      const index = state.slides.findIndex((slide) => slide.id === id);
      if (index < 0) return {};
      const slides = state.slides.filter((slide) => slide.id !== id);
      let activeSlideId = state.activeSlideId;
      if (activeSlideId === id) {
        // Activate the neighbour so closing keeps something on screen.
        activeSlideId = slides[Math.min(index, slides.length - 1)]?.id ?? null;
      }
      return { slides, activeSlideId };
    });
  },

  setActiveSlide(id) {
    set((state) => (state.slides.some((slide) => slide.id === id) ? { activeSlideId: id } : {}));
  },

  setDisplay(id, display) {
    set((state) => ({ slides: patchSlide(state.slides, id, { display }) }));
  },

  setMppOverride(id, mpp) {
    if (mpp !== undefined && !(Number.isFinite(mpp) && mpp > 0)) return;
    set((state) => ({ slides: patchSlide(state.slides, id, { mppOverride: mpp }) }));
  },
});
