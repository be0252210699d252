#!/usr/bin/python3
"""Reference values for src/analysis and src/tiling tests.

Run with Debian's python (numpy, scipy, scikit-learn):
    /usr/bin/python3 scripts/make_analysis_reference.py

Writes tests/fixtures/analysis/:
  *.f64 / *.u8      raw little-endian arrays (shapes in reference.json)
  reference.json    expected values

Fuzzy c-means has no library reference here, so this script carries its own
NumPy implementation written straight from the equations of seed 000 §4
(u_ij = 1 / sum_k (|x_i - c_j| / |x_i - c_k|)^(2/(m-1)), with the full n x K x K
ratio tensor, deliberately not the algebraic shortcut the TypeScript uses).
Everything else comes from scikit-learn / SciPy.
"""
import json
import os
import sys

import numpy as np
import scipy
import scipy.ndimage
import scipy.optimize
import scipy.stats
import sklearn
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import (adjusted_rand_score, confusion_matrix,
                             davies_bouldin_score,
                             homogeneity_completeness_v_measure,
                             silhouette_score)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'analysis')


def save(name, array, dtype):
    array = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder('<'))
    array.tofile(os.path.join(OUT, name))
    return {'file': name, 'shape': list(array.shape), 'dtype': np.dtype(dtype).name}


def fcm_reference(X, U0, m, tol, max_iter, norm):
    """Fuzzy c-means exactly as the seed writes it; returns a dict of results."""
    U = U0 / U0.sum(axis=1, keepdims=True)
    n = X.shape[0]
    objective, deltas = [], []
    iterations = 0
    for iteration in range(1, max_iter + 1):
        Um = U ** m
        C = (Um.T @ X) / Um.sum(axis=0)[:, None]                       # (2) centres
        dist = np.sqrt(((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2))
        objective.append(float((Um * dist ** 2).sum()))                 # J_m(U_{t-1}, c_t)
        ratio = dist[:, :, None] / dist[:, None, :]                     # |x-c_j| / |x-c_k|
        U_new = 1.0 / (ratio ** (2.0 / (m - 1.0))).sum(axis=2)          # (3) memberships
        diff = U_new - U
        delta = float(np.linalg.norm(diff)) if norm == 'frobenius' else float(np.abs(diff).max())
        deltas.append(delta)
        U = U_new
        iterations = iteration
        if delta < tol:
            break
    return {
        'centres': C, 'u': U, 'fpc': float((U ** 2).sum() / n), 'iterations': iterations,
        'objective': objective, 'deltas': deltas, 'labels': U.argmax(axis=1),
    }


def xoshiro128starstar(state, count):
    """The xoshiro128** generator (Blackman & Vigna), for the PRNG test vector."""
    s = list(state)
    mask = 0xFFFFFFFF
    rotl = lambda x, k: ((x << k) | (x >> (32 - k))) & mask
    out = []
    for _ in range(count):
        out.append((rotl((s[1] * 5) & mask, 7) * 9) & mask)
        t = (s[1] << 9) & mask
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
    return out


def blobs(rng, centres, sds, sizes):
    parts, labels = [], []
    for label, (centre, sd, size) in enumerate(zip(centres, sds, sizes)):
        parts.append(rng.normal(loc=centre, scale=sd, size=(size, len(centre))))
        labels.append(np.full(size, label))
    X = np.concatenate(parts)
    y = np.concatenate(labels)
    order = rng.permutation(len(y))
    return X[order], y[order]


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240601)
    ref = {
        'generator': 'scripts/make_analysis_reference.py',
        'versions': {'numpy': np.__version__, 'scipy': scipy.__version__, 'sklearn': sklearn.__version__},
        'arrays': {},
    }
    arrays = ref['arrays']

    # --- PRNG test vectors ---------------------------------------------------
    ref['xoshiro128'] = [
        {'state': state, 'outputs': xoshiro128starstar(state, 1010)[-10:] if skip else xoshiro128starstar(state, 10),
         'skip': 1000 if skip else 0}
        for state, skip in [([1, 2, 3, 4], False), ([0x9e3779b9, 0x243f6a88, 0xb7e15162, 0x01234567], True)]
    ]

    # --- data -------------------------------------------------------------
    X2, y2 = blobs(rng, [(0.0, 0.0), (6.0, 1.0), (2.0, 7.0)], [1.0, 0.8, 1.2], [700, 700, 600])
    X5, y5 = blobs(rng, [(0, 0, 0, 0, 0), (4, 0, 1, 0, 2), (0, 5, 0, 2, 0), (3, 3, 3, 3, 3)],
                   [1.0, 1.2, 0.9, 1.1], [300, 250, 250, 200])
    arrays['blobs2d'] = save('blobs2d.f64', X2, np.float64)
    arrays['blobs5d'] = save('blobs5d.f64', X5, np.float64)
    ref['blobs2dLabels'] = y2.tolist()
    ref['blobs5dLabels'] = y5.tolist()

    # --- fuzzy c-means --------------------------------------------------------
    cases = [
        # (name, data, data name, K, m, tol, maxIter, norm, store final U)
        ('fcm2d_k3', X2, 'blobs2d', 3, 2.0, 0.005, 300, 'frobenius', True),
        # The seed's K = 7 on 3 blobs with m = 1.5 converges slowly (~700 iterations): a long-run check.
        ('fcm2d_k7', X2, 'blobs2d', 7, 1.5, 0.005, 1000, 'frobenius', False),
        ('fcm2d_k7_capped', X2, 'blobs2d', 7, 1.5, 0.005, 40, 'frobenius', False),
        ('fcm5d_k4', X5, 'blobs5d', 4, 1.25, 1e-6, 500, 'frobenius', True),
        ('fcm2d_k3_max', X2, 'blobs2d', 3, 1.7, 1e-5, 500, 'max', False),  # m with no short power form
    ]
    ref['fcm'] = []
    initial = {}
    for name, X, data_name, k, m, tol, max_iter, norm, store_u in cases:
        init_name = f'u0_{data_name}_k{k}'
        if init_name not in initial:
            U0 = rng.random((X.shape[0], k))
            U0 /= U0.sum(axis=1, keepdims=True)
            initial[init_name] = U0
            arrays[init_name] = save(init_name + '.f64', U0, np.float64)
        result = fcm_reference(X, initial[init_name], m, tol, max_iter, norm)
        if store_u:
            arrays[name + '_u'] = save(name + '_u.f64', result['u'], np.float64)
        # How far the stopping decisions were from the threshold (guards iteration-count equality).
        margins = [abs(d - tol) / tol for d in result['deltas']]
        print(f'{name}: {result["iterations"]} iterations, FPC {result["fpc"]:.12f}, '
              f'smallest relative |delta - tol| {min(margins):.2e}', file=sys.stderr)
        ref['fcm'].append({
            'name': name, 'data': data_name, 'initialU': init_name, 'finalU': name + '_u' if store_u else None,
            'converged': result['deltas'][-1] < tol,
            'k': k, 'm': m, 'tol': tol, 'maxIter': max_iter, 'norm': norm,
            'centres': result['centres'].ravel().tolist(), 'fpc': result['fpc'],
            'iterations': result['iterations'], 'objective': result['objective'],
            'labels': result['labels'].tolist(),
        })

    # --- k-means (sklearn, Lloyd, explicit initial centres) -----------------------
    ref['kmeans'] = []
    for name, X, data_name, k in [('kmeans2d_k5', X2, 'blobs2d', 5), ('kmeans5d_k4', X5, 'blobs5d', 4)]:
        init = X[:k].copy()  # rows are shuffled, so these are random points
        model = KMeans(n_clusters=k, init=init, n_init=1, algorithm='lloyd', max_iter=300, tol=1e-4).fit(X)
        ref['kmeans'].append({
            'name': name, 'data': data_name, 'k': k, 'init': init.ravel().tolist(),
            'inertia': float(model.inertia_), 'centres': model.cluster_centers_.ravel().tolist(),
            'labels': model.labels_.tolist(), 'iterations': int(model.n_iter_),
        })
    kmeans_labels_2d = np.array(ref['kmeans'][0]['labels'])

    # --- label metrics --------------------------------------------------------
    random_a = rng.integers(0, 4, 500)
    random_b = rng.integers(-1, 5, 500)  # includes the label -1
    noisy = y2.copy()
    flip = rng.random(len(noisy)) < 0.15
    noisy[flip] = rng.integers(0, 3, flip.sum())
    pairs = [
        ('true_vs_kmeans5', y2, kmeans_labels_2d),
        ('true_vs_noisy', y2, noisy),
        ('random4_vs_random6', random_a, random_b),
        ('identical_renamed', y2, (y2 + 1) * 10),
        ('single_cluster', y2, np.zeros_like(y2)),
    ]
    ref['labelMetrics'] = []
    for name, a, b in pairs:
        h, c, v = homogeneity_completeness_v_measure(a, b)
        ref['labelMetrics'].append({
            'name': name, 'a': a.tolist(), 'b': b.tolist(), 'ari': float(adjusted_rand_score(a, b)),
            'homogeneity': float(h), 'completeness': float(c), 'vMeasure': float(v),
        })

    cm_true = rng.integers(0, 4, 200)
    cm_pred = np.where(rng.random(200) < 0.7, cm_true, rng.integers(0, 5, 200))
    ref['confusion'] = {
        'true': cm_true.tolist(), 'pred': cm_pred.tolist(),
        'labels': sorted(set(cm_true.tolist()) | set(cm_pred.tolist())),
        'matrix': confusion_matrix(cm_true, cm_pred).ravel().tolist(),
    }

    # --- geometry metrics -----------------------------------------------------
    ref['geometryMetrics'] = []
    for name, X, data_name, labels in [
        ('blobs2d_true', X2, 'blobs2d', y2),
        ('blobs2d_kmeans5', X2, 'blobs2d', kmeans_labels_2d),
        ('blobs5d_true', X5, 'blobs5d', y5),
    ]:
        ref['geometryMetrics'].append({
            'name': name, 'data': data_name, 'labels': labels.tolist(),
            'silhouette': float(silhouette_score(X, labels, metric='euclidean')),
            'daviesBouldin': float(davies_bouldin_score(X, labels)),
        })

    # --- PCA --------------------------------------------------------------------
    mixing = rng.normal(size=(12, 12)) * np.linspace(3.0, 0.1, 12)[:, None]
    X12 = rng.normal(size=(300, 12)) @ mixing + rng.normal(size=12) * 5
    arrays['correlated12d'] = save('correlated12d.f64', X12, np.float64)
    ref['pca'] = []
    for name, X, data_name, k in [('pca5d_k3', X5, 'blobs5d', 3), ('pca12d_k5', X12, 'correlated12d', 5)]:
        model = PCA(n_components=k, svd_solver='full').fit(X)
        projected = model.transform(X)
        arrays[name + '_projected'] = save(name + '_projected.f64', projected, np.float64)
        ref['pca'].append({
            'name': name, 'data': data_name, 'k': k, 'mean': model.mean_.tolist(),
            'components': model.components_.ravel().tolist(),
            'explainedVariance': model.explained_variance_.tolist(),
            'explainedVarianceRatio': model.explained_variance_ratio_.tolist(),
            'projected': name + '_projected',
        })

    # --- Hungarian (scipy) -----------------------------------------------------
    ref['assignment'] = []
    for rows, cols, maximize, integer in [(1, 1, False, False), (3, 3, False, False), (5, 8, False, False),
                                          (8, 5, False, False), (20, 20, False, False), (30, 45, False, False),
                                          (45, 30, True, False), (12, 12, False, True)]:
        cost = rng.integers(0, 10, (rows, cols)).astype(float) if integer else rng.random((rows, cols)) * 100 - 20
        r, c = scipy.optimize.linear_sum_assignment(cost, maximize=maximize)
        ref['assignment'].append({
            'rows': rows, 'cols': cols, 'maximize': maximize, 'tiesPossible': integer,
            'cost': cost.ravel().tolist(), 'rowIndices': r.tolist(), 'colIndices': c.tolist(),
            'total': float(cost[r, c].sum()),
        })

    # --- Spearman (scipy) ------------------------------------------------------
    tied_x = rng.integers(0, 10, 300)
    tied_y = tied_x + rng.integers(-4, 5, 300)
    cont_x = rng.normal(size=400)
    cont_y = np.exp(cont_x) + rng.normal(scale=0.5, size=400)
    ref['spearman'] = []
    for name, a, b in [('ties', tied_x, tied_y), ('continuous', cont_x, cont_y), ('anti', cont_x, -cont_x ** 3)]:
        ref['spearman'].append({'name': name, 'x': a.tolist(), 'y': b.tolist(),
                                'rho': float(scipy.stats.spearmanr(a, b).correlation)})

    # --- Tile grid tissue fractions (exact area weighting) ------------------------
    # CMU-1-Small-Region.svs geometry: 2220 x 2967 px at 0.499 um/px.
    slide_w, slide_h, mpp = 2220, 2967, 0.499
    mask_ds = 16.7  # non-integer on purpose: tile edges cut mask pixels
    mw, mh = int(np.ceil(slide_w / mask_ds)), int(np.ceil(slide_h / mask_ds))
    field = scipy.ndimage.gaussian_filter(rng.normal(size=(mh, mw)), 6)
    mask = (field > np.quantile(field, 0.45)).astype(np.uint8)
    arrays['tissueMask'] = save('tissue_mask.u8', mask, np.uint8)
    tile = round(150 / mpp)
    stride = round(75 / mpp)
    cols = (slide_w - tile) // stride + 1
    rows = (slide_h - tile) // stride + 1
    fractions = []
    mx = np.arange(mw)
    my = np.arange(mh)
    for r in range(rows):
        for c in range(cols):
            x0, y0 = c * stride / mask_ds, r * stride / mask_ds
            x1, y1 = x0 + tile / mask_ds, y0 + tile / mask_ds
            wx = np.clip(np.minimum(x1, mx + 1) - np.maximum(x0, mx), 0, None)
            wy = np.clip(np.minimum(y1, my + 1) - np.maximum(y0, my), 0, None)
            fractions.append(float(wy @ mask.astype(float) @ wx / ((x1 - x0) * (y1 - y0))))
    ref['tileGrid'] = {
        'width': slide_w, 'height': slide_h, 'mpp': mpp, 'tileUm': 150, 'overlapUm': 75,
        'maskWidth': mw, 'maskHeight': mh, 'maskDownsample': mask_ds,
        'tileSize': tile, 'stride': stride, 'columns': cols, 'rows': rows, 'tissueFraction': fractions,
    }

    # Grid geometry for the two real slides (sizes and mpp as OpenSlide reports them, via vipsheader).
    # Rounding is half-up, as JavaScript's Math.round for positive values.
    half_up = lambda value: int(np.floor(value + 0.5))
    ndpi_levels = [(3968 // 2 ** q, 4864 // 2 ** q, 2 ** q) for q in range(7)]
    slides = {
        'CMU-1-Small-Region.svs': {'width': 2220, 'height': 2967, 'mpp': 0.499, 'levels': [(2220, 2967, 1)]},
        'test3-DAPI-2-387.ndpi': {'width': 3968, 'height': 4864, 'mpp': 0.2281750559028887, 'levels': ndpi_levels},
    }
    ref['gridCases'] = []
    for slide, level, tile_um, overlap_um, mpp_override in [
        ('CMU-1-Small-Region.svs', 0, 150, 75, None),
        ('CMU-1-Small-Region.svs', 0, 64, 32, 0.25),
        ('test3-DAPI-2-387.ndpi', 0, 150, 75, None),
        ('test3-DAPI-2-387.ndpi', 2, 150, 75, None),
        ('test3-DAPI-2-387.ndpi', 1, 100, 0, None),
        ('test3-DAPI-2-387.ndpi', 4, 150, 75, None),
    ]:
        info = slides[slide]
        level_w, level_h, ds = info['levels'][level]
        level_mpp = (mpp_override or info['mpp']) * ds
        tile = half_up(tile_um / level_mpp)
        stride = half_up((tile_um - overlap_um) / level_mpp)
        cols = (level_w - tile) // stride + 1 if level_w >= tile else 0
        rows = (level_h - tile) // stride + 1 if level_h >= tile else 0
        rects = [[c * stride * ds, r * stride * ds, tile * ds, tile * ds] for r in range(rows) for c in range(cols)]
        ref['gridCases'].append({
            'slide': slide, 'width': info['width'], 'height': info['height'], 'mpp': info['mpp'],
            'levels': [{'width': w, 'height': h, 'downsample': d} for w, h, d in info['levels']],
            'level': level, 'tileUm': tile_um, 'overlapUm': overlap_um, 'mppOverride': mpp_override,
            'tileSize': tile, 'stride': stride, 'columns': cols, 'rows': rows,
            'first': rects[0] if rects else None, 'last': rects[-1] if rects else None,
        })

    with open(os.path.join(OUT, 'reference.json'), 'w') as f:
        json.dump(ref, f, separators=(',', ':'))
    total = sum(os.path.getsize(os.path.join(OUT, name)) for name in os.listdir(OUT))
    print(f'wrote {OUT} ({total / 1024:.0f} KiB)', file=sys.stderr)


if __name__ == '__main__':
    main()
