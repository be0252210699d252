/**
 * Scale bar length: the largest 1/2/5×10^k µm length that fits in
 * `maxPx` screen pixels at the current zoom.
 */
export interface ScaleBarSpec {
  /** Length the bar stands for, in µm. */
  lengthUm: number;
  /** Bar width in CSS px. */
  px: number;
  /** "50 µm", "1 mm", "2.5 mm"… */
  label: string;
}

const STEPS = [1, 2, 5];

export function formatLength(um: number): string {
  if (um >= 1000) return `${trim(um / 1000)} mm`;
  if (um >= 1) return `${trim(um)} µm`;
  return `${trim(um * 1000)} nm`;
}

function trim(value: number): string {
  return String(Number(value.toPrecision(6)));
}

/**
 * @param umPerScreenPx µm covered by one CSS pixel (µm/px of level 0 divided by the zoom in screen px per level-0 px)
 * @param maxPx widest bar allowed
 */
export function chooseScaleBar(umPerScreenPx: number, maxPx = 120): ScaleBarSpec | null {
  if (!(umPerScreenPx > 0) || !Number.isFinite(umPerScreenPx) || !(maxPx > 0)) return null;
  const maxUm = umPerScreenPx * maxPx;
  let exponent = Math.floor(Math.log10(maxUm));
  let best = 0;
  for (let tries = 0; tries < 2 && best === 0; tries++, exponent--) {
    for (const step of STEPS) {
      const candidate = step * 10 ** exponent;
      if (candidate <= maxUm * (1 + 1e-9) && candidate > best) best = candidate;
    }
  }
  if (best === 0) return null;
  const lengthUm = Number(best.toPrecision(12));
  return { lengthUm, px: lengthUm / umPerScreenPx, label: formatLength(lengthUm) };
}
