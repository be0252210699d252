#!/usr/bin/env node
/**
 * Writes a valid BigTIFF larger than 2 GB in a few seconds, as a sparse file:
 *
 *   node scripts/make-sparse-bigtiff.mjs OUT [GB=2.5] [SOURCE_TIFF]
 *
 * It is a tiled JPEG pyramid of 120000 × 80000 px, halved down to ≤ 1024 px (a realistic
 * whole-slide size). All tile offsets point at a handful of real JPEG tiles
 * taken from SOURCE_TIFF (default tests/fixtures/slide/cmu-jpeg.tif, a vips
 * JPEG pyramid), stored twice: once right after the header and once near
 * the end of the file, beyond 2 GB. The IFDs and their offset tables also
 * sit near the end, so a reader has to seek; everything in between is a
 * hole that the file system does not store.
 *
 * Which stored tile a pyramid tile (tx, ty) shows:
 *   source tile k = (tx + 3 * ty) % K, copy = ((tx >> 4) + (ty >> 4)) % 2
 * where K is the number of source tiles and copy 1 is the one past 2 GB.
 * Prints a JSON summary on stdout.
 */
import { closeSync, openSync, readFileSync, writeSync, ftruncateSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const LEVEL0 = { width: 120_000, height: 80_000 };
// Halve until the coarsest level fits in 1024 px, as scanners and `vips --pyramid` do.
const LEVELS = Math.ceil(Math.log2(Math.max(LEVEL0.width, LEVEL0.height) / 1024)) + 1;
const SOURCE_TILE_COUNT = 8;
/** 0.25 µm/px = 40000 px/cm. */
const PIXELS_PER_CM = 40_000;

const [, , out, gbArg = '2.5', sourceArg] = process.argv;
if (!out) {
  console.error('usage: node scripts/make-sparse-bigtiff.mjs OUT [GB=2.5] [SOURCE_TIFF]');
  process.exit(2);
}
const totalBytes = Math.round(Number(gbArg) * 1024 ** 3);
if (!(totalBytes > 2 ** 31)) {
  console.error('GB must give a file larger than 2 GB');
  process.exit(2);
}
const sourcePath = sourceArg ?? fileURLToPath(new URL('../tests/fixtures/slide/cmu-jpeg.tif', import.meta.url));

// ---- Read the source tiles (a little-endian BigTIFF, first IFD only). ----
const source = readFileSync(sourcePath);
if (source.readUInt16LE(0) !== 0x4949 || source.readUInt16LE(2) !== 43) {
  throw new Error(`${sourcePath}: expected a little-endian BigTIFF`);
}
const sourceTags = readBigTiffIfd(source, Number(source.readBigUInt64LE(8)));
const tileWidth = sourceTags.get(322)[0];
const tileHeight = sourceTags.get(323)[0];
const sourceOffsets = sourceTags.get(324);
const sourceCounts = sourceTags.get(325);
const jpegTables = sourceTags.get(347);
const photometric = sourceTags.get(262)?.[0] ?? 6;
if (sourceTags.get(259)[0] !== 7) throw new Error(`${sourcePath}: expected JPEG tiles`);
const tiles = [];
for (let k = 0; k < SOURCE_TILE_COUNT; k++) {
  tiles.push(source.subarray(sourceOffsets[k], sourceOffsets[k] + sourceCounts[k]));
}
const tileBlock = Buffer.concat(tiles);
const tileStarts = [];
for (let k = 0, at = 0; k < tiles.length; k++) {
  tileStarts.push(at);
  at += tiles[k].length;
}

// ---- Layout: header | tiles (copy 0) | hole | tiles (copy 1) | tables + IFDs. ----
const levels = [];
for (let i = 0, w = LEVEL0.width, h = LEVEL0.height; i < LEVELS; i++, w = Math.ceil(w / 2), h = Math.ceil(h / 2)) {
  levels.push({ width: w, height: h, across: Math.ceil(w / tileWidth), down: Math.ceil(h / tileHeight) });
}
const description = Buffer.from('Sparse BigTIFF test pyramid (scripts/make-sparse-bigtiff.mjs)\0', 'latin1');
const metadataBytes = levels.reduce((sum, l) => sum + l.across * l.down * 12 + 1024, 0) + jpegTables.length * LEVELS + 4096;
const copyOffsets = [16, totalBytes - metadataBytes - tileBlock.length];
let cursor = copyOffsets[1] + tileBlock.length;

const fd = openSync(out, 'w');
const writeAt = (buffer, position) => writeSync(fd, buffer, 0, buffer.length, position);
const alloc = (buffer) => {
  const at = cursor;
  writeAt(buffer, at);
  cursor += buffer.length + (buffer.length % 2);
  return at;
};
writeAt(tileBlock, copyOffsets[0]);
writeAt(tileBlock, copyOffsets[1]);

const ifdOffsets = [];
const pendingNextLinks = [];
levels.forEach((level, index) => {
  const count = level.across * level.down;
  const offsets = Buffer.alloc(count * 8);
  const counts = Buffer.alloc(count * 4);
  for (let ty = 0, i = 0; ty < level.down; ty++) {
    for (let tx = 0; tx < level.across; tx++, i++) {
      const k = (tx + 3 * ty) % tiles.length;
      const copy = ((tx >> 4) + (ty >> 4)) % 2;
      offsets.writeBigUInt64LE(BigInt(copyOffsets[copy] + tileStarts[k]), i * 8);
      counts.writeUInt32LE(tiles[k].length, i * 4);
    }
  }
  const entries = [
    [254, 4, [index === 0 ? 0 : 1]],
    [256, 4, [level.width]],
    [257, 4, [level.height]],
    [258, 3, [8, 8, 8]],
    [259, 3, [7]],
    [262, 3, [photometric]],
    [270, 2, description],
    [277, 3, [3]],
    [282, 5, [PIXELS_PER_CM / 2 ** index, 1]],
    [283, 5, [PIXELS_PER_CM / 2 ** index, 1]],
    [284, 3, [1]],
    [296, 3, [3]],
    [322, 3, [tileWidth]],
    [323, 3, [tileHeight]],
    [324, 16, offsets],
    [325, 4, counts],
    [347, 7, jpegTables],
  ];
  if (sourceTags.has(530)) entries.push([530, 3, sourceTags.get(530)]);
  entries.sort((a, b) => a[0] - b[0]);
  const ifd = Buffer.alloc(8 + entries.length * 20 + 8);
  ifd.writeBigUInt64LE(BigInt(entries.length), 0);
  entries.forEach(([tag, type, values], e) => {
    const at = 8 + e * 20;
    const payload = Buffer.isBuffer(values) ? values : encodeValues(type, values);
    const valueCount = Buffer.isBuffer(values) ? payload.length / typeSize(type) : type === 5 ? values.length / 2 : values.length;
    ifd.writeUInt16LE(tag, at);
    ifd.writeUInt16LE(type, at + 2);
    ifd.writeBigUInt64LE(BigInt(valueCount), at + 4);
    if (payload.length <= 8) payload.copy(ifd, at + 12);
    else ifd.writeBigUInt64LE(BigInt(alloc(payload)), at + 12);
  });
  const ifdAt = alloc(ifd);
  ifdOffsets.push(ifdAt);
  pendingNextLinks.push({ position: ifdAt + 8 + entries.length * 20, buffer: ifd });
});
// Chain the IFDs: level 0 → 1 → 2 → end.
pendingNextLinks.forEach(({ position }, i) => {
  const next = Buffer.alloc(8);
  next.writeBigUInt64LE(BigInt(ifdOffsets[i + 1] ?? 0));
  writeAt(next, position);
});
if (cursor > totalBytes) throw new Error('metadata does not fit; raise GB');

const header = Buffer.alloc(16);
header.write('II', 0, 'latin1');
header.writeUInt16LE(43, 2);
header.writeUInt16LE(8, 4);
header.writeBigUInt64LE(BigInt(ifdOffsets[0]), 8);
writeAt(header, 0);
ftruncateSync(fd, totalBytes);
closeSync(fd);

console.log(
  JSON.stringify({
    path: out,
    size: totalBytes,
    tileWidth,
    tileHeight,
    levels: levels.map(({ width, height }) => [width, height]),
    sourceTiles: tiles.length,
    copyOffsets,
    ifdOffsets,
  }),
);

function typeSize(type) {
  return { 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 16: 8 }[type];
}

function encodeValues(type, values) {
  if (type === 3) {
    const b = Buffer.alloc(values.length * 2);
    values.forEach((v, i) => b.writeUInt16LE(v, i * 2));
    return b;
  }
  if (type === 4 || type === 5) {
    const b = Buffer.alloc(values.length * 4);
    values.forEach((v, i) => b.writeUInt32LE(v, i * 4));
    return b;
  }
  throw new Error(`cannot encode type ${type}`);
}

function readBigTiffIfd(buffer, offset) {
  const tags = new Map();
  const entries = Number(buffer.readBigUInt64LE(offset));
  for (let e = 0; e < entries; e++) {
    const at = offset + 8 + e * 20;
    const tag = buffer.readUInt16LE(at);
    const type = buffer.readUInt16LE(at + 2);
    const count = Number(buffer.readBigUInt64LE(at + 4));
    const size = typeSize(type) ?? 1;
    const start = count * size <= 8 ? at + 12 : Number(buffer.readBigUInt64LE(at + 12));
    const read = (i) =>
      type === 3
        ? buffer.readUInt16LE(start + i * 2)
        : type === 4
          ? buffer.readUInt32LE(start + i * 4)
          : type === 16
            ? Number(buffer.readBigUInt64LE(start + i * 8))
            : buffer[start + i];
    if (type === 7 || type === 2 || type === 1) tags.set(tag, buffer.subarray(start, start + count));
    else tags.set(tag, Array.from({ length: count }, (_, i) => read(i)));
  }
  return tags;
}
