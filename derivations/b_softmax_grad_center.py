"""(b) Naive-softmax loss: the gradient with respect to the center vector v_c.

Seed, question (b):
    J(v_c, o, U) = −log P(O = o | C = c) = −log ŷ_o
    ∂J/∂v_c = −u_o + Σ_w ŷ_w u_w = U (ŷ − y)ᵀ
    "y, ŷ are vectors (in) containing ŷ_w in row; u, v in column"
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Index, Real
from _word2vec import one_hot_row, softmax_row


# ---- the math (sympy), as the seed writes it ----------------------------------
def J(v_c, o, U):
    yhat = softmax_row(U.T * v_c)
    return -sp.log(yhat[o])                      # −log ŷ_o


def dJ_dv_c(v_c, o, U):
    yhat, y = softmax_row(U.T * v_c), one_hot_row(o, U.cols)
    return U * (yhat - y).T                      # U (ŷ − y)ᵀ


# ---- the code (numpy), as a user's word2vec would write it --------------------
def softmax(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


def naive_softmax_loss_and_gradient(v_c, o, U):
    """Loss, gradient for the center vector, gradient for U (d×V, columns u_w)."""
    y_hat = softmax(U.T @ v_c)
    loss = -np.log(y_hat[o])
    delta = y_hat.copy()
    delta[o] -= 1.0                              # ŷ − y
    grad_v_c = U @ delta                         # U (ŷ − y)ᵀ
    grad_U = np.outer(v_c, delta)                # v_c (ŷ − y), question (c)
    return loss, grad_v_c, grad_U


derivation = Derivation(
    id="b",
    title="naive softmax: ∂J/∂v_c",
    citation="seed 000_a6544ced7a39c042, question (b)",
    dims={"d": (1, 4), "V": (2, 6)},
    variables={"v_c": Real("d"), "o": Index("V"), "U": Real("d", "V")},
    function=lambda s: J(s.v_c, s.o, s.U),
    claims=[Claim("∂J/∂v_c", lambda s: dJ_dv_c(s.v_c, s.o, s.U), output="grad_v_c", wrt="v_c",
                  as_written="−u_o + Σ_w ŷ_w u_w = U (ŷ − y)ᵀ")],
    implementation=Implementation(naive_softmax_loss_and_gradient, args=("v_c", "o", "U"),
                                  returns=("J", "grad_v_c", "grad_U")),
    symbolic_sizes=[{"d": 2, "V": 5}, {"d": 3, "V": 4}],
)
