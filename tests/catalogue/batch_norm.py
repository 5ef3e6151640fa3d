"""Batch norm (γ = 1, β = 0, ε = 1e-5) over the N rows of x, read out by dout:
x̂ = (x − μ)/√(v + ε) per column, J = Σ dout ⊙ x̂.
∂J/∂x = (N·dout − Σ_n dout − x̂·Σ_n(dout ⊙ x̂)) / (N √(v + ε))   (cs231n's dx).

Planted: the x̂·Σ(dout ⊙ x̂) term missing.
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real

EPS = sp.Rational(1, 100000)


def _column(s, d):
    col = [s.x[n, d] for n in range(s.N)]
    mu = sum(col) / s.N
    var = sum((c - mu) ** 2 for c in col) / s.N
    inv = 1 / sp.sqrt(var + EPS)
    return [(c - mu) * inv for c in col], inv


def J(s):
    return sum(s.dout[n, d] * _column(s, d)[0][n] for d in range(s.D) for n in range(s.N))


def grad(s, full=True):
    out = sp.zeros(s.N, s.D)
    for d in range(s.D):
        xhat, inv = _column(s, d)
        g = [s.dout[n, d] for n in range(s.N)]
        total, proj = sum(g), sum(gi * xi for gi, xi in zip(g, xhat))
        for n in range(s.N):
            out[n, d] = (s.N * g[n] - total - (xhat[n] * proj if full else 0)) * inv / s.N
    return out


def code(full):
    def batch_norm(x, dout):
        N = x.shape[0]
        mu = x.mean(axis=0)
        var = ((x - mu) ** 2).mean(axis=0)
        inv = 1.0 / np.sqrt(var + 1e-5)
        xhat = (x - mu) * inv
        dx = N * dout - dout.sum(axis=0)
        if full:
            dx = dx - xhat * (dout * xhat).sum(axis=0)
        return np.sum(dout * xhat), dx * inv / N
    return batch_norm


EXPECTED = {"batch-norm": ("holds", "none"),
            "batch-norm-missing-term": ("refuted", "dx missing its x̂·Σ(dout·x̂) term")}

for _id, _full in (("batch-norm", True), ("batch-norm-missing-term", False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="batch norm, dx", citation="catalogue: batch norm (cs231n)",
        dims={"N": (2, 3), "D": (1, 2)}, variables={"x": Real("N", "D"), "dout": Real("N", "D")}, function=J,
        claims=[Claim("∂J/∂x", lambda s, f=_full: grad(s, f), output="dx", wrt="x",
                      as_written="(N·dout − Σdout − x̂·Σ(dout·x̂)) / (N σ)")],
        implementation=Implementation(code(_full), args=("x", "dout"), returns=("J", "dx")),
        symbolic_sizes=[{"N": 3, "D": 2}, {"N": 2, "D": 1}])
