#!/usr/bin/python3
"""Reference values for src/analysis/classification-metrics.test.ts.

Run with Debian's python (numpy, scikit-learn):
    /usr/bin/python3 scripts/make_classification_metrics_fixtures.py

Writes tests/fixtures/analysis/classification-metrics.json: random class
labels and probabilities (rounded so that scores tie), and scikit-learn's
accuracy, per-class precision / recall / F1 (zero_division=0), confusion
matrix, per-class ROC curves (drop_intermediate=False) and micro / macro
one-vs-rest AUC.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support, roc_auc_score, roc_curve
from sklearn.preprocessing import label_binarize

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'analysis', 'classification-metrics.json')


def case(seed, n, k, skew, never_predicted=None):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += skew  # informative, not perfect
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    probs = np.round(probs, 2)  # ties, as real scores have
    pred = probs.argmax(axis=1)
    if never_predicted is not None:
        pred[pred == never_predicted] = (never_predicted + 1) % k
    precision, recall, f1, support = precision_recall_fscore_support(y, pred, labels=list(range(k)), zero_division=0)
    binary = label_binarize(y, classes=list(range(k)))
    if k == 2:  # label_binarize gives one column for two classes
        binary = np.column_stack([1 - binary[:, 0], binary[:, 0]])
    curves = []
    for c in range(k):
        fpr, tpr, thresholds = roc_curve(binary[:, c], probs[:, c], drop_intermediate=False)
        curves.append({'fpr': fpr.tolist(), 'tpr': tpr.tolist(), 'thresholds': [None if np.isinf(t) else float(t) for t in thresholds]})
    return {
        'classes': k,
        'y': y.tolist(),
        'pred': pred.tolist(),
        'probs': probs.ravel().tolist(),
        'accuracy': accuracy_score(y, pred),
        'precision': precision.tolist(),
        'recall': recall.tolist(),
        'f1': f1.tolist(),
        'support': support.tolist(),
        'confusion': confusion_matrix(y, pred, labels=list(range(k))).ravel().tolist(),
        'curves': curves,
        'perClassAuc': [roc_auc_score(binary[:, c], probs[:, c]) for c in range(k)],
        'microAuc': roc_auc_score(binary, probs, average='micro'),
        # One-vs-rest macro AUC: the mean of the per-class AUCs (roc_auc_score's multi_class='ovr'
        # insists that rows sum to 1, which the rounded scores no longer do; same number otherwise).
        'macroAuc': roc_auc_score(binary, probs, average='macro'),
    }


def main():
    cases = [case(1, 300, 4, 1.5), case(2, 120, 3, 0.8, never_predicted=2), case(3, 80, 2, 2.0)]
    with open(OUT, 'w') as f:
        json.dump({'sklearn': sklearn.__version__, 'cases': cases}, f)
    print(f'wrote {OUT}')


if __name__ == '__main__':
    main()
