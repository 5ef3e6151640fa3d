"""Multiclass SVM (hinge) loss, s = W x:  L = Σ_{j ≠ y} max(0, s_j − s_y + 1).
∂L/∂W: row j gets 1[m_j > 0] xᵀ, row y gets −(Σ_{j≠y} 1[m_j > 0]) xᵀ.

Planted: the correct class's row dropped (the −count·xᵀ term missing).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Index, Real
from _helpers import relu, step


def _margins(s):
    scores = s.W * s.x
    return [scores[j] - scores[s.y] + 1 for j in range(s.C)]


def L(s):
    return sum(relu(m) for j, m in enumerate(_margins(s)) if j != s.y)


def grad(s, with_y_row=True):
    m = _margins(s)
    coeff = [step(m[j]) if j != s.y else 0 for j in range(s.C)]
    if with_y_row:
        coeff[s.y] = -sum(coeff)
    return sp.Matrix(s.C, 1, coeff) * s.x.T


def code(with_y_row):
    def svm(W, x, y):
        scores = W @ x
        margins = np.maximum(0.0, scores - scores[y] + 1.0)
        margins[y] = 0.0
        active = (margins > 0).astype(float)
        if with_y_row:
            active[y] = -active.sum()
        return margins.sum(), np.outer(active, x)
    return svm


EXPECTED = {"hinge": ("holds", "none"), "hinge-dropped-term": ("refuted", "dropped term (row y)")}

for _id, _full in (("hinge", True), ("hinge-dropped-term", False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="multiclass SVM hinge loss", citation="catalogue: hinge",
        dims={"C": (2, 4), "D": (1, 3)},
        variables={"W": Real("C", "D"), "x": Real("D"), "y": Index("C")}, function=L,
        claims=[Claim("∂L/∂W", lambda s, f=_full: grad(s, f), output="grad_W", wrt="W",
                      as_written="1[m_j > 0] xᵀ; row y: −Σ_j 1[m_j > 0] xᵀ")],
        implementation=Implementation(code(_full), args=("W", "x", "y"), returns=("L", "grad_W")),
        symbolic_sizes=[{"C": 3, "D": 2}, {"C": 2, "D": 4}])
