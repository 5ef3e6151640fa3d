"""Least squares, J = ½‖W x − t‖², ∂J/∂W = r xᵀ with r = W x − t; n: W is n × n (square, so a
transposed gradient has the right shape and only the check can see it)."""

import numpy as np

from . import Entry


def _data(n, dtype=np.float64):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, n)).astype(dtype), rng.standard_normal(n).astype(dtype),
            rng.standard_normal(n).astype(dtype))


def right(n):
    def loss(W, x, t):
        r = W @ x - t
        return 0.5 * np.dot(r, r), np.outer(r, x)
    return loss, _data(n), (0,)


def flipped(n):
    def loss(W, x, t):
        r = W @ x - t
        return 0.5 * np.dot(r, r), -np.outer(r, x)
    return loss, _data(n), (0,)


def transposed(n):
    def loss(W, x, t):
        r = W @ x - t
        return 0.5 * np.dot(r, r), np.outer(x, r)      # x rᵀ: W's shape only because W is square
    return loss, _data(n), (0,)


def one_entry(n):
    W, x, t = _data(n)
    error = 1e-6 * np.abs(np.outer(W @ x - t, x)).max()    # the plant's size, fixed before the check

    def loss(W, x, t):
        r = W @ x - t
        g = np.outer(r, x)
        g[1, 2] += error
        return 0.5 * np.dot(r, r), g
    return loss, (W, x, t), (0,)


def mean_right(n):
    """The mean squared error over the rows, gradient with its 1/n."""
    def loss(W, x, t):
        r = W @ x - t
        return np.mean(r ** 2) / 2, np.outer(r, x) / len(r)
    return loss, _data(n), (0,)


def mean_no_1_over_n(n):
    def loss(W, x, t):
        r = W @ x - t
        return np.mean(r ** 2) / 2, np.outer(r, x)        # the 1/n of the mean forgotten
    return loss, _data(n), (0,)


SIZES = {"small": 40, "large": 2000}      # 1,600 and 4·10⁶ entries
ENTRIES = [
    Entry("lsq", right, sizes=SIZES),
    Entry("lsq-flipped", flipped, "fail", "flipped sign", SIZES),
    Entry("lsq-transposed", transposed, "fail", "transposed (square W)", SIZES),
    Entry("lsq-one-entry", one_entry, "fail", "1e-6·max|g| in one entry", SIZES, located=(0, (1, 2))),
    Entry("lsq-mean", mean_right, sizes=SIZES),
    Entry("lsq-mean-no-1/N", mean_no_1_over_n, "fail", "missing 1/N", SIZES),
]
