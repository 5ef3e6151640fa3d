"""A two-layer ReLU network with softmax cross-entropy and weight decay on a batch:
z = X W1 + b1, a = max(z, 0), s = a W2 + b2, J = mean_i −log softmax(s_i)_{y_i} + λ/2 (‖W1‖² + ‖W2‖²),
backpropagated by hand as in a course assignment. n: the hidden width H (input D = n, 10 classes,
a batch of 16). Written in numpy here, in torch (mlp_torch.py) and jax (mlp_jax.py)."""

import numpy as np

from . import Entry

LAM = 1e-2
B, C = 16, 10


def data(n, dtype=np.float64):
    rng = np.random.default_rng(0)
    D = H = n
    X = rng.standard_normal((B, D)).astype(dtype)
    y = rng.integers(C, size=B)
    W1 = (rng.standard_normal((D, H)) / np.sqrt(D)).astype(dtype)
    b1 = (0.1 * rng.standard_normal(H)).astype(dtype)
    W2 = (rng.standard_normal((H, C)) / np.sqrt(H)).astype(dtype)
    b2 = np.zeros(C, dtype)
    return W1, b1, W2, b2, X, y


def code(mistake=None, relu="maximum", dtype=np.float64):
    def make(n):
        args = data(n, dtype)
        def loss(W1, b1, W2, b2, X, y, plant=True):
            z1 = X @ W1 + b1
            a1 = np.maximum(z1, 0) if relu == "maximum" else z1 * (z1 > 0)
            s = a1 @ W2 + b2
            s = s - s.max(axis=1, keepdims=True)
            p = np.exp(s)
            p /= p.sum(axis=1, keepdims=True)
            J = -np.mean(np.log(p[np.arange(B), y])) + 0.5 * LAM * (np.sum(W1 * W1) + np.sum(W2 * W2))
            ds = p.copy()
            ds[np.arange(B), y] -= 1
            ds /= B
            gW2 = a1.T @ ds + LAM * W2
            gb2 = ds.sum(axis=0)
            da1 = ds @ W2.T
            dz1 = da1 * (z1 > 0) if mistake != "no mask" else da1
            gW1 = X.T @ dz1 + LAM * W1
            gb1 = dz1.sum(axis=0)
            if mistake == "no decay":
                gW2 = a1.T @ ds
            elif mistake == "flipped":
                gW1 = -gW1
            elif mistake == "one entry" and plant:
                gb1[3] += error
            return J, gW1, gb1, gW2, gb2
        # the plant's size, fixed before the check: 1e-6 of the largest gradient entry (that of W2)
        error = 1e-6 * np.abs(loss(*args, plant=False)[3]).max()
        return loss, args, (0, 1, 2, 3)
    return make


SIZES = {"small": 40, "large": 2000}     # 2,090 and 4·10⁶ weights
ENTRIES = [
    Entry("mlp", code(), sizes=SIZES),
    Entry("mlp-mask-style", code(relu="mask"), sizes=SIZES),
    Entry("mlp-no-mask", code("no mask"), "fail", "missing mask (z > 0)", SIZES),
    Entry("mlp-no-decay", code("no decay"), "fail", "dropped term (weight decay of W2)", SIZES),
    Entry("mlp-flipped", code("flipped"), "fail", "flipped sign (∂J/∂W1)", SIZES),
    Entry("mlp-one-entry", code("one entry"), "fail", "1e-6·max|g| in one entry (b1)", SIZES, located=(1, (3,))),
]
