"""1-D max-pooling by windows of 4 over each row, J = Σ G ∘ maxpool(X); the gradient routes G to
the argmax of each window (np.put_along_axis). n: the row length (a batch of 8)."""

import numpy as np

from . import Entry


def _data(n):
    rng = np.random.default_rng(0)
    return rng.standard_normal((8, n)), rng.standard_normal((8, n // 4))


def code(mistake=None):
    def loss(X, G):
        W = X.reshape(X.shape[0], -1, 4)
        out = W.max(axis=2)
        J = np.sum(G * out)
        g = np.zeros_like(W)
        if mistake == "no mask":
            g += G[:, :, None] / 4                  # the average-pool gradient
        else:
            np.put_along_axis(g, W.argmax(axis=2)[:, :, None], G[:, :, None], axis=2)
        if mistake == "flipped":
            g = -g
        return J, g.reshape(X.shape)
    return lambda n: (loss, _data(n), (0,))


def mask_style(n):
    """The mask W == max form (ties impossible with random data)."""
    def loss(X, G):
        W = X.reshape(X.shape[0], -1, 4)
        out = np.max(W, axis=2, keepdims=True)
        J = np.sum(G * out[..., 0])
        g = (W == out) * G[:, :, None]
        return J, g.reshape(X.shape)
    return loss, _data(n), (0,)


SIZES = {"small": 256, "large": 1_000_000}    # 2,048 and 8·10⁶ entries
ENTRIES = [
    Entry("max-pool", code(), sizes=SIZES),
    Entry("max-pool-mask-style", mask_style, sizes=SIZES),
    Entry("max-pool-no-mask", code("no mask"), "fail", "missing mask (argmax)", SIZES),
    Entry("max-pool-flipped", code("flipped"), "fail", "flipped sign", SIZES),
]
