import { describe, expect, it } from 'vitest';
import { checksVerdict, nucleiSelfChecks } from './checks';

const good = { losses: [0.9, 0.5, 0.3, 0.28], count: 900, stainEstimate: 820, stoppedByTimeCap: false, timeCapSeconds: 120, stain: 'hematoxylin' as const };

describe('nucleiSelfChecks', () => {
  it('stays quiet on a good run', () => {
    expect(nucleiSelfChecks(good)).toEqual([]);
    expect(checksVerdict(nucleiSelfChecks(good))).toBe('ok');
  });

  it('fires loss-flat on a flat loss', () => {
    const checks = nucleiSelfChecks({ ...good, losses: [0.0622, 0.0622, 0.0621, 0.0622] });
    expect(checks.map((c) => c.id)).toEqual(['loss-flat']);
    expect(checks[0].severity).toBe('failed');
  });

  it('fires count-off-estimate for the issue\'s 13 detections among ~900 stained nuclei, and for far too many', () => {
    const few = nucleiSelfChecks({ ...good, count: 13 });
    expect(few.map((c) => c.id)).toEqual(['count-off-estimate']);
    expect(few[0].severity).toBe('failed');
    expect(few[0].message).toContain('haematoxylin');
    const many = nucleiSelfChecks({ ...good, count: 2000, stain: 'fluorescence' });
    expect(many.map((c) => c.id)).toEqual(['count-off-estimate']);
    expect(many[0].severity).toBe('warning');
    expect(many[0].message).toContain('DAPI');
    expect(checksVerdict(few)).toBe('failed');
  });

  it('says nothing about the count without an estimate', () => {
    expect(nucleiSelfChecks({ ...good, count: 1, stainEstimate: undefined })).toEqual([]);
  });

  it('fires time-cap when training was cut by the cap', () => {
    const checks = nucleiSelfChecks({ ...good, stoppedByTimeCap: true });
    expect(checks.map((c) => c.id)).toEqual(['time-cap']);
    expect(checks[0].message).toContain('2');
    expect(checksVerdict(checks)).toBe('warning');
    expect(checks[0].message).not.toContain('affects');
  });

  it('says the time cap touches only the codes when the stain placed the points', () => {
    const [check] = nucleiSelfChecks({ ...good, stoppedByTimeCap: true, detector: 'stain' });
    expect(check.id).toBe('time-cap');
    expect(check.message).toContain('only the codes that describe each nucleus');
    expect(nucleiSelfChecks({ ...good, stoppedByTimeCap: true, detector: 'cae' })[0].message).not.toContain('only the codes');
  });
});
