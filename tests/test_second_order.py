"""Claim(..., order=2) in derivation files: a second derivative checked three ways (sympy's second
derivative, central differences of the implementation's gradient, agreement with the spec), failing
on planted mistakes and holding when right."""

import numpy as np
import pytest
import sympy as sp

from conftest import FAST, by_claim
from gradverify import Claim, Derivation, Implementation, InvalidArgument, Real, check_derivation


def _quartic(code_H, spec_H=None, wrt=("x", "x"), order=1, gradient=True):
    """f(x) = Σ_i x_i⁴/4 + (aᵀx)²/2: ∇f = x³ + a (aᵀx), ∇²f = diag(3x²) + a aᵀ."""
    def spec_hessian(s):
        return sp.diag(*[3 * s.x[i] ** 2 for i in range(s.n)]) + s.a * s.a.T

    def code(x, a):
        return np.sum(x ** 4) / 4 + (a @ x) ** 2 / 2, x ** 3 + a * (a @ x), code_H(x, a)

    claims = [Claim("∇²f", spec_H or spec_hessian, output="H", wrt=wrt, order=order)]
    if gradient:
        claims.insert(0, Claim("∇f", lambda s: s.x.applyfunc(lambda t: t ** 3) + s.a * (s.a.T * s.x)[0, 0],
                               output="g", wrt="x"))
    return Derivation(
        id="quartic", title="quartic", dims={"n": (2, 4)}, variables={"x": Real("n"), "a": Real("n")},
        function=lambda s: sum(s.x[i] ** 4 for i in range(s.n)) / 4 + (s.a.T * s.x)[0, 0] ** 2 / 2,
        claims=claims, implementation=Implementation(code, args=("x", "a"), returns=("f", "g", "H")))


def _right(x, a):
    return np.diag(3 * x ** 2) + np.outer(a, a)


def test_a_right_hessian_holds_by_all_three_checks():
    rows = by_claim(check_derivation(_quartic(_right), FAST))
    assert rows["∇²f"].verdict == "holds", rows["∇²f"].message
    assert {k: c.status for k, c in rows["∇²f"].checks.items()} == {"symbolic": "proved", "finite_difference": "pass",
                                                                     "agreement": "pass"}


def test_order_2_and_wrt_twice_say_the_same():
    d = _quartic(_right, wrt="x", order=2)
    assert d.claims[1].order == 2 and d.claims[1].wrt == "x"
    twice = _quartic(_right).claims[1]
    assert (twice.order, twice.wrt) == (2, "x")


@pytest.mark.parametrize("code_H, spec_H", [
    pytest.param(lambda x, a: np.diag(3 * x ** 2), lambda s: sp.diag(*[3 * s.x[i] ** 2 for i in range(s.n)]),
                 id="dropped-term"),
    pytest.param(lambda x, a: -(np.diag(3 * x ** 2) + np.outer(a, a)),
                 lambda s: -(sp.diag(*[3 * s.x[i] ** 2 for i in range(s.n)]) + s.a * s.a.T), id="flipped-sign"),
    pytest.param(lambda x, a: np.diag(x ** 2) + np.outer(a, a),
                 lambda s: sp.diag(*[s.x[i] ** 2 for i in range(s.n)]) + s.a * s.a.T, id="factor-3-forgotten"),
])
def test_a_wrong_hessian_is_refuted_by_sympy_and_by_the_gradient_code(code_H, spec_H):
    row = by_claim(check_derivation(_quartic(code_H, spec_H), FAST))["∇²f"]
    assert row.verdict == "refuted"
    assert row.checks["symbolic"].status == "refuted" and row.checks["finite_difference"].status == "fail"
    assert row.checks["agreement"].status == "pass"  # the code makes the spec's mistake


def test_code_that_differs_from_a_right_spec_fails_agreement_and_finite_differences():
    def one_entry_off(x, a):
        H = _right(x, a)
        H[0, 1] += 0.5
        return H

    row = by_claim(check_derivation(_quartic(one_entry_off), FAST))["∇²f"]
    assert row.verdict == "refuted"
    assert row.checks["symbolic"].status == "proved"
    assert row.checks["finite_difference"].status == "fail" and row.checks["agreement"].status == "fail"


def test_a_non_symmetric_transposed_cross_term_is_refuted():
    """f = x₀² x₁: ∂²f/∂x∂x is symmetric; a claim [[2x₁, 0], [2x₀, 0]] (a row and column swapped) is not."""
    def code(x):
        return x[0] ** 2 * x[1], np.array([2 * x[0] * x[1], x[0] ** 2]), np.array([[2 * x[1], 0.0], [2 * x[0], 0.0]])

    d = Derivation(
        id="cross", title="cross", dims={"n": (2, 2)}, variables={"x": Real("n")},
        function=lambda s: s.x[0] ** 2 * s.x[1],
        claims=[Claim("∇f", lambda s: sp.Matrix([2 * s.x[0] * s.x[1], s.x[0] ** 2]), output="g", wrt="x"),
                Claim("∇²f", lambda s: sp.Matrix([[2 * s.x[1], 0], [2 * s.x[0], 0]]), output="H", wrt="x", order=2)],
        implementation=Implementation(code, args=("x",), returns=("f", "g", "H")), symbolic_sizes=[{"n": 2}])
    row = by_claim(check_derivation(d, FAST))["∇²f"]
    assert row.verdict == "refuted"
    assert row.checks["symbolic"].status == "refuted" and row.checks["finite_difference"].status == "fail"


@pytest.mark.parametrize("make, words", [
    pytest.param(lambda: _quartic(_right, gradient=False), "a first-order claim ∂f/∂x", id="no-gradient-claim"),
    pytest.param(lambda: _quartic(_right, wrt="x", order=3), "order=1", id="order-3"),
    pytest.param(lambda: _quartic(_right, wrt=("x", "a")), "Mixed second derivatives", id="mixed"),
    pytest.param(lambda: _quartic(_right, wrt=("x", "x", "x")), r'\("x", "x"\)', id="third-order-wrt"),
])
def test_bad_second_order_claims_are_refused_at_registration(make, words):
    with pytest.raises(InvalidArgument, match=words):
        make()


def test_a_second_derivative_of_a_vector_function_is_an_error_row():
    d = Derivation(
        id="vec", title="vec", dims={"n": (2, 3)}, variables={"x": Real("n")}, function=lambda s: s.x,
        claims=[Claim("J", lambda s: sp.eye(s.n), output="J", wrt="x"),
                Claim("H", lambda s: sp.zeros(s.n, s.n), output="H", wrt="x", order=2)],
        implementation=Implementation(lambda x: (x, np.eye(len(x)), np.zeros((len(x),) * 2)), args=("x",),
                                      returns=("y", "J", "H")))
    row = by_claim(check_derivation(d, FAST))["H"]
    assert row.verdict == "error" and "scalar function" in row.message


def test_a_column_of_the_hessian_selected_with_index():
    def column(s, factor=3):
        return sp.Matrix([factor * s.x[0] ** 2 if i == 0 else 0 for i in range(s.n)]) + s.a * s.a[0]

    def code(factor):
        def fn(x, a):
            H = np.diag(factor * x ** 2) + np.outer(a, a)
            return np.sum(x ** 4) / 4 + (a @ x) ** 2 / 2, x ** 3 + a * (a @ x), H
        return fn

    def derivation(factor):
        return Derivation(
            id="col", title="col", dims={"n": (2, 4)}, variables={"x": Real("n"), "a": Real("n")},
            function=lambda s: sum(s.x[i] ** 4 for i in range(s.n)) / 4 + (s.a.T * s.x)[0, 0] ** 2 / 2,
            claims=[Claim("∇f", lambda s: s.x.applyfunc(lambda t: t ** 3) + s.a * (s.a.T * s.x)[0, 0],
                          output="g", wrt="x"),
                    Claim("∇²f[:, 0]", lambda s: column(s, factor), output="H", wrt="x", order=2,
                          index=lambda s: 0)],
            implementation=Implementation(code(factor), args=("x", "a"), returns=("f", "g", "H")))

    assert by_claim(check_derivation(derivation(3), FAST))["∇²f[:, 0]"].verdict == "holds"
    row = by_claim(check_derivation(derivation(1), FAST))["∇²f[:, 0]"]
    assert row.verdict == "refuted" and row.checks["finite_difference"].status == "fail"
