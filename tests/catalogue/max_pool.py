"""1-D max pooling over pairs, weighted: J = Σ_i g_i max(x_{2i}, x_{2i+1}).
∂J/∂x routes g_i to the larger of each pair (the first on a tie, as argmax does).

Planted: the mask missing (g_i routed to both entries of the pair).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


def J(s):
    return sum(s.g[i] * sp.Max(s.x[2 * i], s.x[2 * i + 1]) for i in range(s.P))


def right(s):
    out = []
    for i in range(s.P):
        first = sp.Piecewise((1, s.x[2 * i] >= s.x[2 * i + 1]), (0, True))
        out += [s.g[i] * first, s.g[i] * (1 - first)]
    return sp.Matrix(2 * s.P, 1, out)


def both(s):
    return sp.Matrix(2 * s.P, 1, [s.g[i // 2] for i in range(2 * s.P)])


def code(masked):
    def max_pool(x, g):
        pairs = x.reshape(-1, 2)
        pooled = pairs.max(axis=1)
        if masked:
            mask = np.zeros_like(pairs)
            mask[np.arange(len(pairs)), pairs.argmax(axis=1)] = 1.0
        else:
            mask = np.ones_like(pairs)
        return g @ pooled, (mask * g[:, None]).ravel()
    return max_pool


EXPECTED = {"max-pool": ("holds", "none"), "max-pool-mask-missing": ("refuted", "mask missing")}

for _id, _claim, _masked in (("max-pool", right, True), ("max-pool-mask-missing", both, False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="max pooling over pairs", citation="catalogue: max pooling",
        dims={"P": (1, 3), "N": lambda n: 2 * n["P"]},
        variables={"x": Real("N"), "g": Real("P")}, function=J,
        claims=[Claim("∂J/∂x", _claim, output="grad_x", wrt="x", as_written="g routed to the argmax of each pair")],
        implementation=Implementation(code(_masked), args=("x", "g"), returns=("J", "grad_x")),
        symbolic_sizes=[{"P": 2}, {"P": 3}])
