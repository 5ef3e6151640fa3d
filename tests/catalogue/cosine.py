"""Cosine-similarity loss: L = 1 − aᵀb / (‖a‖ ‖b‖);
∂L/∂a = −(b / (‖a‖‖b‖) − (aᵀb) a / (‖a‖³‖b‖)), for a and b away from 0 (a `Require` the
derivation states: ‖a‖, ‖b‖ > 1e-2, which no point at the 1e-3 scale meets).

Planted: the sign of the gradient flipped.
"""

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real, Require


def L(s):
    ab = (s.a.T * s.b)[0, 0]
    return 1 - ab / (sp.sqrt((s.a.T * s.a)[0, 0]) * sp.sqrt((s.b.T * s.b)[0, 0]))


def dL_da(s, sign=-1):
    ab = (s.a.T * s.b)[0, 0]
    na, nb = sp.sqrt((s.a.T * s.a)[0, 0]), sp.sqrt((s.b.T * s.b)[0, 0])
    return sign * (s.b / (na * nb) - ab / (na ** 3 * nb) * s.a)


def cosine_loss(sign):
    def loss(a, b):
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        c = a @ b / (na * nb)
        return 1 - c, sign * (b / (na * nb) - c * a / na ** 2)
    return loss


away_from_zero = Require("a and b are not near 0", var="a",
                         holds=lambda s: np.linalg.norm(s.a) > 1e-2 and np.linalg.norm(s.b) > 1e-2)

EXPECTED = {"cosine": ("holds", "none"), "cosine-sign-flipped": ("refuted", "sign flipped")}
DIAGNOSIS = {"cosine": "", "cosine-sign-flipped": "sign flipped"}

for _id, _sign in (("cosine", -1), ("cosine-sign-flipped", 1)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="cosine-similarity loss", citation="catalogue: cosine similarity",
        dims={"d": (1, 4)}, variables={"a": Real("d"), "b": Real("d")}, function=L,
        claims=[Claim("∂L/∂a", lambda s, k=_sign: dL_da(s, k), output="ga", wrt="a")],
        assumptions=[away_from_zero],
        implementation=Implementation(cosine_loss(float(_sign)), args=("a", "b"), returns=("L", "ga")),
        symbolic_sizes=[{"d": 2}, {"d": 3}])
