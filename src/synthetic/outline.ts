/**
 * Irregular nucleus outlines shared by the synthetic H&E and FISH nuclei: an
 * ellipse whose radius is scaled by 1 + Σ amp_k cos(kφ + phase_k) over three
 * consecutive harmonics k (2–4 for FISH crops, 3–5 for H&E nuclei).
 */
import type { Random } from '../util/random';

/**
 * Three harmonics' coefficients [amp·cos(phase), amp·sin(phase)] × 3, each
 * amplitude uniform in [0, irregularity / 3] (so together ≤ irregularity),
 * each phase uniform; drawn amplitude then phase, harmonic by harmonic.
 */
export function randomHarmonics(rng: Random, irregularity: number): Float64Array {
  const harmonics = new Float64Array(6);
  for (let k = 0; k < 3; k++) {
    const amplitude = rng.uniform() * (irregularity / 3);
    const phase = rng.uniform() * 2 * Math.PI;
    harmonics[2 * k] = amplitude * Math.cos(phase);
    harmonics[2 * k + 1] = amplitude * Math.sin(phase);
  }
  return harmonics;
}

/**
 * The radial factor 1 + Σ amp_k cos(kφ + phase_k) for k = first … first + 2
 * (first 2 or 3), from the unit direction (c, s) = (cos φ, sin φ) in the
 * nucleus frame. cos kφ and sin kφ come from (c + i s)^k by complex
 * multiplication: no trigonometry per pixel.
 */
export function harmonicFactor(harmonics: Float64Array, first: 2 | 3, c: number, s: number): number {
  const c2 = c * c - s * s;
  const s2 = 2 * c * s;
  const c3 = c2 * c - s2 * s;
  const s3 = c2 * s + s2 * c;
  const c4 = c2 * c2 - s2 * s2;
  const s4 = 2 * c2 * s2;
  const h = harmonics;
  // amp·cos(kφ + p) = (amp cos p) cos kφ − (amp sin p) sin kφ
  if (first === 2) return 1 + h[0] * c2 - h[1] * s2 + h[2] * c3 - h[3] * s3 + h[4] * c4 - h[5] * s4;
  const c5 = c4 * c - s4 * s;
  const s5 = c4 * s + s4 * c;
  return 1 + h[0] * c3 - h[1] * s3 + h[2] * c4 - h[3] * s4 + h[4] * c5 - h[5] * s5;
}
