"""Layer norm without ε, read out by g: y = (x − μ)/σ, σ² = mean((x − μ)²), J = gᵀ y.
∂J/∂x = (g − mean(g) − y·mean(g ⊙ y)) / σ.

Defined only where x is not constant (σ > 0): the right verdict needs a domain on x
declared with a `Require` (x not constant), without which the first example, all zeros, is NaN.
Planted: the y·mean(g ⊙ y) term dropped. `layer-norm-eps` is the form libraries use,
σ² = mean((x − μ)²) + ε with ε = 1e-5, defined everywhere (the same ∂J/∂x with that σ).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real, Require


EPS = sp.Rational(1, 100000)


def _normalised(s, eps=0):
    mu = sum(s.x) / s.n
    c = s.x - sp.ones(s.n, 1) * mu
    sigma = sp.sqrt(sum(ci ** 2 for ci in c) / s.n + eps)
    return c / sigma, sigma


def J(s, eps=0):
    y, _ = _normalised(s, eps)
    return (s.g.T * y)[0, 0]


def grad(s, full=True, eps=0):
    y, sigma = _normalised(s, eps)
    gm = sum(s.g) / s.n
    out = s.g - sp.ones(s.n, 1) * gm
    if full:
        out = out - y * (sum(s.g[i] * y[i] for i in range(s.n)) / s.n)
    return out / sigma


def code(full, eps=0.0):
    def layer_norm(x, g):
        c = x - x.mean()
        sigma = np.sqrt(np.mean(c * c) + eps)
        y = c / sigma
        dx = g - g.mean()
        if full:
            dx = dx - y * np.mean(g * y)
        return g @ y, dx / sigma
    return layer_norm


EXPECTED = {"layer-norm": ("holds", "none"), "layer-norm-eps": ("holds", "none"), "layer-norm-dropped-term": ("refuted", "dropped term y·mean(g ⊙ y)")}
#: σ = 0 where x is constant (the all-zero first example): without ε the loss is not defined there
NOT_CONSTANT = Require("x is not constant (σ > 0)", var="x", holds=lambda s: np.ptp(s.x) > 1e-3)

for _id, _full in (("layer-norm", True), ("layer-norm-dropped-term", False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="layer norm (no ε)", citation="catalogue: layer norm",
        dims={"n": (2, 4)}, variables={"x": Real("n"), "g": Real("n")}, function=J, assumptions=[NOT_CONSTANT],
        claims=[Claim("∂J/∂x", lambda s, f=_full: grad(s, f), output="grad_x", wrt="x",
                      as_written="(g − mean(g) − y·mean(g ⊙ y)) / σ")],
        implementation=Implementation(code(_full), args=("x", "g"), returns=("J", "grad_x")),
        symbolic_sizes=[{"n": 2}, {"n": 3}])

layer_norm_eps = Derivation(
    id="layer-norm-eps", title="layer norm (ε = 1e-5)", citation="catalogue: layer norm",
    dims={"n": (2, 4)}, variables={"x": Real("n"), "g": Real("n")}, function=lambda s: J(s, EPS),
    claims=[Claim("∂J/∂x", lambda s: grad(s, True, EPS), output="grad_x", wrt="x",
                  as_written="(g − mean(g) − y·mean(g ⊙ y)) / σ")],
    implementation=Implementation(code(True, 1e-5), args=("x", "g"), returns=("J", "grad_x")),
    symbolic_sizes=[{"n": 2}, {"n": 3}])
