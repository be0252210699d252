#!/usr/bin/python3
"""Python reference of the CISH pipeline stages (SPEC §1), timed on the same
inputs as the TF.js side. Run by bench/cish/run.mjs after
.cache/cli/bench-cish.mjs has written its inputs into --work:

  /usr/bin/python3 bench/cish_reference.py --work DIR [--runs 3] [--threads 2]

Stages (median of --runs after one warm-up each):
  mask_compute            scikit-image: gaussian (sigma, mode nearest) -> threshold_triangle
                          -> binary_fill_holes -> reconstruction from a disk erosion, on the
                          grey image at mask scale that the TF.js side used (mask_small.f32)
  train_epoch_compute     PyTorch CPU autoencoder of the same architecture, Adam 1e-3, MSE,
                          one epoch over the in-memory tiles (train_tiles.f32), batch 32
  train_epoch_with_read   the same epoch, tiles read from the slide with OpenSlide, grey
                          (rgb2gray) and resized to 300 px (order 1, edge), per batch
  encode_compute          encoder forward (no_grad) over the in-memory tiles, batch 64
  *_1t                    the two stages above again with one PyTorch thread
  encode_with_read        every kept tile read with OpenSlide, preprocessed and encoded
  fcm                     NumPy fuzzy c-means (Frobenius stopping rule) from the same
                          initial partition (fcm_u0.f64) on the same points (fcm_points.f64)
Prints one JSON object on stdout.
"""
import argparse
import json
import os
import sys

import numpy as np

from cish_torch import build_cish_autoencoder
from timing import time_runs


def median(values):
    return float(np.median(values))


def log(line):
    sys.stderr.write(f'bench-cish (reference): {line}\n')
    sys.stderr.flush()


# ---------------------------------------------------------------- mask

def tissue_mask(small, sigma, radius, polarity):
    from scipy import ndimage as ndi
    from skimage.filters import gaussian, threshold_triangle
    from skimage.morphology import binary_erosion, disk, reconstruction
    blurred = gaussian(small, sigma=sigma, mode='nearest', truncate=4.0, preserve_range=True)
    threshold = threshold_triangle(blurred, nbins=256)
    tissue = blurred <= threshold if polarity == 'dark' else blurred > threshold
    filled = ndi.binary_fill_holes(tissue)
    seed = binary_erosion(filled, disk(radius))
    if not seed.any():
        return filled
    return reconstruction(seed.astype(np.uint8), filled.astype(np.uint8), method='dilation') > 0


# ---------------------------------------------------------------- model

class SlideTiles:
    """Tiles read with OpenSlide and preprocessed like src/models/cish/preprocess.ts."""

    def __init__(self, path, level, level_downsample):
        import openslide
        self.slide = openslide.OpenSlide(path)
        self.level = self.slide.get_best_level_for_downsample(level_downsample + 1e-6)
        self.downsample = level_downsample

    def read(self, region, size=300):
        from skimage.color import rgb2gray
        from skimage.transform import resize
        location = (int(round(region['x'] * self.downsample)), int(round(region['y'] * self.downsample)))
        image = self.slide.read_region(location, self.level, (region['width'], region['height']))
        grey = rgb2gray(np.asarray(image.convert('RGB')))
        if grey.shape != (size, size):
            grey = resize(grey, (size, size), order=1, mode='edge', anti_aliasing=False)
        return grey.astype(np.float32)

    def batch(self, regions):
        return np.stack([self.read(r) for r in regions])[:, None]


# ---------------------------------------------------------------- FCM

def fcm(points, u0, m, tol, max_iter=1000):
    u = u0.copy()
    exponent = 1.0 / (m - 1.0)
    for iteration in range(1, max_iter + 1):
        um = u ** m
        centres = (um.T @ points) / um.sum(axis=0)[:, None]
        d2 = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        d2 = np.fmax(d2, np.finfo(np.float64).tiny)
        w = d2 ** (-exponent)
        u_new = w / w.sum(axis=1, keepdims=True)
        delta = np.linalg.norm(u_new - u)
        u = u_new
        if delta < tol:
            break
    fpc = float((u ** 2).sum() / u.shape[0])
    return u, iteration, fpc


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--work', required=True)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--skip-read', action='store_true', help='skip the stages that read the slide with OpenSlide')
    args = parser.parse_args()
    work = args.work
    with open(os.path.join(work, 'inputs.json')) as f:
        inputs = json.load(f)

    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(inputs['seed'])
    result = {'python': sys.version.split()[0], 'numpy': np.__version__, 'torch': torch.__version__,
              'torch_threads': torch.get_num_threads(), 'runs': args.runs}
    stages = {}

    def record(name, ms, **extra):
        stages[name] = {'ms': [round(v, 1) for v in ms], 'median_ms': median(ms), **extra}
        log(f'{name}: median {median(ms):.1f} ms {json.dumps(extra)}')

    # Mask.
    mi = inputs['mask']
    small = np.fromfile(os.path.join(work, 'mask_small.f32'), dtype='<f4').reshape(mi['height'], mi['width']).astype(np.float64)
    masks = []
    record('mask_compute', time_runs(lambda: masks.append(tissue_mask(small, mi['sigma'], mi['erosion_radius'], mi['polarity'])), args.runs))
    ours = np.fromfile(os.path.join(work, 'mask_ours.u8'), dtype=np.uint8).reshape(mi['height'], mi['width']) > 0
    theirs = masks[-1]
    stages['mask_compute']['iou_with_tfjs'] = float((ours & theirs).sum() / max(1, (ours | theirs).sum()))

    # Autoencoder.
    n = inputs['tiles']['count']
    size = inputs['tiles']['size']
    batch = inputs['batch']
    tiles = torch.from_numpy(np.fromfile(os.path.join(work, 'train_tiles.f32'), dtype='<f4').reshape(n, 1, size, size).copy())
    model = build_cish_autoencoder(torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()
    generator = torch.Generator().manual_seed(inputs['seed'])

    def step(xs):
        optimizer.zero_grad()
        loss = loss_fn(model(xs), xs)
        loss.backward()
        optimizer.step()
        return float(loss)

    def epoch_compute():
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch):
            step(tiles[order[start:start + batch]])

    record('train_epoch_compute', time_runs(epoch_compute, args.runs), tiles=n, batch=batch, steps=(n + batch - 1) // batch)

    encode_batch = inputs['encode_batch']

    def encode(xs_batches):
        codes = []
        with torch.no_grad():
            for xs in xs_batches:
                codes.append(model.encoder(xs))
        return torch.cat(codes)

    ms = time_runs(lambda: encode(tiles[s:s + encode_batch] for s in range(0, n, encode_batch)), args.runs)
    record('encode_compute', ms, tiles=n, batch=encode_batch, tiles_per_s=n / (median(ms) / 1000))

    # The same two compute stages on one thread: like for like with the single-threaded wasm
    # backend, and far less sensitive to other load on a shared machine than 2 threads.
    if args.threads != 1:
        torch.set_num_threads(1)
        record('train_epoch_compute_1t', time_runs(epoch_compute, args.runs), tiles=n, batch=batch, steps=(n + batch - 1) // batch)
        ms = time_runs(lambda: encode(tiles[s:s + encode_batch] for s in range(0, n, encode_batch)), args.runs)
        record('encode_compute_1t', ms, tiles=n, batch=encode_batch, tiles_per_s=n / (median(ms) / 1000))
        torch.set_num_threads(args.threads)

    if not args.skip_read:
        reader = SlideTiles(inputs['slide'], inputs['tiles']['level'], inputs['tiles']['level_downsample'])
        regions = inputs['tiles']['regions']

        def epoch_with_read():
            order = np.random.default_rng(inputs['seed']).permutation(n)
            for start in range(0, n, batch):
                step(torch.from_numpy(reader.batch([regions[i] for i in order[start:start + batch]])))

        record('train_epoch_with_read', time_runs(epoch_with_read, args.runs), tiles=n, batch=batch)
        kept = inputs['kept_regions']
        ms = time_runs(lambda: encode(torch.from_numpy(reader.batch(kept[s:s + encode_batch])) for s in range(0, len(kept), encode_batch)), args.runs)
        record('encode_with_read', ms, tiles=len(kept), batch=encode_batch, tiles_per_s=len(kept) / (median(ms) / 1000))
        # Agreement of the preprocessing: OpenSlide + skimage tiles vs the TF.js ones.
        first = reader.batch(regions[:4])[:, 0]
        stages['train_epoch_with_read']['max_abs_tile_difference'] = float(np.abs(first - tiles[:4, 0].numpy()).max())

    # FCM.
    fi = inputs['fcm']
    points = np.fromfile(os.path.join(work, 'fcm_points.f64'), dtype='<f8').reshape(fi['points'], 2)
    u0 = np.fromfile(os.path.join(work, 'fcm_u0.f64'), dtype='<f8').reshape(fi['points'], fi['k'])
    out = {}

    def run_fcm():
        out['u'], out['iterations'], out['fpc'] = fcm(points, u0, fi['m'], fi['tol'])

    ms = time_runs(run_fcm, args.runs)
    record('fcm', ms, points=fi['points'], k=fi['k'], iterations=out['iterations'],
           ms_per_iteration=median(ms) / out['iterations'], fpc=out['fpc'])

    result['stages'] = stages
    print(json.dumps(result))


if __name__ == '__main__':
    main()
