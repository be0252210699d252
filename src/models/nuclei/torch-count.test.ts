import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { initNodeBackend } from '../../engine/wasm-node';
import { buildCspCae, cspCaeForwardFlops, disposeCspCae, type CspCaePreset } from './model';

/**
 * The PyTorch twin of the CSP-CAE used by the model benchmark
 * (bench/cspcae_torch.py) must be the same network: its parameters plus its
 * buffers (batch norm's running statistics and t) equal TF.js's countParams(),
 * its trainable parameters TF.js's trainable weights, and the FLOPs it measures
 * on its module shapes equal cspCaeForwardFlops.
 */
const PYTHON = '/usr/bin/python3';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SCRIPT = path.join(root, 'bench/cspcae_torch.py');
const PRESETS: CspCaePreset[] = ['sixteenth', 'eighth'];

const hasTorch = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

interface TorchCount {
  preset: CspCaePreset;
  parameters: number;
  buffers: number;
  tfjs_count: number;
  forward_flops: number;
}

describe.skipIf(!hasTorch)('CSP-CAE PyTorch twin (bench/cspcae_torch.py)', () => {
  let counts: Map<string, TorchCount>;

  beforeAll(async () => {
    expect(await initNodeBackend('wasm')).toBe('wasm');
    const result = spawnSync(PYTHON, [SCRIPT, '--count', '--preset', ...PRESETS], { cwd: root, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as TorchCount);
    counts = new Map(lines.map((line) => [line.preset, line]));
  });

  it.each(PRESETS)('%s: same parameter count, trainable share and FLOPs', (preset) => {
    const torch = counts.get(preset)!;
    const models = buildCspCae({ preset, inputSize: 100, seed: 1 });
    try {
      const trainable = models.autoencoder.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
      expect(torch.tfjs_count).toBe(models.autoencoder.countParams());
      expect(torch.parameters).toBe(trainable);
      expect(torch.parameters + torch.buffers).toBe(torch.tfjs_count);
      expect(torch.forward_flops).toBe(cspCaeForwardFlops(preset, 100));
    } finally {
      disposeCspCae(models);
    }
  });
});
