"""One head of self-attention over T = 8 tokens: Q, K, V = X Wq, X Wk, X Wv,
A = softmax(Q Kᵀ/√d) by rows, O = A V, J = Σ G ∘ O; checked: ∂J/∂Wq, ∂J/∂Wk, ∂J/∂Wv (d × d,
square: a transposed gradient has their shape). n: the width d."""

import numpy as np

from . import Entry

T = 8


def _data(n):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((T, n))
    Ws = [rng.standard_normal((n, n)) / np.sqrt(n) for _ in range(3)]
    return (*Ws, X, rng.standard_normal((T, n)))


def code(mistake=None):
    def loss(Wq, Wk, Wv, X, G):
        d = Wq.shape[1]
        Q, K, V = X @ Wq, X @ Wk, X @ Wv
        S = Q @ K.T / np.sqrt(d)
        S = S - S.max(axis=1, keepdims=True)
        A = np.exp(S)
        A = A / A.sum(axis=1, keepdims=True)
        O = A @ V
        J = np.sum(G * O)
        dA = G @ V.T
        dS = A * (dA - np.sum(A * dA, axis=1, keepdims=True))
        if mistake == "softmax term":
            dS = A * dA                              # the softmax Jacobian's −A·(Σ A dA) dropped
        dS = dS / np.sqrt(d) if mistake != "no scale" else dS
        dQ, dK, dV = dS @ K, dS.T @ Q, A.T @ G
        gWq, gWk, gWv = X.T @ dQ, X.T @ dK, X.T @ dV
        if mistake == "transposed":
            gWq = gWq.T
        return J, gWq, gWk, gWv
    return lambda n: (loss, _data(n), (0, 1, 2))


SIZES = {"small": 16, "large": 1000}     # 3 × 16² = 768 and 3·10⁶ entries
ENTRIES = [
    Entry("attention", code(), sizes=SIZES),
    Entry("attention-no-scale", code("no scale"), "fail", "missing 1/√d", SIZES),
    Entry("attention-softmax-term", code("softmax term"), "fail", "dropped term (softmax Jacobian)", SIZES),
    Entry("attention-transposed", code("transposed"), "fail", "transposed (square Wq)", SIZES),
]
