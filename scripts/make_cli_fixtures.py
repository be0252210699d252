#!/usr/bin/python3
"""Reference fixtures for the CLI tests (tests/fixtures/cli/). Run with
Debian's python (numpy, scikit-learn, tifffile):

  CLI_WRITE_FIXTURES=1 npx vitest run src/cli/tiff-writer.test.ts   # writes pattern.tif
  /usr/bin/python3 scripts/make_cli_fixtures.py

1. blobs.csv: 60 points in 2-D from sklearn.datasets.make_blobs (3 centres,
   random_state 7) as latent_0/latent_1, with an id column, a quoted text
   column and an old `cluster` column that `cluster` must replace.
2. pattern-tifffile.json: what tifffile reads from pattern.tif (written by
   src/cli/tiff-writer.ts from the test pattern): page shapes, tiles,
   compression, predictor, subfile type, resolution, per-channel pixel sums
   and a few sample pixels, for src/cli/tiff-writer.test.ts.
"""
import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'cli')


def write_blobs():
    from sklearn.datasets import make_blobs
    points, truth = make_blobs(n_samples=60, centers=3, n_features=2, cluster_std=0.8, random_state=7)
    lines = ['id,name,latent_0,latent_1,cluster,truth']
    for i, (p, t) in enumerate(zip(points, truth)):
        name = f'"tile, {i}"' if i % 10 == 0 else f'tile {i}'
        lines.append(f'{i},{name},{p[0]:.6f},{p[1]:.6f},{(i * 7) % 3},{t}')
    with open(os.path.join(OUT, 'blobs.csv'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


def describe_tiff():
    import tifffile
    path = os.path.join(OUT, 'pattern.tif')
    if not os.path.exists(path):
        print('pattern.tif missing: run the vitest command in the docstring first')
        return
    pages = []
    with tifffile.TiffFile(path) as tif:
        for page in tif.pages:
            data = page.asarray()
            h, w = data.shape[:2]
            samples = []
            for x, y in [(0, 0), (w - 1, 0), (w // 2, h // 2), (w - 1, h - 1), (min(w - 1, 65), min(h - 1, 64))]:
                samples.append({'x': int(x), 'y': int(y), 'rgb': [int(v) for v in data[y, x]]})
            pages.append({
                'shape': list(data.shape),
                'tile': [int(page.tilelength), int(page.tilewidth)],
                'compression': int(page.compression),
                'predictor': int(page.predictor),
                'subfiletype': int(page.subfiletype),
                'xresolution': [int(v) for v in page.tags['XResolution'].value],
                'resolutionunit': int(page.tags['ResolutionUnit'].value),
                'sum': [int(v) for v in data.reshape(-1, 3).astype(np.int64).sum(axis=0)],
                'samples': samples,
            })
        view = {'bigtiff': bool(tif.is_bigtiff), 'pages': pages}
    with open(os.path.join(OUT, 'pattern-tifffile.json'), 'w') as f:
        json.dump(view, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    write_blobs()
    describe_tiff()
