import { describe, expect, it } from 'vitest';
import { createAppStore, effectiveMpp, selectActiveSlide, type OpenSlide } from './index';
import { EtaEstimator, etaSeconds, formatEta } from './eta';
import type { SlideMetadata } from '../slide/types';
import { addSelection, applyShape, emptySelectionSet } from '../analysis/selections';

function fakeClock(start = 1000) {
  let time = start;
  return { now: () => time, advance: (ms: number) => (time += ms) };
}

/** A job whose progress the test drives by hand. */
function controllableJob() {
  let report: ((p: number, detail?: string) => void) | undefined;
  let signal: AbortSignal | undefined;
  let finish: ((value: string) => void) | undefined;
  let fail: ((error: unknown) => void) | undefined;
  const fn = (r: typeof report, s: AbortSignal) =>
    new Promise<string>((resolve, reject) => {
      report = r;
      signal = s;
      finish = resolve;
      fail = reject;
      s.addEventListener('abort', () => reject(new DOMException('cancelled', 'AbortError')));
    });
  return {
    fn: fn as (r: (p: number, d?: string) => void, s: AbortSignal) => Promise<string>,
    report: (p: number, d?: string) => report!(p, d),
    signal: () => signal!,
    finish: (v: string) => finish!(v),
    fail: (e: unknown) => fail!(e),
  };
}

describe('ETA', () => {
  it('is (1 − p) × elapsed / advanced over the window', () => {
    expect(etaSeconds([{ time: 0, progress: 0 }])).toBeNull();
    expect(etaSeconds([{ time: 0, progress: 0 }, { time: 2000, progress: 0.25 }])).toBeCloseTo(6, 12);
    expect(etaSeconds([{ time: 0, progress: 0.5 }, { time: 1000, progress: 0.5 }])).toBeNull();
    expect(etaSeconds([{ time: 0, progress: 0.5 }, { time: 1000, progress: 1 }])).toBe(0);
  });

  it('follows a change of speed within the window', () => {
    const eta = new EtaEstimator(10_000);
    eta.update(0, 0);
    // Slow start: 1 % per second for 20 s.
    let last: number | null = null;
    for (let s = 1; s <= 20; s++) last = eta.update(s / 100, s * 1000);
    expect(last).toBeCloseTo(80, 6);
    // Then 5 % per second; after 11 s only the fast samples are in the window.
    for (let s = 1; s <= 11; s++) last = eta.update(0.2 + (5 * s) / 100, (20 + s) * 1000);
    expect(last).toBeCloseTo(0.25 / 0.05, 6);
  });

  it('restarts when progress goes backwards (a new phase)', () => {
    const eta = new EtaEstimator();
    eta.update(0, 0);
    eta.update(0.9, 1000);
    expect(eta.update(0.1, 2000)).toBeNull();
    expect(eta.update(0.2, 3000)).toBeCloseTo(8, 12);
  });

  it('formats', () => {
    expect(formatEta(null)).toBe('…');
    expect(formatEta(4.4)).toBe('4 s');
    expect(formatEta(185)).toBe('3 min 05 s');
    expect(formatEta(3720)).toBe('1 h 02 min');
  });
});

describe('jobs', () => {
  it('reports progress and ETA from the rate, then completes', async () => {
    const clock = fakeClock();
    const store = createAppStore({ now: clock.now });
    const job = controllableJob();
    const result = store.getState().runJob('Train model', job.fn);
    const [running] = store.getState().jobs;
    expect(running).toMatchObject({ label: 'Train model', status: 'running', progress: 0, etaSeconds: null });

    clock.advance(3000);
    job.report(0.25, 'epoch 1/4');
    expect(store.getState().jobs[0]).toMatchObject({ progress: 0.25, detail: 'epoch 1/4' });
    expect(store.getState().jobs[0].etaSeconds).toBeCloseTo(9, 9);

    // Updates closer than 100 ms are throttled, but the estimator still sees them.
    clock.advance(50);
    job.report(0.3);
    expect(store.getState().jobs[0].progress).toBe(0.25);
    clock.advance(950);
    job.report(0.5);
    expect(store.getState().jobs[0].progress).toBe(0.5);
    expect(store.getState().jobs[0].etaSeconds).toBeCloseTo(4, 9);

    job.finish('weights');
    await expect(result).resolves.toEqual({ status: 'done', value: 'weights' });
    expect(store.getState().jobs[0]).toMatchObject({ status: 'done', progress: 1, etaSeconds: 0 });
    expect(store.getState().alerts).toHaveLength(0);
  });

  it('cancels through the store and aborts the signal', async () => {
    const store = createAppStore({ now: fakeClock().now });
    const job = controllableJob();
    const result = store.getState().runJob('Encode tiles', job.fn);
    const id = store.getState().jobs[0].id;
    store.getState().cancelJob(id);
    expect(job.signal().aborted).toBe(true);
    await expect(result).resolves.toEqual({ status: 'cancelled' });
    expect(store.getState().jobs[0].status).toBe('cancelled');
    expect(store.getState().alerts).toHaveLength(0);
  });

  it('turns a failure into a failed job and an alert', async () => {
    const store = createAppStore({ now: fakeClock().now });
    const job = controllableJob();
    const result = store.getState().runJob('Cluster', job.fn);
    job.fail(new Error('out of memory'));
    const outcome = await result;
    expect(outcome.status).toBe('failed');
    expect(store.getState().jobs[0]).toMatchObject({ status: 'failed', error: 'out of memory' });
    expect(store.getState().alerts.map((a) => a.message)).toEqual(['Cluster: out of memory']);
  });

  it('keeps at most 10 finished jobs and never drops running ones', async () => {
    const store = createAppStore({ now: fakeClock().now });
    const running = controllableJob();
    void store.getState().runJob('long', running.fn);
    for (let i = 0; i < 12; i++) await store.getState().runJob(`quick ${i}`, async () => i);
    const jobs = store.getState().jobs;
    expect(jobs.filter((j) => j.status === 'done').map((j) => j.label)).toEqual(
      Array.from({ length: 10 }, (_, i) => `quick ${i + 2}`),
    );
    expect(jobs.find((j) => j.label === 'long')?.status).toBe('running');
    store.getState().dismissJob(jobs.find((j) => j.label === 'long')!.id);
    expect(store.getState().jobs.some((j) => j.label === 'long')).toBe(true);
  });
});

function slide(id: string, mppX?: number): OpenSlide {
  const metadata: SlideMetadata = {
    name: `${id}.svs`,
    format: 'svs',
    width: 100,
    height: 80,
    levels: [{ width: 100, height: 80, tileWidth: 64, tileHeight: 64, downsample: 1 }],
    channels: [
      { name: 'R', color: '#ff0000' },
      { name: 'G', color: '#00ff00' },
      { name: 'B', color: '#0000ff' },
    ],
    dtype: 'uint8',
    rgb: true,
    mppX,
    mppY: mppX,
    associated: [],
    properties: {},
  };
  return { id, name: metadata.name, metadata, display: {} as OpenSlide['display'] };
}

describe('slides', () => {
  it('activates each added slide and a neighbour when the active one closes', () => {
    const store = createAppStore();
    const s = store.getState();
    s.addSlide(slide('a'));
    s.addSlide(slide('b'));
    s.addSlide(slide('c'));
    expect(store.getState().activeSlideId).toBe('c');
    s.setActiveSlide('b');
    s.removeSlide('b');
    expect(store.getState().slides.map((x) => x.id)).toEqual(['a', 'c']);
    expect(store.getState().activeSlideId).toBe('c');
    s.removeSlide('a');
    expect(store.getState().activeSlideId).toBe('c');
    s.removeSlide('c');
    expect(store.getState().activeSlideId).toBeNull();
    s.setActiveSlide('missing');
    expect(store.getState().activeSlideId).toBeNull();
  });

  it('uses the manual µm/px over the file value, and ignores nonsense', () => {
    const store = createAppStore();
    store.getState().addSlide(slide('a', 0.499));
    const active = () => selectActiveSlide(store.getState())!;
    expect(effectiveMpp(active())).toBe(0.499);
    store.getState().setMppOverride('a', 0.25);
    expect(effectiveMpp(active())).toBe(0.25);
    store.getState().setMppOverride('a', -1);
    store.getState().setMppOverride('a', Number.NaN);
    expect(effectiveMpp(active())).toBe(0.25);
    store.getState().setMppOverride('a', undefined);
    expect(effectiveMpp(active())).toBe(0.499);
    store.getState().addSlide(slide('b'));
    expect(effectiveMpp(active())).toBeUndefined();
  });
});

describe('alerts and overlays', () => {
  it('shows each message once until dismissed', () => {
    const store = createAppStore();
    const id = store.getState().pushAlert('bad.tif: JPEG-XR compression (34892) is not supported');
    expect(store.getState().pushAlert('bad.tif: JPEG-XR compression (34892) is not supported')).toBe(id);
    expect(store.getState().alerts).toHaveLength(1);
    store.getState().dismissAlert(id);
    expect(store.getState().alerts).toHaveLength(0);
  });

  it('adds, replaces, patches and removes overlay layers', () => {
    const store = createAppStore();
    const base = { id: 'clusters', name: 'Clusters', slideId: 'a', opacity: 0.5, visible: true } as const;
    const rects = new Float32Array([0, 0, 10, 10]);
    store.getState().addOverlay({ ...base, kind: 'tiles', rects, colors: new Uint8Array([255, 0, 0, 255]) });
    store.getState().updateOverlay('clusters', { opacity: 0.8, visible: false });
    const layer = store.getState().overlays[0];
    expect(layer).toMatchObject({ kind: 'tiles', opacity: 0.8, visible: false });
    // Data are held by reference, never copied.
    expect(layer.kind === 'tiles' && layer.rects).toBe(rects);
    store.getState().addOverlay({ ...base, kind: 'points', xy: new Float32Array(2), colors: new Uint8Array(4), radius: 3 });
    expect(store.getState().overlays).toHaveLength(1);
    expect(store.getState().overlays[0].kind).toBe('points');
    store.getState().removeOverlay('clusters');
    expect(store.getState().overlays).toHaveLength(0);
  });

  it('keeps the swipe divider within the viewer, and off as null', () => {
    const store = createAppStore();
    expect(store.getState().swipe).toBeNull();
    store.getState().setSwipe(0.4);
    expect(store.getState().swipe).toBe(0.4);
    store.getState().setSwipe(1.7);
    expect(store.getState().swipe).toBe(1);
    store.getState().setSwipe(-0.2);
    expect(store.getState().swipe).toBe(0);
    store.getState().setSwipe(null);
    expect(store.getState().swipe).toBeNull();
  });
});

describe('selections', () => {
  it('edits are undoable per slide; loading stored selections starts a fresh history; a size change starts over', () => {
    const store = createAppStore();
    const s = () => store.getState();
    s().editSelections('a', 3, (set) => applyShape(set, Uint8Array.from([1, 0, 1]), 'replace'));
    s().editSelections('a', 3, (set) => applyShape(set, Uint8Array.from([0, 1, 0]), 'add'));
    expect(Array.from(s().selections.a.set.selections[0].members)).toEqual([1, 1, 1]);
    expect(s().selections.a.canUndo).toBe(true);
    s().undoSelections('a');
    expect(Array.from(s().selections.a.set.selections[0].members)).toEqual([1, 0, 1]);
    expect(s().selections.a.canRedo).toBe(true);
    expect(s().selections.b).toBeUndefined();

    const stored = addSelection(emptySelectionSet(3), { name: 'kept', members: Uint8Array.from([0, 0, 1]) });
    s().loadSelections('a', stored);
    expect(s().selections.a).toEqual({ set: stored, canUndo: false, canRedo: false });

    // Items of another size (new tiles): the history restarts empty.
    s().editSelections('a', 5, (set) => set);
    expect(s().selections.a.set.items).toBe(5);
    expect(s().selections.a.set.selections).toHaveLength(0);
    s().resetSelections('a');
    expect(s().selections.a).toBeUndefined();
  });
});
