import { test } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeJpeg2000 } from './codecs/jpeg2000';
test('j2k', async () => {
  const buf = readFileSync('tests/fixtures/slide/svs-j2k-rgb.svs');
  const i = buf.indexOf(Buffer.from([0xff,0x4f,0xff,0x51]));
  const t = await decodeJpeg2000({ bytes: new Uint8Array(buf.subarray(i)), width: 240, height: 240, samplesPerPixel: 3, bitsPerSample: 8, dtype: 'uint8' }, 33005);
  writeFileSync('/tmp/j2k-tile.raw', t.data);
  writeFileSync('/tmp/j2k-tile.j2k', buf.subarray(i));
});
