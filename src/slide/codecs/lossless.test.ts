import { deflateSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { decodeLzw, inflate, lzwDecompress, packBitsDecompress } from './lossless';

describe('PackBits', () => {
  test('decodes the example of the TIFF 6.0 specification', () => {
    const packed = new Uint8Array([0xfe, 0xaa, 0x02, 0x80, 0x00, 0x2a, 0xfd, 0xaa, 0x03, 0x80, 0x00, 0x2a, 0x22, 0xf7, 0xaa]);
    const expected = [0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0xaa, 0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0x22, ...Array(10).fill(0xaa)];
    expect(Array.from(packBitsDecompress(packed, 24))).toEqual(expected);
  });
  test('never writes past the expected size', () => {
    expect(packBitsDecompress(new Uint8Array([0x81, 7, 0x81, 7]), 100)).toHaveLength(100);
  });
});

describe('LZW', () => {
  test('decodes codes written by hand: "ABABABA"', () => {
    // 9-bit codes: Clear(256) A(65) B(66) 258(AB) 260(ABA) End(257).
    const codes = [256, 65, 66, 258, 260, 257];
    const bits = codes.map((c) => c.toString(2).padStart(9, '0')).join('').padEnd(56, '0');
    const bytes = new Uint8Array(bits.length / 8).map((_, i) => parseInt(bits.slice(i * 8, i * 8 + 8), 2));
    expect(new TextDecoder().decode(lzwDecompress(bytes, 100))).toBe('ABABABA');
  });
  test('truncated data is reported as corrupt', async () => {
    const input = { bytes: new Uint8Array([0x80, 0x10, 0x20]), width: 8, height: 8, samplesPerPixel: 1, bitsPerSample: 8, dtype: 'uint8' as const };
    await expect(decodeLzw(input)).rejects.toThrow(/corrupt LZW data \(decodes to \d+ bytes, expected 64\)/);
  });
});

test('Deflate stops at the expected size (a 64 MB bomb yields 4 KB)', async () => {
  const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024));
  const out = await inflate(bomb, 4096);
  expect(out.length).toBe(4096);
});
