"""Stochastic mini-batch least squares: the code draws its batch with np.random on every call.
J = (1/B) Σ_b ½ (X[i_b] w − t[i_b])²,  ∂J/∂w = (1/B) Σ_b X[i_b]ᵀ (X[i_b] w − t[i_b]),
with i_1 … i_B = np.random.randint(0, N, size=B).

gradverify seeds the global np.random and random states with `numeric.PINNED_SEED` before
every call of code that draws from them (what word2vec's assignment harness does), so
the spec names the batch that draw gives. Planted: the code's gradient sign-flipped (the spec
right): before the fix each rerun drew a new batch and the difference was read as rounding
noise, and the flip passed.
"""

import numpy as np

from gradverify import Claim, Derivation, Implementation, Real
from gradverify.numeric import PINNED_SEED

B = 2


def batch(N):
    """The batch np.random.randint(0, N, size=B) draws right after np.random.seed(PINNED_SEED)."""
    return [int(i) for i in np.random.RandomState(PINNED_SEED).randint(0, N, size=B)]


def J(s):
    r = [(s.X[i, :] * s.w)[0, 0] - s.t[i] for i in batch(s.N)]
    return sum(ri ** 2 for ri in r) / (2 * B)


def dJ_dw(s):
    out = 0 * s.w
    for i in batch(s.N):
        out += s.X[i, :].T * ((s.X[i, :] * s.w)[0, 0] - s.t[i])
    return out / B


def code(sign):
    def minibatch(X, w, t):
        idx = np.random.randint(0, X.shape[0], size=B)
        r = X[idx] @ w - t[idx]
        return 0.5 * r @ r / B, sign * X[idx].T @ r / B
    return minibatch


EXPECTED = {"minibatch": ("holds", "none"),
            "minibatch-sign-flipped": ("refuted", "code's gradient sign-flipped (spec right)")}

for _id, _sign in (("minibatch", 1.0), ("minibatch-sign-flipped", -1.0)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="mini-batch least squares (np.random batch)", citation="catalogue: stochastic loss",
        dims={"N": (3, 5), "D": (1, 3)},
        variables={"X": Real("N", "D"), "w": Real("D"), "t": Real("N")}, function=J,
        claims=[Claim("∂J/∂w", dJ_dw, output="grad_w", wrt="w", as_written="(1/B) Σ_b x_bᵀ (x_b w − t_b)")],
        implementation=Implementation(code(_sign), args=("X", "w", "t"), returns=("J", "grad_w")),
        symbolic_sizes=[{"N": 4, "D": 2}, {"N": 3, "D": 1}])
