import { describe, expect, it } from 'vitest';
import { encode } from 'fast-png';
import { zipSync } from 'fflate';
import { createMemorySource } from '../../slide/formats/memory-source';
import { classBalance, datasetFromImageFiles, datasetFromRects, datasetFromShapes, exampleInput, expandZips, filesFromZip, imageClassCounts, readExamples, zipEntryNames } from './dataset';

function rgbSource(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]) {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), 3 * (y * width + x));
  const channels = ['R', 'G', 'B'].map((name) => ({ name, color: '#ffffff' }));
  return createMemorySource({ data, width, height, channels: 3, dtype: 'uint8' }, { name: 'slide.png', format: 'png', channels, rgb: true, mppX: 0.5, mppY: 0.5, properties: {} });
}

function png(width: number, height: number, value: number): Blob {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (value + i) % 256;
  return new Blob([encode({ width, height, data, channels: 3, depth: 8 }) as Uint8Array<ArrayBuffer>]);
}

describe('classifier datasets', () => {
  it('shapes: lattice squares whose centre lies in a rectangle or polygon, a square around a point, one square for a tiny shape', () => {
    const source = rgbSource(400, 300, () => [0, 0, 0]);
    const d = datasetFromShapes(
      source,
      [
        { kind: 'polygon', className: 'tumour', points: [10, 10, 210, 10, 210, 110, 10, 110] }, // centres 50…150 × 50: (50,50),(150,50)
        { kind: 'point', className: 'stroma', x: 395, y: 5 }, // clamped into the slide
        { kind: 'polygon', className: 'stroma', points: [300, 200, 310, 200, 310, 205] }, // smaller than a patch
      ],
      100,
    );
    expect(d.classes).toEqual(['stroma', 'tumour']);
    const tumour = d.examples.filter((e) => e.label === 1).map((e) => [e.x, e.y, e.width, e.height]);
    expect(tumour).toEqual([
      [0, 0, 100, 100],
      [100, 0, 100, 100],
    ]);
    const stroma = d.examples.filter((e) => e.label === 0).map((e) => [e.x, e.y]);
    expect(stroma).toEqual([
      [300, 0],
      [255, 152.5],
    ]);
    expect(classBalance(d, 2).warnings).toEqual([]);
    expect(classBalance(d, 3).tooFew).toEqual(['stroma', 'tumour']);
  });

  it('rectangles: labelled tiles (the explorer classes), one example per rectangle, in order', () => {
    const source = rgbSource(100, 100, () => [0, 0, 0]);
    const d = datasetFromRects(source, ['a', 'b'], [0, 0, 50, 50, 50, 50, 50, 50, 0, 50, 50, 50], [0, 0, 1]);
    expect(d.classes).toEqual(['a', 'b']);
    expect(d.examples.map((e) => [e.x, e.y, e.label])).toEqual([
      [0, 0, 0],
      [50, 50, 0],
      [0, 50, 1],
    ]);
    expect(() => datasetFromRects(source, ['a'], [0, 0, 1], [0])).toThrow(/3 rectangle values for 1 labels/);
    expect(classBalance(d).warnings).toHaveLength(2); // both under 10
  });

  it('image folders (and zips of them): the parent folder is the class; hidden, loose and non-image files are skipped', async () => {
    const files = [
      { path: 'set/benign/a.png', blob: png(20, 10, 1) },
      { path: 'set/benign/b.PNG', blob: png(8, 8, 2) },
      { path: 'set/malignant/c.png', blob: png(12, 12, 3) },
      { path: 'set/malignant/.d.png', blob: png(4, 4, 4) },
      { path: '__MACOSX/set/benign/a.png', blob: png(4, 4, 5) },
      { path: 'set/malignant/notes.txt', blob: new Blob(['x']) },
      { path: 'loose.png', blob: png(4, 4, 6) },
    ];
    const zipped = zipSync(Object.fromEntries(await Promise.all(files.map(async (f) => [f.path, new Uint8Array(await f.blob.arrayBuffer())] as const))));
    const fromZip = await filesFromZip(new Blob([zipped]));
    for (const input of [files, fromZip]) {
      const d = await datasetFromImageFiles(input);
      expect(d.classes).toEqual(['benign', 'malignant']);
      expect(d.examples.map((e) => [e.name, e.label, e.width, e.height])).toEqual([
        ['set/benign/a.png', 0, 20, 10],
        ['set/benign/b.PNG', 0, 8, 8],
        ['set/malignant/c.png', 1, 12, 12],
      ]);
      expect(d.skipped.sort()).toEqual(['__MACOSX/set/benign/a.png', 'loose.png', 'set/malignant/.d.png', 'set/malignant/notes.txt']);
      const inputs = await readExamples(d, [0, 2], { inputSize: 6, channels: 3 });
      expect(inputs.length).toBe(2 * 6 * 6 * 3);
    }
    // The balance the panel shows before anything is read: from the paths alone, the zip's listed without inflating.
    const names = await zipEntryNames(new Blob([zipped]));
    expect(names.sort()).toEqual(files.map((f) => f.path).sort());
    expect(imageClassCounts(names)).toEqual({ classes: ['benign', 'malignant'], counts: [2, 1], skipped: 4 });
    // A zip among chosen files is replaced by its contents; other files pass through.
    const expanded = await expandZips([{ path: 'extra/benign/z.png', blob: png(4, 4, 9) }, { path: 'all.ZIP', blob: new Blob([zipped]) }]);
    expect(expanded.map((f) => f.path)).toEqual(['extra/benign/z.png', ...fromZip.map((f) => f.path)]);
    await expect(zipEntryNames(new Blob([new Uint8Array([1, 2, 3, 4])]), 'bad.zip')).rejects.toThrow(/bad\.zip: not a readable zip/);
    await expect(filesFromZip(new Blob([new Uint8Array([1, 2, 3, 4])]), 'bad.zip')).rejects.toThrow(/bad\.zip: not a readable zip/);
    await expect(datasetFromImageFiles([{ path: 'x/broken.png', blob: new Blob([new Uint8Array(10)]) }])).rejects.toThrow(/x\/broken\.png: /);
  });

  it('inputs: resampled by area means, grey by luminance, standardised per image and channel', () => {
    const block = { data: Uint8Array.from([10, 20, 30, 10, 20, 30, 50, 60, 70, 50, 60, 70]), width: 2, height: 2, channels: 3, dtype: 'uint8' as const };
    // 2 × 2 → 1 × 2 rows: top row (10, 20, 30), bottom row (50, 60, 70): standardised to −1 and +1 per channel.
    const rgb = exampleInput({ ...block }, { inputSize: 2, channels: 3 });
    expect(Array.from(rgb)).toEqual([-1, -1, -1, -1, -1, -1, 1, 1, 1, 1, 1, 1]);
    const grey = exampleInput(block, { inputSize: 1, channels: 1 });
    expect(Array.from(grey)).toEqual([0]); // one pixel: nothing to standardise
    const grey2 = exampleInput(block, { inputSize: 2, channels: 1 });
    expect(Array.from(grey2).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([-1, -1, 1, 1]);
    // Over all channels together: values 10…70, mean 40; population sd over the 12 values = sqrt(1600/3 + 400) ≈ 30.55.
    const joint = exampleInput({ ...block }, { inputSize: 2, channels: 3, normalisation: 'image' });
    const sd = Math.sqrt(((30 ** 2 + 20 ** 2 + 10 ** 2 + 10 ** 2 + 20 ** 2 + 30 ** 2) * 2) / 12);
    const expected = [10, 20, 30, 10, 20, 30, 50, 60, 70, 50, 60, 70].map((v) => (v - 40) / sd);
    Array.from(joint).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    // The channels keep their order: red < green < blue in every pixel (per-channel standardisation made them equal).
    expect(joint[0] < joint[1] && joint[1] < joint[2]).toBe(true);
    // Raw: the stored values over the data type's range.
    expect(Array.from(exampleInput({ ...block }, { inputSize: 2, channels: 3, normalisation: 'none' }))).toEqual([10, 20, 30, 10, 20, 30, 50, 60, 70, 50, 60, 70].map((v) => Math.fround(v / 255)));
    const float = { data: Float32Array.from([0.25, 0.75]), width: 1, height: 2, channels: 1, dtype: 'float32' as const };
    expect(Array.from(exampleInput(float, { inputSize: 1, channels: 1, normalisation: 'none' }))).toEqual([0.5]);
  });
});
