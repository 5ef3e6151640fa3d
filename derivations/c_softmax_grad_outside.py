"""(c) Naive-softmax loss: the gradients with respect to the outside vectors u_w.

Seed, question (c):
    w ≠ o:  ∂J/∂u_w = ŷ_w v_c
    w = o:  ∂J/∂u_w = −v_c + ŷ_w v_c
    in conclusion  ∂J/∂u_w = (ŷ_w − y_w) v_c  and  ∂J/∂U = v_c (ŷ − y)
The u_w are the columns of U (d×V); ŷ and y are rows, so v_c (ŷ − y) is d×V.
"""

import sympy as sp

from gradverify import Claim, Derivation, Implementation, Index, Real
from _word2vec import one_hot_row, softmax_row
from b_softmax_grad_center import J, naive_softmax_loss_and_gradient


# ---- the math (sympy), as the seed writes it ----------------------------------
def dJ_du_o(v_c, o, U):
    yhat = softmax_row(U.T * v_c)
    return -v_c + yhat[o] * v_c                                   # −v_c + ŷ_o v_c


def dJ_du_others(v_c, o, U):
    yhat = softmax_row(U.T * v_c)
    return sp.Matrix.hstack(*[yhat[w] * v_c for w in range(U.cols) if w != o])   # ŷ_w v_c, w ≠ o


def dJ_dU(v_c, o, U):
    yhat, y = softmax_row(U.T * v_c), one_hot_row(o, U.cols)
    return v_c * (yhat - y)                                       # v_c (ŷ − y)


def others(s):
    return [w for w in range(s.V) if w != s.o]


derivation = Derivation(
    id="c",
    title="naive softmax: ∂J/∂u_w and ∂J/∂U",
    citation="seed 000_a6544ced7a39c042, question (c)",
    dims={"d": (1, 4), "V": (2, 6)},
    variables={"v_c": Real("d"), "o": Index("V"), "U": Real("d", "V")},
    function=lambda s: J(s.v_c, s.o, s.U),
    claims=[
        Claim("∂J/∂u_w, w = o", lambda s: dJ_du_o(s.v_c, s.o, s.U), output="grad_U", wrt="U",
              index=lambda s: (slice(None), s.o), as_written="−v_c + ŷ_o v_c"),
        Claim("∂J/∂u_w, w ≠ o", lambda s: dJ_du_others(s.v_c, s.o, s.U), output="grad_U", wrt="U",
              index=lambda s: (slice(None), others(s)), as_written="ŷ_w v_c"),
        Claim("∂J/∂U", lambda s: dJ_dU(s.v_c, s.o, s.U), output="grad_U", wrt="U", as_written="v_c (ŷ − y)"),
    ],
    implementation=Implementation(naive_softmax_loss_and_gradient, args=("v_c", "o", "U"),
                                  returns=("J", "grad_v_c", "grad_U")),
    symbolic_sizes=[{"d": 2, "V": 5}, {"d": 3, "V": 4}],
)
