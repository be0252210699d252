import { it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { generateTextureDataset } from '../synthetic/textures';
import { datasetFromImages, readExamples } from '../models/classifier/dataset';
import { crossValidationSplits } from '../analysis/classification-metrics';
it('dump', async () => {
  const size = Number(process.env.SIZE ?? 48);
  const set = generateTextureDataset({ perClass: Number(process.env.PER ?? 100), size, seed: 1, channels: 3 });
  const data = datasetFromImages(set);
  const labels = Int32Array.from(data.examples, (e) => e.label);
  const all = Uint32Array.from(labels.keys());
  const x = await readExamples(data, all, { inputSize: size, channels: 3 });
  writeFileSync(`/tmp/tex${process.env.PER ?? 100}s${size}_x.f32`, Buffer.from(x.buffer));
  writeFileSync(`/tmp/tex${process.env.PER ?? 100}s${size}_y.i32`, Buffer.from(labels.buffer));
  const [s] = crossValidationSplits(labels, 5, 0);
  writeFileSync(`/tmp/tex${process.env.PER ?? 100}s${size}_split.json`, JSON.stringify({ train: Array.from(s.train), test: Array.from(s.test), validation: Array.from(s.validation) }));
});
