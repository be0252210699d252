#!/usr/bin/python3
"""Reference nucleus points on the two real slides of ../shared/data, for the
nucleus evaluation (eval/nuclei/real.ts). Run with Debian's python
(python3-skimage, python3-scipy, python3-openslide):

    /usr/bin/python3 scripts/make_eval_nuclei_reference.py

Writes tests/fixtures/eval/nuclei/<name>.json with the slide's size, µm/px,
the classical detection's parameters, its count and its points (level-0
pixel centres, +0.5 convention of the TypeScript detections).

The classical recipe, at the slide's own resolution:
  CMU-1-Small-Region.svs (H&E): H = rgb2hed(rgb)[..., 0];
      mask = H > threshold_otsu(min(H, percentile(H, 99.5)))
  test3-DAPI-2-387.ndpi (DAPI): S = max over the RGB channels;
      mask = S > threshold_otsu(S)
  then mask = binary_fill_holes(mask), dist = distance_transform_edt(mask),
  peaks = peak_local_max(dist, min_distance=round(4 um / mpp), threshold_abs=0,
  exclude_border=False).
This is a reference for agreement, not ground truth: nobody annotated these
slides.
"""
import json
import os

import numpy as np
import openslide
from scipy import ndimage as ndi
from skimage.color import rgb2hed
from skimage.feature import peak_local_max
from skimage.filters import threshold_otsu

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, '..', 'shared', 'data')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'eval', 'nuclei')
MIN_DISTANCE_UM = 4.0

SLIDES = [
    ('cmu1-svs', 'CMU-1-Small-Region.svs', 'brightfield'),
    ('dapi-ndpi', 'test3-DAPI-2-387.ndpi', 'fluorescence'),
]


def reference(path, kind):
    slide = openslide.OpenSlide(path)
    width, height = slide.dimensions
    mpp = float(slide.properties['openslide.mpp-x'])
    rgb = np.asarray(slide.read_region((0, 0), 0, (width, height)).convert('RGB'))
    if kind == 'brightfield':
        signal = rgb2hed(rgb)[..., 0]
        clipped = np.minimum(signal, np.percentile(signal, 99.5))
        level = float(threshold_otsu(clipped))
    else:
        signal = rgb.max(axis=2).astype(np.float64)
        level = float(threshold_otsu(signal))
    mask = ndi.binary_fill_holes(signal > level)
    dist = ndi.distance_transform_edt(mask)
    min_distance = max(1, int(round(MIN_DISTANCE_UM / mpp)))
    peaks = peak_local_max(dist, min_distance=min_distance, threshold_abs=0, exclude_border=False)
    return {
        'width': width,
        'height': height,
        'mpp': mpp,
        'kind': kind,
        'level': level,
        'minDistancePx': min_distance,
        'maskShare': float(mask.mean()),
        'count': int(len(peaks)),
        'x': [round(float(c) + 0.5, 1) for c in peaks[:, 1]],
        'y': [round(float(r) + 0.5, 1) for r in peaks[:, 0]],
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, file, kind in SLIDES:
        ref = reference(os.path.join(DATA, file), kind)
        ref['slide'] = file
        with open(os.path.join(OUT, name + '.json'), 'w') as f:
            json.dump(ref, f, separators=(',', ':'))
        print(name, ref['width'], ref['height'], ref['mpp'], 'level', round(ref['level'], 4), 'count', ref['count'], 'mask share', round(ref['maskShare'], 3))


if __name__ == '__main__':
    main()
