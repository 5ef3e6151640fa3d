"""Smooth L1 (torch's SmoothL1Loss) with β = 0.9: J = Σ s(x_i − t_i),
s(r) = r²/(2β) for |r| < β, |r| − β/2 beyond.  ∂J/∂x = clip(r/β, −1, 1).

Planted: the claim switches branch at |r| = 1 instead of β = 0.9 (r/β for |r| < 1): wrong only
in the band 0.9 ≤ |r| < 1, which random points rarely reach. The function's breakpoints
(|r| = 0.9) and the claim's (|r| = 1) differ, which alone says where to look.
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real

BETA = sp.Rational(9, 10)


def _s(r):
    return sp.Piecewise((r ** 2 / (2 * BETA), sp.Abs(r) < BETA), (sp.Abs(r) - BETA / 2, True))


def J(s):
    return sum(_s(s.x[i] - s.t[i]) for i in range(s.n))


def _claim(switch):
    def grad(s):
        return (s.x - s.t).applyfunc(lambda r: sp.Piecewise((r / BETA, sp.Abs(r) < switch), (sp.sign(r), True)))
    return grad


def code(switch):
    def smooth_l1(x, t):
        r = x - t
        a = np.abs(r)
        value = np.where(a < 0.9, 0.5 * r * r / 0.9, a - 0.45).sum()
        return value, np.where(a < switch, r / 0.9, np.sign(r))
    return smooth_l1


EXPECTED = {"smooth-l1": ("holds", "none"),
            "smooth-l1-switch-at-1": ("refuted", "branch switches at |r| = 1 instead of β = 0.9")}

for _id, _switch in (("smooth-l1", 0.9), ("smooth-l1-switch-at-1", 1.0)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="smooth L1 (β = 0.9)", citation="catalogue: smooth L1 (torch SmoothL1Loss)",
        dims={"n": (1, 4)}, variables={"x": Real("n"), "t": Real("n")}, function=J,
        claims=[Claim("∂J/∂x", _claim(sp.Rational(_switch).limit_denominator(10)), output="grad_x", wrt="x",
                      as_written=f"r/β for |r| < {_switch}, sign(r) beyond")],
        implementation=Implementation(code(_switch), args=("x", "t"), returns=("J", "grad_x")),
        symbolic_sizes=[{"n": 2}, {"n": 3}])
