import { describe, expect, it } from 'vitest';
import { parseByteRange } from './http-range.mjs';

// Expected values follow the examples of RFC 9110 §14.1.2 for a 10000-byte body.
describe('parseByteRange', () => {
  it('reads first-last, open-ended and suffix ranges', () => {
    expect(parseByteRange('bytes=0-499', 10000)).toEqual({ start: 0, end: 499 });
    expect(parseByteRange('bytes=500-999', 10000)).toEqual({ start: 500, end: 999 });
    expect(parseByteRange('bytes=9500-', 10000)).toEqual({ start: 9500, end: 9999 });
    expect(parseByteRange('bytes=-500', 10000)).toEqual({ start: 9500, end: 9999 });
  });

  it('clips the end and a long suffix to the body', () => {
    expect(parseByteRange('bytes=9000-20000', 10000)).toEqual({ start: 9000, end: 9999 });
    expect(parseByteRange('bytes=-20000', 10000)).toEqual({ start: 0, end: 9999 });
  });

  it('reports ranges that start past the end as unsatisfiable', () => {
    expect(parseByteRange('bytes=10000-', 10000)).toBe('unsatisfiable');
    expect(parseByteRange('bytes=-0', 10000)).toBe('unsatisfiable');
    expect(parseByteRange('bytes=0-', 0)).toBe('unsatisfiable');
  });

  it('ignores absent, malformed, reversed and multi-range headers', () => {
    expect(parseByteRange(undefined, 10000)).toBeNull();
    expect(parseByteRange('bytes=-', 10000)).toBeNull();
    expect(parseByteRange('items=0-5', 10000)).toBeNull();
    expect(parseByteRange('bytes=500-100', 10000)).toBeNull();
    expect(parseByteRange('bytes=0-1,5-6', 10000)).toBeNull();
  });
});
