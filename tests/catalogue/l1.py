"""L1: J = Σ |x_i|;  ∂J/∂x = sign(x) (0 at 0, a subgradient).

Planted: the mask missing (1 everywhere: |x| read as x).
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


def J(s):
    return sum(sp.Abs(xi) for xi in s.x)


EXPECTED = {"l1": ("holds", "none"), "l1-mask-missing": ("refuted", "mask missing")}

l1 = Derivation(
    id="l1", title="Σ |x|", citation="catalogue: L1",
    dims={"n": (1, 4)}, variables={"x": Real("n")}, function=J,
    claims=[Claim("∂J/∂x", lambda s: s.x.applyfunc(sp.sign), output="grad_x", wrt="x", as_written="sign(x)")],
    implementation=Implementation(lambda x: (np.abs(x).sum(), np.sign(x)), args=("x",), returns=("J", "grad_x")),
    symbolic_sizes=[{"n": 2}, {"n": 3}])

l1_mask_missing = Derivation(
    id="l1-mask-missing", title="Σ |x|", citation="catalogue: L1",
    dims={"n": (1, 4)}, variables={"x": Real("n")}, function=J,
    claims=[Claim("∂J/∂x", lambda s: sp.ones(s.n, 1), output="grad_x", wrt="x", as_written="1")],
    implementation=Implementation(lambda x: (np.abs(x).sum(), np.ones_like(x)), args=("x",),
                                  returns=("J", "grad_x")),
    symbolic_sizes=[{"n": 2}, {"n": 3}])
