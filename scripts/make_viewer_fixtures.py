#!/usr/bin/python3
"""Reference values for the viewer/worker unit tests (tests/fixtures/viewer/).

- level-plans.json: pyramid levels as OpenSlide reports them for the two sample
  slides and for a vips-built pyramid, with OpenSlide's
  get_best_level_for_downsample(2^k * 1.01) (our level choice allows 1 %
  slack for scanners whose levels are 4.0003x apart), and OpenSeadragon's tile
  grid (number of tiles, size of the last tile) per OSD level, from the
  formulas of OpenSeadragon 6 TileSource.getNumTiles/getTileBounds.
- resample.json: box-filter downsampling references. Integer factors come from
  skimage.transform.downscale_local_mean; fractional ones from a direct numpy
  implementation of "mean of the source pixels with index in
  [floor(i*s), floor((i+1)*s))".
- cmu-edge-tile.json: one downsampled edge tile of CMU-1-Small-Region as the
  viewer requests it (see cmu_edge_tile).
- affine.json: a rotated, flipped, scaled transform, its inverse
  (numpy.linalg.inv) and the level-0 bounding box of an 800x600 view.

Run: /usr/bin/python3 scripts/make_viewer_fixtures.py  (needs vips, python3-openslide, skimage)
"""
import json
import math
import os
import subprocess
import tempfile

import numpy as np
import openslide
from skimage.transform import downscale_local_mean

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, '..', 'shared', 'data')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'viewer')


def osd_grid(width, height, tile_w, tile_h, max_level, level):
    scale = 1 / 2 ** (max_level - level)
    nx = math.ceil(scale * width / tile_w)
    ny = math.ceil(scale * height / tile_h)
    # getTileBounds(level, nx-1, ny-1, true): source size of the last tile
    last_w = min(tile_w, width * scale - tile_w * (nx - 1))
    last_h = min(tile_h, height * scale - tile_h * (ny - 1))
    return {'level': level, 'tilesX': nx, 'tilesY': ny, 'lastWidth': last_w, 'lastHeight': last_h}


def describe(path, label):
    slide = openslide.OpenSlide(path)
    width, height = slide.dimensions
    levels = []
    for i, (w, h) in enumerate(slide.level_dimensions):
        tw = int(slide.properties.get(f'openslide.level[{i}].tile-width', 0) or 0)
        th = int(slide.properties.get(f'openslide.level[{i}].tile-height', 0) or 0)
        levels.append({'width': w, 'height': h, 'downsample': slide.level_downsamples[i], 'tileWidth': tw, 'tileHeight': th})
    max_level = math.ceil(math.log2(max(width, height)))
    best = [slide.get_best_level_for_downsample(2 ** k * 1.01) for k in range(max_level + 1)]
    return {'name': label, 'width': width, 'height': height, 'levels': levels, 'maxLevel': max_level,
            'bestLevelForDownsample': best,
            # OSD tile grid per square tile size: the file's own and the 512 px fallback
            'osdGrid': {str(t): [osd_grid(width, height, t, t, max_level, l) for l in range(max_level + 1)]
                        for t in sorted({512} | {lv['tileWidth'] for lv in levels if lv['tileWidth'] == lv['tileHeight'] and lv['tileWidth'] > 0})}}


def level_plans():
    with tempfile.TemporaryDirectory() as tmp:
        pyramid = os.path.join(tmp, 'cmu-pyramid.tif')
        subprocess.run(['vips', 'tiffsave', os.path.join(DATA, 'CMU-1-Small-Region.svs'), pyramid, '--tile', '--pyramid',
                        '--tile-width', '256', '--tile-height', '256', '--compression', 'jpeg'], check=True)
        return [describe(os.path.join(DATA, 'CMU-1-Small-Region.svs'), 'CMU-1-Small-Region.svs'),
                describe(os.path.join(DATA, 'test3-DAPI-2-387.ndpi'), 'test3-DAPI-2-387.ndpi'),
                describe(pyramid, 'vips pyramid of CMU-1-Small-Region (256 px tiles)')]


def box_reference(a, out_h, out_w):
    h, w, c = a.shape
    out = np.zeros((out_h, out_w, c))
    for oy in range(out_h):
        y0 = min(h - 1, math.floor(oy * h / out_h)); y1 = min(h, max(y0 + 1, math.floor((oy + 1) * h / out_h)))
        for ox in range(out_w):
            x0 = min(w - 1, math.floor(ox * w / out_w)); x1 = min(w, max(x0 + 1, math.floor((ox + 1) * w / out_w)))
            out[oy, ox] = a[y0:y1, x0:x1].reshape(-1, c).mean(axis=0)
    return out


def resample_cases():
    rng = np.random.default_rng(7)
    cases = []

    def add(name, a, out_h, out_w, dtype, ref):
        data = ref if dtype == 'float32' else np.floor(ref + 0.5)
        cases.append({'name': name, 'dtype': dtype, 'width': a.shape[1], 'height': a.shape[0], 'channels': a.shape[2],
                      'input': a.reshape(-1).tolist(), 'outWidth': out_w, 'outHeight': out_h,
                      'expected': data.reshape(-1).tolist()})

    a = rng.integers(0, 256, (12, 9, 3)).astype(np.uint8)
    add('uint8 rgb factor 3', a, 4, 3, 'uint8', downscale_local_mean(a.astype(np.float64), (3, 3, 1)))
    a = rng.integers(0, 65536, (8, 8, 2)).astype(np.uint16)
    add('uint16 two channels factor 4', a, 2, 2, 'uint16', downscale_local_mean(a.astype(np.float64), (4, 4, 1)))
    a = rng.random((6, 4, 1)).astype(np.float32)
    add('float32 factor 2', a, 3, 2, 'float32', downscale_local_mean(a.astype(np.float64), (2, 2, 1)))
    a = rng.integers(0, 256, (7, 10, 1)).astype(np.uint8)
    add('uint8 fractional 2.5 x 2.33', a, 3, 4, 'uint8', box_reference(a.astype(np.float64), 3, 4))
    return cases


def affine_case():
    angle = math.radians(30)
    scale = 0.25
    # level-0 -> screen: flip x, rotate 30 degrees, scale, translate
    linear = scale * np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]) @ np.array([[-1, 0], [0, 1]])
    translate = np.array([400.0, 120.0])
    m = np.eye(3); m[:2, :2] = linear; m[:2, 2] = translate
    inv = np.linalg.inv(m)
    corners = np.array([[0, 0, 1], [800, 0, 1], [0, 600, 1], [800, 600, 1]], dtype=float).T
    img = inv @ corners
    return {
        # [a, b, c, d, e, f] as in canvas setTransform: x' = a x + c y + e, y' = b x + d y + f
        'transform': [m[0, 0], m[1, 0], m[0, 1], m[1, 1], m[0, 2], m[1, 2]],
        'inverse': [inv[0, 0], inv[1, 0], inv[0, 1], inv[1, 1], inv[0, 2], inv[1, 2]],
        'scale': math.sqrt(abs(np.linalg.det(linear))),
        'view': {'width': 800, 'height': 600},
        'visible': {'x': img[0].min(), 'y': img[1].min(), 'width': img[0].max() - img[0].min(), 'height': img[1].max() - img[1].min()},
        'samples': [{'image': [x, y], 'screen': (m @ np.array([x, y, 1.0]))[:2].tolist()} for x, y in [(0, 0), (1000, 0), (0, 1000), (2220, 2967)]],
    }


def cmu_edge_tile():
    """OSD level 10 (4x), bottom-right tile (2, 3) of CMU-1-Small-Region: level-0 region
    x=1920 y=2880 300x87 (clipped at the slide edge), box-filtered to 75x22.
    Pixels decoded by vips/OpenSlide; the box filter is numpy (box_reference)."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, 'crop.v')
        subprocess.run(['vips', 'crop', os.path.join(DATA, 'CMU-1-Small-Region.svs'), raw, '1920', '2880', '300', '87'], check=True)
        png = os.path.join(tmp, 'crop.png')
        subprocess.run(['vips', 'copy', raw, png], check=True)
        from PIL import Image
        a = np.asarray(Image.open(png).convert('RGB')).astype(np.float64)
    assert a.shape == (87, 300, 3), a.shape
    out = np.floor(box_reference(a, 22, 75) + 0.5).astype(np.uint8)
    return {'request': {'level': 0, 'x': 1920, 'y': 2880, 'width': 300, 'height': 87, 'outWidth': 75, 'outHeight': 22},
            'osd': {'level': 10, 'x': 2, 'y': 3}, 'rgb': out.reshape(-1).tolist()}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, value in [('level-plans.json', level_plans()), ('resample.json', resample_cases()), ('affine.json', affine_case()),
                        ('cmu-edge-tile.json', cmu_edge_tile())]:
        with open(os.path.join(OUT, name), 'w') as f:
            json.dump(value, f, indent=None if name == 'cmu-edge-tile.json' else 1)
            f.write('\n')
        print('wrote', name)


if __name__ == '__main__':
    main()
