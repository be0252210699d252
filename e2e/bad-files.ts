// Broken and hostile inputs, generated in the test so it depends on nothing else:
// each must produce one role="alert" naming the file, and leave the app working.
import { deflateSync } from 'node:zlib';

type TagValue = { tag: number; type: 3 | 4; values: number[] };

/**
 * Writes a little-endian classic TIFF: 8-byte header, the image data, then one
 * IFD at the end (as libtiff does, so truncation loses the directory).
 */
export function makeTiff(options: {
  width: number;
  height: number;
  compression: number;
  /** Tile size; strips (one per `rowsPerStrip` rows) when absent. */
  tile?: number;
  rowsPerStrip?: number;
  /** Encoded bytes of each tile/strip. */
  chunks: Uint8Array[];
}): Buffer {
  const { width, height, compression, tile, chunks } = options;
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  const offsets: number[] = [];
  let position = 8;
  for (const chunk of chunks) {
    offsets.push(position);
    position += chunk.length;
  }
  if (position % 2) position++; // IFDs start on a word boundary
  const dataEnd = position;
  const counts = chunks.map((c) => c.length);
  const tags: TagValue[] = [
    { tag: 256, type: 4, values: [width] },
    { tag: 257, type: 4, values: [height] },
    { tag: 258, type: 3, values: [8, 8, 8] },
    { tag: 259, type: 3, values: [compression] },
    { tag: 262, type: 3, values: [2] },
    { tag: 277, type: 3, values: [3] },
    { tag: 284, type: 3, values: [1] },
  ];
  if (tile) {
    tags.push({ tag: 322, type: 4, values: [tile] }, { tag: 323, type: 4, values: [tile] });
    tags.push({ tag: 324, type: 4, values: offsets }, { tag: 325, type: 4, values: counts });
  } else {
    tags.push({ tag: 273, type: 4, values: offsets }, { tag: 278, type: 4, values: [options.rowsPerStrip ?? height] });
    tags.push({ tag: 279, type: 4, values: counts });
  }
  tags.sort((a, b) => a.tag - b.tag);
  const ifdSize = 2 + tags.length * 12 + 4;
  const ifd = Buffer.alloc(ifdSize);
  const overflow: Buffer[] = [];
  let overflowPosition = dataEnd + ifdSize;
  ifd.writeUInt16LE(tags.length, 0);
  tags.forEach((entry, i) => {
    const at = 2 + i * 12;
    const size = entry.type === 3 ? 2 : 4;
    ifd.writeUInt16LE(entry.tag, at);
    ifd.writeUInt16LE(entry.type, at + 2);
    ifd.writeUInt32LE(entry.values.length, at + 4);
    const bytes = Buffer.alloc(Math.max(4, entry.values.length * size));
    entry.values.forEach((v, j) => (size === 2 ? bytes.writeUInt16LE(v, j * 2) : bytes.writeUInt32LE(v, j * 4)));
    if (bytes.length <= 4) {
      bytes.copy(ifd, at + 8);
    } else {
      ifd.writeUInt32LE(overflowPosition, at + 8);
      overflow.push(bytes);
      overflowPosition += bytes.length;
    }
  });
  header.writeUInt32LE(dataEnd, 4);
  const body = Buffer.alloc(dataEnd - 8);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return Buffer.concat([header, body, ifd, ...overflow]);
}

export interface BadFile {
  name: string;
  bytes: Buffer;
  /** What the reason must say (loosely: the wording is the reader's). */
  reason: RegExp;
}

export function badFiles(): BadFile[] {
  // A valid 512×512 uncompressed tiled TIFF, cut to 60 %: its IFD is gone.
  const tileBytes = new Uint8Array(256 * 256 * 3).fill(128);
  const valid = makeTiff({ width: 512, height: 512, compression: 1, tile: 256, chunks: [tileBytes, tileBytes, tileBytes, tileBytes] });
  const truncated = valid.subarray(0, Math.floor(valid.length * 0.6));
  // A well-formed tiled TIFF whose tiles claim JPEG-XR (34892), which no browser decodes.
  const jpegXr = makeTiff({ width: 512, height: 512, compression: 34892, tile: 256, chunks: Array(4).fill(new Uint8Array(64)) });
  // Decompression bombs: a few hundred bytes of Deflate claiming to be a 200 000 × 200 000
  // single-strip image (120 GB of RGB), and a tiled image with one 65 536² tile.
  const zeros = deflateSync(Buffer.alloc(1 << 20));
  const bombStrip = makeTiff({ width: 200_000, height: 200_000, compression: 8, rowsPerStrip: 200_000, chunks: [zeros] });
  const bombTile = makeTiff({ width: 65_536, height: 65_536, compression: 8, tile: 65_536, chunks: [zeros] });
  return [
    { name: 'empty.svs', bytes: Buffer.alloc(0), reason: /empty|0 bytes/i },
    { name: 'truncated.tif', bytes: Buffer.from(truncated), reason: /truncated|past the end|beyond the end/i },
    {
      name: 'notes-renamed.svs',
      bytes: Buffer.from('Patient slide notes: not an image at all.\n'.repeat(40)),
      reason: /not a recogni[sz]ed|unrecogni[sz]ed|unknown|not a (slide|TIFF|supported)/i,
    },
    { name: 'jpegxr.tif', bytes: jpegXr, reason: /JPEG[- ]?XR|34892/i },
    { name: 'bomb-strip.tif', bytes: bombStrip, reason: /too (large|big)|exceed|limit|bomb/i },
    { name: 'bomb-tile.tif', bytes: bombTile, reason: /too (large|big)|exceed|limit|bomb/i },
  ];
}
