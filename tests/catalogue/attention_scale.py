"""Single-query attention J = wᵀ Vᵀ softmax(K q / √d);  ∂J/∂q = Kᵀ (a ⊙ (g − aᵀg)) / √d, g = V w.

Planted: the 1/√d of the scaled score forgotten in the claim (the code scales its scores, its
gradient does not). The claim is √d × the truth: 1.414 × at d = 2, 1.732 × at d = 3, no *constant*
factor, so no diagnosis may say one (where most failing points fell at d = 3 it said "1.732 × true"
beside a counterexample at d = 2).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


def _attention(s):
    scores = s.K * s.q / sp.sqrt(s.d)
    total = sum(sp.exp(v) for v in scores)
    return sp.Matrix(s.T, 1, [sp.exp(v) / total for v in scores])


def J(s):
    return (s.w.T * s.V.T * _attention(s))[0, 0]


def dq(scaled):
    def claim(s):
        a, g = _attention(s), s.V * s.w
        ag = (a.T * g)[0, 0]
        out = s.K.T * sp.Matrix(s.T, 1, [a[i] * (g[i] - ag) for i in range(s.T)])
        return out / sp.sqrt(s.d) if scaled else out
    return claim


def attention(scaled):
    def loss(q, K, V, w):
        scores = K @ q / np.sqrt(q.shape[0])
        e = np.exp(scores - scores.max())
        a = e / e.sum()
        g = V @ w
        grad = K.T @ (a * (g - a @ g))
        return w @ (V.T @ a), grad / np.sqrt(q.shape[0]) if scaled else grad
    return loss


EXPECTED = {"attention-scaled": ("holds", "none"), "attention-sqrt-d-forgotten": ("refuted", "1/√d forgotten")}
#: "" none: the claim is off by √d, a factor that changes with the size
DIAGNOSIS = {"attention-scaled": "", "attention-sqrt-d-forgotten": ""}

for _id, _scaled in (("attention-scaled", True), ("attention-sqrt-d-forgotten", False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="single-query attention", citation="catalogue: attention's 1/√d",
        dims={"T": (2, 4), "d": (1, 3), "e": (1, 3)},
        variables={"q": Real("d"), "K": Real("T", "d"), "V": Real("T", "e"), "w": Real("e")}, function=J,
        claims=[Claim("∂J/∂q", dq(_scaled), output="dq", wrt="q",
                      as_written="Kᵀ(a ⊙ (g − aᵀg))/√d" if _scaled else "Kᵀ(a ⊙ (g − aᵀg))")],
        implementation=Implementation(attention(_scaled), args=("q", "K", "V", "w"), returns=("J", "dq")),
        symbolic_sizes=[{"T": 3, "d": 2, "e": 4}, {"T": 2, "d": 3, "e": 1}])
