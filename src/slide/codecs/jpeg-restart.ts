/**
 * JPEG stream surgery for restart intervals.
 *
 * A baseline JPEG written with a DRI marker resets its DC predictors at every
 * RSTn marker, so each restart interval can be decoded on its own. Hamamatsu
 * NDPI stores each pyramid level as one huge JPEG of that kind and lists where
 * every interval starts; gluing the level's header (with the frame size
 * patched) to a few intervals gives a small, standalone JPEG for just the
 * pixels a caller needs. Everything here is pure byte manipulation, no decode.
 */

export class JpegStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JpegStreamError';
  }
}

export interface JpegHeader {
  /** SOI up to and including the SOS segment: everything before the entropy-coded data. */
  bytes: Uint8Array;
  /** Index in `bytes` of the 0xFF that starts the SOF segment. */
  sofOffset: number;
  /** Frame size as written in SOF (NDPI writes 0 or wrapped values past 65535). */
  width: number;
  height: number;
  /** Number of colour components in the frame (1 grey, 3 YCbCr/RGB). */
  components: number;
  /** MCU size in pixels: 8·max(H) × 8·max(V) for interleaved scans, 8×8 for single-component scans. */
  mcuWidth: number;
  mcuHeight: number;
  /** MCUs per restart interval from DRI; 0 when the stream has no DRI. */
  restartInterval: number;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DRI = 0xdd;
const RST0 = 0xd0;
const RST7 = 0xd7;

export function isRestartMarker(code: number): boolean {
  return code >= RST0 && code <= RST7;
}

/**
 * Parses the markers of a JPEG from SOI through SOS. Only sequential
 * Huffman-coded frames (SOF0/SOF1) with one scan covering every component can
 * be cut at restart markers; anything else is refused.
 * `bytes` may hold more than the header (the entropy data is ignored).
 */
export function parseJpegHeader(bytes: Uint8Array): JpegHeader {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) {
    throw new JpegStreamError('not a JPEG stream (no SOI marker)');
  }
  let pos = 2;
  let sofOffset = -1;
  let width = 0;
  let height = 0;
  let components = 0;
  let maxH = 1;
  let maxV = 1;
  let restartInterval = 0;
  for (;;) {
    if (pos >= bytes.length) throw new JpegStreamError('JPEG header is truncated before its SOS marker');
    if (bytes[pos] !== 0xff) throw new JpegStreamError(`expected a JPEG marker at byte ${pos}`);
    // Any number of 0xFF fill bytes may precede a marker code.
    while (pos < bytes.length && bytes[pos] === 0xff) pos++;
    if (pos >= bytes.length) throw new JpegStreamError('JPEG header is truncated before its SOS marker');
    const code = bytes[pos++];
    if (code === SOI || isRestartMarker(code) || code === 0x01) continue; // markers without a length
    if (code === EOI) throw new JpegStreamError('JPEG ends before its SOS marker');
    if (pos + 2 > bytes.length) throw new JpegStreamError('JPEG header is truncated');
    const length = (bytes[pos] << 8) | bytes[pos + 1];
    const segmentEnd = pos + length;
    if (length < 2 || segmentEnd > bytes.length) throw new JpegStreamError('JPEG header is truncated');
    const body = pos + 2;
    if (code === 0xc0 || code === 0xc1) {
      if (length < 8) throw new JpegStreamError('SOF segment is too short');
      if (bytes[body] !== 8) throw new JpegStreamError(`${bytes[body]}-bit JPEG samples are not supported`);
      sofOffset = body - 4;
      height = (bytes[body + 1] << 8) | bytes[body + 2];
      width = (bytes[body + 3] << 8) | bytes[body + 4];
      components = bytes[body + 5];
      if (components < 1 || length !== 8 + 3 * components) throw new JpegStreamError('SOF segment is malformed');
      for (let i = 0; i < components; i++) {
        const sampling = bytes[body + 7 + 3 * i];
        maxH = Math.max(maxH, sampling >> 4);
        maxV = Math.max(maxV, sampling & 15);
      }
    } else if (code >= 0xc2 && code <= 0xcf && code !== 0xc4 && code !== 0xc8 && code !== 0xcc) {
      throw new JpegStreamError(
        `JPEG frame type SOF${code - 0xc0} (progressive, lossless or arithmetic) cannot be split at restart markers`,
      );
    } else if (code === DRI) {
      if (length !== 4) throw new JpegStreamError('DRI segment is malformed');
      restartInterval = (bytes[body] << 8) | bytes[body + 1];
    } else if (code === SOS) {
      if (sofOffset < 0) throw new JpegStreamError('SOS marker before any SOF marker');
      const scanComponents = bytes[body];
      if (scanComponents !== components) {
        throw new JpegStreamError('multi-scan JPEG (one scan per component) cannot be split at restart markers');
      }
      // A single-component scan is non-interleaved: its MCU is one 8×8 block.
      const single = components === 1;
      return {
        bytes: bytes.slice(0, segmentEnd),
        sofOffset,
        width,
        height,
        components,
        mcuWidth: single ? 8 : 8 * maxH,
        mcuHeight: single ? 8 : 8 * maxV,
        restartInterval,
      };
    }
    pos = segmentEnd;
  }
}

/** How the restart intervals of a JPEG tile its image. */
export interface RestartGrid {
  /** Pixel size of one interval (the right column and bottom row may be clipped by the image). */
  intervalWidth: number;
  intervalHeight: number;
  columns: number;
  rows: number;
}

/**
 * Interval layout of a `width` × `height` image coded with `header`. Two
 * layouts can be cut into rectangles: intervals that split each MCU row into
 * equal parts (NDPI level 0 of big slides), and intervals made of whole MCU
 * rows (one row in the small NDPI levels). Without DRI the image is one interval.
 */
export function restartGrid(header: JpegHeader, width: number, height: number): RestartGrid {
  const mcusPerRow = Math.ceil(width / header.mcuWidth);
  const mcuRows = Math.ceil(height / header.mcuHeight);
  const interval = header.restartInterval;
  if (interval === 0) return { intervalWidth: width, intervalHeight: height, columns: 1, rows: 1 };
  if (interval <= mcusPerRow && mcusPerRow % interval === 0) {
    return {
      intervalWidth: interval * header.mcuWidth,
      intervalHeight: header.mcuHeight,
      columns: mcusPerRow / interval,
      rows: mcuRows,
    };
  }
  if (interval % mcusPerRow === 0) {
    const rowsPerInterval = interval / mcusPerRow;
    return {
      intervalWidth: mcusPerRow * header.mcuWidth,
      intervalHeight: rowsPerInterval * header.mcuHeight,
      columns: 1,
      rows: Math.ceil(mcuRows / rowsPerInterval),
    };
  }
  throw new JpegStreamError(
    `restart interval of ${interval} MCUs neither divides nor is a multiple of the ${mcusPerRow} MCUs of a row`,
  );
}

/**
 * Splits the marker off the end of one restart interval as cut from a file
 * (the bytes between two interval starts end with RSTn, the last with EOI).
 * Returns the entropy-coded data alone and the marker code found (or null).
 */
export function splitTrailingMarker(chunk: Uint8Array): { data: Uint8Array; marker: number | null } {
  let end = chunk.length;
  let marker: number | null = null;
  if (end >= 2 && chunk[end - 2] === 0xff && (isRestartMarker(chunk[end - 1]) || chunk[end - 1] === EOI)) {
    marker = chunk[end - 1];
    end -= 2;
  }
  // Entropy data never ends with a lone 0xFF (it is always stuffed as FF 00),
  // so trailing 0xFF bytes are fill before the marker.
  while (end > 0 && chunk[end - 1] === 0xff) end--;
  return { data: chunk.subarray(0, end), marker };
}

/**
 * Scans the entropy-coded data of a complete in-memory JPEG and returns the
 * offset where each restart interval starts (the first is the header length),
 * the same numbers NDPI stores in its McuStarts tag.
 */
export function findRestartOffsets(jpeg: Uint8Array, headerLength: number): number[] {
  const starts = [headerLength];
  for (let i = headerLength; i + 1 < jpeg.length; i++) {
    if (jpeg[i] !== 0xff) continue;
    const code = jpeg[i + 1];
    if (isRestartMarker(code)) {
      starts.push(i + 2);
      i++;
    } else if (code === EOI) {
      break;
    }
  }
  return starts;
}

/**
 * Builds a standalone JPEG from the level's header and consecutive restart
 * intervals that together tile a `width` × `height` rectangle in MCU raster
 * order. Trailing RSTn/EOI markers of the chunks are dropped and fresh RST0..7
 * markers inserted between them, so numbering restarts at 0 as a decoder
 * expects. The DRI of the header stays: every chunk holds exactly one interval.
 */
export function assembleRestartJpeg(
  header: JpegHeader,
  intervals: readonly Uint8Array[],
  width: number,
  height: number,
): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new JpegStreamError(`invalid JPEG frame size ${width}×${height}`);
  }
  if (width > 0xffff || height > 0xffff) {
    throw new JpegStreamError(`JPEG frame ${width}×${height} exceeds the 65535-pixel limit of the format`);
  }
  if (intervals.length === 0) throw new JpegStreamError('no restart intervals to assemble');
  if (intervals.length > 1 && header.restartInterval === 0) {
    throw new JpegStreamError('several intervals given but the JPEG header has no DRI marker');
  }
  const bodies = intervals.map((chunk) => splitTrailingMarker(chunk).data);
  let total = header.bytes.length + 2 * (bodies.length - 1) + 2;
  for (const body of bodies) total += body.length;
  const out = new Uint8Array(total);
  out.set(header.bytes, 0);
  const sizeAt = header.sofOffset + 5; // FF Cx, length(2), precision(1), then height, width
  out[sizeAt] = height >> 8;
  out[sizeAt + 1] = height & 0xff;
  out[sizeAt + 2] = width >> 8;
  out[sizeAt + 3] = width & 0xff;
  let pos = header.bytes.length;
  bodies.forEach((body, i) => {
    if (i > 0) {
      out[pos++] = 0xff;
      out[pos++] = RST0 + ((i - 1) & 7);
    }
    out.set(body, pos);
    pos += body.length;
  });
  out[pos++] = 0xff;
  out[pos++] = EOI;
  return out;
}
