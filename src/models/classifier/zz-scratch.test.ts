import { it } from 'vitest';
import { initNodeBackend } from '../../engine/wasm-node';
import { generateTextureDataset } from '../../synthetic/textures';
import { generateFishDataset } from '../../synthetic/fish-nuclei';
import { datasetFromImages } from './dataset';
import { crossValidateClassifier, type ClassifierSpec } from './pipeline';

it('scratch', async () => {
  await initNodeBackend('wasm');
  const which = process.env.SET ?? 'tex';
  const arch = (process.env.ARCH ?? 'mobincep') as 'mobincep' | 'organet';
  const size = Number(process.env.SIZE ?? 48);
  const t0 = performance.now();
  const set = which === 'tex' ? generateTextureDataset({ perClass: Number(process.env.N ?? 20), size, seed: 1, channels: 3 }) : generateFishDataset({ perClass: Number(process.env.N ?? 20), size, seed: 1 });
  console.log('gen', (performance.now() - t0).toFixed(0), 'ms');
  const data = datasetFromImages(set);
  const spec: ClassifierSpec = { arch, classes: data.classes, inputSize: size, channels: arch === 'organet' && which === 'tex' ? 1 : 3, width: Number(process.env.WIDTH ?? 0.25), adaptedSize: arch === 'organet' ? Number(process.env.ADAPT ?? size) : undefined };
  const t1 = performance.now();
  const cv = await crossValidateClassifier(data, spec, { epochs: Number(process.env.EPOCHS ?? 15), batchSize: 8, patience: Number(process.env.PATIENCE ?? 5), augmentation: process.env.AUG === '0' ? false : undefined, folds: Number(process.env.FOLDS ?? 5), seed: 2, learningRate: Number(process.env.LR ?? 1e-3) });
  console.log(which, arch, 'CV acc', cv.folds.map((f) => f.report.accuracy.toFixed(2)).join(' '), 'mean', cv.meanAccuracy.toFixed(3), 'epochs', cv.folds.map((f) => f.epochsRun).join(' '), ((performance.now() - t1) / 1000).toFixed(1), 's');
}, 1800000);
