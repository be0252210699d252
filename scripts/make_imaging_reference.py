#!/usr/bin/python3
"""Reference fixtures for src/imaging (run with Debian's /usr/bin/python3).

Computes scikit-image / SciPy / Pillow results on real slide pixels and on
small synthetic images, and writes the inputs and outputs into
tests/fixtures/imaging/ so the TypeScript tests need neither python nor
/work/shared at test time.

Layout of the output folder:
  *.u8.gz   raw uint8, row-major, gzip (width/height are in reference.json)
  *.f32.gz  raw little-endian float32, row-major, gzip
  reference.json  sizes, thresholds, run-length encoded masks, tolerances

Masks are run-length encoded as alternating run lengths over the row-major
pixels, starting with a run of zeros (possibly of length 0).

Slides: `vips openslideload` decodes them (OpenSlide). The brightfield
demo (CMU-1-Small-Region.svs, level 0, 2220x2967) is converted to grey with
skimage.color.rgb2gray and reduced 5x by block means so the committed input
stays small; the DAPI NDPI is read at level 3 (496x608) and its blue channel
(the DAPI signal) is the grey input.

Usage:  /usr/bin/python3 scripts/make_imaging_reference.py [--data DIR]
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image
import scipy
import scipy.ndimage as ndi
import skimage
from skimage import color, exposure, filters, morphology, transform

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'imaging')

ref = {
    'generator': 'scripts/make_imaging_reference.py',
    'versions': {
        'numpy': np.__version__,
        'scipy': scipy.__version__,
        'skimage': skimage.__version__,
        'PIL': Image.__version__,
    },
    'images': {},
}


def save_raw(name, arr):
    """Store an image as gzip'ed raw bytes and register its shape/dtype."""
    arr = np.ascontiguousarray(arr)
    if arr.dtype == np.uint8:
        suffix = 'u8'
    else:
        arr = arr.astype('<f4')
        suffix = 'f32'
    file = f'{name}.{suffix}.gz'
    with open(os.path.join(OUT, file), 'wb') as fh:
        fh.write(gzip.compress(arr.tobytes(), compresslevel=9, mtime=0))
    ref['images'][name] = {
        'file': file, 'width': int(arr.shape[1]), 'height': int(arr.shape[0]),
        'dtype': 'uint8' if suffix == 'u8' else 'float32',
    }
    return name


def rle(mask):
    flat = np.asarray(mask, dtype=bool).ravel()
    runs = []
    # Run-length encode with numpy: positions where the value changes.
    change = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [flat.size]])
    if flat.size == 0:
        return {'width': int(mask.shape[1]), 'height': int(mask.shape[0]), 'runs': []}
    if flat[0]:
        runs.append(0)
    runs.extend(int(e - s) for s, e in zip(starts, ends))
    return {'width': int(mask.shape[1]), 'height': int(mask.shape[0]), 'runs': runs}


def load_slide_rgb(path, level):
    with tempfile.TemporaryDirectory() as tmp:
        png = os.path.join(tmp, 'level.png')
        subprocess.run(['vips', 'openslideload', path, png, '--level', str(level)],
                       check=True)
        return np.asarray(Image.open(png).convert('RGB'))


def block_mean_partial(img, factor):
    """Block means; blocks cut by the right/bottom edge average only the
    pixels they hold (this is the TS downscaleMean, not skimage's zero pad)."""
    h, w = img.shape
    oh, ow = -(-h // factor), -(-w // factor)
    padded = np.full((oh * factor, ow * factor), np.nan)
    padded[:h, :w] = img
    blocks = padded.reshape(oh, factor, ow, factor)
    return np.nanmean(blocks, axis=(1, 3))


def area_matrix(n_in, n_out):
    """Row i holds the overlap of output cell i ([i*s,(i+1)*s)) with each input
    pixel, divided by s: exact box averaging for any real scale s."""
    s = n_in / n_out
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        a, b = i * s, (i + 1) * s
        for j in range(int(np.floor(a)), min(n_in, int(np.ceil(b)))):
            m[i, j] = max(0.0, min(b, j + 1) - max(a, j)) / s
    return m


def resize_area(img, ow, oh):
    return area_matrix(img.shape[0], oh) @ img @ area_matrix(img.shape[1], ow).T


def gaussian(img, sigma):
    return filters.gaussian(np.asarray(img, dtype=np.float64), sigma=sigma,
                            mode='nearest', truncate=4.0, preserve_range=True)


def tissue_mask_reference(gray, sigma, radius, polarity):
    """The seed's mask pipeline with skimage/scipy, on a float image at the
    mask scale (values 0..255)."""
    blurred = gaussian(gray, sigma)
    t = filters.threshold_triangle(blurred)
    thresholded = blurred <= t if polarity == 'dark' else blurred > t
    filled = ndi.binary_fill_holes(thresholded)
    seed = morphology.binary_erosion(filled, morphology.disk(radius))
    rec = morphology.reconstruction(seed.astype(np.uint8), filled.astype(np.uint8),
                                    method='dilation') > 0
    return blurred, float(t), thresholded, filled, seed, rec


def as_stored(arr):
    """Float inputs are committed as float32: compute references from exactly those values."""
    return np.asarray(arr, dtype=np.float32).astype(np.float64)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', default='/work/shared/data')
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240521)

    # ---------------- real inputs ----------------
    cmu_rgb = load_slide_rgb(os.path.join(args.data, 'CMU-1-Small-Region.svs'), 0)
    dapi_rgb = load_slide_rgb(os.path.join(args.data, 'test3-DAPI-2-387.ndpi'), 3)

    # toGray: an RGB crop holding tissue and glass.
    rgb_crop = cmu_rgb[1200:1296, 900:996]
    save_raw('cmu_rgb_crop', rgb_crop.reshape(rgb_crop.shape[0], -1))
    ref['images']['cmu_rgb_crop']['width'] = int(rgb_crop.shape[1])
    ref['images']['cmu_rgb_crop']['channels'] = 3
    save_raw('cmu_rgb_crop_gray', color.rgb2gray(rgb_crop) * 255.0)

    cmu_gray_u8 = np.round(color.rgb2gray(cmu_rgb) * 255.0).astype(np.uint8)
    cmu_div5 = np.round(block_mean_partial(cmu_gray_u8.astype(np.float64), 5)).astype(np.uint8)
    save_raw('cmu_div5', cmu_div5)
    dapi = np.ascontiguousarray(dapi_rgb[:, :, 2])
    save_raw('dapi_l3', dapi)

    cmu_crop = np.ascontiguousarray(cmu_div5[200:328, 150:278])  # 128x128
    dapi_crop = np.ascontiguousarray(dapi[380:508, 100:228])     # 128x128

    # ---------------- colour / intensity ----------------
    ref['opticalDensity'] = {
        'formula': '-log10((I + 1) / 256)',
        'samples': {str(v): float(-np.log10((v + 1) / 256.0)) for v in [0, 1, 50, 128, 254, 255]},
    }

    # ---------------- downscaling ----------------
    syn = as_stored(rng.random((23, 37)) * 255.0)
    save_raw('syn_23x37', syn)
    save_raw('syn_23x37_dlm_4', transform.downscale_local_mean(syn, (4, 4)))
    save_raw('syn_23x37_dlm_2x3', transform.downscale_local_mean(syn, (2, 3)))
    save_raw('syn_23x37_partial_4', block_mean_partial(syn, 4))
    save_raw('syn_23x37_area_10x7', resize_area(syn, 10, 7))

    # ---------------- gaussian ----------------
    cmu_div20 = as_stored(block_mean_partial(cmu_div5.astype(np.float64), 4))
    save_raw('cmu_div20', cmu_div20)
    ref['gaussian'] = []
    for name, img, sigma in [('cmu_div20', cmu_div20, 10.0),
                             ('dapi_crop', dapi_crop, 2.0),
                             ('syn_23x37', syn, 0.5),
                             ('syn_23x37', syn, 3.0),
                             ('syn_23x37', syn, 7.3)]:
        if name not in ref['images']:
            save_raw(name, img)
        out = f'gauss_{name}_s{str(sigma).replace(".", "p")}'
        save_raw(out, gaussian(img, sigma))
        ref['gaussian'].append({'input': name, 'sigma': sigma, 'output': out})

    # ---------------- thresholds ----------------
    save_raw('cmu_crop', cmu_crop)
    bimodal = np.clip(np.concatenate([rng.normal(70, 12, 3000), rng.normal(190, 20, 7000)]), 0, 255)
    bimodal_u8 = np.round(bimodal).astype(np.uint8).reshape(100, 100)
    save_raw('bimodal_u8', bimodal_u8)
    # A narrow-range integer image: skimage bins only min..max.
    narrow_u8 = np.round(np.clip(rng.normal(40, 6, (60, 80)), 20, 90)).astype(np.uint8)
    save_raw('narrow_u8', narrow_u8)
    gauss_dapi = ref['gaussian'][1]['output']
    ref['thresholds'] = []
    for name in ['cmu_div5', 'dapi_l3', 'cmu_crop', 'bimodal_u8', 'narrow_u8',
                 'gauss_cmu_div20_s10p0', gauss_dapi, 'syn_23x37']:
        arr = {
            'cmu_div5': cmu_div5, 'dapi_l3': dapi, 'cmu_crop': cmu_crop,
            'bimodal_u8': bimodal_u8, 'narrow_u8': narrow_u8,
            'gauss_cmu_div20_s10p0': gaussian(cmu_div20, 10.0),
            gauss_dapi: gaussian(dapi_crop, 2.0), 'syn_23x37': syn,
        }[name]
        # Float images go through the float32 fixture the test reads, so both
        # sides bin the same numbers.
        if arr.dtype != np.uint8:
            arr = arr.astype(np.float32).astype(np.float64)
        ref['thresholds'].append({
            'input': name,
            'triangle': float(filters.threshold_triangle(arr)),
            'otsu': float(filters.threshold_otsu(arr)),
        })

    # ---------------- binary morphology ----------------
    h, w = 160, 200
    yy, xx = np.mgrid[0:h, 0:w]
    blobs = np.zeros((h, w), bool)
    for cy, cx, r in [(40, 50, 30), (110, 140, 45), (150, 20, 25), (10, 190, 20), (80, 100, 12)]:
        blobs |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    blobs &= ~(((yy - 110) ** 2 + (xx - 140) ** 2) <= 100)   # a hole
    blobs &= ~(((yy - 40) ** 2 + (xx - 50) ** 2) <= 36)       # another hole
    blobs[120:123, 0:60] = False                              # cut to the border
    blobs ^= rng.random((h, w)) < 0.03                        # salt and pepper
    ref['morphology'] = {'input': rle(blobs), 'fillHoles': rle(ndi.binary_fill_holes(blobs)),
                         'erosion': {}, 'dilation': {}}
    for r in [1, 2, 3, 5, 8, 15, 40, 120]:
        fp = morphology.disk(r)
        ref['morphology']['erosion'][str(r)] = rle(morphology.binary_erosion(blobs, fp))
        ref['morphology']['dilation'][str(r)] = rle(morphology.binary_dilation(blobs, fp))
    # Disk footprints themselves (checks the x^2+y^2<=r^2 definition).
    ref['morphology']['disks'] = {str(r): rle(morphology.disk(r)) for r in [1, 2, 3, 7, 15]}

    # ---------------- reconstruction ----------------
    seed = morphology.binary_erosion(blobs, morphology.disk(6))
    ref['reconstruction'] = {
        'binary': {'seed': rle(seed), 'mask': rle(blobs),
                   'output': rle(morphology.reconstruction(seed.astype(np.uint8),
                                                           blobs.astype(np.uint8)) > 0)},
    }
    grey_mask = np.round(filters.gaussian(rng.random((90, 110)), 3, preserve_range=True) * 4000) / 16.0
    save_raw('recon_mask', grey_mask)
    hdome_seed = grey_mask - 3.0
    save_raw('recon_hdome', morphology.reconstruction(hdome_seed, grey_mask))
    marker = np.full(grey_mask.shape, grey_mask.min())
    marker[45, 55] = grey_mask[45, 55]
    marker[5, 100] = grey_mask[5, 100]
    save_raw('recon_marker_seed', marker)
    save_raw('recon_marker', morphology.reconstruction(marker, grey_mask))

    # ---------------- resize (Pillow Lanczos) ----------------
    ref['lanczos'] = []
    small = np.ascontiguousarray(cmu_div5[300:350, 200:260])  # 50x60
    save_raw('cmu_small', small)
    mask_u8 = (tissue_mask_reference(cmu_div20, 10.0, 15, 'dark')[5] * 255).astype(np.uint8)
    save_raw('cmu_mask_div20_u8', mask_u8)
    for name, arr, size in [('cmu_div5', cmu_div5, (111, 149)),
                            ('cmu_div5', cmu_div5, (300, 250)),
                            ('cmu_small', small, (173, 141)),
                            ('cmu_small', small, (60, 23)),
                            ('cmu_mask_div20_u8', mask_u8, (444, 594))]:
        out_l = f'lanczos_{name}_{size[0]}x{size[1]}'
        save_raw(out_l, np.asarray(Image.fromarray(arr).resize(size, Image.LANCZOS)))
        entry = {'input': name, 'width': size[0], 'height': size[1], 'outputU8': out_l}
        # Float ('F' mode) results compress badly: keep them for the small cases.
        if size[0] * size[1] < 30000:
            out_f = out_l + '_F'
            fimg = Image.fromarray(arr.astype(np.float32), mode='F')
            save_raw(out_f, np.asarray(fimg.resize(size, Image.LANCZOS)))
            entry['outputF32'] = out_f
        ref['lanczos'].append(entry)

    # ---------------- median ----------------
    ref['median'] = []
    for name, arr in [('cmu_crop', cmu_crop), ('dapi_crop', dapi_crop)]:
        for r in [1, 2, 5]:
            out = f'median_{name}_disk{r}'
            save_raw(out, ndi.median_filter(arr, footprint=morphology.disk(r), mode='nearest'))
            ref['median'].append({'input': name, 'radius': r, 'shape': 'disk', 'output': out})
        out = f'median_{name}_square2'
        save_raw(out, ndi.median_filter(arr, size=5, mode='nearest'))
        ref['median'].append({'input': name, 'radius': 2, 'shape': 'square', 'output': out})

    # ---------------- CLAHE and contrast stretch ----------------
    ref['clahe'] = []
    clahe_in = np.ascontiguousarray(cmu_div5[100:230, 80:230])  # 130x150, not a multiple of 8
    save_raw('clahe_in', clahe_in)
    for name, arr, kernel, clip in [('clahe_in', clahe_in, None, 0.01),
                                    ('dapi_crop', dapi_crop, 32, 0.02),
                                    ('dapi_crop', dapi_crop, (20, 45), 0.0)]:
        out = f'clahe_{name}_{"auto" if kernel is None else str(kernel).replace(", ", "x").strip("()")}_{clip}'
        save_raw(out, exposure.equalize_adapthist(arr, kernel_size=kernel, clip_limit=clip))
        ref['clahe'].append({'input': name, 'kernelSize': kernel, 'clipLimit': clip, 'output': out})
    p2, p98 = np.percentile(dapi_crop, (2, 98))
    ref['contrastStretch'] = {'input': 'dapi_crop', 'low': 2, 'high': 98,
                              'inLow': float(p2), 'inHigh': float(p98)}
    save_raw('stretch_dapi_crop', exposure.rescale_intensity(
        dapi_crop.astype(np.float64), in_range=(p2, p98), out_range=(0.0, 1.0)))

    # ---------------- tissue mask pipeline ----------------
    ref['tissueMask'] = []
    cases = [
        # CMU: the committed 5x input, 4x more gives the seed's 20x.
        {'name': 'cmu', 'input': 'cmu_div5', 'levelDownsample': 5, 'downscale': 4,
         'small': cmu_div20, 'polarity': 'dark'},
    ]
    dapi_small = as_stored(resize_area(dapi.astype(np.float64), round(dapi.shape[1] / 2.5),
                                       round(dapi.shape[0] / 2.5)))
    save_raw('dapi_div20', dapi_small)
    cases.append({'name': 'dapi', 'input': 'dapi_l3', 'levelDownsample': 8, 'downscale': 2.5,
                  'small': dapi_small, 'polarity': 'bright'})
    for case in cases:
        blurred, t, thr, filled, seed_m, rec = tissue_mask_reference(case['small'], 10.0, 15,
                                                                     case['polarity'])
        ref['tissueMask'].append({
            'name': case['name'], 'input': case['input'],
            'levelDownsample': case['levelDownsample'], 'downscale': case['downscale'],
            'small': 'cmu_div20' if case['name'] == 'cmu' else 'dapi_div20',
            'sigma': 10.0, 'erosionRadius': 15, 'polarity': case['polarity'],
            'threshold': t, 'thresholded': rle(thr), 'filled': rle(filled),
            'seed': rle(seed_m), 'mask': rle(rec),
            'tissueFraction': float(rec.mean()),
        })

    with open(os.path.join(OUT, 'reference.json'), 'w') as fh:
        json.dump(ref, fh, separators=(',', ':'))
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f'wrote {len(os.listdir(OUT))} files, {total / 1024:.0f} KiB into {OUT}', file=sys.stderr)


if __name__ == '__main__':
    main()
