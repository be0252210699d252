/**
 * The time cap of trainClassifier (issue 15): training ends after the epoch
 * at which the next one would pass the cap, says so (`stoppedByTimeCap`),
 * and keeps the best validation epoch's weights; with no cap it runs on.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../engine/wasm-node';
import { generateSet } from '../../../eval/classifier/generator';
import { datasetFromImages } from './dataset';
import { classifierSpec, scatterWeight, trainClassifier } from './pipeline';

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

function smallSet() {
  const set = generateSet({ kind: 'texture', classes: ['dots', 'mesh'], counts: [8, 8], size: 48, seed: 741 });
  return datasetFromImages({ width: 48, height: 48, channels: 3, classNames: set.classNames, labels: set.labels, images: set.images.map((im) => Float32Array.from(im.data)) });
}

describe('classifier time cap', () => {
  it('a cap of 0 s ends training after the first epoch and says so; without a cap all epochs run', async () => {
    const data = smallSet();
    const spec = classifierSpec({ arch: 'mobincep', classes: data.classes, inputSize: 48, channels: 3, width: 0.25, normalisation: 'image' });
    const train = Uint32Array.from([0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13]);
    const validation = Uint32Array.from([6, 7, 14, 15]);
    const capped = await trainClassifier(data, train, validation, spec, { epochs: 3, batchSize: 8, patience: 5, timeCapSeconds: 0, augmentation: false });
    expect(capped.result.epochsRun).toBe(1);
    expect(capped.stoppedByTimeCap).toBe(true);
    capped.model.dispose();
    const free = await trainClassifier(data, train, validation, spec, { epochs: 2, batchSize: 8, patience: 5, augmentation: false });
    expect(free.result.epochsRun).toBe(2);
    expect(free.stoppedByTimeCap).toBe(false);
    free.model.dispose();
  }, 120_000);

  it("scales Mobincep's scatter weight with the batch: the seed's 0.01 at its batch of 4", () => {
    expect(scatterWeight(4)).toBeCloseTo(0.01, 12);
    expect(scatterWeight(16)).toBeCloseTo(0.01 / 16, 12);
  });
});
