"""A batch-norm layer (training mode) and its backward pass, written as a layer's code writes
them: x is N×D (no flattening), γ and β have one entry per column, and the backward pass takes
the upstream gradient dout (N×D) and returns dx, dγ and dβ.

    μ = (1/N) Σ_n x[n, :]      σ² = (1/N) Σ_n (x[n, :] − μ)²      x̂ = (x − μ) / √(σ² + ε)
    out = γ ⊙ x̂ + β
    dβ = Σ_n dout[n, :]
    dγ = Σ_n dout[n, :] ⊙ x̂[n, :]
    dx = γ / (N √(σ² + ε)) ⊙ (N dout − Σ_n dout − x̂ ⊙ Σ_n (dout ⊙ x̂))

Each claim is a vector–Jacobian product, Claim(..., upstream="dout"): gradverify draws dout and
checks Σ dout ⊙ ∂out/∂(x, γ, β). The −Σ_n dout term is the mean's dependence on x (forgetting it
is the classic mistake); the −x̂ ⊙ Σ(dout ⊙ x̂) term is the variance's.
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real

EPS = 1e-5


# ---- the math (sympy): x and dout are N×D Matrices, γ and β columns of D -------------------
def _normalised(s):
    """x̂ (N×D) and 1/√(σ² + ε) per column (a list of D)."""
    eps = sp.Rational(1, 100000)
    xhat, inv = sp.zeros(s.N, s.D), []
    for d in range(s.D):
        mu = sum(s.x[n, d] for n in range(s.N)) / s.N
        var = sum((s.x[n, d] - mu) ** 2 for n in range(s.N)) / s.N
        inv.append(1 / sp.sqrt(var + eps))
        for n in range(s.N):
            xhat[n, d] = (s.x[n, d] - mu) * inv[d]
    return xhat, inv


def forward(s):
    xhat, _ = _normalised(s)
    return sp.Matrix(s.N, s.D, lambda n, d: s.gamma[d] * xhat[n, d] + s.beta[d])


def dbeta(s):
    return sp.Matrix(s.D, 1, lambda d, _: sum(s.dout[n, d] for n in range(s.N)))


def dgamma(s):
    xhat, _ = _normalised(s)
    return sp.Matrix(s.D, 1, lambda d, _: sum(s.dout[n, d] * xhat[n, d] for n in range(s.N)))


def dx(s, mean_term=True):
    xhat, inv = _normalised(s)
    out = sp.zeros(s.N, s.D)
    for d in range(s.D):
        total = sum(s.dout[n, d] for n in range(s.N)) if mean_term else 0
        proj = sum(s.dout[n, d] * xhat[n, d] for n in range(s.N))
        for n in range(s.N):
            out[n, d] = s.gamma[d] * inv[d] / s.N * (s.N * s.dout[n, d] - total - xhat[n, d] * proj)
    return out


# ---- the code (numpy): forward, then backward from the cache, as in a layer ---------------
def batchnorm_forward(x, gamma, beta):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    inv = 1.0 / np.sqrt(var + EPS)
    xhat = (x - mu) * inv
    return gamma * xhat + beta, (xhat, gamma, inv)


def batchnorm_backward(dout, cache):
    xhat, gamma, inv = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dx = (gamma * inv / N) * (N * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def batchnorm_layer(x, gamma, beta, dout):
    out, cache = batchnorm_forward(x, gamma, beta)
    return (out, *batchnorm_backward(dout, cache))


derivation = Derivation(
    id="batchnorm",
    title="batch-norm layer: the backward pass dx, dγ, dβ at N×D",
    citation="examples/batch_norm_layer.py",
    dims={"N": (2, 4), "D": (1, 3)},
    variables={"x": Real("N", "D"), "gamma": Real("D"), "beta": Real("D"), "dout": Real("N", "D")},
    function=forward,
    claims=[
        Claim("dx", dx, output="dx", wrt="x", upstream="dout",
              as_written="γ/(N σ) ⊙ (N dout − Σ_n dout − x̂ ⊙ Σ_n dout ⊙ x̂)"),
        Claim("dγ", dgamma, output="dgamma", wrt="gamma", upstream="dout", as_written="Σ_n dout ⊙ x̂"),
        Claim("dβ", dbeta, output="dbeta", wrt="beta", upstream="dout", as_written="Σ_n dout"),
    ],
    implementation=Implementation(batchnorm_layer, args=("x", "gamma", "beta", "dout"),
                                  returns=("out", "dx", "dgamma", "dbeta")),
    symbolic_sizes=[{"N": 3, "D": 2}, {"N": 2, "D": 1}],
)
