import { describe, expect, it } from 'vitest';
import { chooseScaleBar, formatLength } from './scale-bar';

describe('chooseScaleBar', () => {
  it('picks the largest 1/2/5 length that fits', () => {
    // 0.499 µm/px at 100 %: 120 px ≈ 59.9 µm → 50 µm bar of 100.2 px.
    const spec = chooseScaleBar(0.499, 120)!;
    expect(spec.lengthUm).toBe(50);
    expect(spec.label).toBe('50 µm');
    expect(spec.px).toBeCloseTo(50 / 0.499, 9);
    // Zoomed out 64×: 31.9 µm per px → 3.83 mm fits → 2 mm.
    expect(chooseScaleBar(0.499 * 64, 120)).toMatchObject({ lengthUm: 2000, label: '2 mm' });
    // Zoomed in 8×: 0.062 µm per px → 7.5 µm → 5 µm.
    expect(chooseScaleBar(0.499 / 8, 120)).toMatchObject({ lengthUm: 5, label: '5 µm' });
    // Exactly on a step boundary.
    expect(chooseScaleBar(1, 100)).toMatchObject({ lengthUm: 100, px: 100 });
    // Sub-micrometre.
    expect(chooseScaleBar(0.001, 120)).toMatchObject({ lengthUm: 0.1, label: '100 nm' });
  });

  it('never exceeds the allowed width', () => {
    for (let umPerPx = 0.0137; umPerPx < 500; umPerPx *= 1.37) {
      const spec = chooseScaleBar(umPerPx, 140)!;
      expect(spec.px).toBeLessThanOrEqual(140 + 1e-9);
      expect(spec.px).toBeGreaterThan(140 / 2.5 - 1e-9);
    }
  });

  it('gives nothing without a scale', () => {
    expect(chooseScaleBar(0)).toBeNull();
    expect(chooseScaleBar(Number.NaN)).toBeNull();
    expect(chooseScaleBar(Infinity)).toBeNull();
  });

  it('formats lengths', () => {
    expect(formatLength(2500)).toBe('2.5 mm');
    expect(formatLength(20)).toBe('20 µm');
    expect(formatLength(0.2)).toBe('200 nm');
  });
});
