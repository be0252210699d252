// Single byte-range parsing (RFC 9110 §14.1.2), shared by the service worker
// (src/sw.ts, answering ranges from the precache) and the static test server
// (e2e/serve-dist.mjs). Plain JavaScript so Node runs it without a build step.

/**
 * @param {string | null | undefined} header the Range request header
 * @param {number} size length of the full representation in bytes
 * @returns {{ start: number, end: number } | 'unsatisfiable' | null}
 *   inclusive byte positions; 'unsatisfiable' means answer 416; null means
 *   ignore the header and send the whole body (absent, malformed or multi-range).
 */
export function parseByteRange(header, size) {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  if (start >= size) return 'unsatisfiable';
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return end < start ? null : { start, end };
}
