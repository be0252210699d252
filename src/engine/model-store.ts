/**
 * Trained models of every kind in one place: IndexedDB under
 *   indexeddb://tilescope-<kind>-<slide fingerprint>-<model id>
 * (TF.js's own IndexedDB handler), and the same models as files
 * (model.json + one weights .bin) for export and import. The kind and the
 * settings a model needs to run again travel in the model's
 * userDefinedMetadata, whose `tilescope` field names the kind.
 * DOM-free: IndexedDB exists in workers; the file functions also run in Node.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** cish (seed 000), cspcae (seed 001), mobincep and organet (seed 002). */
export type ModelKind = 'cish' | 'cspcae' | 'mobincep' | 'organet';
export const MODEL_KINDS: readonly ModelKind[] = ['cish', 'cspcae', 'mobincep', 'organet'];

const URL_PREFIX = 'indexeddb://tilescope-';
/** The id of the one rolling checkpoint a slide's training keeps. */
export const CHECKPOINT_ID = 'checkpoint';

export interface StoredModelInfo {
  url: string;
  kind: ModelKind;
  modelId: string;
  fingerprint: string;
  dateSaved: string;
  bytes: number;
  checkpoint: boolean;
}

export interface ModelFiles {
  json: Blob;
  weights: Blob;
  baseName: string;
}

export function storedModelUrl(kind: ModelKind, fingerprint: string, modelId: string): string {
  return `${URL_PREFIX}${kind}-${fingerprint}-${modelId}`;
}

/** Parses a stored model's URL; null for other URLs. Fingerprints may hold dashes, kinds and ids do not. */
export function parseStoredModelUrl(url: string): { kind: ModelKind; fingerprint: string; modelId: string } | null {
  if (!url.startsWith(URL_PREFIX)) return null;
  const rest = url.slice(URL_PREFIX.length);
  const kind = MODEL_KINDS.find((k) => rest.startsWith(`${k}-`));
  if (!kind) return null;
  const body = rest.slice(kind.length + 1);
  const dash = body.lastIndexOf('-');
  if (dash <= 0 || dash === body.length - 1) return null;
  return { kind, fingerprint: body.slice(0, dash), modelId: body.slice(dash + 1) };
}

/** `value` when it can stand in a stored model's URL as a fingerprint or id (lowercase letters and digits), else `otherwise`. */
export function savedId(value: unknown, otherwise: string): string {
  return typeof value === 'string' && /^[0-9a-z]+$/.test(value) ? value : otherwise;
}

/** A saved model's loss history from its metadata: the numbers in it, or none. */
export function savedHistory(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((h): h is number => typeof h === 'number') : [];
}

/** Metadata as plain JSON for setUserDefinedMetadata, which rejects keys whose value is undefined. */
export function metadataJson(meta: object): object {
  return JSON.parse(JSON.stringify(meta)) as object;
}

export function newModelId(): string {
  return `m${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

/** Models in IndexedDB, newest first; only `kind`'s when given. */
export async function listStoredModels(kind?: ModelKind): Promise<StoredModelInfo[]> {
  const all = await tf.io.listModels();
  const out: StoredModelInfo[] = [];
  for (const [url, info] of Object.entries(all)) {
    const parsed = parseStoredModelUrl(url);
    if (!parsed || (kind && parsed.kind !== kind)) continue;
    out.push({
      url,
      ...parsed,
      dateSaved: new Date(info.dateSaved).toISOString(),
      bytes: (info.modelTopologyBytes ?? 0) + (info.weightDataBytes ?? 0),
      checkpoint: parsed.modelId === CHECKPOINT_ID,
    });
  }
  return out.sort((a, b) => b.dateSaved.localeCompare(a.dateSaved));
}

/** The model as a model.json (weights manifest pointing at `<baseName>.weights.bin`) and that weights file. */
export async function modelToFiles(model: LayersModel, baseName: string): Promise<ModelFiles> {
  let files: ModelFiles | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightsName = `${baseName}.weights.bin`;
      const weightData = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
      const json = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [`./${weightsName}`], weights: artifacts.weightSpecs ?? [] }],
        userDefinedMetadata: artifacts.userDefinedMetadata,
      };
      files = {
        json: new Blob([JSON.stringify(json)], { type: 'application/json' }),
        weights: new Blob([weightData], { type: 'application/octet-stream' }),
        baseName,
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!files) throw new Error('the model could not be written to files');
  return files;
}

/**
 * An IO handler for a model chosen as files: its model.json plus the weights
 * file(s), matched to the manifest by name (else taken in the order given).
 * Errors name the file and the reason.
 */
export async function modelFromFiles(files: Blob[], names: string[]): Promise<{ handler: tf.io.IOHandler; metadata: Record<string, unknown> }> {
  const jsonIndex = names.findIndex((n) => n.toLowerCase().endsWith('.json'));
  if (jsonIndex < 0) throw new Error('choose the model .json file together with its weights file');
  const jsonName = names[jsonIndex];
  let json: { modelTopology?: object; weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>; userDefinedMetadata?: Record<string, unknown> };
  try {
    json = JSON.parse(await files[jsonIndex].text());
  } catch (error) {
    throw new Error(`${jsonName}: not JSON (${(error as Error).message})`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) throw new Error(`${jsonName}: not a TF.js layers model.json`);
  const others = files.map((file, i) => ({ file, name: names[i] })).filter((_, i) => i !== jsonIndex);
  const buffers: ArrayBuffer[] = [];
  const paths = json.weightsManifest.flatMap((group) => group.paths);
  for (let i = 0; i < paths.length; i++) {
    const base = paths[i].split('/').pop() ?? '';
    const match = others.find((o) => o.name === base) ?? others[i];
    if (!match) throw new Error(`${jsonName}: weights file ${base} is missing; choose it together with the .json`);
    buffers.push(await match.file.arrayBuffer());
  }
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  const expected = weightSpecs.reduce((total, spec) => total + spec.shape.reduce((a, b) => a * b, 1) * (spec.dtype === 'int32' || spec.dtype === 'float32' ? 4 : 1), 0);
  const weightData = tf.io.CompositeArrayBuffer.join(buffers);
  if (weightData.byteLength !== expected) {
    throw new Error(`${jsonName}: the weights hold ${weightData.byteLength} bytes, the manifest needs ${expected}; wrong or truncated weights file`);
  }
  const metadata = json.userDefinedMetadata ?? {};
  return { handler: tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData, userDefinedMetadata: metadata as {} }), metadata };
}

/** The kind a model's metadata names, or null. */
export function modelKindOf(metadata: Record<string, unknown> | undefined): ModelKind | null {
  // 'cish-cli': what `analyze` wrote before the app and the command line shared one format.
  const kind = metadata?.tilescope === 'cish-cli' ? 'cish' : metadata?.tilescope;
  return typeof kind === 'string' && (MODEL_KINDS as readonly string[]).includes(kind) ? (kind as ModelKind) : null;
}
