import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  affineFromPoints,
  affineScale,
  applyAffine,
  drawOverlays,
  invertAffine,
  makeView,
  swipeClipWidth,
  visibleRect,
  type Affine,
  type OverlayLayer,
} from './overlays';

interface AffineFixture {
  transform: number[];
  inverse: number[];
  scale: number;
  view: { width: number; height: number };
  visible: { x: number; y: number; width: number; height: number };
  samples: { image: [number, number]; screen: [number, number] }[];
}

const fixture: AffineFixture = JSON.parse(
  readFileSync(new URL('../../../tests/fixtures/viewer/affine.json', import.meta.url), 'utf8'),
);
const t = fixture.transform as unknown as Affine;

describe('overlay transforms (reference: numpy)', () => {
  it('maps level-0 points to the screen', () => {
    for (const { image, screen } of fixture.samples) {
      const p = applyAffine(t, image[0], image[1]);
      expect(p.x).toBeCloseTo(screen[0], 9);
      expect(p.y).toBeCloseTo(screen[1], 9);
    }
  });

  it('rebuilds the transform from the images of three points, as the viewer samples OSD', () => {
    const unit = 2220;
    const rebuilt = affineFromPoints(applyAffine(t, 0, 0), applyAffine(t, unit, 0), applyAffine(t, 0, unit), unit);
    rebuilt.forEach((v, i) => expect(v).toBeCloseTo(t[i], 12));
  });

  it('inverts like numpy.linalg.inv', () => {
    invertAffine(t).forEach((v, i) => expect(v).toBeCloseTo(fixture.inverse[i], 9));
    const round = applyAffine(invertAffine(t), ...(Object.values(applyAffine(t, 123, -45)) as [number, number]));
    expect(round.x).toBeCloseTo(123, 9);
    expect(round.y).toBeCloseTo(-45, 9);
    expect(() => invertAffine([0, 0, 0, 0, 1, 1])).toThrow();
  });

  it('finds the visible level-0 bounding box and the zoom', () => {
    const r = visibleRect(t, fixture.view.width, fixture.view.height);
    expect(r.x).toBeCloseTo(fixture.visible.x, 6);
    expect(r.y).toBeCloseTo(fixture.visible.y, 6);
    expect(r.width).toBeCloseTo(fixture.visible.width, 6);
    expect(r.height).toBeCloseTo(fixture.visible.height, 6);
    expect(affineScale(t)).toBeCloseTo(fixture.scale, 12);
  });

  it('describes an unrotated view exactly', () => {
    // 0.5 screen px per level-0 px, image origin at screen (100, 50).
    const view = makeView([0.5, 0, 0, 0.5, 100, 50], 800, 600, 2);
    expect(view.scale).toBe(0.5);
    expect(view.visible).toEqual({ x: -200, y: -100, width: 1600, height: 1200 });
    expect(view.pixelRatio).toBe(2);
  });
});

describe('swipe', () => {
  it('clips only layers that opt in, and only while the divider is set', () => {
    expect(swipeClipWidth({ swipe: true }, { swipeX: 300, width: 800 })).toBe(300);
    expect(swipeClipWidth({ swipe: true }, { swipeX: -20, width: 800 })).toBe(0);
    expect(swipeClipWidth({ swipe: true }, { swipeX: 900, width: 800 })).toBe(800);
    expect(swipeClipWidth({ swipe: true }, { width: 800 })).toBeNull();
    expect(swipeClipWidth({}, { swipeX: 300, width: 800 })).toBeNull();
  });

  it('draws a swipe layer inside a clip rectangle left of the divider (device px)', () => {
    const calls: string[] = [];
    const record = (name: string) => (...args: unknown[]) => calls.push(`${name}(${args.join(',')})`);
    const ctx = {
      canvas: { width: 1600, height: 1200 },
      globalAlpha: 1,
      fillStyle: '',
      save: record('save'),
      restore: record('restore'),
      setTransform: record('setTransform'),
      clearRect: record('clearRect'),
      beginPath: record('beginPath'),
      rect: record('rect'),
      clip: record('clip'),
      fillRect: record('fillRect'),
    } as unknown as CanvasRenderingContext2D;
    const tiles = (id: string, swipe: boolean): OverlayLayer => ({
      id,
      name: id,
      slideId: null,
      kind: 'tiles',
      opacity: 1,
      visible: true,
      swipe,
      rects: new Float32Array([0, 0, 10, 10]),
      colors: new Uint8Array([255, 0, 0, 255]),
    });
    drawOverlays(ctx, [tiles('plain', false), tiles('swiped', true)], null, makeView([1, 0, 0, 1, 0, 0], 800, 600, 2, 250));
    const clips = calls.filter((c) => c.startsWith('rect(') || c === 'clip()');
    expect(clips).toEqual(['rect(0,0,250,600)', 'clip()']);
    // The clip comes after the second layer's save, so it ends with that layer's restore.
    expect(calls.indexOf('clip()')).toBeGreaterThan(calls.lastIndexOf('save()'));
  });
});
