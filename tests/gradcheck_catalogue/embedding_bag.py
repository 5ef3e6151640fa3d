"""An embedding bag: the mean of the rows of E at the indices of a bag (with a repeated index),
then least squares against a target, J = ½‖mean_k E[idx_k] − t‖². The gradient scatters r/len(idx)
into the rows used: np.add.at adds once per occurrence; the classic bug `g[idx] += …` adds a repeated
row once only. n: the vocabulary (rows of 16)."""

import numpy as np

from . import Entry


def _data(n):
    rng = np.random.default_rng(0)
    E = rng.standard_normal((n, 16))
    idx = rng.integers(n, size=12)
    idx[:3] = 9                       # row 9 three times in the bag
    idx[idx == 5] = 6                 # row 5 is not used
    return E, idx, rng.standard_normal(16)


def code(mistake=None):
    def make(n):
        E, idx, t = _data(n)
        error = 1e-6 * np.abs(E[idx].mean(axis=0) - t).max() * 3 / len(idx)   # 1e-6·max|g|, fixed before

        def loss(E, idx, t):
            h = E[idx].mean(axis=0)
            r = h - t
            g = np.zeros_like(E)
            if mistake == "fancy index":
                g[idx] += r / len(idx)
            else:
                np.add.at(g, idx, r / len(idx))
            if mistake == "unused row":
                g[5, 0] += error
            return 0.5 * np.dot(r, r), g
        return loss, (E, idx, t), (0,)
    return make


SIZES = {"small": 100, "large": 500_000}     # E 100 × 16 and 500,000 × 16 (8·10⁶)
ENTRIES = [
    Entry("embedding-bag", code(), sizes=SIZES),
    Entry("embedding-bag-fancy-index", code("fancy index"), "fail", "g[idx] += r (repeats added once)", SIZES),
    Entry("embedding-bag-unused-row", code("unused row"), "fail", "1e-6·max|g| in an unused row", SIZES,
          located=(0, (5, 0))),
]
