import { test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../src/engine/wasm-node';
import { SyntheticCishSlide } from '../src/synthetic/cish-slide';
import { adjustedRandIndex, spearman } from '../src/analysis/metrics';
import { pca } from '../src/analysis/pca';
import { computeTileGrid } from '../src/tiling/tile-grid';
import { chooseTrainingTiles, clusterLatents, encodeCishTiles, trainCish } from '../src/models/cish/pipeline';
test('exp', async () => {
  await initNodeBackend('wasm');
  const slide = new SyntheticCishSlide({ width: 48000, height: 32000, levels: 5, seed: 3 });
  const grid = computeTileGrid(slide.metadata, { tileUm: 600, overlapUm: 300, level: 1 });
  // interior tiles with known level
  const idx: number[] = []; const lv: number[] = [];
  for (let i = 0; i < grid.count; i++) {
    const cx = grid.x[i] + grid.width[i] / 2, cy = grid.y[i] + grid.height[i] / 2;
    const a = slide.levelAt(grid.x[i], grid.y[i]), b = slide.levelAt(grid.x[i] + grid.width[i], grid.y[i] + grid.height[i]);
    const c = slide.levelAt(cx, cy);
    if (a >= 0 && a === b && b === c) { idx.push(i); lv.push(c); }
  }
  const evalIdx = Uint32Array.from(idx.filter((_, k) => k % 4 === 0)); const evalLv = lv.filter((_, k) => k % 4 === 0);
  const fakeGrid = { ...grid, kept: Uint32Array.from(idx) };
  const train = chooseTrainingTiles(fakeGrid as any, { sample: 256, seed: 1 });
  const lr = Number(process.env.LR ?? 1e-3);
  let t = performance.now();
  const { models } = await trainCish(slide, grid, train, { epochs: Number(process.env.EP ?? 8), batchSize: 32, seed: 1, learningRate: lr,
    onEpochEnd: async (s, m) => {
      const lat = await encodeCishTiles(m.encoder, slide, grid, evalIdx);
      const cl = clusterLatents(lat, 2, { k: 5, seed: 1 });
      const p = pca(Float64Array.from(lat), 2, { components: 1 });
      console.log(`epoch ${s.epoch} loss ${s.loss.toFixed(5)} ARI ${adjustedRandIndex(Int32Array.from(evalLv), cl.labels).toFixed(3)} rho ${spearman(p.projected, Float64Array.from(evalLv)).toFixed(3)} t ${((performance.now() - t) / 1000).toFixed(0)}s`);
    } });
}, 1200000);
