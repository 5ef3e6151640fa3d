"""Batch norm over the batch (training mode), with gain and shift: y = γ ∘ x̂ + β, x̂ = (x − μ)/√(σ² + ε)
per feature, σ² the biased mean of squares; J = Σ G ∘ y. Checked: ∂J/∂X, ∂J/∂γ, ∂J/∂β. n: the
features (a batch of 32, inputs of mean 3 and deviation 2)."""

import numpy as np

from . import Entry

EPS = 1e-5
N = 32


def _data(n):
    rng = np.random.default_rng(0)
    return 3 + 2 * rng.standard_normal((N, n)), rng.standard_normal(n), rng.standard_normal(n), \
        rng.standard_normal((N, n))


def code(mistake=None):
    def loss(X, gamma, beta, G):
        mu = X.mean(axis=0)
        xc = X - mu
        var = (xc ** 2).mean(axis=0)
        inv = 1.0 / np.sqrt(var + EPS)
        xhat = xc * inv
        J = np.sum(G * (gamma * xhat + beta))
        dxhat = G * gamma
        m = X.shape[0]
        dX = inv / m * (m * dxhat - dxhat.sum(axis=0) - xhat * np.sum(dxhat * xhat, axis=0))
        if mistake == "no variance path":
            dX = inv / m * (m * dxhat - dxhat.sum(axis=0))
        elif mistake == "no 1/N":
            dX = inv * (m * dxhat - dxhat.sum(axis=0) - xhat * np.sum(dxhat * xhat, axis=0))
        return J, dX, np.sum(G * xhat, axis=0), G.sum(axis=0)
    return lambda n: (loss, _data(n), (0, 1, 2))


SIZES = {"small": 40, "large": 100_000}      # 1,360 and 3.4·10⁶ entries
ENTRIES = [
    Entry("batch-norm", code(), sizes=SIZES),
    Entry("batch-norm-no-variance-path", code("no variance path"), "fail", "dropped term (variance path)", SIZES),
    Entry("batch-norm-no-1/N", code("no 1/N"), "fail", "missing 1/N", SIZES),
]
