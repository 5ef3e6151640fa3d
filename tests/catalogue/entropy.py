"""Negative entropy: J = Σ p log p;  ∂J/∂p = log p + 1.

Defined for p > 0: p is declared `Real("n", domain="positive")`, so inputs are drawn there
(without it the first example, all zeros, gives log 0). Planted: the +1 dropped.
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


def J(s):
    return sum(pi * sp.log(pi) for pi in s.p)


EXPECTED = {"entropy": ("holds", "none"), "entropy-dropped-term": ("refuted", "dropped term (+1)")}

for _id, _one in (("entropy", 1.0), ("entropy-dropped-term", 0.0)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="Σ p log p", citation="catalogue: entropy",
        dims={"n": (1, 4)}, variables={"p": Real("n", domain="positive")}, function=J,
        claims=[Claim("∂J/∂p", lambda s, k=_one: s.p.applyfunc(lambda v: sp.log(v) + int(k)), output="grad_p",
                      wrt="p", as_written="log p + 1" if _one else "log p")],
        implementation=Implementation(lambda p, k=_one: (np.sum(p * np.log(p)), np.log(p) + k), args=("p",),
                                      returns=("J", "grad_p")),
        symbolic_sizes=[{"n": 2}, {"n": 3}])
