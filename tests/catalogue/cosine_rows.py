"""Cosine similarity of a batch of row pairs, with no assumption beyond the function's own domain:
L = Σ_n (1 − a_nᵀb_n / (‖a_n‖ ‖b_n‖)),  ∂L/∂a_n = −(b_n / (‖a_n‖‖b_n‖) − cos(a_n, b_n) a_n / ‖a_n‖²).

The function is scale-free in each row: a right claim must hold at rows of any norm the inputs
can have (1e-20 as well as 6), and a row of zeros is outside the function's domain (0/0 in the
spec as in the code): such a point is drawn again, not an error.

Planted: the term cos(a, b)·a/‖a‖² missing (the gradient of aᵀb/‖a‖‖b‖ as if ‖a‖ were constant).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


def _rows(m, n, d):
    return [[m[i, k] for k in range(d)] for i in range(n)]


def L(s):
    total = 0
    for a, b in zip(_rows(s.A, s.N, s.d), _rows(s.B, s.N, s.d)):
        ab = sum(x * y for x, y in zip(a, b))
        total += 1 - ab / (sp.sqrt(sum(x ** 2 for x in a)) * sp.sqrt(sum(y ** 2 for y in b)))
    return total


def dL_dA(s, with_term=True):
    out = []
    for a, b in zip(_rows(s.A, s.N, s.d), _rows(s.B, s.N, s.d)):
        ab = sum(x * y for x, y in zip(a, b))
        na, nb = sp.sqrt(sum(x ** 2 for x in a)), sp.sqrt(sum(y ** 2 for y in b))
        out.append([-(y / (na * nb) - (ab / (na ** 3 * nb) * x if with_term else 0)) for x, y in zip(a, b)])
    return sp.Matrix(out)


def code(with_term):
    def cosine(A, B):
        na = np.linalg.norm(A, axis=1, keepdims=True)
        nb = np.linalg.norm(B, axis=1, keepdims=True)
        c = np.sum(A * B, axis=1, keepdims=True) / (na * nb)
        grad = -(B / (na * nb) - (c * A / na ** 2 if with_term else 0.0))
        return float(np.sum(1 - c)), grad
    return cosine


EXPECTED = {"cosine-rows": ("holds", "none"), "cosine-rows-missing-term": ("refuted", "term cos·a/‖a‖² missing")}
DIAGNOSIS = {"cosine-rows": "", "cosine-rows-missing-term": "missing term: cos(a,b)·a/‖a‖² (a, b: rows of A, B)"}

for _id, _term in (("cosine-rows", True), ("cosine-rows-missing-term", False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="cosine similarity of row pairs", citation="catalogue: cosine similarity (rows)",
        dims={"N": (1, 3), "d": (2, 3)}, variables={"A": Real("N", "d"), "B": Real("N", "d")}, function=L,
        claims=[Claim("∂L/∂A", lambda s, t=_term: dL_dA(s, t), output="grad_A", wrt="A")],
        implementation=Implementation(code(_term), args=("A", "B"), returns=("L", "grad_A")),
        symbolic_sizes=[{"N": 2, "d": 3}, {"N": 1, "d": 2}])
