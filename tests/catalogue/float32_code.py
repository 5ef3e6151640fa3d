"""Code that computes in float32 (as a GPU kernel or a float32 model does): the tanh layer and
the softmax classifier of this catalogue, with their inputs cast to float32 first. Their rounding
is float32's (2⁻²⁴, not 2⁻⁵³): Monte Carlo arithmetic perturbs each float32 result at that size,
so a right gradient holds, and a wrong one is still refuted.

Planted: the tanh layer's gradient transposed; the softmax gradient's sign flipped; and a term
off by 1e-3 of itself (far above float32's rounding).
"""

import numpy as np

import softmax_ce as ce
import tanh_layer as th
from gradverify import Claim, Derivation, Implementation, Index, Real

EXPECTED = {"tanh-float32": ("holds", "none"), "tanh-float32-transposed": ("refuted", "transposed"),
            "tanh-float32-off-1e-3": ("refuted", "the gradient 1.001× too large"),
            "softmax-ce-float32": ("holds", "none"), "softmax-ce-float32-sign-flipped": ("refuted", "sign flipped")}


def tanh_code(flip=False, factor=1.0):
    def tanh_layer_float32(W, x, v):
        W, x, v = (a.astype(np.float32) for a in (W, x, v))
        t = np.tanh(W @ x)
        g = np.outer(v * (1 - t * t), x) * np.float32(factor)
        return v @ t, (g.T if flip else g)
    return tanh_layer_float32


for _id, _code in (("tanh-float32", tanh_code()), ("tanh-float32-transposed", tanh_code(flip=True)),
                   ("tanh-float32-off-1e-3", tanh_code(factor=1.001))):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="tanh layer in float32", citation="catalogue: tanh layer",
        dims={"n": (2, 3)}, variables={"W": Real("n", "n"), "x": Real("n"), "v": Real("n")}, function=th.J,
        claims=[Claim("∂J/∂W", th.right, output="grad_W", wrt="W")],
        implementation=Implementation(_code, args=("W", "x", "v"), returns=("J", "grad_W")),
        symbolic_sizes=[{"n": 2}, {"n": 3}])


def softmax_code(sign):
    def softmax_ce_float32(W, x, y):
        scores = W.astype(np.float32) @ x.astype(np.float32)
        e = np.exp(scores - scores.max())
        p = e / e.sum()
        loss = -np.log(p[y])
        p[y] -= 1
        return loss, np.float32(sign) * np.outer(p, x.astype(np.float32))
    return softmax_ce_float32


for _id, _sign in (("softmax-ce-float32", 1), ("softmax-ce-float32-sign-flipped", -1)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="softmax classifier in float32", citation="catalogue: softmax classifier",
        dims={"C": (2, 4), "D": (1, 3)}, variables={"W": Real("C", "D"), "x": Real("D"), "y": Index("C")},
        function=ce.L, claims=[Claim("∂L/∂W", lambda s, k=_sign: ce.grad(s, k), output="grad_W", wrt="W")],
        implementation=Implementation(softmax_code(_sign), args=("W", "x", "y"), returns=("L", "grad_W")),
        symbolic_sizes=[{"C": 3, "D": 2}, {"C": 2, "D": 4}])
