"""A dense layer with inverted dropout (keep 1/2) before a square loss: h = (W x) ∘ m / ½,
J = ½‖h‖², ∂J/∂W = (h ∘ m / ½) xᵀ. The mask drawn from np.random.default_rng() with no seed differs
at every call: no gradient can be checked, and gradcheck must say "not deterministic", never pass.
Seeded inside fn (default_rng(0)) it is the same at every call and passes. n: the width (W n × n)."""

import numpy as np

from . import Entry


def _data(n):
    rng = np.random.default_rng(1)
    return rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n)


def code(seed=None, mistake=None):
    def loss(W, x):
        rng = np.random.default_rng(seed)
        m = (rng.random(W.shape[0]) > 0.5) / 0.5
        h = (W @ x) * m
        g = np.outer(h * m, x)
        if mistake == "no mask":
            g = np.outer(h, x)                 # the dropout mask's factor forgotten in the backward
        return 0.5 * np.dot(h, h), g
    return lambda n: (loss, _data(n), (0,))


def torch_global(n):
    import torch

    W = torch.randn(n, n, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) / n ** 0.5
    x = torch.randn(n, dtype=torch.float64, generator=torch.Generator().manual_seed(2))

    def loss(W, x):
        m = (torch.rand(W.shape[0], dtype=torch.float64) > 0.5) / 0.5   # torch's global generator
        h = (W @ x) * m
        return 0.5 * (h * h).sum(), torch.outer(h * m, x)
    return loss, (W, x), (0,)


SIZES = {"small": 40, "large": 2000}
ENTRIES = [
    Entry("dropout-unseeded", code(None), "fail", "unseeded randomness (default_rng())", SIZES,
          message="not deterministic"),
    Entry("dropout-seeded", code(0), sizes=SIZES),
    Entry("dropout-seeded-no-mask", code(0, "no mask"), "fail", "missing mask (in the backward)", SIZES),
    Entry("dropout-torch-global-rng", torch_global, "fail", "unseeded randomness (torch.rand)", SIZES,
          framework="torch", message="not deterministic"),
]
