import { it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { generateFishDataset } from '../synthetic/fish-nuclei';
it('dumpfish', () => {
  const set = generateFishDataset({ perClass: 300, size: 96, seed: 1 });
  const x = new Float32Array(set.images.length * 96 * 96 * 3);
  set.images.forEach((im, i) => x.set(im, i * im.length));
  writeFileSync('/tmp/fish_x.f32', Buffer.from(x.buffer));
  writeFileSync('/tmp/fish_y.u8', Buffer.from(set.labels.buffer));
  writeFileSync('/tmp/fish_rg.u8', Buffer.from(Uint8Array.from([...set.redCounts, ...set.greenCounts]).buffer));
});
