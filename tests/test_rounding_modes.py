"""The rounding direction switched for a call, and what it shows of code that hides its arithmetic."""

import numpy as np
import pytest

from gradverify import rounding_modes
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real
from gradverify.checks import Options, check_derivation

pytestmark = pytest.mark.skipif(not rounding_modes.available(), reason="no fesetround on this platform")


def _cancelling():
    return 1.0 - 1.0 / (1.0 + np.exp(-50.0))  # Python floats: no numpy hook sees this


def _third(one=1.0, three=3.0):
    return one / three  # at run time (a literal 1.0 / 3.0 is folded when the test is compiled); nearest is below


def _tenths(a=0.1, b=0.2):
    return a + b  # nearest is above: 0.30000000000000004


@pytest.mark.parametrize("direction", rounding_modes.DIRECTIONS)
def test_each_direction_rounds_its_own_way_and_nearest_comes_back(direction):
    with rounding_modes.directed(direction):
        third, tenths = _third(), _tenths()
    if direction == "upward":
        assert third > _third() and tenths == _tenths()
    else:  # downward, and toward zero for positive numbers
        assert third == _third() and tenths < _tenths()
    assert _tenths() == 0.30000000000000004  # to nearest again


def test_upward_rounding_moves_the_cancellation_and_an_exception_restores_nearest():
    with rounding_modes.directed("upward"):
        assert _cancelling() > 0.0
    with pytest.raises(ZeroDivisionError):
        with rounding_modes.directed("downward"):
            1 / 0
    assert _third() == 0.3333333333333333  # to nearest after the exception


def _softplus(copy, sign=1.0):
    def code(x):
        if copy:
            x = np.array(x)  # a defensive copy: x leaves Monte Carlo arithmetic's watch
        return np.logaddexp(0.0, x).sum(), sign * (1.0 - 1.0 / (1.0 + np.exp(x)))
    return Derivation(
        id=f"softplus-{'copy' if copy else 'plain'}-{sign:+g}", title="softplus", dims={"n": (1, 3)},
        variables={"x": Real("n")}, function=lambda s: sum(sp.log(1 + sp.exp(v)) for v in s.x),
        claims=[Claim("∂J/∂x", lambda s: s.x.applyfunc(lambda v: sign / (1 + sp.exp(-v))), output="g", wrt="x")],
        implementation=Implementation(code, args=("x",), returns=("J", "g")),
        symbolic_sizes=[{"n": 2}], scales=(1e-3, 1.0, 50.0))


@pytest.mark.parametrize("copy", [False, True], ids=["plain", "copied-input"])
def test_a_right_gradient_computed_by_cancellation_holds_even_when_the_code_copies_its_input(copy):
    """σ(x) as 1 − 1/(1 + eˣ) is 0 at x = −50 in float64 (σ = 1.9e-22): rounding, not a wrong gradient.
    With x = np.array(x) first, Monte Carlo arithmetic saw nothing and the spec's own formula has no
    cancellation: REFUTED (agreement > 999×). The directed rounding modes see it."""
    options = Options(seed=0, examples=25, symbolic_configs=1)
    rows = check_derivation(_softplus(copy), options)
    assert [r.verdict for r in rows] == ["holds"], [r.checks for r in rows]
    wrong = check_derivation(_softplus(copy, sign=-1.0), options)
    assert [r.verdict for r in wrong] == ["refuted"]
