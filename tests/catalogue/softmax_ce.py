"""Softmax classifier with cross-entropy, s = W x, p = softmax(s):
L = −log p_y;  ∂L/∂W = (p − e_y) xᵀ.

Planted: the sign flipped ((e_y − p) xᵀ).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Index, Real


def _p(s):
    scores = s.W * s.x
    total = sum(sp.exp(v) for v in scores)
    return sp.Matrix(s.C, 1, [sp.exp(v) / total for v in scores])


def L(s):
    return -sp.log(_p(s)[s.y])


def grad(s, sign=1):
    e = sp.Matrix(s.C, 1, [1 if j == s.y else 0 for j in range(s.C)])
    return sign * (_p(s) - e) * s.x.T


def code(sign):
    def softmax_ce(W, x, y):
        scores = W @ x
        scores = scores - scores.max()
        p = np.exp(scores) / np.exp(scores).sum()
        loss = -np.log(p[y])
        p[y] -= 1.0
        return loss, sign * np.outer(p, x)
    return softmax_ce


EXPECTED = {"softmax-ce": ("holds", "none"), "softmax-ce-sign-flipped": ("refuted", "sign flipped")}

for _id, _sign in (("softmax-ce", 1), ("softmax-ce-sign-flipped", -1)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="softmax classifier, cross-entropy", citation="catalogue: softmax classifier",
        dims={"C": (2, 4), "D": (1, 3)},
        variables={"W": Real("C", "D"), "x": Real("D"), "y": Index("C")}, function=L,
        claims=[Claim("∂L/∂W", lambda s, k=_sign: grad(s, k), output="grad_W", wrt="W",
                      as_written="(p − e_y) xᵀ" if _sign == 1 else "(e_y − p) xᵀ")],
        implementation=Implementation(code(_sign), args=("W", "x", "y"), returns=("L", "grad_W")),
        symbolic_sizes=[{"C": 3, "D": 2}, {"C": 2, "D": 4}])
