import { describe, expect, it } from 'vitest';
import { peerCount } from './replica-peers';

describe('data-parallel copies', () => {
  it('one copy per group of threads, at most 4 in all, none off wasm', () => {
    expect(peerCount('wasm', 1, 1)).toBe(0);
    expect(peerCount('wasm', 2, 1)).toBe(1);
    expect(peerCount('wasm', 8, 4)).toBe(1);
    expect(peerCount('wasm', 16, 1)).toBe(3);
    expect(peerCount('wasm', 3, 2)).toBe(0);
    expect(peerCount('webgl', 8, 1)).toBe(0);
    expect(peerCount('webgpu', 8, 1)).toBe(0);
  });
});
