"""J(x) = Σ leaky(x_i), leaky(a) = max(a, 0.01 a);  ∂J/∂x = 1 where x > 0, 0.01 elsewhere.

Planted: the slopes on the wrong sides (0.01 where x > 0, 1 elsewhere).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real

SLOPE = sp.Rational(1, 100)


def J(s):
    return sum(sp.Max(xi, SLOPE * xi) for xi in s.x)


def right(s):
    return s.x.applyfunc(lambda a: sp.Piecewise((1, a > 0), (SLOPE, True)))


def wrong_side(s):
    return s.x.applyfunc(lambda a: sp.Piecewise((SLOPE, a > 0), (1, True)))


def code(pos, neg):
    def leaky(x):
        return np.maximum(x, 0.01 * x).sum(), np.where(x > 0, pos, neg)
    return leaky


EXPECTED = {"leaky-relu": ("holds", "none"), "leaky-relu-wrong-side": ("refuted", "mask on the wrong side")}

for _id, _claim, _code in (("leaky-relu", right, code(1.0, 0.01)), ("leaky-relu-wrong-side", wrong_side, code(0.01, 1.0))):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="Σ leaky relu(x)", citation="catalogue: leaky ReLU",
        dims={"n": (1, 4)}, variables={"x": Real("n")}, function=J,
        claims=[Claim("∂J/∂x", _claim, output="grad_x", wrt="x", as_written="where(x > 0, 1, 0.01)")],
        implementation=Implementation(_code, args=("x",), returns=("J", "grad_x")),
        symbolic_sizes=[{"n": 2}, {"n": 3}])
