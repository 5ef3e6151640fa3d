"""The lasso: J = ½ mean((X w − y)²) + λ Σ|w|, ∂J/∂w = Xᵀ r / N + λ sign(w) (no w at 0).
The code starts with w = np.asarray(w), which takes w out of the complex step's watch: central
differences judge it (np.abs alone runs under the complex step, by the real part: mae.py).
n: the features (N = 200 samples)."""

import numpy as np

from . import Entry

LAM = 0.05


def _data(n):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, n))
    return rng.standard_normal(n), X, rng.standard_normal(200)


def code(mistake=None):
    def loss(w, X, y):
        w = np.asarray(w)
        r = X @ w - y
        J = 0.5 * np.mean(r ** 2) + LAM * np.sum(np.abs(w))
        g = X.T @ r / len(y) + LAM * np.sign(w)
        if mistake == "no L1":
            g = X.T @ r / len(y)
        elif mistake == "flipped L1":
            g = X.T @ r / len(y) - LAM * np.sign(w)
        return J, g
    return lambda n: (loss, _data(n), (0,))


SIZES = {"small": 500, "large": 100_000}   # w of 500 and 10⁵ (X 200 × 10⁵)
ENTRIES = [
    Entry("lasso", code(), sizes=SIZES),
    Entry("lasso-no-l1", code("no L1"), "fail", "dropped term (λ sign w)", SIZES),
    Entry("lasso-flipped-l1", code("flipped L1"), "fail", "flipped sign (L1 term)", SIZES),
]
