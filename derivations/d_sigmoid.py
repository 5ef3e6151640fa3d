"""(d) The derivative of the sigmoid, for a scalar and elementwise for a vector.

Seed, question (d):
    σ(x) = 1 / (1 + e^{−x}) = e^x / (1 + e^x)
    scalar:  dσ/dx = σ(x)(1 − σ(x))
    vector:  ∂σ(x)/∂x = diag(σ'(x_1), …, σ'(x_n))   (n×n)
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real
from _word2vec import sigma

# inputs up to ±50: σ saturates to 0 or 1 in float64 there
SCALES = (1e-3, 1.0, 50.0)


# ---- the math (sympy), as the seed writes it ----------------------------------
def dsigma(x):
    return sigma(x) * (1 - sigma(x))                               # σ(x)(1 − σ(x))


def jacobian(x):
    return sp.diag(*[dsigma(xi) for xi in x])                      # diag(σ'(x_1), …, σ'(x_n))


# ---- the code (numpy) ------------------------------------------------------------
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_and_derivative(x):
    s = sigmoid(x)
    return s, s * (1.0 - s)


def sigmoid_and_jacobian(x):
    s = sigmoid(x)
    return s, np.diag(s * (1.0 - s))


scalar = Derivation(
    id="d-scalar",
    title="sigmoid: dσ/dx, scalar x",
    citation="seed 000_a6544ced7a39c042, question (d)",
    dims={},
    variables={"x": Real()},
    function=lambda s: sigma(s.x),
    claims=[Claim("dσ/dx", lambda s: dsigma(s.x), output="dsigma", wrt="x", as_written="σ(x)(1 − σ(x))")],
    implementation=Implementation(sigmoid_and_derivative, args=("x",), returns=("sigma", "dsigma")),
    symbolic_sizes=[{}],
    scales=SCALES,
)

vector = Derivation(
    id="d-vector",
    title="sigmoid: Jacobian of σ(x), x ∈ Rⁿ",
    citation="seed 000_a6544ced7a39c042, question (d)",
    dims={"n": (1, 5)},
    variables={"x": Real("n")},
    function=lambda s: s.x.applyfunc(sigma),
    claims=[Claim("∂σ(x)/∂x", lambda s: jacobian(s.x), output="jacobian", wrt="x",
                  as_written="diag(σ'(x_1), …, σ'(x_n))")],
    implementation=Implementation(sigmoid_and_jacobian, args=("x",), returns=("sigma", "jacobian")),
    symbolic_sizes=[{"n": 2}, {"n": 3}],
    scales=SCALES,
)
