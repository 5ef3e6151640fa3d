"""Huber loss of residuals, δ = 1: J = Σ h(x_i − t_i), h(r) = r²/2 for |r| ≤ 1, |r| − ½ beyond.
∂J/∂x = clip(r, −1, 1).

Planted: the claim r everywhere (wrong only where |r| > 1).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


def _h(r):
    return sp.Piecewise((r ** 2 / 2, sp.Abs(r) <= 1), (sp.Abs(r) - sp.Rational(1, 2), True))


def J(s):
    return sum(_h(s.x[i] - s.t[i]) for i in range(s.n))


def right(s):
    return (s.x - s.t).applyfunc(lambda r: sp.Max(-1, sp.Min(1, r)))


def outside_wrong(s):
    return s.x - s.t


def code(clipped):
    def huber(x, t):
        r = x - t
        a = np.abs(r)
        value = np.where(a <= 1.0, 0.5 * r * r, a - 0.5).sum()
        return value, (np.clip(r, -1.0, 1.0) if clipped else r)
    return huber


EXPECTED = {"huber": ("holds", "none"), "huber-wrong-outside": ("refuted", "wrong only for |r| > 1")}

for _id, _claim, _clip in (("huber", right, True), ("huber-wrong-outside", outside_wrong, False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="Huber loss (δ = 1)", citation="catalogue: Huber",
        dims={"n": (1, 4)}, variables={"x": Real("n"), "t": Real("n")}, function=J,
        claims=[Claim("∂J/∂x", _claim, output="grad_x", wrt="x", as_written="clip(x − t, −1, 1)")],
        implementation=Implementation(code(_clip), args=("x", "t"), returns=("J", "grad_x")),
        symbolic_sizes=[{"n": 2}, {"n": 3}])
