"""Logistic regression over N examples (rows of X), z = X w, targets t:
L = Σ softplus(z_i) − t_i z_i  (= −Σ t log σ(z) + (1 − t) log(1 − σ(z)));  ∂L/∂w = Xᵀ (σ(z) − t).

Planted: σ dropped from the claim (Xᵀ (z − t), the least-squares gradient).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


def _sigma(v):
    return 1 / (1 + sp.exp(-v))


def L(s):
    z = s.X * s.w
    return sum(sp.log(1 + sp.exp(z[i])) - s.t[i] * z[i] for i in range(s.N))


def right(s):
    return s.X.T * ((s.X * s.w).applyfunc(_sigma) - s.t)


def no_sigma(s):
    return s.X.T * (s.X * s.w - s.t)


def code(with_sigma):
    def logistic(X, w, t):
        z = X @ w
        loss = np.sum(np.logaddexp(0.0, z) - t * z)
        p = 1.0 / (1.0 + np.exp(-z)) if with_sigma else z
        return loss, X.T @ (p - t)
    return logistic


EXPECTED = {"logistic": ("holds", "none"), "logistic-no-sigma": ("refuted", "σ dropped")}

for _id, _claim, _sig in (("logistic", right, True), ("logistic-no-sigma", no_sigma, False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="logistic regression", citation="catalogue: logistic regression",
        dims={"N": (1, 3), "D": (1, 3)},
        variables={"X": Real("N", "D"), "w": Real("D"), "t": Real("N")}, function=L,
        claims=[Claim("∂L/∂w", _claim, output="grad_w", wrt="w", as_written="Xᵀ (σ(X w) − t)")],
        implementation=Implementation(code(_sig), args=("X", "w", "t"), returns=("L", "grad_w")),
        symbolic_sizes=[{"N": 2, "D": 3}, {"N": 3, "D": 1}])
