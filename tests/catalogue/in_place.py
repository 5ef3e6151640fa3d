"""Centring: J = ½‖x − mean(x)‖²;  ∂J/∂x = x − mean(x).

The planted version centres its argument in place (`x -= x.mean()`): the caller's array
changes. The right verdict is an error that names the argument.
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real


def _centred(s):
    return s.x - sp.ones(s.n, 1) * (sum(s.x) / s.n)


def J(s):
    c = _centred(s)
    return (c.T * c)[0, 0] / 2


def copy_centre(x):
    c = x - x.mean()
    return 0.5 * c @ c, c


def in_place_centre(x):
    x -= x.mean()
    return 0.5 * x @ x, x.copy()


EXPECTED = {"centre": ("holds", "none"),
            "centre-in-place": ("error", "modifies its argument `x` in place")}

for _id, _fn in (("centre", copy_centre), ("centre-in-place", in_place_centre)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="centring", citation="catalogue: in-place normalisation",
        dims={"n": (2, 4)}, variables={"x": Real("n")}, function=J,
        claims=[Claim("∂J/∂x", _centred, output="grad_x", wrt="x", as_written="x − mean(x)")],
        implementation=Implementation(_fn, args=("x",), returns=("J", "grad_x")),
        symbolic_sizes=[{"n": 2}, {"n": 3}])
