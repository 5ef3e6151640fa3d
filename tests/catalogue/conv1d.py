"""1-D convolution (cross-correlation, 'valid'), read out by g: y_i = Σ_k w_k x_{i+k}, J = gᵀ y.
∂J/∂x_j = Σ_k g_{j−k} w_k (numpy: convolve(g, w, 'full'));  ∂J/∂w = correlate(x, g, 'valid').

Planted: the kernel flipped in ∂J/∂x (convolve(g, w[::-1])).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


def J(s):
    return sum(s.g[i] * sum(s.w[k] * s.x[i + k] for k in range(s.K)) for i in range(s.M))


def dx(s, flipped=False):
    w = [s.w[s.K - 1 - k] if flipped else s.w[k] for k in range(s.K)]
    return sp.Matrix(s.N, 1, [sum(s.g[j - k] * w[k] for k in range(s.K) if 0 <= j - k < s.M) for j in range(s.N)])


def dw(s):
    return sp.Matrix(s.K, 1, [sum(s.g[i] * s.x[i + k] for i in range(s.M)) for k in range(s.K)])


def code(flipped):
    def conv1d(x, w, g):
        y = np.correlate(x, w, "valid")
        return g @ y, np.convolve(g, w[::-1] if flipped else w, "full"), np.correlate(x, g, "valid")
    return conv1d


EXPECTED = {"conv1d": ("holds", "none"), "conv1d-kernel-flipped": ({"∂J/∂x": "refuted", "∂J/∂w": "holds"},
                                                                     "kernel flipped in ∂J/∂x")}

for _id, _flip in (("conv1d", False), ("conv1d-kernel-flipped", True)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="1-D convolution", citation="catalogue: conv1d",
        dims={"M": (1, 3), "K": (2, 3), "N": lambda n: n["M"] + n["K"] - 1},
        variables={"x": Real("N"), "w": Real("K"), "g": Real("M")}, function=J,
        claims=[Claim("∂J/∂x", lambda s, f=_flip: dx(s, f), output="grad_x", wrt="x",
                      as_written="convolve(g, w, 'full')"),
                Claim("∂J/∂w", dw, output="grad_w", wrt="w", as_written="correlate(x, g, 'valid')")],
        implementation=Implementation(code(_flip), args=("x", "w", "g"), returns=("J", "grad_x", "grad_w")),
        symbolic_sizes=[{"M": 2, "K": 3}, {"M": 3, "K": 2}])
