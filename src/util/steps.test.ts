import { describe, expect, it } from 'vitest';
import { runSteps, runStepsAsync, type Steps } from './steps';
import { fcm, fcmSteps, fpcSweep, fpcSweepSteps } from '../analysis/fcm';
import { kmeans, kmeansSteps } from '../analysis/kmeans';
import { Random } from './random';

function* countTo(n: number, log: number[]): Steps<number> {
  for (let i = 1; i <= n; i++) {
    log.push(i);
    if (i < n) yield;
  }
  return n * 10;
}

describe('steps', () => {
  it('runs straight through, or with a pause between steps that can end the run', async () => {
    expect(runSteps(countTo(3, []))).toBe(30);
    let pauses = 0;
    expect(await runStepsAsync(countTo(4, []), async () => void pauses++)).toBe(40);
    expect(pauses).toBe(3);
    const log: number[] = [];
    await expect(
      runStepsAsync(countTo(5, log), async () => {
        if (log.length === 2) throw new Error('stop');
      }),
    ).rejects.toThrow('stop');
    expect(log).toEqual([1, 2]);
  });

  it('the clustering steps give what the plain functions give', async () => {
    const rng = new Random(5);
    const points = Float32Array.from({ length: 2 * 400 }, () => rng.normal());
    const pause = async () => {};
    const options = { k: 4, seed: 2, nInit: 3 };
    expect((await runStepsAsync(fcmSteps(points, 2, options), pause)).u).toEqual(fcm(points, 2, options).u);
    expect((await runStepsAsync(kmeansSteps(points, 2, options), pause)).labels).toEqual(kmeans(points, 2, options).labels);
    const sweep = { kRange: [2, 3, 4], seed: 1, nInit: 2 };
    expect((await runStepsAsync(fpcSweepSteps(points, 2, sweep), pause)).fpc).toEqual(fpcSweep(points, 2, sweep).fpc);
  });
});
