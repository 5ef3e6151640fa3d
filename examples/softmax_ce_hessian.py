"""Second-order claims: the softmax cross-entropy's Hessian, right and wrong, and a Gauss–Newton
matrix that is not the Hessian.

    ŷ = softmax(Uᵀ v)        J(v) = −log ŷ_o
    ∂J/∂v   = U (ŷ − y)
    ∂²J/∂v² = U (diag(ŷ) − ŷŷᵀ) Uᵀ            (the softmax's Jacobian, between U and Uᵀ)

A claim of order 2 (``Claim(..., order=2)``, or ``wrt=("v", "v")``) is checked three ways, as a
first-order claim is: against sympy's second derivative, against central differences of the
implementation's gradient (the output of the ∂J/∂v claim), and against the spec at 50 digits.

* ``softmax-ce-hessian``: the Hessian holds; the same Hessian with ŷŷᵀ dropped (U diag(ŷ) Uᵀ,
  the diagonal of the softmax's Jacobian only) is refuted, and says so (``expect="refuted"``).
* ``tanh-softmax-gauss-newton``: through a tanh layer, h = tanh(v), ŷ = softmax(Uᵀh), the
  Hessian is D U (diag(ŷ) − ŷŷᵀ) Uᵀ D + diag(U(ŷ − y) ⊙ tanh''(v)), D = diag(1 − h²). The
  Gauss–Newton matrix keeps the first term only (the loss's curvature through the layer's
  Jacobian) and drops the layer's own curvature: positive semi-definite, a good Newton step's
  matrix, but not the Hessian, which the check says (``expect="refuted"``).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Index, Real


# ---- the math (sympy): v is a column d×1, U a d×V Matrix ---------------------------------
def _softmax(z):
    e = z.applyfunc(sp.exp)
    total = sum(e)
    return e / total


def _one_hot(o, V):
    y = sp.zeros(V, 1)
    y[o] = 1
    return y


def J(s):
    return -sp.log(_softmax(s.U.T * s.v)[s.o])


def dJ_dv(s):
    yhat = _softmax(s.U.T * s.v)
    return s.U * (yhat - _one_hot(s.o, s.U.cols))


def d2J_dv2(s, outer=True):
    yhat = _softmax(s.U.T * s.v)
    middle = sp.diag(*yhat) - (yhat * yhat.T if outer else sp.zeros(yhat.rows, yhat.rows))
    return s.U * middle * s.U.T


# ---- the code (numpy) ------------------------------------------------------------------------
def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def softmax_ce_with_hessian(v, o, U):
    """Loss, gradient, Hessian, and the Hessian with ŷŷᵀ dropped (the planted mistake)."""
    y_hat = softmax(U.T @ v)
    delta = y_hat.copy()
    delta[o] -= 1.0
    H = U @ (np.diag(y_hat) - np.outer(y_hat, y_hat)) @ U.T
    H_diagonal_only = U @ np.diag(y_hat) @ U.T
    return -np.log(y_hat[o]), U @ delta, H, H_diagonal_only


derivation = Derivation(
    id="softmax-ce-hessian",
    title="softmax cross-entropy: the Hessian U(diag(ŷ) − ŷŷᵀ)Uᵀ",
    citation="examples/softmax_ce_hessian.py",
    dims={"d": (2, 3), "V": (2, 4)},
    variables={"v": Real("d"), "o": Index("V"), "U": Real("d", "V")},
    function=J,
    claims=[Claim("∂J/∂v", dJ_dv, output="g", wrt="v", as_written="U (ŷ − y)"),
            Claim("∂²J/∂v²", d2J_dv2, output="H", wrt="v", order=2, as_written="U (diag(ŷ) − ŷŷᵀ) Uᵀ"),
            Claim("∂²J/∂v² without ŷŷᵀ", lambda s: d2J_dv2(s, outer=False), output="H_diagonal_only",
                  wrt=("v", "v"), as_written="U diag(ŷ) Uᵀ", expect="refuted",
                  reason="planted: the softmax's Jacobian is diag(ŷ) − ŷŷᵀ; dropping ŷŷᵀ keeps its diagonal only")],
    implementation=Implementation(softmax_ce_with_hessian, args=("v", "o", "U"),
                                  returns=("J", "g", "H", "H_diagonal_only")),
    symbolic_sizes=[{"d": 2, "V": 3}, {"d": 3, "V": 2}],
)


# ---- through a tanh layer: the Hessian and the Gauss–Newton matrix --------------------------
def _hidden(s):
    return s.v.applyfunc(sp.tanh)


def J_tanh(s):
    return -sp.log(_softmax(s.U.T * _hidden(s))[s.o])


def dJ_dv_tanh(s):
    h = _hidden(s)
    back = s.U * (_softmax(s.U.T * h) - _one_hot(s.o, s.U.cols))
    return back.multiply_elementwise(h.applyfunc(lambda t: 1 - t ** 2))


def gauss_newton(s):
    h = _hidden(s)
    yhat = _softmax(s.U.T * h)
    D = sp.diag(*h.applyfunc(lambda t: 1 - t ** 2))
    return D * s.U * (sp.diag(*yhat) - yhat * yhat.T) * s.U.T * D


def hessian_tanh(s):
    h = _hidden(s)
    back = s.U * (_softmax(s.U.T * h) - _one_hot(s.o, s.U.cols))
    curvature = [back[i] * (-2 * h[i] * (1 - h[i] ** 2)) for i in range(h.rows)]  # tanh'' = −2 tanh (1 − tanh²)
    return gauss_newton(s) + sp.diag(*curvature)


def tanh_softmax_ce(v, o, U):
    """Loss, gradient, Hessian and Gauss–Newton matrix through h = tanh(v)."""
    h = np.tanh(v)
    y_hat = softmax(U.T @ h)
    delta = y_hat.copy()
    delta[o] -= 1.0
    back = U @ delta
    slope = 1 - h ** 2
    GN = slope[:, None] * (U @ (np.diag(y_hat) - np.outer(y_hat, y_hat)) @ U.T) * slope[None, :]
    H = GN + np.diag(back * (-2 * h * slope))
    return -np.log(y_hat[o]), back * slope, H, GN


gauss_newton_derivation = Derivation(
    id="tanh-softmax-gauss-newton",
    title="softmax cross-entropy through tanh: the Hessian, and Gauss–Newton (not the Hessian)",
    citation="examples/softmax_ce_hessian.py",
    dims={"d": (2, 3), "V": (2, 4)},
    variables={"v": Real("d"), "o": Index("V"), "U": Real("d", "V")},
    function=J_tanh,
    claims=[Claim("∂J/∂v", dJ_dv_tanh, output="g", wrt="v", as_written="(1 − h²) ⊙ U (ŷ − y)"),
            Claim("∂²J/∂v²", hessian_tanh, output="H", wrt="v", order=2,
                  as_written="D U (diag(ŷ) − ŷŷᵀ) Uᵀ D + diag(U(ŷ − y) ⊙ tanh''(v))"),
            Claim("Gauss–Newton as ∂²J/∂v²", gauss_newton, output="GN", wrt="v", order=2,
                  as_written="D U (diag(ŷ) − ŷŷᵀ) Uᵀ D", expect="refuted",
                  reason="Gauss–Newton drops the tanh layer's own curvature diag(U(ŷ − y) ⊙ tanh''(v)): an "
                         "approximation of the Hessian (positive semi-definite), not the Hessian")],
    implementation=Implementation(tanh_softmax_ce, args=("v", "o", "U"), returns=("J", "g", "H", "GN")),
    symbolic_sizes=[{"d": 2, "V": 3}, {"d": 3, "V": 2}],
)
