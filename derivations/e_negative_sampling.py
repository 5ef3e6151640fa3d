"""(e) Negative-sampling loss: gradients for v_c, u_o and the sampled u_k.

Seed, question (e), with K negative samples w_1 … w_K and "o ∉ {w_1, …, w_K}":
    J = −log σ(u_oᵀ v_c) − Σ_k log σ(−u_kᵀ v_c)
    ∂J/∂v_c = (σ(u_oᵀ v_c) − 1) u_o + Σ_k σ(u_kᵀ v_c) u_k
    ∂J/∂u_o = (σ(u_oᵀ v_c) − 1) v_c
    ∂J/∂u_k = σ(u_kᵀ v_c) v_c
The samples are drawn with replacement, as word2vec draws them; the seed does
not say they are distinct, so that assumption is listed as implicit.
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Distinct, Excludes, Implementation, Index, Indices, Real
from gradverify.cost import CostClaim
from _word2vec import sigma, u
from b_softmax_grad_center import naive_softmax_loss_and_gradient
from d_sigmoid import sigmoid


# ---- the math (sympy), as the seed writes it ----------------------------------
def dot(a, b):
    return (a.T * b)[0, 0]


def J(v_c, o, samples, U):
    return -sp.log(sigma(dot(u(U, o), v_c))) - sum(sp.log(sigma(-dot(u(U, k), v_c))) for k in samples)


def dJ_dv_c(v_c, o, samples, U):
    return (sigma(dot(u(U, o), v_c)) - 1) * u(U, o) + sum(
        (sigma(dot(u(U, k), v_c)) * u(U, k) for k in samples), sp.zeros(U.rows, 1))


def dJ_du_o(v_c, o, samples, U):
    return (sigma(dot(u(U, o), v_c)) - 1) * v_c                    # (σ(u_oᵀ v_c) − 1) v_c


def dJ_du_k(v_c, o, samples, U):
    return sp.Matrix.hstack(*[sigma(dot(u(U, k), v_c)) * v_c for k in samples])   # σ(u_kᵀ v_c) v_c, each k


# ---- the code (numpy), as a user's word2vec would write it --------------------
def neg_sampling_loss_and_gradient(v_c, o, samples, U):
    u_o, U_k = U[:, o], U[:, samples]
    s_o = sigmoid(u_o @ v_c)
    s_k = sigmoid(-U_k.T @ v_c)
    loss = -np.log(s_o) - np.sum(np.log(s_k))
    grad_v_c = (s_o - 1.0) * u_o + U_k @ (1.0 - s_k)
    grad_U = np.zeros_like(U)
    grad_U[:, o] = (s_o - 1.0) * v_c
    grad_U[:, samples] = np.outer(v_c, 1.0 - s_k)                  # ∂J/∂u_k = σ(u_kᵀ v_c) v_c
    return loss, grad_v_c, grad_U


#: why ∂J/∂u_k is known to hold only under the implicit assumption (the report still shows it refuted as stated)
U_K_REASON = ("the seed writes one term per sample; a word drawn twice gets both terms, so the claim holds "
              "only for distinct samples, which the seed does not state")

ASSUMPTIONS = [
    Excludes("o ∉ {w_1, …, w_K}", var="samples", other="o"),
    Distinct("the K negative samples are distinct", var="samples", source="implicit",
             why="the seed differentiates by u_1 … u_K as K separate vectors; a word drawn twice "
                 "enters J twice, so its gradient is the sum of both terms"),
]

# ---- the cost claim: "we only need to calculate K numbers and their derivation" ------
def _softmax_args(n, rng):
    return rng.normal(size=n["d"]), 0, rng.normal(size=(n["d"], n["V"]))


def _negsample_args(n, rng):
    return rng.normal(size=n["d"]), 0, list(range(1, n["K"] + 1)), rng.normal(size=(n["d"], n["V"]))


COST = CostClaim(
    "cost grows with K·d, not V·d",
    as_written="naive softmax needs all of U (work ∝ V·d); negative sampling only the K + 1 sampled columns",
    implementations={"naive softmax": (naive_softmax_loss_and_gradient, _softmax_args),
                     "negative sampling": (neg_sampling_loss_and_gradient, _negsample_args)},
    # work ∝ V^p at fixed K and d: p = 1 for "grows with V·d", p = 0 for "does not grow with V"
    expect={"naive softmax": (0.9, 1.1), "negative sampling": (-0.1, 0.1)},
    vary="V", values=(500, 1000, 2000, 4000, 8000), fixed={"d": 50, "K": 10},
)

derivation = Derivation(
    id="e",
    title="negative sampling: ∂J/∂v_c, ∂J/∂u_o, ∂J/∂u_k",
    citation="seed 000_a6544ced7a39c042, question (e)",
    dims={"d": (1, 4), "K": (1, 3), "V": (4, 7)},
    variables={"v_c": Real("d"), "o": Index("V"), "samples": Indices("K", "V"), "U": Real("d", "V")},
    assumptions=ASSUMPTIONS,
    function=lambda s: J(s.v_c, s.o, s.samples, s.U),
    claims=[
        Claim("∂J/∂v_c", lambda s: dJ_dv_c(s.v_c, s.o, s.samples, s.U), output="grad_v_c", wrt="v_c",
              as_written="(σ(u_oᵀv_c) − 1) u_o + Σ_k σ(u_kᵀv_c) u_k"),
        Claim("∂J/∂u_o", lambda s: dJ_du_o(s.v_c, s.o, s.samples, s.U), output="grad_U", wrt="U",
              index=lambda s: (slice(None), s.o), as_written="(σ(u_oᵀv_c) − 1) v_c"),
        Claim("∂J/∂u_k", lambda s: dJ_du_k(s.v_c, s.o, s.samples, s.U), output="grad_U", wrt="U",
              index=lambda s: (slice(None), s.samples), as_written="σ(u_kᵀv_c) v_c",
              expect="conditional", reason=U_K_REASON),
    ],
    implementation=Implementation(neg_sampling_loss_and_gradient, args=("v_c", "o", "samples", "U"),
                                  returns=("J", "grad_v_c", "grad_U")),
    symbolic_sizes=[{"d": 2, "K": 3, "V": 5}, {"d": 3, "K": 2, "V": 4}],
    costs=[COST],
)
