"""Layer norm over the features of each row, with a gain: y = γ ∘ (x − μ)/√(σ² + ε), σ² by np.var,
J = Σ G ∘ y for a fixed upstream gradient G; checked: ∂J/∂X and ∂J/∂γ. n: the features (a batch
of 8 rows)."""

import numpy as np

from . import Entry

EPS = 1e-5


def _data(n):
    rng = np.random.default_rng(0)
    return rng.standard_normal((8, n)), 1 + 0.1 * rng.standard_normal(n), rng.standard_normal((8, n))


def code(mistake=None):
    def loss(X, gamma, G):
        mu = X.mean(axis=1, keepdims=True)
        var = np.var(X, axis=1, keepdims=True)
        inv = 1.0 / np.sqrt(var + EPS)
        xhat = (X - mu) * inv
        J = np.sum(G * gamma * xhat)
        dxhat = G * gamma
        dX = inv * (dxhat - dxhat.mean(axis=1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=1, keepdims=True))
        if mistake == "no variance path":
            dX = inv * (dxhat - dxhat.mean(axis=1, keepdims=True))      # σ² taken for a constant
        elif mistake == "no mean path":
            dX = inv * (dxhat - xhat * (dxhat * xhat).mean(axis=1, keepdims=True))
        dgamma = np.sum(G * xhat, axis=0)
        if mistake == "flipped gamma":
            dgamma = -dgamma
        return J, dX, dgamma
    return lambda n: (loss, _data(n), (0, 1))


SIZES = {"small": 128, "large": 500_000}     # X 8 × 128 (1,152 entries with γ) and 8 × 500,000 (4.5·10⁶)
ENTRIES = [
    Entry("layer-norm", code(), sizes=SIZES),
    Entry("layer-norm-no-variance-path", code("no variance path"), "fail", "dropped term (variance path)", SIZES),
    Entry("layer-norm-no-mean-path", code("no mean path"), "fail", "dropped term (mean path)", SIZES),
    Entry("layer-norm-flipped-gamma", code("flipped gamma"), "fail", "flipped sign (∂J/∂γ)", SIZES),
]
