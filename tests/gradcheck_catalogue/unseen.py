"""Code that computes out of any list's sight, and points at the edges: every pass must agree with
real arithmetic (central differences along the same direction), so a forgotten term behind an
operation no list names still fails, and right code at a root, at a tiny scale, through a mask that
rounding flips, or through a library that refuses ndarray subclasses still gets its verdict.

* a Huber loss by np.vectorize with Python's abs (the modulus on complex numbers, unwatched);
* a torch loss with a torch.cov term (ATen conjugates inside it);
* a gradient computed by code that refuses ndarray subclasses (``type(x) is np.ndarray``);
* a linear function at a point where its value is 0;
* CS231n's max-pool backward with the mask ``window == window.max()``;
* an RNN forward that writes into a preallocated real array (the complex step impossible);
* cosine similarity with a vector of norm 1e-78;
* scipy.special.iv at arguments 1e-61 … 1e-33.

n: the size the module says (entries of the argument checked)."""

import numpy as np

from . import Entry


# ---------------------------------------------------------------- np.vectorize with Python's abs
def huber_vectorized(mistake=None):
    def make(n):
        r0 = np.random.default_rng(0).standard_normal(n) * 2.0

        def loss(r):
            piece = np.vectorize(lambda v: 0.5 * v * v if abs(v) < 1 else abs(v) - 0.5)
            g = np.where(np.abs(r) < 1, r, np.sign(r))
            if mistake == "forgot |r| branch":
                g = r.copy()                     # as if every residual were inside the quadratic part
            return float(np.sum(piece(r))), g
        return loss, (r0,), (0,)
    return make


# ---------------------------------------------------------------- torch.cov
def torch_cov(mistake=None):
    def make(n):
        import torch
        g = torch.Generator().manual_seed(0)
        X = torch.randn(4, n, generator=g, dtype=torch.float64)
        W = torch.randn(4, n, generator=g, dtype=torch.float64)

        def loss(X):
            J = (W * X).sum() + torch.trace(torch.cov(X))
            Xc = X - X.mean(dim=1, keepdim=True)
            grad = W + (0 if mistake == "forgot cov term" else 2 * Xc / (X.shape[1] - 1))
            return J, grad
        return loss, (X,), (0,)
    return make


# ---------------------------------------------------------------- a library that refuses subclasses
def plain_arrays_only(mistake=None):
    def make(n):
        rng = np.random.default_rng(0)
        A, b = rng.standard_normal((n, n)), rng.standard_normal(n)

        def loss(x):
            if type(x) is not np.ndarray:        # autograd, numba, many C extensions do the like
                raise TypeError(f"plain numpy arrays only, not {type(x).__name__}")
            r = A @ x - b
            g = A.T @ r
            if mistake == "one entry":
                g = g.copy()
                g[3] += 1e-6 * np.abs(g).max()
            return 0.5 * float(r @ r), g
        return loss, (rng.standard_normal(n),), (0,)
    return make


# ---------------------------------------------------------------- a linear function at its root
def linear_at_zero(mistake=None):
    def make(n):
        rng = np.random.default_rng(0)
        W, x = rng.standard_normal(n), rng.standard_normal(n)
        y = x.copy()                             # J = Σ W ⊙ (x − y) = 0 here

        def loss(x, y):
            return float(np.sum(W * (x - y))), (-W if mistake == "flipped" else W)
        return loss, (x, y), (0,)
    return make


# ---------------------------------------------------------------- CS231n's max-pool backward
def max_pool_cs231n(mistake=None):
    def make(n):
        rng = np.random.default_rng(0)
        x = rng.standard_normal((2, 3, n, n))
        dout = rng.standard_normal((2, 3, n // 2, n // 2))

        def loss(x):
            N, C, H, W = x.shape
            out = np.zeros((N, C, H // 2, W // 2))
            dx = np.zeros_like(x)
            for i in range(H // 2):
                for j in range(W // 2):
                    window = x[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
                    m = window.max(axis=(2, 3))
                    out[:, :, i, j] = m
                    mask = window == m[:, :, None, None]
                    dx[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2] += mask * dout[:, :, i, j][:, :, None, None]
            if mistake == "flipped":
                dx = -dx
            return float(np.sum(out * dout)), dx
        return loss, (x,), (0,)
    return make


# ---------------------------------------------------------------- an RNN in CS231n's form
def rnn(mistake=None):
    def make(n):
        N, T, D, H = 10, n, 20, 30
        rng = np.random.default_rng(0)
        x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
        Wx, Wh, b = (rng.standard_normal(s) * 0.1 for s in ((D, H), (H, H), H))
        dout = rng.standard_normal((N, T, H))

        def loss(x, h0, Wx, Wh, b):
            h, prev, cache = np.zeros((N, T, H)), h0, []
            for t in range(T):                   # written into a real array: no complex step
                nxt = np.tanh(x[:, t, :] @ Wx + prev @ Wh + b)
                h[:, t, :] = nxt
                cache.append((prev, nxt))
                prev = nxt
            dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
            dprev = np.zeros((N, H))
            for t in reversed(range(T)):
                prev, nxt = cache[t]
                da = (dout[:, t, :] + dprev) * (1 - nxt ** 2)
                dx[:, t, :] = da @ Wx.T
                dWx += x[:, t, :].T @ da
                dWh += prev.T @ da
                db += da.sum(axis=0)
                dprev = da @ Wh.T
            if mistake == "flipped Wh":
                dWh = -dWh
            return float(np.sum(dout * h)), dx, dprev, dWx, dWh, db
        return loss, (x, h0, Wx, Wh, b), (0, 1, 2, 3, 4)
    return make


# ---------------------------------------------------------------- cosine similarity at a tiny scale
def cosine_tiny(mistake=None):
    def make(n):
        rng = np.random.default_rng(0)
        a, b = rng.standard_normal(n) * 1e-78, rng.standard_normal(n)

        def loss(a, b):
            na, nb = np.linalg.norm(a), np.linalg.norm(b)
            c = a @ b / (na * nb)
            g = b / (na * nb) - (0 if mistake == "forgot projection" else c * a / na ** 2)
            return float(c), g
        return loss, (a, b), (0,)
    return make


# ---------------------------------------------------------------- scipy.special.iv near 0
def bessel_tiny(mistake=None):
    def make(n):
        import scipy.special as special
        x = np.geomspace(1e-61, 1e-33, n)

        def loss(x):
            g = 0.5 * (special.iv(0, x) + special.iv(2, x))
            if mistake == "no 1/2":
                g = special.iv(0, x) + special.iv(2, x)
            return float(np.sum(special.iv(1, x))), g
        return loss, (x,), (0,)
    return make


SMALL = {"small": 30, "large": 3000}
ENTRIES = [
    Entry("huber-vectorize-abs", huber_vectorized(), sizes=SMALL),
    Entry("huber-vectorize-abs-forgot-branch", huber_vectorized("forgot |r| branch"), "fail",
          "forgot the |r| branch (behind Python's abs in np.vectorize)", SMALL),
    Entry("torch-cov", torch_cov(), sizes=SMALL, framework="torch"),
    Entry("torch-cov-forgot-term", torch_cov("forgot cov term"), "fail", "forgot the torch.cov term", SMALL,
          framework="torch"),
    Entry("plain-arrays-only", plain_arrays_only(), sizes={"small": 40, "large": 800}),
    Entry("plain-arrays-only-one-entry", plain_arrays_only("one entry"), "fail", "1e-6·max|g| in one entry",
          {"small": 40, "large": 800}, located=(0, (3,))),
    Entry("linear-at-zero", linear_at_zero(), sizes={"small": 200, "large": 10**6}),
    Entry("linear-at-zero-flipped", linear_at_zero("flipped"), "fail", "flipped sign (value 0 at the point)",
          {"small": 200, "large": 10**6}),
    Entry("max-pool-cs231n", max_pool_cs231n(), sizes={"small": 8, "large": 64}),
    Entry("max-pool-cs231n-flipped", max_pool_cs231n("flipped"), "fail", "flipped sign", {"small": 8, "large": 64}),
    Entry("rnn-cs231n", rnn(), sizes={"small": 5, "large": 20}),
    Entry("rnn-cs231n-flipped-Wh", rnn("flipped Wh"), "fail", "flipped sign of dWh", {"small": 5, "large": 20}),
    Entry("cosine-1e-78", cosine_tiny(), sizes={"small": 8, "large": 1000}),
    Entry("cosine-1e-78-forgot-projection", cosine_tiny("forgot projection"), "fail", "dropped term (projection)",
          {"small": 8, "large": 1000}),
    Entry("iv-near-0", bessel_tiny(), sizes={"small": 20, "large": 2000}),
    Entry("iv-near-0-factor-2", bessel_tiny("no 1/2"), "fail", "factor 2 (the ½ of I₁' = (I₀ + I₂)/2 dropped)",
          {"small": 20, "large": 2000}),
]
