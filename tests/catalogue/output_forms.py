"""J = ½‖x‖², ∂J/∂x = x, returned in the forms ordinary code returns things: the gradient as a
Python list, the outputs as a namedtuple. Planted: the loss returned as a 1-entry array (shape
(1,)), an error whose message says to return a scalar.
"""

from collections import namedtuple

import numpy as np

from gradverify import Claim, Derivation, Implementation, Real

Out = namedtuple("Out", "J g")


def J(s):
    return sum(s.x[i] ** 2 for i in range(s.n)) / 2


CODE = {
    "grad-as-list": lambda x: (0.5 * float(x @ x), [float(v) for v in x]),
    "outputs-as-namedtuple": lambda x: Out(0.5 * x @ x, x.copy()),
    "loss-as-1-entry-array": lambda x: (np.array([0.5 * x @ x]), x.copy()),
}

EXPECTED = {"grad-as-list": ("holds", "none"), "outputs-as-namedtuple": ("holds", "none"),
            "loss-as-1-entry-array": ("error", "return a scalar")}

for _id, _code in CODE.items():
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="½‖x‖², outputs in ordinary forms", citation="catalogue: output forms",
        dims={"n": (1, 3)}, variables={"x": Real("n")}, function=J,
        claims=[Claim("∂J/∂x", lambda s: s.x, output="g", wrt="x")],
        implementation=Implementation(_code, args=("x",), returns=("J", "g")),
        symbolic_sizes=[{"n": 2}, {"n": 3}])
