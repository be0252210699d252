/**
 * TF.js model save/load on the local file system, in the standard layers
 * format (model.json + one weights.bin), without @tensorflow/tfjs-node.
 * The files load in the browser with tf.loadLayersModel(url) and in PyTorch
 * via scripts/cish_torch_equivalence.py.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

const WEIGHTS_FILE = 'weights.bin';
const MODEL_FILE = 'model.json';

function joinWeightData(data: tf.io.WeightData): Uint8Array {
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

/** An IOHandler for model.save() that writes `dir`/model.json and `dir`/weights.bin. */
export function fileSystemSaveHandler(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    await mkdir(dir, { recursive: true });
    const modelJson: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology!,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs ?? [] }],
    };
    if (artifacts.trainingConfig !== undefined) modelJson.trainingConfig = artifacts.trainingConfig;
    if (artifacts.userDefinedMetadata !== undefined) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
    const weights = artifacts.weightData === undefined ? new Uint8Array(0) : joinWeightData(artifacts.weightData);
    await writeFile(path.join(dir, WEIGHTS_FILE), weights);
    await writeFile(path.join(dir, MODEL_FILE), JSON.stringify(modelJson));
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
        weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
        weightDataBytes: weights.byteLength,
      },
    };
  });
}

/** An IOHandler for tf.loadLayersModel() reading a model.json (or its folder) and its weight files. */
export function fileSystemLoadHandler(modelPath: string): tf.io.IOHandler {
  return {
    async load() {
      const jsonPath = modelPath.endsWith('.json') ? modelPath : path.join(modelPath, MODEL_FILE);
      const dir = path.dirname(jsonPath);
      const modelJson = JSON.parse(await readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const parts: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const file of group.paths) {
            const bytes = await readFile(path.join(dir, file));
            parts.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
        }
        return [specs, tf.io.concatenateArrayBuffers(parts)];
      });
    },
  };
}
