#!/usr/bin/python3
"""Reference results for src/imaging/augment.ts (run with /usr/bin/python3).

Writes tests/fixtures/augment-reference.json: a 32x32x3 test image and what
scikit-image / SciPy / Pillow make of it under fixed parameters, so the
TypeScript tests compare against independent implementations without
needing python at test time.

Arrays are stored as base64 of little-endian float32 (row-major, channels
interleaved, H x W x C), under "data"; "shape" gives their shape.

Cases:
  rotate      skimage.transform.rotate(img, angle, order=1, mode, cval=0)
              (rotation about ((w-1)/2, (h-1)/2), counter-clockwise on screen)
  affine      skimage.transform.warp(img, inverse of M, order=1, mode), with the
              forward map M = T(c + t) R(theta) Sh(phi_x, phi_y) S(sx, sy) T(-c)
              built here from numpy matrices, R = [[cos, sin], [-sin, cos]],
              Sh = [[1, tan phi_x], [tan phi_y, 1]]
  elastic     raw fields U(-1, 1) from numpy (stored), smoothed with
              scipy.ndimage.gaussian_filter(mode='nearest', truncate=4) and
              scaled by alpha; then scipy.ndimage.map_coordinates(order=1,
              mode='mirror') at (y + dy, x + dx) per channel
  crop        img[y:y+h, x:x+w] resized back to 32x32 per channel by Pillow's
              Image.resize(LANCZOS) in mode 'F'

Usage:  /usr/bin/python3 scripts/make_augment_fixtures.py
"""
import base64
import json
import math
import os

import numpy as np
import scipy
import scipy.ndimage as ndi
import skimage
from PIL import Image
from skimage import transform

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'augment-reference.json')

SIZE = 32


def encode(arr):
    arr = np.ascontiguousarray(arr, dtype='<f4')
    return {'shape': list(arr.shape), 'data': base64.b64encode(arr.tobytes()).decode('ascii')}


def test_image():
    """Smooth ramps, a hard-edged disc and seeded noise: sharp and flat parts in every channel."""
    rng = np.random.default_rng(20240611)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    img = np.zeros((SIZE, SIZE, 3))
    # red: diagonal ramp plus a checkerboard of 4-px squares
    img[..., 0] = 0.6 * (x + 2 * y) / (3 * (SIZE - 1)) + 0.3 * (((x // 4) + (y // 4)) % 2)
    # green: an off-centre disc (marks the orientation) on a dim background
    img[..., 1] = 0.1 + 0.8 * (((x - 20) ** 2 + (y - 9) ** 2) < 36)
    # blue: noise
    img[..., 2] = rng.uniform(0, 1, (SIZE, SIZE))
    # The TS side reads float32; compute from exactly those values.
    return img.astype(np.float32).astype(np.float64)


def forward_matrix(rotation=0.0, translate=(0.0, 0.0), scale=(1.0, 1.0), shear=(0.0, 0.0)):
    c = (SIZE - 1) / 2
    t = np.array([[1, 0, -c], [0, 1, -c], [0, 0, 1]], dtype=np.float64)
    s = np.diag([scale[0], scale[1], 1.0])
    sh = np.array([[1, math.tan(math.radians(shear[0])), 0], [math.tan(math.radians(shear[1])), 1, 0], [0, 0, 1]])
    th = math.radians(rotation)
    r = np.array([[math.cos(th), math.sin(th), 0], [-math.sin(th), math.cos(th), 0], [0, 0, 1]])
    back = np.array([[1, 0, c + translate[0]], [0, 1, c + translate[1]], [0, 0, 1]])
    return back @ r @ sh @ s @ t


def warp_affine(img, m, mode):
    inverse = transform.AffineTransform(matrix=np.linalg.inv(m))
    return transform.warp(img, inverse, order=1, mode=mode, cval=0.0, preserve_range=True)


def main():
    img = test_image()
    ref = {
        'generator': 'scripts/make_augment_fixtures.py',
        'versions': {'numpy': np.__version__, 'scipy': scipy.__version__, 'skimage': skimage.__version__, 'PIL': Image.__version__},
        'input': encode(img),
        'rotate': [],
        'affine': [],
        'elastic': [],
        'crop': [],
    }

    for angle, mode in [(30, 'reflect'), (30, 'constant'), (-73, 'edge'), (90, 'constant')]:
        out = transform.rotate(img, angle, order=1, mode=mode, cval=0.0, preserve_range=True)
        ref['rotate'].append({'degrees': angle, 'mode': mode, 'output': encode(out)})

    affine_cases = [
        # translate + anisotropic scale + x shear
        {'translate': [3.5, -2.25], 'scale': [1.2, 0.9], 'shear': [15, 0], 'rotation': 0, 'mode': 'reflect'},
        # everything, y shear too, constant fill
        {'translate': [-1.5, 2.0], 'scale': [0.85, 1.1], 'shear': [-20, 8], 'rotation': 30, 'mode': 'constant'},
        # zoom out far enough to reflect several times
        {'translate': [7.0, -5.0], 'scale': [0.3, 0.4], 'shear': [0, 0], 'rotation': 10, 'mode': 'reflect'},
    ]
    for case in affine_cases:
        m = forward_matrix(case['rotation'], case['translate'], case['scale'], case['shear'])
        out = warp_affine(img, m, case['mode'])
        ref['affine'].append({**case, 'matrix': m[:2].ravel().tolist(), 'output': encode(out)})

    rng = np.random.default_rng(7)
    for alpha, sigma in [(40.0, 3.0), (12.0, 1.5)]:
        raw_x = rng.uniform(-1, 1, (SIZE, SIZE)).astype(np.float32)
        raw_y = rng.uniform(-1, 1, (SIZE, SIZE)).astype(np.float32)
        dx = alpha * ndi.gaussian_filter(raw_x.astype(np.float64), sigma, mode='nearest', truncate=4.0)
        dy = alpha * ndi.gaussian_filter(raw_y.astype(np.float64), sigma, mode='nearest', truncate=4.0)
        yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
        coords = [yy + dy, xx + dx]
        out = np.dstack([ndi.map_coordinates(img[..., c], coords, order=1, mode='mirror') for c in range(3)])
        ref['elastic'].append({
            'alpha': alpha, 'sigma': sigma,
            'rawX': encode(raw_x), 'rawY': encode(raw_y),
            'dx': encode(dx), 'dy': encode(dy),
            'maxDisplacement': float(np.hypot(dx, dy).max()),
            'output': encode(out),
        })

    for box in [{'x': 5, 'y': 3, 'width': 20, 'height': 24}, {'x': 0, 'y': 10, 'width': 32, 'height': 13}]:
        x, y, w, h = box['x'], box['y'], box['width'], box['height']
        planes = []
        for c in range(3):
            crop = np.ascontiguousarray(img[y:y + h, x:x + w, c]).astype(np.float32)
            planes.append(np.asarray(Image.fromarray(crop, mode='F').resize((SIZE, SIZE), Image.LANCZOS)))
        ref['crop'].append({'box': box, 'output': encode(np.dstack(planes))})

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(ref, f, indent=1)
        f.write('\n')
    print('wrote', OUT, os.path.getsize(OUT), 'bytes')


if __name__ == '__main__':
    main()
