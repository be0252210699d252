#!/usr/bin/python3
"""Nucleus-positive reference masks for e2e/nuclei.spec.ts (Debian's /usr/bin/python3).

For the demo H&E slide (CMU-1-Small-Region.svs, level 0 decoded by `vips`
through OpenSlide): scikit-image's colour deconvolution (rgb2hed) and the
hematoxylin-positive rule of src/imaging/stain.ts,
threshold_otsu(min(H, percentile(H, 99.5))). For the DAPI NDPI (level 0):
Otsu on the blue channel (the DAPI signal). Thresholds come from the whole
level 0; the masks are stored for the test's region of interest only
(`roi`, level-0 x, y, width, height), run-length encoded (alternating runs
over the region's row-major pixels, starting with zeros), in
tests/fixtures/e2e/nuclei-reference.json, with the threshold and the
positive shares.

Usage:  /usr/bin/python3 scripts/make_nuclei_e2e_reference.py [--data DIR]
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
from PIL import Image
from skimage.color import rgb2hed
from skimage.filters import threshold_otsu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def level0_rgb(path):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'level0.png')
        subprocess.run(['vips', 'openslideload', f'{path}', out, '--level', '0'], check=True)
        return np.asarray(Image.open(out).convert('RGB'))


def rle(mask):
    flat = mask.reshape(-1).astype(np.uint8)
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat[0] == 1:
        runs = [0] + runs
    return runs


# Regions with tissue and nuclei (level-0 x, y, width, height).
SVS_ROI = (600, 800, 600, 600)
NDPI_ROI = (2200, 3050, 900, 900)  # 219 px patches (0.228 µm/px): 900 px holds 4 × 4 of them, all on tissue


def entry(mask, roi, rule, threshold):
    x, y, w, h = roi
    part = mask[y:y + h, x:x + w]
    return {'roi': list(roi), 'rule': rule, 'threshold': threshold, 'slidePositiveShare': float(mask.mean()), 'roiPositiveShare': float(part.mean()), 'rle': rle(part)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', default=os.path.join(ROOT, '..', 'shared', 'data'))
    args = parser.parse_args()
    out = {}
    rgb = level0_rgb(os.path.join(args.data, 'CMU-1-Small-Region.svs'))
    h = rgb2hed(rgb)[..., 0]
    t = float(threshold_otsu(np.minimum(h, np.percentile(h, 99.5))))
    mask = h > t
    out['CMU-1-Small-Region.svs'] = entry(mask, SVS_ROI, 'hematoxylin (rgb2hed) > Otsu of H clipped at its 99.5th percentile', t)
    rgb = level0_rgb(os.path.join(args.data, 'test3-DAPI-2-387.ndpi'))
    blue = rgb[..., 2].astype(np.float64)
    t = float(threshold_otsu(blue))
    mask = blue > t
    out['test3-DAPI-2-387.ndpi'] = entry(mask, NDPI_ROI, 'blue (DAPI) > Otsu', t)
    path = os.path.join(ROOT, 'tests', 'fixtures', 'e2e', 'nuclei-reference.json')
    with open(path, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
    print(f'wrote {path}: ' + ', '.join(f"{k} roi {v['roi']} positive {v['roiPositiveShare']:.3f} (slide {v['slidePositiveShare']:.3f})" for k, v in out.items()))


if __name__ == '__main__':
    main()
