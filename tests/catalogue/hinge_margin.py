"""Binary hinge loss with margin 1: J = Σ max(0, 1 − y_i w_i), y_i = ±1 fixed labels (here a
real weight y in (0.5, 2)). ∂J/∂w = −y · 1[y w < 1].

Planted: the margin off by 0.1 in the claim (−y · 1[y w < 1.1]): wrong only in the band
1 ≤ y w < 1.1, which random points rarely reach.
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


def J(s):
    return sum(sp.Max(0, 1 - s.y[i] * s.w[i]) for i in range(s.n))


def _claim(margin):
    def grad(s):
        return sp.Matrix(s.n, 1, [-s.y[i] * sp.Piecewise((1, s.y[i] * s.w[i] < margin), (0, True))
                                  for i in range(s.n)])
    return grad


def code(margin):
    def hinge(w, y):
        m = y * w
        return np.maximum(0.0, 1.0 - m).sum(), np.where(m < margin, -y, 0.0)
    return hinge


EXPECTED = {"hinge-margin": ("holds", "none"),
            "hinge-margin-off": ("refuted", "margin 1.1 instead of 1 in the claim's mask")}

for _id, _margin in (("hinge-margin", 1), ("hinge-margin-off", sp.Rational(11, 10))):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="binary hinge loss", citation="catalogue: hinge (margin)",
        dims={"n": (1, 4)}, variables={"w": Real("n"), "y": Real("n", domain=(0.5, 2))}, function=J,
        claims=[Claim("∂J/∂w", _claim(_margin), output="grad_w", wrt="w",
                      as_written=f"−y · 1[y w < {_margin}]")],
        implementation=Implementation(code(float(_margin)), args=("w", "y"), returns=("J", "grad_w")),
        symbolic_sizes=[{"n": 2}, {"n": 3}])
