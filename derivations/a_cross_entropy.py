"""(a) The naive-softmax loss is the cross-entropy between y and ŷ.

Seed, question (a):
    −Σ_{w ∈ Vocab} y_w log(ŷ_w) = −log(ŷ_o)
    "Since y is one_hot vector": y_o = 1 and y_w = 0 for every other w.
An identity, not a gradient: the finite-difference column compares the two
sides as the code computes them.
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Index, OneHot, Real
from _word2vec import softmax_row
from b_softmax_grad_center import softmax


# ---- the math (sympy) ------------------------------------------------------------
def cross_entropy(v_c, U, y):
    yhat = softmax_row(U.T * v_c)
    return -sum(y[w] * sp.log(yhat[w]) for w in range(U.cols))    # −Σ_w y_w log ŷ_w


def neg_log_yhat_o(v_c, o, U):
    return -sp.log(softmax_row(U.T * v_c)[o])                      # −log ŷ_o


# ---- the code (numpy) ------------------------------------------------------------
def cross_entropy_and_naive_softmax_loss(v_c, o, U, y):
    y_hat = softmax(U.T @ v_c)
    return -np.sum(y * np.log(y_hat)), -np.log(y_hat[o])


derivation = Derivation(
    id="a",
    title="naive softmax loss = cross-entropy",
    citation="seed 000_a6544ced7a39c042, question (a)",
    dims={"d": (1, 4), "V": (2, 6)},
    variables={"v_c": Real("d"), "o": Index("V"), "U": Real("d", "V"), "y": Real("V", row=True)},
    assumptions=[OneHot("y is one-hot with y_o = 1", var="y", at="o")],
    function=lambda s: cross_entropy(s.v_c, s.U, s.y),
    claims=[Claim("−Σ y_w log ŷ_w = −log ŷ_o", lambda s: neg_log_yhat_o(s.v_c, s.o, s.U),
                  output="neg_log_yhat_o", identity=True, as_written="−Σ_w y_w log(ŷ_w) = −log(ŷ_o)")],
    implementation=Implementation(cross_entropy_and_naive_softmax_loss, args=("v_c", "o", "U", "y"),
                                  returns=("cross_entropy", "neg_log_yhat_o")),
    symbolic_sizes=[{"d": 2, "V": 5}, {"d": 3, "V": 4}],
)
