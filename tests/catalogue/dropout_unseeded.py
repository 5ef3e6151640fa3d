"""Dropout with its own unseeded generator: J = ½‖m ⊙ x‖² / (1 − q), m ~ Bernoulli(1 − q), q = ½.

The mask comes from `np.random.default_rng()` on every call: no seeding of the global state
makes two calls agree. The spec cannot say which mask; the right verdict is an error
("not deterministic"), never a pass.
"""

import numpy as np

from gradverify import Claim, Derivation, Implementation, Real


def J(s):
    return (s.x.T * s.x)[0, 0]


def dropout(x):
    m = np.random.default_rng().random(x.shape) > 0.5
    y = m * x * 2.0
    return 0.5 * y @ x, y


EXPECTED = {"dropout-unseeded": ("error", "not deterministic")}

dropout_unseeded = Derivation(
    id="dropout-unseeded", title="dropout, unseeded generator", citation="catalogue: dropout",
    # 16+ entries: two masks agree by chance with probability ≤ 2⁻¹⁶ (hypothesis replays a failing
    # example, and a replay that happens to agree would read as a flaky test, not as the finding)
    dims={"n": (16, 18)}, variables={"x": Real("n")}, function=J,
    claims=[Claim("∂J/∂x", lambda s: 2 * s.x, output="grad_x", wrt="x", as_written="2 m ⊙ x")],
    implementation=Implementation(dropout, args=("x",), returns=("J", "grad_x")),
    symbolic_sizes=[{"n": 2}, {"n": 3}])
