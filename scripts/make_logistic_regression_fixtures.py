#!/usr/bin/python3
"""Reference values for src/analysis/logistic-regression.test.ts.

Run with Debian's python (numpy, scikit-learn from python3-sklearn):
    /usr/bin/python3 scripts/make_logistic_regression_fixtures.py

Writes tests/fixtures/analysis/logistic-regression.json: random standardised
features with labels that depend on them (plus label noise), and
scikit-learn's LogisticRegression(multi_class='multinomial', C) fitted on a
training part: coef_, and the class probabilities and predictions on a held
out part. Cases with 2, 3 and 5 classes, one nearly separable.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'analysis', 'logistic-regression.json')


def case(seed, n_train, n_test, d, k, C, signal):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_train + n_test, d))
    w = rng.normal(size=(d, k)) * signal
    y = (x @ w + rng.gumbel(size=(n_train + n_test, k))).argmax(axis=1)
    x = np.round(x, 6)
    model = LogisticRegression(multi_class='multinomial', C=C, solver='lbfgs', tol=1e-12, max_iter=100000)
    model.fit(x[:n_train], y[:n_train])
    test = x[n_train:]
    return {
        'seed': seed, 'classes': k, 'features': d, 'C': C,
        'xTrain': x[:n_train].ravel().tolist(), 'yTrain': y[:n_train].tolist(),
        'xTest': test.ravel().tolist(),
        'coef': model.coef_.ravel().tolist(),
        'probabilities': model.predict_proba(test).ravel().tolist(),
        'predicted': model.predict(test).tolist(),
    }


cases = [
    case(1, 80, 40, 4, 2, 1.0, 1.0),
    case(2, 150, 50, 6, 3, 0.5, 1.5),
    case(3, 200, 60, 8, 5, 2.0, 1.0),
    case(4, 60, 30, 3, 2, 1.0, 6.0),  # nearly separable: the penalty keeps it finite
]
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as f:
    json.dump({'sklearn': sklearn.__version__, 'cases': cases}, f)
print('wrote', OUT)
