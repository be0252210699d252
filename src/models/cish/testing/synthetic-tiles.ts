/**
 * Deterministic synthetic grey tiles for tests: two visibly different
 * "stainings". Class 0 is bright with fine stripes; class 1 is dark with
 * scattered round blobs. Values are in [0, 1], row-major, one channel.
 */

export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

export function syntheticTile(cls: 0 | 1, size: number, seed: number): Float32Array {
  const rand = seededRandom(seed * 7919 + cls * 104729 + 17);
  const out = new Float32Array(size * size);
  if (cls === 0) {
    const period = 6 + rand() * 6;
    const phase = rand() * Math.PI * 2;
    const angle = rand() * Math.PI;
    const [cx, cy] = [Math.cos(angle), Math.sin(angle)];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const stripe = Math.sin(((x * cx + y * cy) / period) * 2 * Math.PI + phase);
        out[y * size + x] = 0.78 + 0.08 * stripe + 0.04 * (rand() - 0.5);
      }
    }
  } else {
    out.fill(0.32);
    const blobs = 25 + Math.floor(rand() * 15);
    for (let b = 0; b < blobs; b++) {
      const bx = rand() * size;
      const by = rand() * size;
      const r = (0.02 + rand() * 0.03) * size;
      const x0 = Math.max(0, Math.floor(bx - r));
      const x1 = Math.min(size - 1, Math.ceil(bx + r));
      const y0 = Math.max(0, Math.floor(by - r));
      const y1 = Math.min(size - 1, Math.ceil(by + r));
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          if ((x - bx) ** 2 + (y - by) ** 2 <= r * r) out[y * size + x] = 0.12;
        }
      }
    }
    for (let i = 0; i < out.length; i++) out[i] += 0.04 * (rand() - 0.5);
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, out[i]));
  return out;
}

/** `count` tiles alternating class 0, 1, 0, 1 … packed as [count, size, size, 1]. */
export function syntheticBatch(count: number, size: number, seed: number): { data: Float32Array; labels: number[] } {
  const data = new Float32Array(count * size * size);
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const cls = (i % 2) as 0 | 1;
    data.set(syntheticTile(cls, size, seed + i), i * size * size);
    labels.push(cls);
  }
  return { data, labels };
}
