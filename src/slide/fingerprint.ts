/**
 * A slide's identity across sessions and machines without reading it whole:
 * results in IndexedDB and saved models are keyed by it, in the app and on
 * the command line alike.
 */

/** Bytes hashed at each end of the file. */
const FINGERPRINT_SPAN = 64 * 1024;

/**
 * Size plus SHA-256 of the first and last 64 KiB, as a short lowercase
 * alphanumeric string (it goes into TF.js model URLs, which split on '-').
 */
export async function slideFingerprint(file: Blob): Promise<string> {
  const head = await file.slice(0, FINGERPRINT_SPAN).arrayBuffer();
  const tail = await file.slice(Math.max(0, file.size - FINGERPRINT_SPAN)).arrayBuffer();
  const joined = new Uint8Array(head.byteLength + tail.byteLength);
  joined.set(new Uint8Array(head), 0);
  joined.set(new Uint8Array(tail), head.byteLength);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', joined));
  const hex = Array.from(digest.subarray(0, 10), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${file.size.toString(36)}x${hex}`;
}
