"""What fn returns, when it is not what gradcheck can check: a gradient of the wrong shape (the
transposed gradient of a non-square W), one gradient fewer than wrt (the bias's forgotten), the
per-sample losses instead of their sum, refused with an error that says what was expected; and a
saturated sigmoid's log(1 − p) = −inf in the value, a failure that says where.
Least squares J = ½‖X W + b − Y‖² on X 4n × n, W n × 2n."""

import numpy as np

from . import Entry


def _data(n):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 2 * n)), rng.standard_normal(2 * n), rng.standard_normal((4 * n, n)), \
        rng.standard_normal((4 * n, 2 * n))


def code(mistake=None):
    def loss(W, b, X, Y):
        R = X @ W + b - Y
        J = 0.5 * np.sum(R ** 2)
        gW, gb = X.T @ R, R.sum(axis=0)
        if mistake == "transposed":
            return J, gW.T, gb
        if mistake == "one gradient":
            return J, gW
        if mistake == "per sample":
            return 0.5 * np.sum(R ** 2, axis=1), gW, gb
        return J, gW, gb
    return lambda n: (loss, _data(n), (0, 1))


def saturated(n):
    """Logistic regression whose scores reach 40: σ(40) rounds to 1 and log(1 − p) is −inf."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, n))
    X[0] = 40 / np.sqrt(n)
    y = np.zeros(200)
    y[0] = 0.0

    def loss(w, X, y):
        p = 1 / (1 + np.exp(-(X @ w)))
        J = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        return J, X.T @ (p - y) / len(y)
    return loss, (np.full(n, 1 / np.sqrt(n)), X, y), (0,)


SIZES = {"small": 30, "large": 1000}
ENTRIES = [
    Entry("output-transposed-non-square", code("transposed"), "error", "transposed (non-square W)", SIZES,
          message="with its shape"),
    Entry("output-one-gradient-short", code("one gradient"), "error", "a gradient missing (b's)", SIZES,
          message="one per wrt"),
    Entry("output-per-sample-losses", code("per sample"), "error", "returns the per-sample losses", SIZES,
          message="a scalar value"),
    Entry("output-right", code(), sizes=SIZES),
    Entry("log-of-zero", saturated, "fail", "log(1 − p) at p = 1 (inf)", {"small": 100, "large": 100_000},
          message="inf"),
]
