import { test } from 'vitest';
import { openAsBlob } from 'node:fs';
import { readdirSync } from 'node:fs';
import { openSlide } from './open';

test('smoke', async () => {
  const dir = 'tests/fixtures/slide/';
  for (const f of [...readdirSync(dir).filter((f) => f !== 'reference.json'), '../../../../shared/data/CMU-1-Small-Region.svs', '../../../../shared/data/test3-DAPI-2-387.ndpi']) {
    const t0 = performance.now();
    try {
      const s = await openSlide(await openAsBlob(dir + f), f);
      const m = s.metadata;
      const b = await s.readRegion({ level: 0, x: 0, y: 0, width: 64, height: 64 });
      let sum = 0; for (const v of b.data) sum += v;
      console.log(f, m.format, m.width, m.height, m.levels.map((l) => `${l.width}x${l.height}/${l.tileWidth}`).join(' '), m.channels.map((c) => c.name + c.color).join(','), m.dtype, m.rgb, m.mppX, m.objectivePower, m.associated.map((a) => a.name).join(','), 'mean', (sum / b.data.length).toFixed(2), (performance.now() - t0).toFixed(0) + 'ms');
    } catch (e) {
      console.log(f, 'ERR', (e as Error).message);
    }
  }
});
