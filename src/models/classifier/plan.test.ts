import { describe, expect, it } from 'vitest';
import { mobincepForwardFlops } from '../mobincep';
import { initNodeBackend } from '../../engine/wasm-node';
import { DEFAULT_TIME_BUDGET_SECONDS, PLAN_DEFAULTS, TRAINING_SHARE, planClassifierTraining, planForDataset, plannedChoices, timeTrainingSteps, type PlanRequest } from './plan';
import { crossValidationSplits } from '../../analysis/classification-metrics';
import type { ClassifierDataset } from './dataset';
import { classifierSpec, type ClassifierSpec } from './pipeline';

/** A machine whose step time is proportional to the FLOPs, plus a fixed overhead. */
const fakeMachine = (secondsPerGflop: number, overhead = 0.02) => {
  const calls: Array<[number, number]> = [];
  const measure = async (spec: ClassifierSpec, batch: number) => {
    calls.push([spec.inputSize, spec.width]);
    return overhead + (3 * batch * mobincepForwardFlops({ inputSize: spec.inputSize, channels: spec.channels, classes: spec.classes.length, width: spec.width }) * secondsPerGflop) / 1e9;
  };
  return { measure, calls };
};

const request = (over: Partial<PlanRequest>): PlanRequest => ({
  arch: 'mobincep',
  classes: ['a', 'b'],
  channels: 3,
  normalisation: 'image',
  trainExamples: 360,
  validationExamples: 120,
  imageSide: 96,
  device: 'cpu',
  ...over,
});

describe('training plans', () => {
  it('CPU: the costliest size that fits the minimum epochs in the budget, never above the images, estimate within the training share', async () => {
    // About this machine: 0.28 s per batch-16 step at 64 px, width 0.25.
    const machine = fakeMachine(0.5);
    const plan = await planClassifierTraining(request({ measure: machine.measure }));
    expect(plan.inputSize).toBeLessThanOrEqual(96);
    // 360 images at batch 16: 23 steps per epoch; the plan asks for at least minSteps steps.
    expect(plan.epochs * 23).toBeGreaterThanOrEqual(PLAN_DEFAULTS.minSteps);
    expect(plan.patience * 23).toBeGreaterThanOrEqual(PLAN_DEFAULTS.patienceSteps);
    expect(plan.estimatedSeconds).toBeLessThanOrEqual(DEFAULT_TIME_BUDGET_SECONDS * TRAINING_SHARE);
    expect(plan.timeCapSeconds).toBeLessThanOrEqual(DEFAULT_TIME_BUDGET_SECONDS);
    // The next costlier size of the ladder would not have fitted.
    const before = plan.candidates.slice(0, -1);
    for (const c of before) expect(c.epochsInBudget * 23).toBeLessThan(PLAN_DEFAULTS.minSteps);
    expect(plan.summary).toMatch(/ms per step, about .* in all/);
    expect(plan.warnings).toEqual([]);
  });

  it('CPU, a slow machine: a smaller network; a hopeless one: the smallest, with a warning', async () => {
    const fast = await planClassifierTraining(request({ measure: fakeMachine(0.2).measure }));
    const slow = await planClassifierTraining(request({ measure: fakeMachine(2).measure }));
    expect(slow.inputSize * slow.width).toBeLessThanOrEqual(fast.inputSize * fast.width);
    const hopeless = await planClassifierTraining(request({ measure: fakeMachine(200, 5).measure }));
    expect(hopeless.inputSize).toBe(48);
    expect(hopeless.warnings.join(' ')).toMatch(/even the smallest network/);
  });

  it('GPU: the paper network (224 px, width 1) whatever the images', async () => {
    const plan = await planClassifierTraining(request({ device: 'gpu', imageSide: 64, measure: fakeMachine(0.01).measure }));
    expect([plan.inputSize, plan.width]).toEqual([224, 1]);
  });

  it("keeps the user's size and epochs, and warns when they do not fit the budget", async () => {
    const plan = await planClassifierTraining(request({ fixed: { inputSize: 224, width: 1, epochs: 20 }, measure: fakeMachine(0.5).measure }));
    expect([plan.inputSize, plan.width, plan.epochs]).toEqual([224, 1, 20]);
    expect(plan.warnings.join(' ')).toMatch(/of training, more than the 7\.5 min the defaults plan \(of 10 min in all\)/);
    expect(plan.timeCapSeconds).toBeGreaterThanOrEqual(plan.estimatedSeconds);
  });

  it('times real training steps on wasm (a positive, finite number of seconds)', async () => {
    expect(await initNodeBackend('wasm')).toBe('wasm');
    const spec = classifierSpec({ arch: 'mobincep', classes: ['a', 'b'], inputSize: 32, channels: 3, width: 0.25, normalisation: 'image' });
    const seconds = await timeTrainingSteps(spec, 4, 1);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(30);
  });
});

describe('planning a dataset (the command line and the app worker)', () => {
  // 3 classes of 40, 30 and 30 images; sides 80, 96 and 120 px (median 96).
  const sides = [80, 96, 120];
  const dataset: ClassifierDataset = {
    classes: ['a', 'b', 'c'],
    sources: [],
    examples: Array.from({ length: 100 }, (_, i) => {
      const label = i < 40 ? 0 : i < 70 ? 1 : 2;
      const side = sides[i % 3];
      return { source: 0, x: 0, y: 0, width: side, height: side + 10, label, name: `img${i}` };
    }),
  };

  it('plans for the split trainAndTest makes and the median image side', async () => {
    const machine = fakeMachine(0.5);
    const plan = await planForDataset(dataset, { arch: 'mobincep', channels: 3, normalisation: 'image', device: 'cpu', seed: 3, measure: machine.measure });
    const [split] = crossValidationSplits(Int32Array.from(dataset.examples, (e) => e.label), 5, 3);
    const direct = await planClassifierTraining(
      request({ classes: dataset.classes, trainExamples: split.train.length, validationExamples: split.validation.length, imageSide: 96, measure: machine.measure }),
    );
    expect({ ...plan, candidates: undefined }).toEqual({ ...direct, candidates: undefined });
    expect(plan.inputSize).toBeLessThanOrEqual(96);
  });

  it("keeps the user's values and fills the rest from the plan", async () => {
    const plan = await planForDataset(dataset, { arch: 'mobincep', channels: 3, normalisation: 'image', device: 'cpu', seed: 0, measure: fakeMachine(0.5).measure });
    expect(plannedChoices({}, plan)).toEqual({ inputSize: plan.inputSize, width: plan.width, epochs: plan.epochs, batchSize: plan.batchSize, patience: plan.patience, learningRate: plan.learningRate });
    const chosen = plannedChoices({ epochs: 3, patience: 0, width: 0.5 }, plan);
    expect(chosen).toMatchObject({ epochs: 3, patience: 0, width: 0.5, inputSize: plan.inputSize, batchSize: plan.batchSize });
  });
});
