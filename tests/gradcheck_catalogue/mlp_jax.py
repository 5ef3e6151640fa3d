"""The two-layer ReLU network of mlp.py written in jax (jax.nn.relu, log_softmax, .at[].add), and
jax.value_and_grad of a smooth loss. n: the hidden width."""

import numpy as np

from . import Entry
from .mlp import B, C, LAM, data


def code(mistake=None):
    def make(n):
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        W1, b1, W2, b2, X, y = (jnp.asarray(a) for a in data(n))
        error = 1e-6 * 0.5   # ≈ 1e-6·max|g| (max|∂J/∂W2| ≈ 0.5 here), fixed before the check

        def loss(W1, b1, W2, b2, X, y):
            z1 = X @ W1 + b1
            a1 = jax.nn.relu(z1)
            lp = jax.nn.log_softmax(a1 @ W2 + b2, axis=1)
            J = -jnp.mean(lp[jnp.arange(B), y]) + 0.5 * LAM * (jnp.sum(W1 ** 2) + jnp.sum(W2 ** 2))
            ds = jnp.exp(lp).at[jnp.arange(B), y].add(-1.0) / B
            gW2 = a1.T @ ds + LAM * W2
            dz1 = (ds @ W2.T) * (z1 > 0)
            gW1 = X.T @ dz1 + LAM * W1
            if mistake == "flipped":
                gW2 = -gW2
            if mistake == "one entry":
                gW1 = gW1.at[2, 3].add(error)
            return J, gW1, dz1.sum(0), gW2, ds.sum(0)
        return loss, (W1, b1, W2, b2, X, y), (0, 1, 2, 3)
    return make


def value_and_grad(mistake=None):
    def make(n):
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        x0 = jnp.asarray(np.random.default_rng(0).standard_normal(n))
        f = lambda x: jnp.sum(jnp.tanh(x) ** 2)

        def loss(x):
            J, g = jax.value_and_grad(f)(x)
            return J, (g if mistake is None else g * 1.001)
        return loss, (x0,), (0,)
    return make


SIZES = {"small": 40, "large": 2000}
ENTRIES = [
    Entry("mlp-jax", code(), sizes=SIZES, framework="jax"),
    Entry("mlp-jax-flipped", code("flipped"), "fail", "flipped sign (∂J/∂W2)", SIZES, framework="jax"),
    Entry("mlp-jax-one-entry", code("one entry"), "fail", "1e-6·max|g| in one entry (W1)", SIZES, framework="jax",
          located=(0, (2, 3))),
    Entry("tanh-jax-value-and-grad", value_and_grad(), sizes={"small": 1000, "large": 1_000_000}, framework="jax",
          resolution=0.05, resolution_why="jax.grad refuses complex numbers: central differences, whose resolution "
                                        "grows with the size (7.6e-6 at 10³ entries, 2.6e-3 at 10⁶: weaker "
                                        "than min_resolution 1e-3, so inconclusive there)",
          expected_at={"large": "inconclusive"}),
    Entry("tanh-jax-value-and-grad-scaled", value_and_grad("scaled"), "fail", "scaled by 1.001",
          {"small": 1000, "large": 1_000_000}, framework="jax"),
]
