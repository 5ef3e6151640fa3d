"""The Matrix Cookbook's symmetric-case formula (eq. 141 with (57)): for a symmetric X,
∂ ln det X / ∂X = 2X⁻¹ − X⁻¹∘I. It is the derivative with respect to the free entries (X_ij and X_ji
one entry θ_ij); along symmetric perturbations X + εE (E = Eᵀ) the gradient is X⁻¹. X is drawn
positive-definite (so ln det X is defined), and each claim says which reading it means:

* 2X⁻¹ − X⁻¹∘I read as free entries: holds;
* 2X⁻¹ − X⁻¹∘I read along symmetric perturbations: refuted (its off-diagonal entries are twice G's);
* X⁻¹ read along symmetric perturbations: holds.
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


def logdet(s):
    return sp.log(s.X.det())


def cookbook(s):
    inv = s.X.inv()
    return 2 * inv - sp.diag(*[inv[i, i] for i in range(s.n)])


def inverse(s):
    return s.X.inv()


def code(which):
    def f(X):
        sign, value = np.linalg.slogdet(X)
        inv = np.linalg.inv(X)
        return value, (2 * inv - np.diag(np.diag(inv)) if which == "cookbook" else inv)
    return f


EXPECTED = {"cookbook-logdet-symmetric-free-entries": ("holds", "none"),
            "cookbook-logdet-symmetric-perturbation": ("refuted", "the free-entries formula read along X + εE"),
            "cookbook-logdet-symmetric-inverse": ("holds", "none")}

for _id, _claim, _which, _reading in (
        ("cookbook-logdet-symmetric-free-entries", cookbook, "cookbook", "free-entries"),
        ("cookbook-logdet-symmetric-perturbation", cookbook, "cookbook", "symmetric-perturbation"),
        ("cookbook-logdet-symmetric-inverse", inverse, "inverse", "symmetric-perturbation")):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="∂ ln det X/∂X, X symmetric", citation="Matrix Cookbook (141), (57)",
        dims={"n": (2, 3)}, variables={"X": Real("n", "n", structure="positive-definite")}, function=logdet,
        claims=[Claim("∂ ln det X/∂X", _claim, output="grad", wrt="X", reading=_reading,
                      as_written="2X⁻¹ − X⁻¹∘I" if _which == "cookbook" else "X⁻¹")],
        implementation=Implementation(code(_which), args=("X",), returns=("value", "grad")),
        symbolic_sizes=[{"n": 2}, {"n": 3}])
