/**
 * Small helpers every SlideSource implementation shares: region checks,
 * the outside-the-image fill value, output allocation and AbortSignal
 * handling.
 */
import { LIMITS, SlideError, type PixelArray, type PixelDType, type Region, type SlideMetadata } from '../types';

/**
 * A Region that may also pick channels (indices into metadata.channels), in
 * that order. Sources built here honour it; it reads only what is needed
 * (e.g. one OME channel page instead of all).
 */
export type ChannelRegion = Region & { channels?: readonly number[] };

/** Pixels outside the image: white glass for 8-bit brightfield RGB, black otherwise. */
export function fillValueFor(metadata: Pick<SlideMetadata, 'rgb' | 'dtype'>): number {
  return metadata.rgb && metadata.dtype === 'uint8' ? 255 : 0;
}

export function checkRegion(metadata: SlideMetadata, region: ChannelRegion): number[] {
  const { level, x, y, width, height } = region;
  const fail = (reason: string): never => {
    throw new SlideError(metadata.name, reason);
  };
  if (!Number.isInteger(level) || level < 0 || level >= metadata.levels.length) {
    fail(`level ${level} does not exist (the slide has ${metadata.levels.length})`);
  }
  if (![x, y, width, height].every(Number.isSafeInteger)) fail(`region ${x}, ${y}, ${width} × ${height} is not in whole pixels`);
  if (width <= 0 || height <= 0) fail(`region ${width} × ${height} px is empty`);
  if (width * height > LIMITS.maxRegionPixels) {
    fail(`region ${width} × ${height} px is beyond the ${LIMITS.maxRegionPixels} px limit of one read`);
  }
  const total = metadata.channels.length;
  // Only an array is a selection (callers sometimes pass objects with a numeric `channels`).
  const channels = Array.isArray(region.channels) ? [...region.channels] : Array.from({ length: total }, (_, i) => i);
  if (channels.length === 0 || channels.some((c) => !Number.isInteger(c) || c < 0 || c >= total)) {
    fail(`channel selection [${channels.join(', ')}] is not within the ${total} channels`);
  }
  return channels;
}

export function allocatePixels(dtype: PixelDType, length: number, fill: number): PixelArray {
  const data = dtype === 'uint8' ? new Uint8Array(length) : dtype === 'uint16' ? new Uint16Array(length) : new Float32Array(length);
  if (fill !== 0) data.fill(fill);
  return data;
}

export function abortError(): DOMException {
  return new DOMException('The read was aborted', 'AbortError');
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError();
}

/** Waits for `work` but gives up (with an AbortError) as soon as `signal` fires. */
export function abortable<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Runs `task` over `items` with at most `limit` in flight; stops starting new ones after a failure. */
export async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++];
      try {
        await task(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Intersection of a rectangle with [0, width) × [0, height), or undefined when empty. */
export function clipRect(
  x: number,
  y: number,
  width: number,
  height: number,
  maxWidth: number,
  maxHeight: number,
): { x: number; y: number; width: number; height: number } | undefined {
  const x0 = Math.max(x, 0);
  const y0 = Math.max(y, 0);
  const x1 = Math.min(x + width, maxWidth);
  const y1 = Math.min(y + height, maxHeight);
  if (x1 <= x0 || y1 <= y0) return undefined;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
