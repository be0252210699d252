import { test } from 'vitest';
import * as im from './index';
import { reference, fixtureImage, decodeRle, maxAbsDiff, countDifferent, iou, meanAbsDiff } from './testFixtures';
test('explore', () => {
  const ref = reference();
  const rgb = fixtureImage('cmu_rgb_crop');
  console.log('gray', maxAbsDiff(im.toGray({ ...rgb }).data, fixtureImage('cmu_rgb_crop_gray').data));
  for (const g of ref.gaussian) {
    const out = im.gaussianBlur(fixtureImage(g.input), g.sigma);
    console.log('gauss', g.input, g.sigma, maxAbsDiff(out.data, fixtureImage(g.output).data));
  }
  for (const t of ref.thresholds) {
    const img = fixtureImage(t.input);
    console.log('thr', t.input, im.thresholdTriangle(img), t.triangle, im.thresholdOtsu(img), t.otsu);
  }
  const blobs = decodeRle(ref.morphology.input);
  console.log('fill', countDifferent(im.fillHoles(blobs).data, decodeRle(ref.morphology.fillHoles).data));
  for (const r of Object.keys(ref.morphology.erosion)) {
    console.log('ero', r, countDifferent(im.binaryErosion(blobs, +r).data, decodeRle(ref.morphology.erosion[r]).data),
      countDifferent(im.binaryDilation(blobs, +r).data, decodeRle(ref.morphology.dilation[r]).data));
  }
  for (const r of Object.keys(ref.morphology.disks)) console.log('disk', r, countDifferent(im.disk(+r).data, decodeRle(ref.morphology.disks[r]).data));
  const rb = ref.reconstruction.binary;
  console.log('recb', countDifferent(im.reconstructBinary(decodeRle(rb.seed), decodeRle(rb.mask)).data, decodeRle(rb.output).data),
    countDifferent(im.reconstructionByDilation(decodeRle(rb.seed), decodeRle(rb.mask)).data, decodeRle(rb.output).data));
  const rm = fixtureImage('recon_mask');
  const hd = { ...rm, data: rm.data.map((v) => v - 3) };
  console.log('rec hdome', maxAbsDiff(im.reconstructionByDilation(hd, rm).data, fixtureImage('recon_hdome').data));
  console.log('rec marker', maxAbsDiff(im.reconstructionByDilation(fixtureImage('recon_marker_seed'), rm).data, fixtureImage('recon_marker').data));
  for (const l of ref.lanczos) {
    const inp = fixtureImage(l.input);
    const u8 = im.resizeLanczos(inp, l.width, l.height);
    const refU8 = fixtureImage(l.outputU8);
    console.log('lanczos', l.outputU8, countDifferent(u8.data, refU8.data), maxAbsDiff(u8.data, refU8.data));
    if (l.outputF32) {
      const f = im.resizeLanczos(im.toFloat(inp), l.width, l.height);
      console.log('  F', maxAbsDiff(f.data, fixtureImage(l.outputF32).data));
    }
  }
  const syn = fixtureImage('syn_23x37');
  console.log('dlm', maxAbsDiff(im.downscaleLocalMean(syn, 4).data, fixtureImage('syn_23x37_dlm_4').data),
    maxAbsDiff(im.downscaleLocalMean(syn, 2, 3).data, fixtureImage('syn_23x37_dlm_2x3').data),
    maxAbsDiff(im.downscaleMean(syn, 4).data, fixtureImage('syn_23x37_partial_4').data),
    maxAbsDiff(im.resizeArea(syn, 10, 7).data, fixtureImage('syn_23x37_area_10x7').data));
  for (const m of ref.median) {
    console.log('median', m.output, countDifferent(im.medianFilter(fixtureImage(m.input), m.radius, m.shape).data, fixtureImage(m.output).data));
  }
  for (const c of ref.clahe) {
    const out = im.equalizeAdaptHist(fixtureImage(c.input), { kernelSize: c.kernelSize ?? undefined, clipLimit: c.clipLimit });
    console.log('clahe', c.output, maxAbsDiff(out.data, fixtureImage(c.output).data), meanAbsDiff(out.data, fixtureImage(c.output).data));
  }
  for (const t of ref.tissueMask) {
    const small = fixtureImage(t.small);
    const r = im.tissueMask(small, { sigma: t.sigma, erosionRadius: t.erosionRadius });
    console.log('tissue', t.name, r.threshold, t.threshold, r.polarity, iou(r.mask, decodeRle(t.mask)), countDifferent(r.mask.data, decodeRle(t.mask).data),
      countDifferent(r.thresholded.data, decodeRle(t.thresholded).data));
    const p = im.tissueMaskPipeline(fixtureImage(t.input), { levelDownsample: t.levelDownsample, downscale: t.downscale });
    console.log('  pipeline', p.small.width, p.small.height, maxAbsDiff(p.small.data, small.data), p.threshold, p.sigma, p.erosionRadius, iou(p.mask, decodeRle(t.mask)));
  }
});
