import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { initNodeBackend } from '../../engine/wasm-node';
import { buildMobincep, disposeModelWeights, mobincepForwardFlops, mobincepParameters, MOBINCEP_DEFAULTS } from '../mobincep';
import { buildOrganet, organetForwardFlops, organetParameters, ORGANET_DEFAULTS } from '../organet';

/**
 * The PyTorch twins of Mobincep and OrgaNet that the model benchmark times
 * (bench/classifiers_torch.py) must be the same networks as the TF.js ones:
 * their trainable parameters equal the TF.js model's trainable weights,
 * parameters plus buffers (batch norm's running statistics) its
 * countParams(), and the FLOPs measured on their module shapes the
 * architecture modules' forward FLOPs. At the paper's input sizes, full
 * width and a quarter width.
 */
const PYTHON = '/usr/bin/python3';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SCRIPT = path.join(root, 'bench/classifiers_torch.py');
const CLASSES = 3;
const WIDTHS = [1, 0.25];
type Net = 'mobincep' | 'organet';

const hasTorch = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

interface TorchCount {
  model: Net;
  width: number;
  classes: number;
  parameters: number;
  buffers: number;
  tfjs_count: number;
  forward_flops: number;
}

function tfjsModel(net: Net, width: number): LayersModel {
  return net === 'mobincep' ? buildMobincep({ classes: CLASSES, width, seed: 1 }) : buildOrganet({ classes: CLASSES, width, seed: 1 });
}

function expected(net: Net, width: number): { trainable: number; total: number; flops: number } {
  if (net === 'mobincep') {
    const shape = { inputSize: MOBINCEP_DEFAULTS.inputSize, channels: MOBINCEP_DEFAULTS.channels, classes: CLASSES, width };
    return { ...mobincepParameters(shape), flops: mobincepForwardFlops(shape) };
  }
  const shape = {
    inputSize: ORGANET_DEFAULTS.inputSize,
    inputChannels: ORGANET_DEFAULTS.inputChannels,
    adaptedSize: ORGANET_DEFAULTS.adaptedSize,
    latentDim: ORGANET_DEFAULTS.latentDim,
    classes: CLASSES,
    width,
  };
  return { ...organetParameters(shape), flops: organetForwardFlops(shape) };
}

const cases: Array<[Net, number]> = (['mobincep', 'organet'] as const).flatMap((net) => WIDTHS.map((width) => [net, width] as [Net, number]));

describe.skipIf(!hasTorch)('classifier PyTorch twins (bench/classifiers_torch.py)', () => {
  let counts: Map<string, TorchCount>;

  beforeAll(async () => {
    expect(await initNodeBackend('wasm')).toBe('wasm');
    const args = [SCRIPT, '--count', '--classes', String(CLASSES), '--width', ...WIDTHS.map(String)];
    const result = spawnSync(PYTHON, args, { cwd: root, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as TorchCount);
    counts = new Map(lines.map((line) => [`${line.model}@${line.width}`, line]));
  });

  it.each(cases)('%s at width %s: same trainable and total parameters, same forward FLOPs', (net, width) => {
    const torch = counts.get(`${net}@${width}`);
    expect(torch, `no PyTorch count for ${net} at width ${width}`).toBeDefined();
    const model = tfjsModel(net, width);
    try {
      const trainable = model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
      const want = expected(net, width);
      expect(torch!.parameters).toBe(trainable);
      expect(torch!.tfjs_count).toBe(model.countParams());
      expect(trainable).toBe(want.trainable);
      expect(model.countParams()).toBe(want.total);
      expect(torch!.forward_flops).toBe(want.flops);
    } finally {
      disposeModelWeights(model);
    }
  });
});
