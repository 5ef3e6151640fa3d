"""Two-layer net with ReLU and a squared loss:
a = W1 x + b1,  z = relu(a),  L = ½‖W2 z − t‖².
∂L/∂b1 = 1[a > 0] ⊙ W2ᵀ(W2 z − t);  ∂L/∂W1 = (∂L/∂b1) xᵀ.

Planted: the ReLU's mask missing from the backward pass (as if it were linear).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real
from _helpers import relu, step


def _forward(s):
    a = s.W1 * s.x + s.b1
    z = a.applyfunc(relu)
    return a, z, s.W2 * z - s.t


def L(s):
    r = _forward(s)[2]
    return (r.T * r)[0, 0] / 2


def delta(s, masked=True):
    a, _, r = _forward(s)
    back = s.W2.T * r
    if not masked:
        return back
    return sp.Matrix(back.rows, 1, [step(a[i]) * back[i] for i in range(back.rows)])


def net(masked):
    def two_layer(W1, b1, W2, x, t):
        a = W1 @ x + b1
        z = np.maximum(a, 0.0)
        r = W2 @ z - t
        d = W2.T @ r
        if masked:
            d = d * (a > 0)
        return 0.5 * r @ r, np.outer(d, x), d
    return two_layer


EXPECTED = {"relu-net": ("holds", "none"), "relu-net-mask-missing": ("refuted", "mask missing")}

for _id, _masked in (("relu-net", True), ("relu-net-mask-missing", False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="two-layer ReLU net, squared loss", citation="catalogue: ReLU net",
        dims={"n": (1, 3), "h": (1, 3), "m": (1, 2)},
        variables={"W1": Real("h", "n"), "b1": Real("h"), "W2": Real("m", "h"), "x": Real("n"), "t": Real("m")},
        function=L,
        claims=[Claim("∂L/∂W1", lambda s, k=_masked: delta(s, k) * s.x.T, output="grad_W1", wrt="W1",
                      as_written="(1[a > 0] ⊙ W2ᵀ r) xᵀ" if _masked else "(W2ᵀ r) xᵀ"),
                Claim("∂L/∂b1", lambda s, k=_masked: delta(s, k), output="grad_b1", wrt="b1",
                      as_written="1[a > 0] ⊙ W2ᵀ r" if _masked else "W2ᵀ r")],
        implementation=Implementation(net(_masked), args=("W1", "b1", "W2", "x", "t"),
                                      returns=("L", "grad_W1", "grad_b1")),
        symbolic_sizes=[{"n": 2, "h": 3, "m": 1}, {"n": 3, "h": 2, "m": 4}])
