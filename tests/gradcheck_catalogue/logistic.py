"""Logistic regression with weight decay (L2), the mean log-loss over N samples:
J = −mean(y log p + (1 − y) log(1 − p)) + λ/2 ‖w‖², p = σ(X w + b); n: the features (N = 4n, at most 400 samples)."""

import numpy as np

from . import Entry

LAM = 0.1


def _data(n):
    rng = np.random.default_rng(0)
    N = min(4 * n, 400)
    X = rng.standard_normal((N, n))
    y = (rng.random(N) < 0.5).astype(float)
    return rng.standard_normal(n) / np.sqrt(n), np.array([0.2]), X, y      # scores of deviation ~1


def code(mistake=None):
    def loss(w, b, X, y):
        X = np.asarray(X)                        # a defensive first line (the data, not the weights)
        N = X.shape[0]
        p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
        J = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) + LAM / 2 * np.sum(w * w)
        d = (p - y) / N
        gw = X.T @ d + LAM * w
        gb = np.array([d.sum()])
        if mistake == "no decay":
            gw = X.T @ d                          # the weight decay's λ w forgotten
        elif mistake == "no 1/N":
            gw = X.T @ (p - y) + LAM * w
        elif mistake == "flipped":
            gw, gb = -gw, -gb
        return J, gw, gb
    return lambda n: (loss, _data(n), (0, 1))


SIZES = {"small": 300, "large": 100_000}     # X 400 × 300 and 400 × 10⁵; checked: w and b
ENTRIES = [
    Entry("logistic", code(), sizes=SIZES),
    Entry("logistic-no-decay", code("no decay"), "fail", "dropped term (weight decay)", SIZES),
    Entry("logistic-no-1/N", code("no 1/N"), "fail", "missing 1/N", SIZES),
    Entry("logistic-flipped", code("flipped"), "fail", "flipped sign", SIZES),
]
