#!/usr/bin/python3
"""Reference fixtures for src/imaging/stain.ts (run with Debian's /usr/bin/python3).

Writes scikit-image's colour deconvolution (skimage.color.rgb2hed) of two
small RGB images into tests/fixtures/imaging/stain/, so the TypeScript tests
need neither python nor /work/shared at test time:

  cmu_crop   a 192x192 crop of the CMU-1 demo slide at level 0 (dermis with
             many nuclei and fibrous stroma), cut and decoded by `vips crop`
             through its OpenSlide loader
  colours    a 64x64 synthetic image: every combination of the edge values
             0, 1, 2, 254, 255 (the 1e-6 log floor and the clipping at 0 are
             exercised there), a grey ramp, then seeded random colours

For each: <name>_rgb.u8.gz (interleaved RGB, uint8) and <name>_hed.f32.gz
(interleaved H, E, D, little-endian float32: skimage's float64 result
rounded to float32), both gzip'ed raw row-major bytes. stain.json holds the
sizes, the stain matrices as float64 numbers, and the default hematoxylin
threshold: threshold_otsu(np.minimum(H, np.percentile(H, 99.5))).

Usage:  /usr/bin/python3 scripts/make_stain_reference.py [--data DIR]
"""
import argparse
import gzip
import json
import os
import subprocess
import tempfile

import numpy as np
from PIL import Image
import skimage
from skimage.color import rgb2hed
from skimage.color.colorconv import hed_from_rgb, rgb_from_hed
from skimage.filters import threshold_otsu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'imaging', 'stain')

# Top-left corner of the slide crop (level-0 px) and its side.
CROP_X, CROP_Y, CROP_SIDE = 1032, 1032, 192
CLIP_PERCENTILE = 99.5


def save_raw(ref, name, arr):
    """gzip'ed raw bytes (uint8 or float32), registered with shape and dtype."""
    arr = np.ascontiguousarray(arr)
    if arr.dtype == np.uint8:
        suffix, dtype = 'u8', 'uint8'
    else:
        arr = arr.astype('<f4')
        suffix, dtype = 'f32', 'float32'
    file = f'{name}.{suffix}.gz'
    with open(os.path.join(OUT, file), 'wb') as fh:
        fh.write(gzip.compress(arr.tobytes(), compresslevel=9, mtime=0))
    ref['images'][name] = {
        'file': file, 'width': int(arr.shape[1]), 'height': int(arr.shape[0]),
        'channels': int(arr.shape[2]) if arr.ndim == 3 else 1, 'dtype': dtype,
    }


def load_crop(data_dir):
    path = os.path.join(data_dir, 'CMU-1-Small-Region.svs')
    with tempfile.TemporaryDirectory() as tmp:
        png = os.path.join(tmp, 'crop.png')
        # Crop inside vips so only the region is written out.
        subprocess.run(['vips', 'crop', f'{path}[level=0]', png,
                        str(CROP_X), str(CROP_Y), str(CROP_SIDE), str(CROP_SIDE)], check=True)
        return np.asarray(Image.open(png).convert('RGB'))


def colour_chart():
    edges = [0, 1, 2, 254, 255]
    combos = np.array([(r, g, b) for r in edges for g in edges for b in edges], dtype=np.uint8)
    ramp = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    rng = np.random.default_rng(20240611)
    rest = rng.integers(0, 256, size=(64 * 64 - len(combos) - len(ramp), 3), dtype=np.uint8)
    return np.concatenate([combos, ramp, rest]).reshape(64, 64, 3)


def default_threshold(h):
    return float(threshold_otsu(np.minimum(h, np.percentile(h, CLIP_PERCENTILE))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', default=os.path.join(ROOT, '..', 'shared', 'data'))
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    ref = {
        'generator': 'scripts/make_stain_reference.py',
        'versions': {'numpy': np.__version__, 'skimage': skimage.__version__},
        'rgbFromHed': rgb_from_hed.tolist(),
        'hedFromRgb': hed_from_rgb.tolist(),
        'clipPercentile': CLIP_PERCENTILE,
        'crop': {'slide': 'CMU-1-Small-Region.svs', 'level': 0, 'x': CROP_X, 'y': CROP_Y},
        'images': {},
        'cases': [],
    }
    for name, rgb in (('cmu_crop', load_crop(args.data)), ('colours', colour_chart())):
        hed = rgb2hed(rgb)
        h32 = hed[..., 0].astype(np.float32)
        save_raw(ref, f'{name}_rgb', rgb)
        save_raw(ref, f'{name}_hed', hed)
        # Threshold on the float32 H that the TypeScript side sees.
        threshold = default_threshold(h32.astype(np.float64))
        ref['cases'].append({
            'name': name,
            'rgb': f'{name}_rgb',
            'hed': f'{name}_hed',
            'hematoxylinThreshold': threshold,
            'hematoxylinPositive': int((h32 > threshold).sum()),
            'otsuUnclipped': float(threshold_otsu(hed[..., 0])),
        })
    with open(os.path.join(OUT, 'stain.json'), 'w') as fh:
        json.dump(ref, fh, indent=1)
        fh.write('\n')
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f'wrote {OUT} ({total / 1024:.0f} KiB)')


if __name__ == '__main__':
    main()
