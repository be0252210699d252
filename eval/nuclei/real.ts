/**
 * The real slides of the nucleus evaluation: ../shared/data's H&E demo slide
 * (CMU-1-Small-Region.svs) and fluorescence DAPI slide (test3-DAPI-2-387.ndpi).
 * Nobody annotated them, so the metric is agreement with a scikit-image
 * reference (scripts/make_eval_nuclei_reference.py → tests/fixtures/eval/nuclei/):
 * the count ratio and F1 of the default run's points against the
 * reference's points (3 µm rule). The baseline beside it is the TypeScript
 * version of the same classical recipe (eval/nuclei/baseline.ts), so its F1
 * against the reference checks that port rather than measures a method.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { matchDetections } from '../../src/analysis/detection-metrics';
import { openSlideFile } from '../../src/cli/slide-file';
import type { EvalContext, EvalVariant, VariantResult } from '../types';
import { baselineNuclei } from './baseline';
import { MATCH_RADIUS_UM, runDefaults } from './workflow';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const REAL_VARIANTS: EvalVariant[] = [
  { id: 'real-cmu1-svs', description: 'CMU-1-Small-Region.svs (H&E, 2220 × 2967 px, 0.499 µm/px); agreement with scikit-image HED + Otsu + distance peaks', seed: 0, reduced: false, real: true },
  { id: 'real-dapi-ndpi', description: 'test3-DAPI-2-387.ndpi (DAPI, 3968 × 4864 px, 0.228 µm/px); agreement with scikit-image Otsu + distance peaks', seed: 0, reduced: false, real: true },
];

interface Reference {
  slide: string;
  width: number;
  height: number;
  mpp: number;
  kind: 'brightfield' | 'fluorescence';
  count: number;
  x: number[];
  y: number[];
}

export async function realVariantRun(variant: EvalVariant, context: EvalContext): Promise<VariantResult> {
  const name = variant.id.replace(/^real-/, '');
  const ref = JSON.parse(await readFile(path.join(ROOT, 'tests', 'fixtures', 'eval', 'nuclei', `${name}.json`), 'utf8')) as Reference;
  const file = path.join(ROOT, '..', 'shared', 'data', ref.slide);
  const source = await openSlideFile(file);
  try {
    const outcome = await runDefaults(source, context);
    const radius = MATCH_RADIUS_UM / ref.mpp;
    const m = matchDetections(outcome.x, outcome.y, ref.x, ref.y, radius);
    const b0 = performance.now();
    const block = await source.readRegion({ level: 0, x: 0, y: 0, width: ref.width, height: ref.height });
    const base = baselineNuclei(block.data as Uint8Array, ref.width, ref.height, ref.mpp, ref.kind);
    const baselineSeconds = (performance.now() - b0) / 1000;
    const mb = matchDetections(base.x, base.y, ref.x, ref.y, radius);
    return {
      variant,
      metrics: {
        agreementF1: { value: m.f1, baseline: mb.f1 },
        countRatio: { value: outcome.x.length / ref.count, baseline: base.x.length / ref.count },
        count: { value: outcome.x.length, baseline: base.x.length },
        referenceCount: { value: ref.count },
      },
      seconds: outcome.seconds,
      baselineSeconds,
      checks: outcome.checks,
      notes: `${outcome.notes}; reference ${ref.count} (scikit-image, not ground truth)`,
    };
  } finally {
    source.close();
  }
}
