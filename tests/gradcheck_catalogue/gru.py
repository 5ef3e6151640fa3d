"""One step of a GRU-like cell on a batch of 4: z = σ(x Wz + h Uz), r = σ(x Wr + h Ur),
c = tanh(x Wh + (r ∘ h) Uh), h' = (1 − z) ∘ h + z ∘ c, J = Σ G ∘ h'; checked: the three input
weights Wz, Wr, Wh and the recurrent Uh (n × n each). n: the hidden width."""

import numpy as np

from . import Entry


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _data(n):
    rng = np.random.default_rng(0)
    W = [rng.standard_normal((n, n)) / np.sqrt(n) for _ in range(6)]
    return (*W, rng.standard_normal((4, n)), np.tanh(rng.standard_normal((4, n))), rng.standard_normal((4, n)))


def code(mistake=None):
    def loss(Wz, Wr, Wh, Uz, Ur, Uh, x, h, G):
        z = sigmoid(x @ Wz + h @ Uz)
        r = sigmoid(x @ Wr + h @ Ur)
        rh = r * h
        c = np.tanh(x @ Wh + rh @ Uh)
        J = np.sum(G * ((1 - z) * h + z * c))
        dc = G * z * (1 - c ** 2)
        dz = G * (c - h) * z * (1 - z)
        if mistake == "flipped gate":
            dz = G * (h - c) * z * (1 - z)
        dr = (dc @ Uh.T) * h * r * (1 - r)
        if mistake == "no reset path":
            dr = np.zeros_like(dr)                     # r treated as a constant
        return J, x.T @ dz, x.T @ dr, x.T @ dc, rh.T @ dc
    return lambda n: (loss, _data(n), (0, 1, 2, 5))


SIZES = {"small": 20, "large": 1000}     # 4 × 20² = 1,600 and 4·10⁶ entries
ENTRIES = [
    Entry("gru-step", code(), sizes=SIZES),
    Entry("gru-step-no-reset-path", code("no reset path"), "fail", "dropped term (the reset gate's path)", SIZES),
    Entry("gru-step-flipped-gate", code("flipped gate"), "fail", "flipped sign (update gate)", SIZES),
]
