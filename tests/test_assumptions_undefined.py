"""report --assumptions where the code is undefined without an assumption: dropping it is the answer
"necessary" with the point, never an ERROR row; an implicit assumption of that kind gives
"REFUTED as stated; holds if …"."""

import numpy as np
import pytest

from gradverify import Claim, Derivation, Implementation, Real, Require
from gradverify.checks import Options, check_derivation

OPTIONS = Options(seed=0, examples=15, assumptions=True)


def _code(threshold):
    def det_and_grad(X):
        if abs(np.linalg.det(X)) < threshold:
            raise np.linalg.LinAlgError("Singular matrix")
        inv = np.linalg.inv(X)
        d = np.linalg.det(X)
        return d, d * inv.T
    return det_and_grad


def _det(source="stated", threshold=1e-9, wrong=False):
    return Derivation(
        id="det-inv", title="∂ det X/∂X", dims={"n": (1, 2)}, variables={"X": Real("n", "n")},
        function=lambda s: s.X.det(),
        claims=[Claim("∂det/∂X", (lambda s: s.X.det() * s.X.inv()) if wrong else (lambda s: s.X.adjugate().T),
                      output="grad", wrt="X")],
        assumptions=[Require("X invertible", var="X", source=source, why="" if source == "stated" else "det X ≠ 0",
                             holds=lambda s: abs(np.linalg.det(s.X)) > 1e-3)],
        implementation=Implementation(_code(threshold), args=("X",), returns=("det", "grad")))


def test_dropping_an_assumption_the_code_needs_is_necessary_with_the_point_not_an_error():
    (row,) = check_derivation(_det(), OPTIONS)
    assert row.verdict == "holds", row.as_dict()
    (a,) = row.assumptions
    assert a["necessary"] and a["check"] == "implementation" and "LinAlgError" in a["diagnosis"]
    assert a["counterexample"].startswith("n=")


def test_dropping_an_assumption_outside_of_which_the_function_is_undefined_is_necessary_with_the_point():
    """np.linalg.inv fails only at an exactly singular X, where the spec's X⁻¹ is undefined too: such
    points are outside the function's domain (drawn again), and that is why the assumption is needed."""
    d = _det(threshold=0.0)
    d = Derivation(**{**{f: getattr(d, f) for f in ("id", "title", "dims", "variables", "assumptions",
                                                     "implementation")},
                      "function": d.function,
                      "claims": [Claim("∂det/∂X", lambda s: s.X.det() * s.X.inv().T, output="grad", wrt="X")]})
    (row,) = check_derivation(d, OPTIONS)
    assert row.verdict == "holds", row.as_dict()
    (a,) = row.assumptions
    assert a["necessary"] and a["check"] in ("domain", "implementation"), a
    assert a["counterexample"]


def test_an_implicit_assumption_the_code_needs_gives_refuted_as_stated_holds_if():
    (row,) = check_derivation(_det(source="implicit"), OPTIONS)
    assert row.verdict == "conditional" and row.holds_if == ["X invertible"], row.as_dict()
    assert "as stated" in row.checks["finite_difference"].detail
    assert row.assumptions[0]["necessary"]


def test_a_wrong_claim_with_an_implicit_assumption_the_code_needs_is_still_refuted():
    (row,) = check_derivation(_det(source="implicit", wrong=True), OPTIONS)
    assert row.verdict == "refuted", row.as_dict()


def _det_by_inverse(source):
    """det(X)·X⁻ᵀ, the Cookbook's form: undefined at a singular X, where det's derivative exists."""
    return Derivation(
        id="det-by-inverse", title="∂ det X/∂X", dims={"n": (1, 2)}, variables={"X": Real("n", "n")},
        function=lambda s: s.X.det(),
        claims=[Claim("∂det/∂X", lambda s: s.X.det() * s.X.inv().T, output="grad", wrt="X")],
        assumptions=[Require("X invertible", var="X", source=source, why="the claim uses X⁻¹",
                             holds=lambda s: abs(np.linalg.det(s.X)) > 1e-3)],
        implementation=Implementation(_code(1e-300), args=("X",), returns=("det", "grad")))


def test_an_implicit_assumption_only_the_claim_needs_gives_refuted_as_stated_holds_if():
    (row,) = check_derivation(_det_by_inverse("implicit"), Options(seed=0, examples=15))
    assert row.verdict == "conditional" and row.holds_if == ["X invertible"], row.as_dict()


def test_the_same_claim_with_the_assumption_stated_holds():
    (row,) = check_derivation(_det_by_inverse("stated"), Options(seed=0, examples=15))
    assert row.verdict == "holds", row.as_dict()
