"""J(x) = Σ relu(x_i);  ∂J/∂x = 1[x > 0].

The smallest ReLU: the claim is right everywhere but at x_i = 0, where relu has a kink and
any value in [0, 1] is a subgradient. Planted: the mask 1[x ≥ 0] scaled by 2, the mask
missing (ones), the mask on the wrong side (1[x < 0]).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real
from _helpers import relu, step, step_ge


def J(s):
    return sum(relu(xi) for xi in s.x)


def right(s):
    return s.x.applyfunc(step)


def ge_scaled(s):
    return s.x.applyfunc(lambda a: 2 * step_ge(a))


def missing(s):
    return sp.ones(s.n, 1)


def wrong_side(s):
    return s.x.applyfunc(lambda a: step(-a))


def code(mask):
    def relu_sum(x):
        return np.maximum(x, 0.0).sum(), mask(x)
    return relu_sum


VARIANTS = {
    "relu-sum": (right, lambda x: (x > 0).astype(float), "1[x > 0]"),
    "relu-sum-mask-ge-scaled": (ge_scaled, lambda x: 2.0 * (x >= 0), "2·1[x ≥ 0]"),
    "relu-sum-mask-missing": (missing, lambda x: np.ones_like(x), "1 (mask missing)"),
    "relu-sum-mask-wrong-side": (wrong_side, lambda x: (x < 0).astype(float), "1[x < 0]"),
}
EXPECTED = {"relu-sum": ("holds", "none"), "relu-sum-mask-ge-scaled": ("refuted", "mask 1[x ≥ 0] scaled by 2"),
            "relu-sum-mask-missing": ("refuted", "mask missing"),
            "relu-sum-mask-wrong-side": ("refuted", "mask on the wrong side")}

for _id, (_claim, _mask, _text) in VARIANTS.items():
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="Σ relu(x)", citation="catalogue: ReLU",
        dims={"n": (1, 4)}, variables={"x": Real("n")}, function=J,
        claims=[Claim("∂J/∂x", _claim, output="grad_x", wrt="x", as_written=_text)],
        implementation=Implementation(code(_mask), args=("x",), returns=("J", "grad_x")),
        symbolic_sizes=[{"n": 2}, {"n": 3}])
