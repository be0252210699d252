#!/usr/bin/python3
"""Reference values for the loss terms of the two seed-002 classifiers.

Run with Debian's python (NumPy only):
    /usr/bin/python3 scripts/make_classifier_loss_fixtures.py

Writes tests/fixtures/classifier-losses.json, read by
src/models/mobincep/losses.test.ts and src/models/organet/losses.test.ts.

Every value is computed in float64 straight from the definitions, one point
and one pair at a time (explicit loops, no vectorised shortcuts), from inputs
that are first rounded to float32 so that TF.js receives the same numbers:

Mobincep (seed 002, eq. 5.1):  L = CE + g1 / sum_k d^2(mu_k, mu) + g2 * sum_k s_k^2
  CE       mean over the batch of -log softmax(logits)[label]
  mu_k     mean of the features of class k (classes present in the batch only)
  mu       mean of all features of the batch
  s_k      sum over the points of class k of ||f_i - mu_k|| (not squared)
  The separation term is g1 / (S + 1e-6) with S = sum_k d^2(mu_k, mu), and 0
  when fewer than two classes are present.

OrgaNet (seed 002, eq. 7.2-7.3):  L = CE + gamma * MMD(latent, prior)
  MMD = mean_ij k(x_i, x_j) + mean_ij k(y_i, y_j) - 2 mean_ij k(x_i, y_j)
  (all pairs, the diagonal included), k(a, b) = exp(-||a - b||^2 / (2 sigma^2)).
  Default bandwidth: 2 sigma^2 = d^2 (d the latent length).

JSON layout: {"mobincep": [case...], "mmd": [case...], "organet": [case...]};
each case holds its inputs (nested lists) and expected values (floats).
"""
import json
import math
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'classifier-losses.json')
SEPARATION_EPSILON = 1e-6


def f32(array):
    """Rounds to float32 and returns float64 values (what TF.js will hold)."""
    return np.asarray(array, dtype=np.float32).astype(np.float64)


def cross_entropy(logits, labels):
    total = 0.0
    for row, label in zip(logits, labels):
        top = max(row)
        log_norm = top + math.log(sum(math.exp(v - top) for v in row))
        total += log_norm - row[label]
    return total / len(labels)


def distance_squared(a, b):
    return sum((x - y) ** 2 for x, y in zip(a, b))


def centroid_terms(features, labels, classes):
    n, dims = features.shape
    overall = [sum(features[i][t] for i in range(n)) / n for t in range(dims)]
    separation = 0.0
    scatter = 0.0
    present = 0
    for k in range(classes):
        members = [i for i in range(n) if labels[i] == k]
        if not members:
            continue
        present += 1
        centre = [sum(features[i][t] for i in members) / len(members) for t in range(dims)]
        separation += distance_squared(centre, overall)
        s_k = sum(math.sqrt(distance_squared(features[i], centre)) for i in members)
        scatter += s_k ** 2
    return separation, scatter, present


def mobincep_case(name, rng, labels, classes, dims, gamma1, gamma2, scale=1.0):
    n = len(labels)
    logits = f32(rng.normal(0.0, 2.0, size=(n, classes)))
    features = f32(rng.normal(0.0, scale, size=(n, dims)))
    ce = cross_entropy(logits, labels)
    separation, scatter, present = centroid_terms(features, labels, classes)
    separation_term = gamma1 / (separation + SEPARATION_EPSILON) if present >= 2 else 0.0
    scatter_term = gamma2 * scatter
    return {
        'name': name,
        'classes': classes,
        'gamma1': gamma1,
        'gamma2': gamma2,
        'labels': [int(v) for v in labels],
        'logits': logits.tolist(),
        'features': features.tolist(),
        'crossEntropy': ce,
        'separation': separation,
        'scatter': scatter,
        'present': present,
        'separationTerm': separation_term,
        'scatterTerm': scatter_term,
        'total': ce + separation_term + scatter_term,
    }


def gaussian_kernel(a, b, sigma):
    return math.exp(-distance_squared(a, b) / (2.0 * sigma * sigma))


def mean_kernel(xs, ys, sigma):
    return sum(gaussian_kernel(a, b, sigma) for a in xs for b in ys) / (len(xs) * len(ys))


def mmd(x, y, sigma):
    return mean_kernel(x, x, sigma) + mean_kernel(y, y, sigma) - 2.0 * mean_kernel(x, y, sigma)


def default_sigma(dims):
    # 2 sigma^2 = d^2
    return dims / math.sqrt(2.0)


def mmd_case(name, rng, n, m, dims, shift, spread, sigma=None):
    x = f32(rng.normal(shift, spread, size=(n, dims)))
    y = f32(rng.normal(0.0, 1.0, size=(m, dims)))
    used = default_sigma(dims) if sigma is None else sigma
    return {
        'name': name,
        'sigma': sigma,  # null: the default bandwidth
        'sigmaUsed': used,
        'x': x.tolist(),
        'y': y.tolist(),
        'kxx': mean_kernel(x, x, used),
        'kyy': mean_kernel(y, y, used),
        'kxy': mean_kernel(x, y, used),
        'mmd': mmd(x, y, used),
    }


def organet_case(name, rng, labels, classes, dims, gamma):
    n = len(labels)
    logits = f32(rng.normal(0.0, 2.0, size=(n, classes)))
    latent = f32(rng.normal(0.5, 1.5, size=(n, dims)))
    prior = f32(rng.normal(0.0, 1.0, size=(n, dims)))
    ce = cross_entropy(logits, labels)
    value = mmd(latent, prior, default_sigma(dims))
    return {
        'name': name,
        'classes': classes,
        'gamma': gamma,
        'labels': [int(v) for v in labels],
        'logits': logits.tolist(),
        'latent': latent.tolist(),
        'prior': prior.tolist(),
        'crossEntropy': ce,
        'mmd': value,
        'total': ce + gamma * value,
    }


def main():
    rng = np.random.default_rng(20240506)
    mobincep = [
        # Class 3 absent from the batch.
        mobincep_case('mixed, one class absent', rng, [0, 0, 1, 2, 2, 2, 1], 4, 5, 0.01, 0.01),
        # Classes 0 and 2 have a single point each (distance 0 to their centroid).
        mobincep_case('single-member classes', rng, [0, 1, 1, 2], 3, 6, 0.01, 0.01),
        # One class only: the separation term is 0.
        mobincep_case('one class present', rng, [1, 1, 1], 3, 4, 0.01, 0.01),
        # Other weights, larger features, batch of 8, all classes present.
        mobincep_case('weights 0.3 and 0.05', rng, [2, 0, 1, 1, 0, 2, 2, 0], 3, 8, 0.3, 0.05, scale=3.0),
    ]
    mmd_cases = [
        mmd_case('10-d, shifted and wider, default bandwidth', rng, 6, 6, 10, 0.7, 1.8),
        mmd_case('3-d, unequal sizes, sigma 1', rng, 5, 7, 3, -0.4, 0.6, sigma=1.0),
        mmd_case('2-d, same distribution, sigma 0.5', rng, 8, 8, 2, 0.0, 1.0, sigma=0.5),
    ]
    organet = [
        organet_case('10 classes, 10-d latent, gamma 1', rng, [0, 3, 3, 9, 5, 1], 10, 10, 1.0),
        organet_case('4 classes, 3-d latent, gamma 0.5', rng, [1, 0, 2, 2, 3], 4, 3, 0.5),
    ]
    document = {
        'generator': 'scripts/make_classifier_loss_fixtures.py',
        'separationEpsilon': SEPARATION_EPSILON,
        'mobincep': mobincep,
        'mmd': mmd_cases,
        'organet': organet,
    }
    with open(OUT, 'w') as handle:
        json.dump(document, handle, indent=1)
        handle.write('\n')
    print(f'wrote {os.path.relpath(OUT, ROOT)}')


if __name__ == '__main__':
    main()
