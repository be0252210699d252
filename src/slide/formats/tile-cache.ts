/**
 * A least-recently-used cache of decoded tiles, bounded by bytes, that also
 * merges concurrent requests for the same tile. Failed loads are not kept,
 * so one bad tile fails only the reads that touch it.
 */
export const DEFAULT_TILE_CACHE_BYTES = 64 * 1024 * 1024;

interface Entry<T> {
  value: T;
  bytes: number;
}

export class TileCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly loading = new Map<string, Promise<T>>();
  private usedBytes = 0;

  constructor(private capacityBytes = DEFAULT_TILE_CACHE_BYTES) {}

  get bytes(): number {
    return this.usedBytes;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Grows the budget so that at least one item of `bytes` fits (huge strips). */
  ensureCapacity(bytes: number): void {
    this.capacityBytes = Math.max(this.capacityBytes, bytes);
  }

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Re-insert: Map iteration order is insertion order, so the oldest is first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: T, bytes: number): void {
    const old = this.entries.get(key);
    if (old) {
      this.usedBytes -= old.bytes;
      this.entries.delete(key);
    }
    if (bytes > this.capacityBytes) return;
    this.entries.set(key, { value, bytes });
    this.usedBytes += bytes;
    for (const [oldestKey, oldest] of this.entries) {
      if (this.usedBytes <= this.capacityBytes) break;
      this.entries.delete(oldestKey);
      this.usedBytes -= oldest.bytes;
    }
  }

  /** Returns the cached value, joins a load in flight, or starts `load`. */
  getOrLoad(key: string, load: () => Promise<{ value: T; bytes: number }>): Promise<T> {
    const cached = this.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const pending = this.loading.get(key);
    if (pending) return pending;
    const promise = load().then(
      ({ value, bytes }) => {
        this.loading.delete(key);
        this.set(key, value, bytes);
        return value;
      },
      (err: unknown) => {
        this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, promise);
    return promise;
  }

  clear(): void {
    this.entries.clear();
    this.usedBytes = 0;
  }
}
