#!/usr/bin/python3
"""Reference values for the e2e tests (tests/fixtures/e2e/slides.json).

For each real slide in ../shared/data: the level-0 size and level count from
tifffile, µm/px from vips/OpenSlide, and colour statistics of the whole slide
decoded by vips (OpenSlide), which the e2e tests compare against the pixels the
viewer draws. Run: /usr/bin/python3 scripts/make-e2e-reference.py
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import tifffile
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, '..', 'shared', 'data')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'e2e', 'slides.json')

# Level used for the colour statistics: small enough to decode quickly, and
# statistics of a downsampled slide match what a fitted viewer shows.
SLIDES = {'CMU-1-Small-Region.svs': 0, 'test3-DAPI-2-387.ndpi': 2}


def vips_field(path, name):
    out = subprocess.run(['vipsheader', '-f', name, path], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def colour_stats(rgb):
    """Mean channel differences over 'tissue' (brightfield) and 'bright' (fluorescence) pixels."""
    a = rgb.astype(np.float64)
    lum = a @ [0.299, 0.587, 0.114]
    tissue = lum < 200
    bright = a.max(axis=-1) > 40
    return {
        'tissueFraction': round(float(tissue.mean()), 4),
        'tissueRminusG': round(float((a[..., 0] - a[..., 1])[tissue].mean()), 2),
        'tissueBminusG': round(float((a[..., 2] - a[..., 1])[tissue].mean()), 2),
        'brightFraction': round(float(bright.mean()), 4),
        'brightBminusR': round(float((a[..., 2] - a[..., 0])[bright].mean()), 2),
    }


def main():
    if not os.path.isdir(DATA):
        sys.exit(f'{DATA} is missing')
    result = {}
    for name, level in SLIDES.items():
        path = os.path.join(DATA, name)
        with tifffile.TiffFile(path) as tif:
            levels = tif.series[0].levels
            height, width = levels[0].shape[:2]
        mpp = vips_field(path, 'openslide.mpp-x')
        with tempfile.TemporaryDirectory() as tmp:
            png = os.path.join(tmp, 'level.png')
            subprocess.run(['vips', 'openslideload', path, png, '--level', str(level)], check=True)
            rgb = np.asarray(Image.open(png).convert('RGB'))
        result[name] = {
            'width': int(width),
            'height': int(height),
            'levels': len(levels),
            'mpp': round(float(mpp), 3) if mpp else None,
            'colourLevel': level,
            'colour': colour_stats(rgb),
        }
    with open(OUT, 'w') as f:
        json.dump(result, f, indent=2)
        f.write('\n')
    print(f'wrote {OUT}')


if __name__ == '__main__':
    main()
