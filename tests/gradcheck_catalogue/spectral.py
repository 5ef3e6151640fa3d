"""Weight decay plus a spectral penalty: J = ½‖W‖² + λ_max(WᵀW) (scipy.linalg.eigvalsh), and an
RBF kernel sum by scipy.spatial's cdist. scipy hands its inputs to LAPACK or C as plain arrays,
out of the complex step's watch (eigvalsh of x + i·h·u is Hermitian: a forgotten penalty
passed; cdist refuses complex numbers: an error before): central differences judge. n: W's side."""

import numpy as np
import scipy.linalg as sl
from scipy.spatial.distance import cdist

from . import Entry


def spectral(mistake=None):
    def loss(W):
        lam, V = sl.eigh(W.T @ W)
        v = V[:, -1]
        g = W + (0 if mistake == "no penalty" else 2 * W @ np.outer(v, v))
        return 0.5 * np.sum(W * W) + sl.eigvalsh(W.T @ W)[-1], g
    return lambda n: (loss, (np.random.default_rng(0).standard_normal((n, n // 2 + 1)),), (0,))


def rbf(mistake=None):
    def loss(X, C):
        K = np.exp(-cdist(X, C, "sqeuclidean"))
        g = -2 * (K.sum(1)[:, None] * X - K @ C)
        return K.sum(), (2 * g if mistake == "factor 2" else g)
    def make(n):
        rng = np.random.default_rng(1)
        return loss, (rng.standard_normal((n, 3)), rng.standard_normal((7, 3))), (0,)
    return make


ENTRIES = [
    Entry("spectral-penalty", spectral(), sizes={"small": 6, "large": 60}),
    Entry("spectral-penalty-forgotten", spectral("no penalty"), "fail", "dropped term (λ_max)",
          {"small": 6, "large": 60}),
    Entry("rbf-cdist", rbf(), sizes={"small": 10, "large": 20_000}),
    Entry("rbf-cdist-factor-2", rbf("factor 2"), "fail", "factor 2", {"small": 10, "large": 20_000}),
]
