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

from _declarations import declare

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



def net_code(masked):
    def two_layer(W1, b1, W2, x, t):
        a = W1 @ x + b1
        r = W2 @ jax.nn.relu(a) - t
        d = W2.T @ r
        if masked:
            d = jnp.where(a > 0, d, 0.0)
        return 0.5 * (r @ r), jnp.outer(d, x), d
    return two_layer



def batch_norm_code(ddof):
    def batch_norm(x, dout):
        N = x.shape[0]
        inv = 1.0 / jnp.sqrt(jnp.var(x, axis=0, ddof=ddof) + 1e-5)
        xhat = (x - x.mean(axis=0)) * inv
        dx = (N * dout - dout.sum(axis=0) - xhat * (dout * xhat).sum(axis=0)) * inv / N
        return (dout * xhat).sum(), dx
    return batch_norm



def logistic_code(with_sigma):
    def logistic_loss(X, w, t):
        z = X @ w
        return jax.nn.softplus(z).sum() - t @ z, X.T @ ((jax.nn.sigmoid(z) if with_sigma else z) - t)
    return logistic_loss



def huber_code(clipped):
    def huber_loss(x, t):
        r = x - t
        loss = jnp.where(jnp.abs(r) <= 1, 0.5 * r * r, jnp.abs(r) - 0.5).sum()
        return loss, jnp.clip(r, -1.0, 1.0) if clipped else r
    return huber_loss


globals().update({name.replace("-", "_"): d for name, d in declare(
    "jax", softmax_ce=softmax_ce_code, relu_net=net_code,
    batch_norm=lambda wrong: batch_norm_code(1 if wrong else 0), batch_norm_wrong="-ddof-1",
    logistic_loss=logistic_code, huber_loss=huber_code).items()})
