"""Planted wrong claims and wrong implementations of the seed, one mistake each."""

import numpy as np
import sympy as sp

import b_softmax_grad_center as b
import c_softmax_grad_outside as c
import d_sigmoid as d
import e_negative_sampling as e
from _word2vec import one_hot_row, sigma, softmax_row


# ---- sympy claims ---------------------------------------------------------------
def b_flipped_sign(s):
    return -b.dJ_dv_c(s.v_c, s.o, s.U)


def b_missing_u_o(s):  # Σ_w ŷ_w u_w without the −u_o term
    return s.U * softmax_row(s.U.T * s.v_c).T


def c_transposed(s):  # (ŷ − y)ᵀ v_cᵀ: V×d instead of d×V
    return c.dJ_dU(s.v_c, s.o, s.U).T


def d_sigma_for_derivative(s):  # σ(x) where σ(x)(1 − σ(x)) belongs
    return sigma(s.x)


def e_u_o_dropped_minus_one(s):  # σ(u_oᵀ v_c) v_c: the −1 dropped
    return sigma((e.u(s.U, s.o).T * s.v_c)[0, 0]) * s.v_c


def c_scaled_by_two(s):
    return 2 * c.dJ_dU(s.v_c, s.o, s.U)


def b_y_for_yhat(s):  # U (y − ŷ)ᵀ written as U (ŷ − y)ᵀ with ŷ, y swapped
    yhat, y = softmax_row(s.U.T * s.v_c), one_hot_row(s.o, s.V)
    return s.U * (y - yhat).T


def a_wrong_identity(s):  # +log ŷ_o
    return sp.log(softmax_row(s.U.T * s.v_c)[s.o])


# ---- numpy implementations --------------------------------------------------------
def b_impl_flipped(v_c, o, U):
    loss, g, gU = b.naive_softmax_loss_and_gradient(v_c, o, U)
    return loss, -g, gU


def b_impl_missing_u_o(v_c, o, U):
    loss, g, gU = b.naive_softmax_loss_and_gradient(v_c, o, U)
    return loss, g + U[:, o], gU


def c_impl_transposed_square(v_c, o, U):  # right shape only when d == V
    loss, g, gU = b.naive_softmax_loss_and_gradient(v_c, o, U)
    return loss, g, gU.T


def d_impl_sigma(x):
    s = d.sigmoid(x)
    return s, s


def e_impl_dropped_term(v_c, o, samples, U):  # forgets the negative samples in ∂J/∂v_c
    loss, g, gU = e.neg_sampling_loss_and_gradient(v_c, o, samples, U)
    u_o = U[:, o]
    return loss, (d.sigmoid(u_o @ v_c) - 1.0) * u_o, gU


def e_impl_accumulating(v_c, o, samples, U):
    """The fix a careful user writes: add each sample's column, repeats included."""
    u_o = U[:, o]
    s_o = d.sigmoid(u_o @ v_c)
    loss, grad_v_c, grad_U = -np.log(s_o), (s_o - 1.0) * u_o, np.zeros_like(U)
    grad_U[:, o] += (s_o - 1.0) * v_c
    for k in samples:
        s_k = d.sigmoid(U[:, k] @ v_c)
        loss -= np.log(d.sigmoid(-(U[:, k] @ v_c)))
        grad_v_c += s_k * U[:, k]
        grad_U[:, k] += s_k * v_c
    return loss, grad_v_c, grad_U
