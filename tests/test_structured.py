"""Structured variables: Real("n", "n", structure=...) drawn as such; a claim by a symmetric matrix
states its reading, is checked in it, and the report says which."""

import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent / "catalogue"))

import cookbook_symmetric  # noqa: E402
from gradverify import Claim, Derivation, Implementation, InvalidArgument, Real  # noqa: E402
from gradverify.checks import Options, check_derivation  # noqa: E402
from gradverify.sampling import RandomSource, draw_point  # noqa: E402


@pytest.mark.parametrize("structure", ["symmetric", "positive-definite", "diagonal"])
def test_a_structured_matrix_is_drawn_as_such(structure):
    d = Derivation(id="s", title="t", dims={"n": (3, 3)}, variables={"X": Real("n", "n", structure=structure)},
                   function=lambda s: s.X[0, 0], claims=[Claim("X00", lambda s: s.X[0, 0], output="v", identity=True)],
                   implementation=Implementation(lambda X: X[0, 0], args=("X",), returns=("v",)))
    rng = np.random.default_rng(0)
    for scale in (1e-3, 1.0, 6.0):
        X = draw_point(d, RandomSource(rng), (), scale=scale).values["X"]
        assert np.array_equal(X, X.T)
        if structure == "positive-definite":
            assert np.all(np.linalg.eigvalsh(X) > 0)
        if structure == "diagonal":
            assert np.array_equal(X, np.diag(np.diag(X)))


def test_the_cookbook_symmetric_formula_holds_as_free_entries_and_is_refuted_along_symmetric_perturbations():
    free = check_derivation(cookbook_symmetric.cookbook_logdet_symmetric_free_entries, Options(seed=0, examples=8))[0]
    assert free.verdict == "holds", free.as_dict()
    assert "read as the derivative with respect to the free entries" in free.as_written
    perturbed = check_derivation(cookbook_symmetric.cookbook_logdet_symmetric_perturbation,
                                 Options(seed=0, examples=8))[0]
    assert perturbed.verdict == "refuted"
    assert perturbed.checks["symbolic"].status == "refuted" and perturbed.checks["finite_difference"].status == "fail"
    assert "read as the gradient along symmetric perturbations" in perturbed.as_written
    inverse = check_derivation(cookbook_symmetric.cookbook_logdet_symmetric_inverse, Options(seed=0, examples=8))[0]
    assert inverse.verdict == "holds", inverse.as_dict()


def _by_matrix(reading=None, structure="symmetric", dims=("n", "n")):
    return Derivation(id="s", title="t", dims={"n": (2, 3)}, variables={"X": Real(*dims, structure=structure)},
                      function=lambda s: s.X[0, 0],
                      claims=[Claim("d", lambda s: sp.zeros(s.n, s.n), output="g", wrt="X", reading=reading)],
                      implementation=Implementation(lambda X: (X[0, 0], X * 0), args=("X",), returns=("v", "g")))


def test_a_claim_by_a_symmetric_matrix_must_state_its_reading():
    with pytest.raises(InvalidArgument, match="reading= one of"):
        _by_matrix()
    with pytest.raises(InvalidArgument, match="reading= only for a claim by a structured matrix"):
        _by_matrix(reading="free-entries", structure=None)
    with pytest.raises(InvalidArgument, match="structure= one of"):
        _by_matrix(reading="free-entries", structure="hermitian")
    with pytest.raises(InvalidArgument, match="on a square matrix"):
        Real("n", "m", structure="symmetric")


# ---- a diagonal matrix's readings ------------------------------------------------------------------------------
def _trace(reading, diagonal_only):
    """tr(A X) for a diagonal X: the gradient of the function of a general matrix is Aᵀ; by the free
    (diagonal) entries it is I∘Aᵀ (0 off the diagonal); along diagonal perturbations only its
    diagonal is read, and Aᵀ and I∘Aᵀ both have the right one."""
    def claim(s):
        return sp.Matrix(s.n, s.n, lambda i, j: s.A[j, i] if i == j or not diagonal_only else 0)

    def code(X, A):
        return float(np.trace(A @ X)), (np.diag(np.diag(A)) if diagonal_only else A.T.copy())

    return Derivation(id="trace-diag", title="tr(AX), X diagonal", dims={"n": (2, 3)},
                      variables={"X": Real("n", "n", structure="diagonal"), "A": Real("n", "n")},
                      function=lambda s: (s.A * s.X).trace(),
                      claims=[Claim("∂f/∂X", claim, output="g", wrt="X", reading=reading,
                                    as_written="I∘Aᵀ" if diagonal_only else "Aᵀ")],
                      implementation=Implementation(code, args=("X", "A"), returns=("f", "g")))


@pytest.mark.parametrize("reading, diagonal_only, verdict", [
    pytest.param("free-entries", True, "holds", id="free-entries:I∘Aᵀ-holds"),
    pytest.param("free-entries", False, "refuted", id="free-entries:Aᵀ-refuted"),
    pytest.param("diagonal-perturbation", False, "holds", id="diagonal-perturbation:Aᵀ-holds"),
    pytest.param("diagonal-perturbation", True, "holds", id="diagonal-perturbation:I∘Aᵀ-holds"),
    pytest.param(None, False, "holds", id="entry-by-entry:Aᵀ-holds"),
    pytest.param(None, True, "refuted", id="entry-by-entry:I∘Aᵀ-refuted"),
])
def test_a_claim_by_a_diagonal_matrix_is_checked_in_its_reading_and_the_report_says_which(reading, diagonal_only,
                                                                                           verdict):
    row = check_derivation(_trace(reading, diagonal_only), Options(seed=0, examples=8))[0]
    assert row.verdict == verdict, row.as_dict()
    statuses = {name: c.status for name, c in row.checks.items()}
    if verdict == "refuted":  # both the symbolic check and central differences see it
        assert statuses["symbolic"] == "refuted" and statuses["finite_difference"] == "fail", statuses
    else:
        assert statuses["symbolic"] in ("proved", "sampled") and statuses["finite_difference"] == "pass", statuses
    said = {"free-entries": "[read as the derivative with respect to the free entries (the diagonal X_ii; 0 off the "
                            "diagonal)]",
            "diagonal-perturbation": "[read as the gradient along diagonal perturbations X + εD, D diagonal (its "
                                     "diagonal; the entries off it are not read)]"}
    assert row.as_written.endswith(said[reading]) if reading else "[read as" not in row.as_written


def test_a_claim_by_a_diagonal_matrix_states_a_reading_it_has():
    with pytest.raises(InvalidArgument, match="reading= one of 'free-entries', 'diagonal-perturbation'"):
        _trace("symmetric-perturbation", True)
    with pytest.raises(InvalidArgument, match="reading= one of 'free-entries', 'symmetric-perturbation'"):
        _by_matrix(reading="diagonal-perturbation")


def test_the_details_of_a_failing_claim_say_which_reading_was_checked():
    """The terminal and Markdown tables have no as-written column: the details of a refuted claim by a
    symmetric matrix say which derivative it was checked as."""
    from gradverify.report.rows import detail_lines

    perturbed = check_derivation(cookbook_symmetric.cookbook_logdet_symmetric_perturbation,
                                 Options(seed=0, examples=8))[0]
    lines = detail_lines(perturbed)
    assert lines[1] == f"  checked as: {perturbed.as_written}", lines
    assert "read as the gradient along symmetric perturbations" in lines[1]
