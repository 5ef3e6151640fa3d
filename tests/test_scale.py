"""Steps follow each entry's own scale, and points outside the function's domain are drawn again.

* A right claim is never refuted at a point of tiny scale (a cosine similarity at row norms 8e-78,
  2e-6): an entry that fails or is near a kink at the default step is read again at finer steps
  and at its own scale; a reading decides where it has converged. A wrong claim still fails there.
* "Near a kink" only where the code has one within the step that decides: relu at exactly 0 is set
  aside, relu at 1e-6 from 0 is compared.
* A point where the spec is undefined as well as the code (0/0) is outside the function's domain:
  drawn again and counted; ERROR only when the code is NaN where the spec is finite, or when no
  valid point can be drawn.
"""

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent / "catalogue"))

import cosine_rows  # noqa: E402
from gradverify import Claim, Derivation, Implementation, Real  # noqa: E402
from gradverify.checks import Options, check_derivation, evaluate_point  # noqa: E402
from gradverify.numeric import OUTSIDE  # noqa: E402
from gradverify.report.rows import COLUMNS, build_rows  # noqa: E402
from gradverify.spec import Point  # noqa: E402
from gradverify.tolerances import DEFAULT_TOLERANCE  # noqa: E402


def _cosine_point(norm, seed=1):
    rng = np.random.default_rng(seed)
    A, B = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 3))
    A[0] *= norm / np.linalg.norm(A[0])
    return Point({"N": 2, "d": 3}, {"A": A, "B": B}, 1.0)


def _fd(derivation, point):
    claim = derivation.claims[0].name
    return evaluate_point(derivation, point, DEFAULT_TOLERANCE)[(claim, "finite_difference")]


@pytest.mark.parametrize("norm", [8e-78, 1e-20, 2e-6, 1e-3, 6.0])
def test_a_right_cosine_claim_holds_at_rows_of_any_norm_with_no_entry_set_aside(norm):
    c = _fd(cosine_rows.cosine_rows, _cosine_point(norm))
    assert c.ok and c.set_aside == 0 and c.compared == 6, c


@pytest.mark.parametrize("norm", [8e-78, 2e-6, 1.0])
def test_a_cosine_claim_missing_its_term_still_fails_at_rows_of_any_norm(norm):
    c = _fd(cosine_rows.cosine_rows_missing_term, _cosine_point(norm))
    assert not c.ok and c.worst_ratio > 10, c


def _relu():
    return Derivation(
        id="relu-sum", title="Σ relu", dims={"n": (2, 2)}, variables={"x": Real("n")},
        function=lambda s: sum(sp.Max(0, xi) for xi in s.x),
        claims=[Claim("∂J/∂x", lambda s: s.x.applyfunc(lambda v: sp.Piecewise((1, v > 0), (0, True))),
                      output="g", wrt="x")],
        implementation=Implementation(lambda x: (float(np.maximum(x, 0).sum()), (x > 0).astype(float)),
                                      args=("x",), returns=("J", "g")))


def test_near_a_kink_only_where_the_code_has_one_within_the_step_that_decides():
    at_kink = _fd(_relu(), Point({"n": 2}, {"x": np.array([0.0, 0.5])}, 1.0))
    assert at_kink.ok and at_kink.set_aside == 1 and at_kink.compared == 1
    beside = _fd(_relu(), Point({"n": 2}, {"x": np.array([1e-6, 0.5])}, 1.0))  # 1e-6 from the kink: smooth
    assert beside.ok and beside.set_aside == 0 and beside.compared == 2


def _readout(nan_where_finite=False, nowhere=False):
    """Layer norm without ε, read out with weights 1..n: J = Σ_k k·(x_k − m)/sd; 0/0 at a constant x."""
    def code(x):
        if nowhere:
            return float(np.sqrt(-np.sum(x * x) - 1.0))
        c = x - x.mean()
        y = c / np.sqrt(np.mean(c * c))
        if nan_where_finite and x[0] > 0.5:
            y = y * np.nan
        return float(y @ np.arange(1.0, len(x) + 1))

    def J(s):
        if nowhere:
            return sp.sqrt(-sum(v ** 2 for v in s.x) - 1)
        m = sum(s.x) / s.n
        sd = sp.sqrt(sum((v - m) ** 2 for v in s.x) / s.n)
        return sum((k + 1) * (s.x[k] - m) / sd for k in range(s.n))

    return Derivation(
        id="layer-norm-no-eps", title="layer norm without ε, read out", dims={"n": (2, 3)},
        variables={"x": Real("n")}, function=J,
        claims=[Claim("J", J, output="J", identity=True)],
        implementation=Implementation(code, args=("x",), returns=("J",)))


def test_points_outside_the_function_s_domain_are_drawn_again_and_counted():
    rows = check_derivation(_readout(), Options(seed=0, examples=15))
    row = rows[0]
    assert row.verdict == "holds", row.as_dict()
    outside = row.checks["agreement"].figures.set_aside.get(OUTSIDE, 0)
    assert outside >= 1  # hypothesis tries x = [0, 0] (0/0 in the spec as in the code)
    (built,) = build_rows(rows)
    cell = built.cells[COLUMNS.index("agreement")]
    assert f"{outside} points outside the function's domain, redrawn" in cell, cell
    assert built.short[COLUMNS.index("agreement")].endswith(f"({outside} redrawn)")  # the terminal's table too


def test_code_that_is_nan_where_the_spec_is_finite_is_an_error():
    row = check_derivation(_readout(nan_where_finite=True), Options(seed=0, examples=15))[0]
    assert row.verdict == "error" and "nan" in row.message.lower(), row.as_dict()


def test_no_valid_point_at_all_is_an_error_that_says_so():
    row = check_derivation(_readout(nowhere=True), Options(seed=0, examples=10))[0]
    assert row.verdict == "error" and "no valid point" in row.message, row.as_dict()


import layer_norm  # noqa: E402


def test_a_layer_norm_written_with_matrices_is_checked_where_x_is_not_constant_without_a_require():
    """The catalogue's layer norm, J = gᵀ (x − μ)/σ with sympy Matrices, without its `Require`: sympy keeps a
    Matrix's exact zeros out of its arithmetic (Matrix([0, 0]) / 0 is Matrix([0, 0])), so at x = [0, 0] the
    spec evaluated from numbers is 0 while the code is NaN; the function built with symbols meets the 0/0."""
    from gradverify.sympy_eval import spec_undefined

    d = dataclasses.replace(layer_norm.layer_norm, assumptions=[])
    for x, g in (([0.0, 0.0], [0.0, 0.0]), ([0.5, 0.5], [1.0, 2.0])):
        assert spec_undefined(d, Point({"n": 2}, {"x": np.array(x), "g": np.array(g)}, 1.0)), (x, g)
    assert not spec_undefined(d, Point({"n": 2}, {"x": np.array([0.0, 1.0]), "g": np.zeros(2)}, 1.0))
    row = check_derivation(d, Options(seed=0, examples=15))[0]
    assert row.verdict == "holds", row.as_dict()
    assert row.checks["agreement"].figures.set_aside.get(OUTSIDE, 0) >= 1


# ---- linear algebra: LAPACK's rounding is normwise ------------------------------------------
import cookbook  # noqa: E402


@pytest.mark.parametrize("did, X", [
    ("cookbook_det", [[1.0, 2e-9, 0.3], [0.5, 1.0, 1e-12], [0.2, 0.1, 2.0]]),
    ("cookbook_logdet_gram", [[7.2760e-15], [0.0], [1.3752e-12]]),
    ("cookbook_det_cubed", [[2.7e-66]]),
])
def test_an_identity_exact_to_working_precision_is_not_refuted_at_a_small_entry(did, X):
    d = getattr(cookbook, did)
    X = np.array(X)
    sizes = {"n": X.shape[0]} if "n" in d.dims and "m" not in d.dims else {"m": X.shape[0], "n": X.shape[1]}
    out = evaluate_point(d, Point(sizes, {"X": X}, 1.0), DEFAULT_TOLERANCE)
    for key, c in out.items():
        assert not isinstance(c, str) and c.ok, (key, c)


def test_a_transposed_cookbook_claim_is_still_refuted_at_the_same_small_entries():
    X = np.array([[1.0, 2e-9, 0.3], [0.5, 1.0, 1e-12], [0.2, 0.1, 2.0]])
    out = evaluate_point(cookbook.cookbook_det_transposed, Point({"n": 3}, {"X": X}, 1.0), DEFAULT_TOLERANCE)
    assert not out[("∂det/∂X", "finite_difference")].ok


@pytest.mark.parametrize("seed", [0, 2])
def test_ln_det_of_the_gram_matrix_through_pinv_holds_where_entrywise_rounding_refuted_it(seed):
    rows = check_derivation(cookbook.cookbook_logdet_gram, Options(seed=seed, examples=25))
    assert [r.verdict for r in rows] == ["holds"], rows[0].as_dict()


# ---- a weak pass says so -------------------------------------------------------------------
def test_a_pass_that_resolves_little_of_the_gradient_is_shown_as_a_weak_pass_and_a_tight_one_is_not():
    import float32_code
    import least_squares

    weak = check_derivation(float32_code.softmax_ce_float32, Options(seed=0, examples=10))
    cell = build_rows(weak)[0].cells[COLUMNS.index("finite difference")]
    assert weak[0].verdict == "holds" and cell.startswith("weak pass (resolves "), cell
    tight = check_derivation(least_squares.least_squares, Options(seed=0, examples=10))
    cell = build_rows(tight)[0].cells[COLUMNS.index("finite difference")]
    assert cell.startswith("pass · "), cell
    assert 0 < tight[0].checks["finite_difference"].figures.resolution < 1e-6


def _axis_rows(norm):
    """Rows of A and B along the axes, as hypothesis draws them (zeros and one power of two): a·b = 0 in
    the first row, so moving A[0,1] by the default step 6e-6 gives D_h ≈ −1/h at every step above the
    row's norm, and two such readings "agree" within their own Richardson bounds."""
    A = np.array([[0.0, 0.0, norm], [0.0, norm, norm]])
    B = np.array([[0.0, norm, 0.0], [norm, norm, 0.0]])
    return Point({"N": 2, "d": 3}, {"A": A, "B": B}, 1.0)


@pytest.mark.parametrize("norm", [8e-78, 1e-20])
def test_a_right_cosine_claim_holds_at_axis_aligned_rows_of_tiny_norm(norm):
    c = _fd(cosine_rows.cosine_rows, _axis_rows(norm))
    assert c.ok and c.set_aside == 0 and c.compared == 6, c


@pytest.mark.parametrize("norm", [8e-78, 1e-20])
def test_a_cosine_claim_missing_its_term_fails_at_axis_aligned_rows_of_tiny_norm(norm):
    c = _fd(cosine_rows.cosine_rows_missing_term, _axis_rows(norm))
    assert not c.ok and c.worst_ratio > 10, c


def _mixed_rows():
    """Two rows of A whose scales differ by 10¹⁶ (8.9e-94 and 8e-78): an entry at 0 in the second row,
    moved at the first row's scale, changes nothing measurable, and that reading (bound ~1e85) "agrees"
    with the 1/h reading at a step far above the row's scale."""
    A = np.array([[8.8818e-94, 0, 0, 0], [0, 0, 0, 8e-78]])
    B = np.array([[0, 0, 0, 8e-78], [0, 0, 8e-78, 0]])
    return Point({"N": 2, "d": 4}, {"A": A, "B": B}, 1.0)


def test_a_right_cosine_claim_is_not_refuted_where_rows_differ_in_scale_by_1e16():
    c = _fd(cosine_rows.cosine_rows, _mixed_rows())
    assert c.ok, c


def test_a_cosine_claim_missing_its_term_still_fails_where_rows_differ_in_scale():
    A = np.array([[8.8818e-94, 8.8818e-94, 0, 0], [0, 0, 8e-78, 8e-78]])  # cos(a, b) ≠ 0: the term is there
    B = np.array([[8.8818e-94, 0, 0, 0], [0, 0, 0, 8e-78]])
    c = _fd(cosine_rows.cosine_rows_missing_term, Point({"N": 2, "d": 4}, {"A": A, "B": B}, 1.0))
    assert not c.ok and c.worst_ratio > 10, c


def test_a_claim_far_smaller_than_the_truth_is_refuted_not_set_aside():
    """The rule that a reading wider than the gradient resolves nothing takes the gradient's size from
    the readings too: code whose gradient is 1e-12 times the truth is compared, and refuted."""
    from dataclasses import replace

    d = cosine_rows.cosine_rows
    fn = d.implementation.fn

    def tiny(*args):
        value, *grads = fn(*args)
        return (value, *(1e-12 * g for g in grads))
    c = _fd(replace(d, implementation=replace(d.implementation, fn=tiny)), _cosine_point(1.0))
    assert not c.ok and c.unresolved == 0 and c.set_aside == 0, c
