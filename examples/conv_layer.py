"""A 1-D convolution layer (cross-correlation, as deep-learning libraries compute it),
written at its natural rank: x is N×C×T, the kernel W is F×C×K, no flattening.

    out[n, f, t] = Σ_c Σ_k W[f, c, k] · x[n, c, t + k]        t = 0 … T − K
    L = ½ Σ out²
    ∂L/∂W[f, c, k] = Σ_n Σ_t out[n, f, t] · x[n, c, t + k]
    ∂L/∂x[n, c, s] = Σ_f Σ_k out[n, f, s − k] · W[f, c, k]   (terms with 0 ≤ s − k ≤ T − K)
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


# ---- the math (sympy): x and W are sympy Arrays, indexed [n, c, t] ------------------
def conv(s):
    return sp.Array([[[sum(s.W[f, c, k] * s.x[n, c, t + k] for c in range(s.C) for k in range(s.K))
                       for t in range(s.T - s.K + 1)] for f in range(s.F)] for n in range(s.N)])


def L(s):
    out = conv(s)
    return sum(v ** 2 for v in sp.flatten(out)) / 2


def dL_dW(s):
    out = conv(s)
    return sp.Array([[[sum(out[n, f, t] * s.x[n, c, t + k] for n in range(s.N) for t in range(s.T - s.K + 1))
                       for k in range(s.K)] for c in range(s.C)] for f in range(s.F)])


def dL_dx(s):
    out, To = conv(s), s.T - s.K + 1
    return sp.Array([[[sum(out[n, f, t - k] * s.W[f, c, k] for f in range(s.F) for k in range(s.K) if 0 <= t - k < To)
                       for t in range(s.T)] for c in range(s.C)] for n in range(s.N)])


# ---- the code (numpy), as a layer's forward and backward would be written -------------
def conv1d_loss_and_grads(x, W):
    K = W.shape[2]
    windows = np.lib.stride_tricks.sliding_window_view(x, K, axis=2)      # N×C×To×K
    out = np.einsum("nctk,fck->nft", windows, W)
    dW = np.einsum("nft,nctk->fck", out, windows)                          # ∂L/∂W = Σ out · x windows
    dx = np.zeros_like(x)
    for k in range(K):                                                     # ∂L/∂x: out scattered back
        dx[:, :, k:k + out.shape[2]] += np.einsum("nft,fc->nct", out, W[:, :, k])
    return 0.5 * np.sum(out ** 2), dW, dx


derivation = Derivation(
    id="conv1d",
    title="1-D convolution layer: ∂L/∂W and ∂L/∂x at rank 3",
    citation="examples/conv_layer.py",
    dims={"N": (1, 2), "C": (1, 2), "F": (1, 2), "K": (1, 3), "T": (3, 5)},
    variables={"x": Real("N", "C", "T"), "W": Real("F", "C", "K")},
    function=L,
    claims=[Claim("∂L/∂W", dL_dW, output="dW", wrt="W", as_written="Σ_n Σ_t out[n,f,t] x[n,c,t+k]"),
            Claim("∂L/∂x", dL_dx, output="dx", wrt="x", as_written="Σ_f Σ_k out[n,f,s−k] W[f,c,k]")],
    implementation=Implementation(conv1d_loss_and_grads, args=("x", "W"), returns=("L", "dW", "dx")),
)
