"""Matrix Cookbook identities computed with np.linalg (LAPACK): exact to working precision as a
whole matrix (normwise), not entry by entry. A small entry of det(X)·X⁻ᵀ is computed to
~1e-16 of the matrix's norm, not of itself: its rounding must be measured or bounded normwise.

* ∂ det X / ∂X = det(X) X⁻ᵀ                 (Cookbook (49)), through np.linalg.det and inv
* ∂ ln det(XᵀX) / ∂X = 2 (X⁺)ᵀ               (Cookbook (55)), X tall, through np.linalg.pinv
* ∂ det(X³) / ∂X = 3 det(X)³ X⁻ᵀ              (Cookbook (50)), at any scale (X = [[2.7e-66]])

Planted: ∂det X/∂X claimed as det(X) X⁻¹ (transposed).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


def det(s):
    return s.X.det()


def det_grad(s, transposed=True):
    inv = s.X.inv()
    return s.X.det() * (inv.T if transposed else inv)


def det_code(transposed):
    def f(X):
        inv = np.linalg.inv(X)
        d = np.linalg.det(X)
        return d, d * (inv.T if transposed else inv)
    return f


def logdet_gram(s):
    return sp.log((s.X.T * s.X).det())


def logdet_gram_grad(s):
    X = s.X
    pinv = (X.T * X).inv() * X.T
    return 2 * pinv.T


def logdet_gram_code(X):
    sign, value = np.linalg.slogdet(X.T @ X)
    return value, 2 * np.linalg.pinv(X).T


def det_cubed(s):
    return (s.X ** 3).det()


def det_cubed_grad(s):
    return 3 * s.X.det() ** 3 * s.X.inv().T


def det_cubed_code(X):
    d = np.linalg.det(np.linalg.matrix_power(X, 3))
    return d, 3 * np.linalg.det(X) ** 3 * np.linalg.inv(X).T


EXPECTED = {"cookbook-det": ("holds", "none"), "cookbook-det-transposed": ("refuted", "X⁻¹ for X⁻ᵀ"),
            "cookbook-logdet-gram": ("holds", "none"), "cookbook-det-cubed": ("holds", "none")}

cookbook_det = Derivation(
    id="cookbook-det", title="∂ det X/∂X", citation="Matrix Cookbook (49)",
    dims={"n": (2, 4)}, variables={"X": Real("n", "n")}, function=det,
    claims=[Claim("∂det/∂X", det_grad, output="grad", wrt="X", as_written="det(X) X⁻ᵀ")],
    implementation=Implementation(det_code(True), args=("X",), returns=("det", "grad")),
    symbolic_sizes=[{"n": 2}, {"n": 3}])

cookbook_det_transposed = Derivation(
    id="cookbook-det-transposed", title="∂ det X/∂X", citation="Matrix Cookbook (49), planted",
    dims={"n": (2, 4)}, variables={"X": Real("n", "n")}, function=det,
    claims=[Claim("∂det/∂X", lambda s: det_grad(s, False), output="grad", wrt="X", as_written="det(X) X⁻¹")],
    implementation=Implementation(det_code(False), args=("X",), returns=("det", "grad")),
    symbolic_sizes=[{"n": 2}, {"n": 3}])

cookbook_logdet_gram = Derivation(
    id="cookbook-logdet-gram", title="∂ ln det(XᵀX)/∂X", citation="Matrix Cookbook (55)",
    dims={"m": (3, 4), "n": (1, 2)}, variables={"X": Real("m", "n")}, function=logdet_gram,
    claims=[Claim("∂/∂X", logdet_gram_grad, output="grad", wrt="X", as_written="2 (X⁺)ᵀ")],
    implementation=Implementation(logdet_gram_code, args=("X",), returns=("value", "grad")),
    symbolic_sizes=[{"m": 3, "n": 2}, {"m": 4, "n": 1}])

cookbook_det_cubed = Derivation(
    id="cookbook-det-cubed", title="∂ det(X³)/∂X", citation="Matrix Cookbook (50)",
    dims={"n": (1, 3)}, variables={"X": Real("n", "n")}, function=det_cubed,
    claims=[Claim("∂/∂X", det_cubed_grad, output="grad", wrt="X", as_written="3 det(X)³ X⁻ᵀ")],
    implementation=Implementation(det_cubed_code, args=("X",), returns=("value", "grad")),
    symbolic_sizes=[{"n": 2}, {"n": 1}])
