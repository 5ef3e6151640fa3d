"""Robust regression with the Huber loss (δ = 1): J = Σ h(X w − y), h(r) = r²/2 for |r| ≤ 1,
|r| − ½ beyond (np.where); ∂J/∂w = Xᵀ clip(r, −1, 1). n: the features (N = 200, residuals of
deviation ~3, so many beyond δ)."""

import numpy as np

from . import Entry


def _data(n):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, n)) / np.sqrt(n)
    return rng.standard_normal(n), X, 3 * rng.standard_normal(200)


def code(mistake=None):
    def loss(w, X, y):
        r = X @ w - y
        a = np.abs(r)
        J = np.where(a <= 1.0, 0.5 * r ** 2, a - 0.5).sum()
        psi = np.clip(r, -1.0, 1.0)
        if mistake == "unclipped":
            psi = r                               # the quadratic's derivative everywhere
        elif mistake == "flipped":
            psi = -psi
        return J, X.T @ psi
    return lambda n: (loss, _data(n), (0,))


SIZES = {"small": 500, "large": 100_000}
ENTRIES = [
    Entry("huber", code(), sizes=SIZES),
    Entry("huber-unclipped", code("unclipped"), "fail", "missing clip (wrong only for |r| > δ)", SIZES),
    Entry("huber-flipped", code("flipped"), "fail", "flipped sign", SIZES),
]
