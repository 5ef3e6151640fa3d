"""Planted mistakes whose diagnosis must be said, in mathematics:

* a constant factor within 1e-6 of 1 (the claim scaled by 1 − 1e-6);
* an extra term that is one of the claim's own (ridge regression's λw added to a gradient whose
  function has no penalty);
* a missing term that is one of the true derivative's (KL(p‖q) between softmaxes, the gradient
  of its entropy part dropped).

Each relation holds at every point and every size, so the diagnosis is stated; the right
versions get none.
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real

LAMBDA = sp.Rational(1, 10)


def sq_loss(s):
    r = s.X * s.w - s.t
    return (r.T * r)[0, 0] / 2


def sq_grad(s, factor=1, ridge=False):
    g = s.X.T * (s.X * s.w - s.t) * factor
    return g + LAMBDA * s.w if ridge else g


def sq_code(factor=1.0, ridge=False):
    def f(X, w, t):
        r = X @ w - t
        g = X.T @ r * factor
        return 0.5 * float(r @ r), (g + 0.1 * w if ridge else g)
    return f


def _softmax(z):
    m = [sp.exp(v) for v in z]
    total = sum(m)
    return [v / total for v in m]


def kl(s):
    p, q = _softmax(list(s.a)), _softmax(list(s.b))
    return sum(pi * (sp.log(pi) - sp.log(qi)) for pi, qi in zip(p, q))


def kl_grad_a(s, entropy_part=True):
    p, q = _softmax(list(s.a)), _softmax(list(s.b))
    logr = [sp.log(pi) - sp.log(qi) for pi, qi in zip(p, q)]
    mean = sum(pi * li for pi, li in zip(p, logr))
    return sp.Matrix(len(p), 1, [pi * (li - mean) for pi, li in zip(p, logr)]) if entropy_part else \
        sp.Matrix(len(p), 1, [pi * (-sp.log(qi) + sum(pj * sp.log(qj) for pj, qj in zip(p, q)))
                              for pi, qi in zip(p, q)])


def kl_code(entropy_part=True):
    def f(a, b):
        p = np.exp(a - a.max()); p /= p.sum()
        q = np.exp(b - b.max()); q /= q.sum()
        logr = np.log(p) - np.log(q)
        value = float(p @ logr)
        if entropy_part:
            return value, p * (logr - value)
        return value, p * (-np.log(q) + p @ np.log(q))
    return f


EXPECTED = {"least-squares-scaled-1e-6": ("refuted", "claim × (1 − 1e-6)"),
            "least-squares-extra-ridge": ("refuted", "λw added, no penalty in the function"),
            "kl-softmax": ("holds", "none"),
            "kl-softmax-missing-entropy-term": ("refuted", "the entropy part's gradient dropped")}
DIAGNOSIS = {"least-squares-scaled-1e-6": "off by a constant factor: claimed = 0.999999 × true",
             "least-squares-extra-ridge": "extra term: ",
             "kl-softmax": "",
             "kl-softmax-missing-entropy-term": "missing term: "}

_sq = dict(dims={"N": (2, 4), "D": (1, 3)}, variables={"X": Real("N", "D"), "w": Real("D"), "t": Real("N")},
           function=sq_loss, symbolic_sizes=[{"N": 3, "D": 2}, {"N": 4, "D": 1}])
least_squares_scaled_1e_6 = Derivation(
    id="least-squares-scaled-1e-6", title="least squares", citation="catalogue: diagnoses", **_sq,
    claims=[Claim("∂J/∂w", lambda s: sq_grad(s, factor=1 - sp.Rational(1, 10 ** 6)), output="g", wrt="w")],
    implementation=Implementation(sq_code(factor=1 - 1e-6), args=("X", "w", "t"), returns=("J", "g")))
least_squares_extra_ridge = Derivation(
    id="least-squares-extra-ridge", title="least squares", citation="catalogue: diagnoses", **_sq,
    claims=[Claim("∂J/∂w", lambda s: sq_grad(s, ridge=True), output="g", wrt="w")],
    implementation=Implementation(sq_code(ridge=True), args=("X", "w", "t"), returns=("J", "g")))

for _id, _part in (("kl-softmax", True), ("kl-softmax-missing-entropy-term", False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="KL(softmax(a) ‖ softmax(b))", citation="catalogue: diagnoses",
        dims={"d": (2, 4)}, variables={"a": Real("d"), "b": Real("d")}, function=kl,
        claims=[Claim("∂KL/∂a", lambda s, e=_part: kl_grad_a(s, e), output="g", wrt="a")],
        implementation=Implementation(kl_code(_part), args=("a", "b"), returns=("KL", "g")),
        symbolic_sizes=[{"d": 2}, {"d": 3}])
