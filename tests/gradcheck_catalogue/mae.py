"""Mean absolute error J = mean|p − y|, ∂J/∂p = sign(p − y)/N: np.abs and np.sign run under the
complex step by the real part, exactly, with residuals as near the kink as random data puts them
(at 10⁶ there are always some within a central-difference step of 0: a false alarm before). A
residual exactly 0 is a kink: refused, and central differences judge (tests/test_gradcheck_kinks.py;
at 10⁶ entries their resolution makes that inconclusive). n: the predictions."""

import numpy as np

from . import Entry


def _data(n):
    rng = np.random.default_rng(0)
    p = rng.standard_normal(n)
    y = p - rng.standard_normal(n)
    y[3] = p[3] - 3e-6  # one residual 3e-6 from the kink
    return p, y


def code(mistake=None):
    def loss(p, y):
        r = p - y
        g = np.sign(r) / r.size
        if mistake == "flipped":
            g = -g
        elif mistake == "one entry":
            g[7] += 1e-3 / r.size
        return np.mean(np.abs(r)), g
    return lambda n: (loss, _data(n), (0,))


SIZES = {"small": 200, "large": 1_000_000}
ENTRIES = [
    Entry("mae", code(), sizes=SIZES),
    Entry("mae-flipped", code("flipped"), "fail", "flipped sign", SIZES),
    Entry("mae-one-entry", code("one entry"), "fail", "one entry off by 1e-3/N", SIZES, located=(0, (7,))),
]
