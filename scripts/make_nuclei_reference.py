#!/usr/bin/python3
"""Reference fixtures for src/models/nuclei/postprocess.ts (nucleus points
from a detection map). Run with Debian's python (numpy, scipy, scikit-image):

    /usr/bin/python3 scripts/make_nuclei_reference.py

Writes tests/fixtures/nuclei/:
  reference.json        every case below (inputs, parameters, expected output)
  <case>_blurred.f32.gz  upscaled + blurred map of one pipeline case, raw
                        little-endian float32, row-major, gzip

Sections of reference.json:
  upscale   skimage.transform.resize(map, (H*f, W*f), order=1, mode=mode,
            anti_aliasing=False) on small random maps, for the modes 'reflect'
            (resize's default) and 'edge'.
  peaks     skimage.feature.peak_local_max(image, min_distance=d,
            threshold_abs=t, exclude_border=False) on small images built to
            have plateaus and equal-valued peaks. Each case has at most 16
            candidate pixels: NumPy's default argsort then runs an insertion
            sort, which is stable, so scikit-image's choice among equal peaks
            is the raster-order one the TypeScript promises (the script
            asserts that the stable and default orders agree).
  pipeline  the whole detection post-processing on random smooth maps in
            [0, 1] (25x25, the network's output for a 100x100 patch, and one
            non-square map): resize as above, skimage.filters.gaussian(sigma,
            mode='nearest', truncate=4, preserve_range=True), then
            peak_local_max as above. Peaks are (row, column, value) of the
            upscaled image, strongest first.
            The TypeScript computes in float32 and SciPy in float64, so a map
            is only kept when its peak set is unchanged by float32 rounding
            and by a 1e-5 relative perturbation of the blurred image: a case
            never hinges on a near-tie (rejected maps are counted on stderr).
"""
import gzip
import json
import os
import sys
import warnings

import numpy as np
import scipy
import scipy.ndimage as ndi
import skimage
from skimage.feature import peak_local_max
from skimage.filters import gaussian
from skimage.transform import resize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'nuclei')


def upscale(image, factor, mode):
    h, w = image.shape
    return resize(image, (h * factor, w * factor), order=1, mode=mode, anti_aliasing=False)


def peaks_of(image, min_distance, threshold):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)  # the min_distance=0 notice
        return peak_local_max(image, min_distance=min_distance, threshold_abs=threshold, exclude_border=False)


def candidate_order_is_stable(image, min_distance, threshold):
    """True when NumPy's default argsort of the peak candidates equals the stable one."""
    size = 2 * min_distance + 1
    if min_distance < 1:
        mask = image > threshold
    else:
        mask = image == ndi.maximum_filter(image, size=size, mode='constant')
        if mask.all():  # scikit-image reports no peak in a flat image
            mask[:] = False
        mask &= image > threshold
    values = image[np.nonzero(mask)]
    return mask.sum() <= 16 and np.array_equal(np.argsort(-values), np.argsort(-values, kind='stable'))


def smooth_map(rng, height, width, kind):
    """A detection-map-like field in [0, 1]."""
    if kind == 'noise':
        field = ndi.gaussian_filter(rng.random((height, width)), 1.2, mode='reflect')
    else:  # a few bright blobs on a dim background, like nuclei
        field = rng.random((height, width)) * 0.15
        yy, xx = np.mgrid[0:height, 0:width]
        for _ in range(rng.integers(4, 12)):
            cy, cx = rng.random() * height, rng.random() * width
            radius = 0.8 + rng.random() * 1.5
            field += (0.4 + 0.6 * rng.random()) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius ** 2))
    field -= field.min()
    return field / field.max()


def sparse_spikes(rng, height, width, count, levels):
    image = np.zeros((height, width), dtype=np.float32)
    for _ in range(count):
        y, x = rng.integers(0, height), rng.integers(0, width)
        image[y, x] = rng.choice(levels)
        if rng.random() < 0.5:  # grow a plateau to the right or below
            dy, dx = (0, 1) if rng.random() < 0.5 else (1, 0)
            image[min(y + dy, height - 1), min(x + dx, width - 1)] = image[y, x]
    return image


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240917)
    ref = {
        'generator': 'scripts/make_nuclei_reference.py',
        'versions': {'numpy': np.__version__, 'scipy': scipy.__version__, 'skimage': skimage.__version__},
    }

    # --- bilinear upscaling ---------------------------------------------------
    ref['upscale'] = []
    for height, width, factor in [(5, 6, 4), (7, 3, 3), (2, 2, 4), (1, 4, 2), (4, 5, 1)]:
        image = rng.random((height, width))
        for mode in ('reflect', 'edge'):
            ref['upscale'].append({
                'width': width, 'height': height, 'factor': factor, 'mode': mode,
                'map': image.ravel().tolist(), 'expected': upscale(image, factor, mode).ravel().tolist(),
            })

    # --- peak_local_max semantics ---------------------------------------------
    hand_made = []
    plateau = np.zeros((9, 9), np.float32)
    plateau[3:5, 3:5] = 1  # 2x2 plateau
    hand_made += [('plateau2x2_d1', plateau, 1, 0.0), ('plateau2x2_d2', plateau, 2, 0.0)]
    pair = np.zeros((8, 12), np.float32)
    pair[4, 2] = pair[4, 5] = 1  # equal peaks 3 apart
    hand_made += [('equal_pair_at_d', pair, 3, 0.0), ('equal_pair_inside_d', pair, 4, 0.0)]
    ladder = np.zeros((7, 9), np.float32)
    ladder[3, 2], ladder[3, 4], ladder[3, 6] = 0.5, 0.7, 0.5  # lower peaks beside a higher one
    hand_made += [('ladder_d1', ladder, 1, 0.0), ('ladder_d2', ladder, 2, 0.0), ('ladder_d1_t05', ladder, 1, 0.5)]
    corner = np.zeros((6, 6), np.float32)
    corner[0, 0], corner[5, 5], corner[0, 5] = 0.9, 0.8, 0.3
    hand_made += [('corners', corner, 2, 0.1), ('corners_d0', corner, 0, 0.1)]
    hand_made += [('constant', np.full((6, 7), 0.5, np.float32), 1, 0.1)]
    ramp = np.tile(np.arange(10, dtype=np.float32), (5, 1))
    hand_made += [('ramp', ramp, 2, 1.0)]
    cases = list(hand_made)
    made = 0
    while made < 8:
        h, w = int(rng.integers(8, 16)), int(rng.integers(8, 16))
        image = sparse_spikes(rng, h, w, int(rng.integers(3, 9)), [0.25, 0.5, 0.75])
        d = int(rng.integers(1, 4))
        t = float(rng.choice([0.0, 0.25]))
        if candidate_order_is_stable(image, d, t):
            cases.append((f'spikes{made}', image, d, t))
            made += 1
    ref['peaks'] = []
    for name, image, d, t in cases:
        assert candidate_order_is_stable(image, d, t), name
        found = peaks_of(image, d, t)
        ref['peaks'].append({
            'name': name, 'width': image.shape[1], 'height': image.shape[0], 'minDistance': d, 'threshold': t,
            'image': image.ravel().astype(float).tolist(), 'peaks': found.tolist(),
        })

    # --- whole post-processing -----------------------------------------------
    settings = [
        # (map height, width, kind, scale, sigma, min_distance, threshold, mode)
        (25, 25, 'blobs', 4, 2.0, 3, 0.3, 'reflect'),
        (25, 25, 'noise', 4, 1.0, 2, 0.4, 'reflect'),
        (25, 25, 'blobs', 4, 3.0, 5, 0.2, 'edge'),
        (25, 25, 'noise', 4, 1.5, 4, 0.5, 'edge'),
        (25, 25, 'blobs', 4, 0.0, 1, 0.5, 'reflect'),
        (19, 31, 'blobs', 4, 2.5, 6, 0.25, 'reflect'),
        (20, 16, 'noise', 3, 1.5, 3, 0.35, 'reflect'),
    ]
    ref['pipeline'] = []
    rejected = 0
    for index, (h, w, kind, scale, sigma, d, t, mode) in enumerate(settings):
        while True:
            field = smooth_map(rng, h, w, kind)
            up = upscale(field, scale, mode)
            blurred = gaussian(up, sigma=sigma, mode='nearest', truncate=4.0, preserve_range=True) if sigma > 0 else up
            found = peaks_of(blurred, d, t)
            nudged = blurred * (1 + 1e-5 * rng.standard_normal(blurred.shape))
            same = lambda other: np.array_equal(np.sort(peaks_of(other, d, t), axis=0), np.sort(found, axis=0))
            if len(found) >= 3 and same(blurred.astype(np.float32)) and same(nudged):
                break
            rejected += 1
        case = {
            'name': f'pipeline{index}', 'mapWidth': w, 'mapHeight': h, 'kind': kind, 'scale': scale, 'sigma': sigma,
            'minDistance': d, 'threshold': t, 'mode': mode, 'map': field.ravel().tolist(),
            'peaks': [[int(r), int(c), float(blurred[r, c])] for r, c in found],
        }
        if index == 0:
            case['blurredFile'] = 'pipeline0_blurred.f32.gz'
            raw = np.ascontiguousarray(blurred, dtype='<f4').tobytes()
            with open(os.path.join(OUT, case['blurredFile']), 'wb') as f:
                f.write(gzip.compress(raw, compresslevel=9, mtime=0))  # mtime 0: reruns give the same bytes
        ref['pipeline'].append(case)
        print(f'pipeline{index}: {len(found)} peaks', file=sys.stderr)
    print(f'{rejected} maps rejected as near-ties', file=sys.stderr)

    with open(os.path.join(OUT, 'reference.json'), 'w') as f:
        json.dump(ref, f, separators=(',', ':'))
    total = sum(os.path.getsize(os.path.join(OUT, name)) for name in os.listdir(OUT))
    print(f'wrote {OUT} ({total / 1024:.0f} KiB)', file=sys.stderr)


if __name__ == '__main__':
    main()
