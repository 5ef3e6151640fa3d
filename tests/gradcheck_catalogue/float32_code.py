"""float32 code, as most training code is: data and weights in float32, the loss computed in float32.
gradcheck steps float32 inputs in complex64 and judges with float32's unit roundoff, so a pass
resolves far less than in float64 (its resolution says how much). Where the complex step cannot
run (np.abs in the Huber loss), central differences in float32 resolve nothing: a pass of those is
no pass, "inconclusive". n as in the float64 modules."""

import numpy as np

from . import Entry, huber, least_squares, mlp


def lsq(mistake=None):
    def make(n):
        W, x, t = least_squares._data(n, np.float32)

        def loss(W, x, t):
            r = W @ x - t
            g = np.outer(r, x)
            return 0.5 * np.dot(r, r), (-g if mistake == "flipped" else g)
        return loss, (W, x, t), (0,)
    return make


def huber32(n):
    loss, args, wrt = huber.code()(n)
    return loss, tuple(a.astype(np.float32) for a in args), wrt


F32 = "float32 code: the complex step in complex64 resolves ~1e-6–1e-3 of max|g|"
ENTRIES = [
    # at 4·10⁶ entries central differences in float32, which every pass must agree with, certify only
    # 11·max|g|: the complex step's 1e-2 is no pass on its own (inconclusive, saying so)
    Entry("lsq-float32", lsq(), sizes=least_squares.SIZES, resolution=0.05, resolution_why=F32,
          expected_at={"large": "inconclusive"}),
    Entry("lsq-float32-flipped", lsq("flipped"), "fail", "flipped sign", least_squares.SIZES),
    Entry("mlp-float32", mlp.code(dtype=np.float32), sizes=mlp.SIZES, resolution=0.05, resolution_why=F32,
          expected_at={"large": "inconclusive"}),  # (the same: central differences certify 12·max|g|)
    Entry("mlp-float32-no-mask", mlp.code("no mask", dtype=np.float32), "fail", "missing mask (z > 0)", mlp.SIZES),
    Entry("huber-float32", huber32, "inconclusive", sizes=huber.SIZES, message="central differences on float32"),
]
