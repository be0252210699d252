/**
 * Persistence of analysis results in IndexedDB, keyed by a slide
 * fingerprint, so reopening the same file restores its mask, tiles, codes and
 * clusters. Models themselves are stored by TF.js (`indexeddb://…`) from the
 * analysis worker; here we only keep the checkpoint bookkeeping.
 */
import type { SelectionSet } from '../analysis/selections';
import type { PreprocessParams, TileParams, TrainParams } from '../workers/cish-protocol';
import type { AnalysisTiles } from './analysis';
import type { Projection } from '../analysis/projection';

const DB_NAME = 'tilescope';
const DB_VERSION = 1;
const RESULTS = 'cish-results';
const CHECKPOINTS = 'cish-checkpoints';
export interface StoredResults {
  fingerprint: string;
  savedAt: number;
  mask?: { data: Uint8Array; width: number; height: number; downsample: number; threshold: number; glassAbove?: number };
  tileParams?: TileParams;
  trainFrom?: 'sample' | 'region';
  trainRegion?: number[] | null;
  tiles?: AnalysisTiles;
  modelId?: string | null;
  modelUrl?: string | null;
  history?: Float32Array | null;
  stoppedAtTimeLimit?: number | null;
  latents?: Float32Array | null;
  densities?: Float64Array | null;
  latentDim?: number;
  memberships?: Float32Array | null;
  labels?: Int32Array | null;
  k?: number;
  clusterColors?: Uint8Array | null;
  fpc?: number | null;
  fpcCurve?: { k: Int32Array; fpc: Float64Array } | null;
  projection?: Projection | null;
  /** The latent explorer's selections; items are the kept tiles in order. */
  selections?: SelectionSet | null;
}

export interface CheckpointRecord {
  fingerprint: string;
  url: string;
  epochsDone: number;
  history: number[];
  trainParams: TrainParams;
  tileParams: TileParams;
  savedAt: number;
}

let dbPromise: Promise<IDBDatabase> | null = null;

function openDb(): Promise<IDBDatabase> {
  dbPromise ??= new Promise<IDBDatabase>((resolve, reject) => {
    if (typeof indexedDB === 'undefined') {
      reject(new Error('IndexedDB is not available'));
      return;
    }
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(RESULTS)) db.createObjectStore(RESULTS, { keyPath: 'fingerprint' });
      if (!db.objectStoreNames.contains(CHECKPOINTS)) db.createObjectStore(CHECKPOINTS, { keyPath: 'fingerprint' });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB could not be opened'));
  });
  dbPromise.catch(() => {
    dbPromise = null;
  });
  return dbPromise;
}

function run<T>(storeName: string, mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return openDb().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const tx = db.transaction(storeName, mode);
        const request = action(tx.objectStore(storeName));
        tx.oncomplete = () => resolve(request.result);
        tx.onerror = () => reject(tx.error ?? request.error ?? new Error('IndexedDB request failed'));
        tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
      }),
  );
}

/** Merges `patch` into the stored results of a slide. */
export async function saveResults(fingerprint: string, patch: Omit<Partial<StoredResults>, 'fingerprint' | 'savedAt'>): Promise<void> {
  const current = (await loadResults(fingerprint)) ?? { fingerprint, savedAt: 0 };
  const next: StoredResults = { ...current, ...patch, fingerprint, savedAt: Date.now() };
  await run(RESULTS, 'readwrite', (store) => store.put(next));
}

export async function loadResults(fingerprint: string): Promise<StoredResults | undefined> {
  return run<StoredResults | undefined>(RESULTS, 'readonly', (store) => store.get(fingerprint));
}

export async function saveCheckpoint(record: CheckpointRecord): Promise<void> {
  await run(CHECKPOINTS, 'readwrite', (store) => store.put(record));
}

export async function loadCheckpoint(fingerprint: string): Promise<CheckpointRecord | undefined> {
  return run<CheckpointRecord | undefined>(CHECKPOINTS, 'readonly', (store) => store.get(fingerprint));
}

export async function deleteCheckpoint(fingerprint: string): Promise<void> {
  await run(CHECKPOINTS, 'readwrite', (store) => store.delete(fingerprint));
}

export type { PreprocessParams };
