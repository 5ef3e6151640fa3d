"""Mean squared error of a linear model: J = (1/2N) Σ_n (X[n] w − t[n])²;  ∂J/∂w = Xᵀ(Xw − t)/N.

Planted: the 1/N of the mean forgotten in the gradient (the code averages the loss with np.mean
but sums the gradient). The claim is N × the truth: no *constant* factor, so no diagnosis may say
one (read at one size it looked like "2 × true" at N = 2, "4 × true" at N = 4); the factor follows
the dimension N at every size, and the diagnosis says so.
"""

import numpy as np

from gradverify import Claim, Derivation, Implementation, Real


def J(s):
    r = s.X * s.w - s.t
    return (r.T * r)[0, 0] / (2 * s.N)


def mse(mean_in_gradient):
    def loss(X, w, t):
        r = X @ w - t
        g = X.T @ r
        return 0.5 * np.mean(r ** 2), g / len(t) if mean_in_gradient else g
    return loss


EXPECTED = {"mse-mean": ("holds", "none"), "mse-mean-1-over-N-forgotten": ("refuted", "1/N forgotten")}
#: the diagnosis each must get ("" none): the claim is off by N, a factor that changes with the size
DIAGNOSIS = {"mse-mean": "", "mse-mean-1-over-N-forgotten": "off by a factor N: claimed = N × true"}

for _id, _mean in (("mse-mean", True), ("mse-mean-1-over-N-forgotten", False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="mean squared error", citation="catalogue: mean reduction",
        dims={"N": (2, 5), "D": (1, 3)}, variables={"X": Real("N", "D"), "w": Real("D"), "t": Real("N")},
        function=J,
        claims=[Claim("∂J/∂w", (lambda s: s.X.T * (s.X * s.w - s.t) / s.N) if _mean else
                      (lambda s: s.X.T * (s.X * s.w - s.t)), output="g", wrt="w",
                      as_written="Xᵀ(Xw − t)/N" if _mean else "Xᵀ(Xw − t)")],
        implementation=Implementation(mse(_mean), args=("X", "w", "t"), returns=("J", "g")),
        symbolic_sizes=[{"N": 4, "D": 2}, {"N": 3, "D": 1}])
