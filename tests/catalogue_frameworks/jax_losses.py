"""Ordinary losses written in jax, as a jax user writes them (jax.nn.log_softmax, jax.nn.relu,
jnp.var, jnp.where, jax.jit), each beside the specs of the numpy catalogue; right and planted
wrong:

- softmax cross-entropy through jax.nn.log_softmax, under jax.jit; planted: the sign flipped;
- a two-layer ReLU net (kinks) with jax.nn.relu; planted: the mask missing;
- batch norm with jnp.var (ddof=0, as the math); planted: ddof=1;
- logistic regression with jax.nn.sigmoid and jax.nn.softplus; planted: σ dropped;
- Huber through jnp.clip and jnp.where (kinks at |r| = 1); planted: the claim r everywhere.
"""

import jax
import jax.numpy as jnp

import batch_norm as bn
import huber
import logistic
import relu_two_layer as net
import softmax_ce as ce
from gradverify import Claim, Derivation, Implementation, Index, Real

EXPECTED = {
    "jax-softmax-ce": ("holds", "none"), "jax-softmax-ce-sign-flipped": ("refuted", "sign flipped"),
    "jax-relu-net": ("holds", "none"), "jax-relu-net-mask-missing": ("refuted", "mask missing"),
    "jax-batch-norm": ("holds", "none"), "jax-batch-norm-ddof-1": ("refuted", "jnp.var with ddof=1"),
    "jax-logistic": ("holds", "none"), "jax-logistic-no-sigma": ("refuted", "σ dropped"),
    "jax-huber": ("holds", "none"), "jax-huber-wrong-outside": ("refuted", "wrong only for |r| > 1"),
}


def softmax_ce_code(sign):
    @jax.jit
    def softmax_ce(W, x, y):
        logp = jax.nn.log_softmax(W @ x)
        p = jnp.exp(logp).at[y].add(-1.0)
        return -logp[y], sign * jnp.outer(p, x)
    return softmax_ce


for _id, _sign in (("jax-softmax-ce", 1), ("jax-softmax-ce-sign-flipped", -1)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="softmax classifier, cross-entropy (jax)", citation="catalogue: softmax classifier",
        dims={"C": (2, 4), "D": (1, 3)}, variables={"W": Real("C", "D"), "x": Real("D"), "y": Index("C")},
        function=ce.L, claims=[Claim("∂L/∂W", lambda s, k=_sign: ce.grad(s, k), output="grad_W", wrt="W")],
        implementation=Implementation(softmax_ce_code(_sign), args=("W", "x", "y"), returns=("L", "grad_W")),
        symbolic_sizes=[{"C": 3, "D": 2}, {"C": 2, "D": 4}])


def net_code(masked):
    def two_layer(W1, b1, W2, x, t):
        a = W1 @ x + b1
        r = W2 @ jax.nn.relu(a) - t
        d = W2.T @ r
        if masked:
            d = jnp.where(a > 0, d, 0.0)
        return 0.5 * (r @ r), jnp.outer(d, x), d
    return two_layer


for _id, _masked in (("jax-relu-net", True), ("jax-relu-net-mask-missing", False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="two-layer ReLU net (jax)", citation="catalogue: two-layer net",
        dims={"n": (1, 3), "h": (1, 3), "m": (1, 2)},
        variables={"W1": Real("h", "n"), "b1": Real("h"), "W2": Real("m", "h"), "x": Real("n"), "t": Real("m")},
        function=net.L,
        claims=[Claim("∂L/∂W1", lambda s, k=_masked: net.delta(s, k) * s.x.T, output="grad_W1", wrt="W1"),
                Claim("∂L/∂b1", lambda s, k=_masked: net.delta(s, k), output="grad_b1", wrt="b1")],
        implementation=Implementation(net_code(_masked), args=("W1", "b1", "W2", "x", "t"),
                                      returns=("L", "grad_W1", "grad_b1")),
        symbolic_sizes=[{"n": 2, "h": 3, "m": 1}])


def batch_norm_code(ddof):
    def batch_norm(x, dout):
        N = x.shape[0]
        inv = 1.0 / jnp.sqrt(jnp.var(x, axis=0, ddof=ddof) + 1e-5)
        xhat = (x - x.mean(axis=0)) * inv
        dx = (N * dout - dout.sum(axis=0) - xhat * (dout * xhat).sum(axis=0)) * inv / N
        return (dout * xhat).sum(), dx
    return batch_norm


for _id, _ddof in (("jax-batch-norm", 0), ("jax-batch-norm-ddof-1", 1)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="batch norm (jax)", citation="catalogue: batch norm",
        dims={"N": (2, 3), "D": (1, 2)}, variables={"x": Real("N", "D"), "dout": Real("N", "D")}, function=bn.J,
        claims=[Claim("∂J/∂x", bn.grad, output="dx", wrt="x")],
        implementation=Implementation(batch_norm_code(_ddof), args=("x", "dout"), returns=("J", "dx")),
        symbolic_sizes=[{"N": 2, "D": 1}, {"N": 3, "D": 2}])


def logistic_code(with_sigma):
    def logistic_loss(X, w, t):
        z = X @ w
        return jax.nn.softplus(z).sum() - t @ z, X.T @ ((jax.nn.sigmoid(z) if with_sigma else z) - t)
    return logistic_loss


for _id, _claim, _sig in (("jax-logistic", logistic.right, True), ("jax-logistic-no-sigma", logistic.no_sigma, False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="logistic regression (jax)", citation="catalogue: logistic regression",
        dims={"N": (1, 3), "D": (1, 3)}, variables={"X": Real("N", "D"), "w": Real("D"), "t": Real("N")},
        function=logistic.L, claims=[Claim("∂L/∂w", _claim, output="grad_w", wrt="w")],
        implementation=Implementation(logistic_code(_sig), args=("X", "w", "t"), returns=("L", "grad_w")))


def huber_code(clipped):
    def huber_loss(x, t):
        r = x - t
        loss = jnp.where(jnp.abs(r) <= 1, 0.5 * r * r, jnp.abs(r) - 0.5).sum()
        return loss, jnp.clip(r, -1.0, 1.0) if clipped else r
    return huber_loss


for _id, _claim, _clip in (("jax-huber", huber.right, True), ("jax-huber-wrong-outside", huber.outside_wrong, False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="Huber loss (jax)", citation="catalogue: Huber",
        dims={"n": (1, 4)}, variables={"x": Real("n"), "t": Real("n")}, function=huber.J,
        claims=[Claim("∂J/∂x", _claim, output="grad_x", wrt="x")],
        implementation=Implementation(huber_code(_clip), args=("x", "t"), returns=("J", "grad_x")))
