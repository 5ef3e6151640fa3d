"""A mini-batch of 64 drawn inside fn from numpy's global generator (np.random.choice) or Python's
random, then least squares on it: J = ½ mean((X_b w − y_b)²). gradcheck seeds both global generators
identically before every call when asked to (pin_rng=True; result.pinned_rng), so the batch is the
same at every call; without it gradcheck touches no global state and says the code is not deterministic.
n: the features (N = 1000 samples)."""

import random

import numpy as np

from . import Entry


def _data(n):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, n))
    return rng.standard_normal(n), X, rng.standard_normal(1000)


def code(mistake=None, draw="numpy"):
    def make(n):
        w, X, y = _data(n)
        error = 1e-6 * 3.0       # ≈ 1e-6·max|g| (the gradient's entries are a few units), fixed before

        def loss(w, X, y):
            if draw == "numpy":
                idx = np.random.choice(len(y), 64, replace=False)
            else:
                idx = np.array(random.sample(range(len(y)), 64))
            r = X[idx] @ w - y[idx]
            g = X[idx].T @ r / len(idx)
            if mistake == "flipped":
                g = -g
            elif mistake == "one entry":
                g[3] += error
            return 0.5 * np.mean(r ** 2), g
        return loss, (w, X, y), (0,)
    return make


SIZES = {"small": 300, "large": 20_000}
PIN = {"pin_rng": True}
ENTRIES = [
    Entry("minibatch-np-random-choice", code(), sizes=SIZES, options=PIN),
    Entry("minibatch-python-random", code(draw="python"), sizes=SIZES, options=PIN),
    Entry("minibatch-flipped", code("flipped"), "fail", "flipped sign", SIZES, options=PIN),
    Entry("minibatch-one-entry", code("one entry"), "fail", "1e-6·max|g| in one entry", SIZES, located=(0, (3,)),
          options=PIN),
    Entry("minibatch-not-pinned", code(), "fail", "none (the global generators are not seeded unless asked)", SIZES,
          message="pin_rng=True"),
]
