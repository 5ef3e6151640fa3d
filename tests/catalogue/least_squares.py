"""Linear least squares (the README's example): J = ½‖W x − t‖²;  ∂J/∂x = Wᵀ (W x − t).

Planted: the code adds np.random.normal noise to its gradient, at scale 1 and at 1e-3
(a right spec, a gradient that is not the derivative of the value).
"""

import numpy as np

from gradverify import Claim, Derivation, Implementation, Real


def J(s):
    r = s.W * s.x - s.t
    return (r.T * r)[0, 0] / 2


def dJ_dx(s):
    return s.W.T * (s.W * s.x - s.t)


def code(noise):
    def least_squares(W, x, t):
        r = W @ x - t
        g = W.T @ r
        if noise:
            g = g + noise * np.random.normal(size=x.shape)
        return 0.5 * r @ r, g
    return least_squares


EXPECTED = {"least-squares": ("holds", "none"),
            "least-squares-noise-1": ("refuted", "np.random.normal noise (scale 1) in the gradient"),
            "least-squares-noise-1e-3": ("refuted", "np.random.normal noise (scale 1e-3) in the gradient")}

for _id, _noise in (("least-squares", 0.0), ("least-squares-noise-1", 1.0), ("least-squares-noise-1e-3", 1e-3)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="linear least squares", citation="catalogue: least squares (README)",
        dims={"m": (1, 4), "n": (1, 4)},
        variables={"W": Real("m", "n"), "x": Real("n"), "t": Real("m")}, function=J,
        claims=[Claim("∂J/∂x", dJ_dx, output="grad_x", wrt="x", as_written="Wᵀ (W x − t)")],
        implementation=Implementation(code(_noise), args=("W", "x", "t"), returns=("J", "grad_x")),
        symbolic_sizes=[{"m": 2, "n": 3}, {"m": 4, "n": 1}])
