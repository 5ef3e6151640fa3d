"""A tanh layer read out by v: J = vᵀ tanh(W x), W n×n (square, so a transposed claim fits).
∂J/∂W = (v ⊙ (1 − tanh²(W x))) xᵀ.

Planted: tanh' claimed 1 − tanh; the gradient transposed (x (v ⊙ (1 − tanh²))ᵀ).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


def J(s):
    a = s.W * s.x
    return sum(s.v[i] * sp.tanh(a[i]) for i in range(s.n))


def _delta(s, prime):
    a = s.W * s.x
    return sp.Matrix(s.n, 1, [s.v[i] * prime(sp.tanh(a[i])) for i in range(s.n)])


def right(s):
    return _delta(s, lambda th: 1 - th ** 2) * s.x.T


def one_minus_tanh(s):
    return _delta(s, lambda th: 1 - th) * s.x.T


def transposed(s):
    return s.x * _delta(s, lambda th: 1 - th ** 2).T


def code(prime, flip=False):
    def tanh_layer(W, x, v):
        th = np.tanh(W @ x)
        g = np.outer(v * prime(th), x)
        return v @ th, (g.T if flip else g)
    return tanh_layer


EXPECTED = {"tanh": ("holds", "none"), "tanh-prime-1-minus-tanh": ("refuted", "tanh' claimed 1 − tanh"),
            "tanh-transposed": ("refuted", "transposed")}

for _id, _claim, _code in (("tanh", right, code(lambda th: 1 - th ** 2)),
                           ("tanh-prime-1-minus-tanh", one_minus_tanh, code(lambda th: 1 - th)),
                           ("tanh-transposed", transposed, code(lambda th: 1 - th ** 2, flip=True))):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="tanh layer", citation="catalogue: tanh layer",
        dims={"n": (2, 3)}, variables={"W": Real("n", "n"), "x": Real("n"), "v": Real("n")}, function=J,
        claims=[Claim("∂J/∂W", _claim, output="grad_W", wrt="W", as_written="(v ⊙ (1 − tanh²(W x))) xᵀ")],
        implementation=Implementation(_code, args=("W", "x", "v"), returns=("J", "grad_W")),
        symbolic_sizes=[{"n": 2}, {"n": 3}])
