"""The seed's notation in sympy, shared by the seed derivations.

Written to read like the seed: U is d×V with the outside vectors u_w as its
columns, v_c a d-column, and ŷ and y are *row* vectors (the seed's note under (b)).
"""

import sympy as sp


def sigma(x):
    """σ(x) = 1 / (1 + e^{−x})  (seed, equation 4)."""
    return 1 / (1 + sp.exp(-x))


def softmax_row(scores):
    """ŷ = softmax(s) as a 1×V row, ŷ_w = exp(s_w) / Σ_x exp(s_x)."""
    total = sum(sp.exp(x) for x in scores)
    return sp.Matrix(1, len(scores), [sp.exp(x) / total for x in scores])


def one_hot_row(o, V):
    """y: the 1×V one-hot row of the true outside word o."""
    return sp.Matrix(1, V, [1 if w == o else 0 for w in range(V)])


def u(U, w):
    """u_w, column w of U."""
    return U[:, w]
