"""Code with state, as layers are written: a gradient cached in the layer (the same array returned
at every call, overwritten: passes), a gradient accumulated into it (self.dW += …, the missing
zero_grad: fails, "accumulates"), buffers zeroed and accumulated into at every call (passes), code that normalises its data argument in place (fails, "modifies")
and the same on a copy (passes). Linear least squares J = ½‖X W − Y‖², X 200 × n, W n × 10."""

import numpy as np

from . import Entry


def _data(n):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 10)), rng.standard_normal((200, n)), rng.standard_normal((200, 10))


class Linear:
    def __init__(self, shape, accumulate):
        self.dW = np.zeros(shape)
        self.accumulate = accumulate

    def loss_and_grad(self, W, X, Y):
        R = X @ W - Y
        if self.accumulate:
            self.dW += X.T @ R                 # never zeroed
        else:
            self.dW[...] = X.T @ R             # cached: the same array, overwritten
        return 0.5 * np.sum(R * R), self.dW


class Buffered:
    """Gradient buffers kept by the layer, zeroed at every call and accumulated into (as over
    micro-batches): right and repeatable. A complex-step call zeroes the buffer before it stops at
    the complex write, so the base is taken again (it was called accumulation)."""

    def __init__(self, shape, sign=1.0):
        self.dW, self.sign = np.zeros(shape), sign

    def loss_and_grad(self, W, X, Y):
        self.dW.fill(0.0)
        R = X @ W - Y
        self.dW += self.sign * (X.T @ R)
        return 0.5 * np.sum(R * R), self.dW


def buffered(sign):
    def make(n):
        W, X, Y = _data(n)
        return Buffered(W.shape, sign).loss_and_grad, (W, X, Y), (0,)
    return make


def layer(accumulate):
    def make(n):
        W, X, Y = _data(n)
        return Linear(W.shape, accumulate).loss_and_grad, (W, X, Y), (0,)
    return make


def normalise(in_place):
    def loss(W, X, Y):
        if not in_place:
            Y = Y.copy()
        Y -= Y.mean(axis=0)                    # centre the targets
        R = X @ W - Y
        return 0.5 * np.sum(R * R), X.T @ R
    return lambda n: (loss, _data(n), (0,))


SIZES = {"small": 100, "large": 50_000}     # W 100 × 10 and 50,000 × 10
ENTRIES = [
    Entry("cached-gradient", layer(False), sizes=SIZES),
    Entry("accumulated-gradient", layer(True), "fail", "accumulates (self.dW += …)", SIZES,
          message="accumulates"),
    Entry("normalises-argument-in-place", normalise(True), "fail", "writes into its argument (Y -= …)",
          SIZES, message="modifies"),
    Entry("normalises-a-copy", normalise(False), sizes=SIZES),
    Entry("zeroed-buffer", buffered(1.0), sizes={"small": 2, "large": 50_000}),  # 20 entries: per entry
    Entry("zeroed-buffer-flipped", buffered(-1.0), "fail", "flipped sign", {"small": 2, "large": 50_000},
          message="wrong gradient"),
]
