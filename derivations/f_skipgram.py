"""(f) Skip-gram over a window: the gradients sum over the window.

Seed, question (f), center word c, window size m, outside words w_{t+j}
(−m ≤ j ≤ m, j ≠ 0), J either base loss:
    J_sg = Σ_j J(v_c, w_{t+j}, U)
    ∂J_sg/∂U   = Σ_j ∂J(v_c, w_{t+j}, U)/∂U
    ∂J_sg/∂v_c = Σ_j ∂J(v_c, w_{t+j}, U)/∂v_c
    ∂J_sg/∂v_w = 0   (w ≠ c)
The parameters are U and C, the d×V matrix of all center vectors (columns v_w).
Each inner ∂J is the one the seed gives in (b), (c) and (e).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Distinct, Excludes, Implementation, Index, Indices, Real
import b_softmax_grad_center as b
import c_softmax_grad_outside as c
import e_negative_sampling as e


# ---- the math (sympy), as the seed writes it ----------------------------------
def negsample_dJ_dU(v_c, o, samples, U):
    """∂J/∂U for one window word, with the columns (e) gives for u_o and each u_k."""
    G = sp.zeros(U.rows, U.cols)
    G[:, o] = e.dJ_du_o(v_c, o, samples, U)
    for k, column in zip(samples, range(len(samples))):
        G[:, k] = e.dJ_du_k(v_c, o, samples, U)[:, column]
    return G


def others(s):
    return [w for w in range(s.V) if w != s.c]


def window_sum(term, s):
    """Σ_j term(j) over the window positions j."""
    total = term(0)
    for j in range(1, len(s.outside)):
        total = total + term(j)
    return total


# ---- the code (numpy), as a user's word2vec would write it --------------------
def skipgram(c, outside, C, U, loss_and_gradient, samples=None):
    loss, grad_C, grad_U = 0.0, np.zeros_like(C), np.zeros_like(U)
    v_c = C[:, c]
    for j, o in enumerate(outside):
        extra = () if samples is None else (samples[j],)
        l, g_v, g_U = loss_and_gradient(v_c, o, *extra, U)
        loss += l
        grad_C[:, c] += g_v
        grad_U += g_U
    return loss, grad_C, grad_U


def skipgram_softmax(c, outside, C, U):
    return skipgram(c, outside, C, U, b.naive_softmax_loss_and_gradient)


def skipgram_negsample(c, outside, samples, C, U):
    return skipgram(c, outside, C, U, e.neg_sampling_loss_and_gradient, samples)


def _derivation(loss, *, J, dJ_dv_c, dJ_dU, impl, args, sizes, extra_vars=None, assumptions=(), expect_U=None):
    extra_vars = extra_vars or {}
    def inner(s, j):  # the arguments of one window word's loss: (v_c, o, [samples,] U)
        middle = (s.samples[j],) if "samples" in extra_vars else ()
        return (s.C[:, s.c], s.outside[j], *middle, s.U)

    return Derivation(
        id=f"f-{loss}",
        title=f"skip-gram with the {loss} loss",
        citation="seed 000_a6544ced7a39c042, question (f)",
        dims={"d": (1, 3), "m": (1, 2), "W": lambda n: 2 * n["m"], **({"K": (1, 2)} if extra_vars else {}),
              "V": (3, 5)},
        variables={"c": Index("V"), "outside": Indices("W", "V"), **extra_vars,
                   "C": Real("d", "V"), "U": Real("d", "V")},
        assumptions=assumptions,
        function=lambda s: window_sum(lambda j: J(*inner(s, j)), s),
        claims=[
            Claim("∂J_sg/∂U", lambda s: window_sum(lambda j: dJ_dU(*inner(s, j)), s), output="grad_U", wrt="U",
                  as_written="Σ_j ∂J(v_c, w_{t+j}, U)/∂U", **(expect_U or {})),
            Claim("∂J_sg/∂v_c", lambda s: window_sum(lambda j: dJ_dv_c(*inner(s, j)), s), output="grad_C",
                  wrt="C", index=lambda s: (slice(None), s.c), as_written="Σ_j ∂J(v_c, w_{t+j}, U)/∂v_c"),
            Claim("∂J_sg/∂v_w, w ≠ c", lambda s: sp.zeros(s.d, s.V - 1), output="grad_C", wrt="C",
                  index=lambda s: (slice(None), others(s)), as_written="0 (w ≠ c)"),
        ],
        implementation=Implementation(impl, args=args, returns=("J_sg", "grad_C", "grad_U")),
        symbolic_sizes=sizes,
    )


softmax = _derivation("softmax", J=b.J, dJ_dv_c=b.dJ_dv_c, dJ_dU=c.dJ_dU, impl=skipgram_softmax,
                      args=("c", "outside", "C", "U"), sizes=[{"d": 2, "m": 1, "V": 3}, {"d": 3, "m": 1, "V": 4}])

negsample = _derivation(
    "negsample", J=e.J, dJ_dv_c=e.dJ_dv_c, dJ_dU=negsample_dJ_dU, impl=skipgram_negsample,
    args=("c", "outside", "samples", "C", "U"), sizes=[{"d": 2, "m": 1, "K": 3, "V": 5}, {"d": 3, "m": 1, "K": 2, "V": 4}],
    extra_vars={"samples": Indices("K", "V", rows="W")},
    assumptions=[Excludes("o ∉ {w_1, …, w_K} for each window word (from (e))", var="samples", other="outside"),
                 Distinct("each window word's K negative samples are distinct (implicit in (e))", var="samples",
                          source="implicit", why=e.ASSUMPTIONS[1].why)],
    # (e)'s ∂J/∂u_k enters this sum, and with it (e)'s unstated assumption
    expect_U={"expect": "conditional", "reason": e.U_K_REASON})
