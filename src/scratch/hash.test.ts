import { it } from 'vitest';
import { createHash } from 'node:crypto';
import { generateFishDataset } from '../synthetic/fish-nuclei';
import { generateHeNuclei } from '../synthetic/he-nuclei';
it('hash', () => {
  const h = createHash('sha256');
  for (const im of generateFishDataset({ perClass: 3, size: 64, seed: 4 }).images) h.update(Buffer.from(im.buffer));
  const he = generateHeNuclei({ seed: 3 }) as unknown as Record<string, unknown>;
  for (const v of Object.values(he)) if (ArrayBuffer.isView(v)) h.update(Buffer.from((v as Uint8Array).buffer));
  console.log('HASH', h.digest('hex'));
});
