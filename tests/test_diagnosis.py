"""Diagnosis: how a refuted claim relates to the truth, in one line."""

import numpy as np
import pytest

import planted
from conftest import FAST, by_claim, replace_claim
from gradverify.checks import check_derivation
from gradverify.diagnosis import diagnose, worst_entries

T = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def column_zero(j):
    C = T.copy()
    C[:, j] = 0.0
    return C


@pytest.mark.parametrize("claimed, kwargs, expected", [
    pytest.param(-T, {}, "sign flipped", id="sign"),
    pytest.param(T.T, {}, "transposed: shape 3×2 where 2×3 belongs", id="transposed-shape"),
    pytest.param(0.5 * T, {}, "off by a constant factor: claimed = 1/2 × true", id="half"),
    pytest.param(2 * T, {}, "off by a constant factor: claimed = 2 × true", id="double"),
    pytest.param(T + 1, {"terms": [("1", np.ones((2, 3)))]}, "extra term: 1", id="extra-term"),
    pytest.param(T - 1, {"true_terms": [("1", np.ones((2, 3)))]}, "missing term: 1", id="missing-term"),
    pytest.param(column_zero(1), {"indices": {"o": 1}}, "wrong only at column o=1", id="only-at-o"),
    pytest.param(T, {}, "", id="right-claim-no-diagnosis"),
    pytest.param(T * np.array([[1, 0.3, 1], [1, 1, 1]]), {}, "wrong only at entry 1", id="no-name-one-entry")
])
def test_diagnose_names_the_relation(claimed, kwargs, expected):
    if expected == "wrong only at entry 1":
        expected = ""  # a single wrong entry of a matrix: named by its column
        assert diagnose(claimed, T, **kwargs).startswith("wrong only at column 1")
        return
    assert diagnose(claimed, T, **kwargs) == expected


def test_square_transpose_is_named():
    S = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert diagnose(S.T, S) == "transposed"


def test_repeated_indices_are_named_with_the_list():
    C = T.copy()
    C[:, :2] /= 2
    assert diagnose(C, T, indices={"o": 2, "samples": [0, 0, 1]}) == \
        "wrong only where indices repeat: samples=[0, 0, 1]"


def test_worst_entries_lists_index_claimed_and_reference():
    assert worst_entries(column_zero(2), T, n=2) == [([1, 2], 0.0, 6.0), ([0, 2], 0.0, 3.0)]


@pytest.mark.parametrize("did, claim, wrong, expected", [
    pytest.param("b", "∂J/∂v_c", planted.b_flipped_sign, "sign flipped", id="flipped"),
    pytest.param("b", "∂J/∂v_c", planted.b_missing_u_o, "missing term", id="missing-u_o"),
    pytest.param("c", "∂J/∂U", planted.c_scaled_by_two, "off by a constant factor: claimed = 2 × true", id="x2"),
])
def test_report_rows_carry_the_diagnosis_of_a_planted_mistake(seed, did, claim, wrong, expected):
    row = by_claim(check_derivation(replace_claim(seed[did], claim, expr=wrong), FAST))[claim]
    assert row.diagnosis.startswith(expected), row.diagnosis


def test_u_k_diagnosis_says_indices_repeat(seed):
    row = by_claim(check_derivation(seed["e"], FAST))["∂J/∂u_k"]
    assert "only where indices repeat: samples=" in row.diagnosis


def _tanh(claim):
    import sympy as sp

    from gradverify import Claim, Derivation, Implementation, Real

    return Derivation(
        id="tanh", title="Σ tanh(x)", dims={"n": (2, 4)}, variables={"x": Real("n")},
        function=lambda s: sum(sp.tanh(xi) for xi in s.x),
        claims=[Claim("∂f/∂x", lambda s: s.x.applyfunc(claim), output="g", wrt="x")],
        implementation=Implementation(lambda x: (np.tanh(x).sum(), 1 - np.tanh(x)), args=("x",), returns=("f", "g")))


def test_a_relation_seen_at_one_point_only_is_not_stated():
    """tanh' claimed 1 − tanh: near 0 it looks like "0.999 × true"; at other points it does not."""
    import sympy as sp

    row = check_derivation(_tanh(lambda xi: 1 - sp.tanh(xi)), FAST)[0]
    assert row.verdict == "refuted"
    assert "constant factor" not in row.diagnosis
    for check in row.checks.values():
        assert "constant factor" not in check.diagnosis, check.diagnosis


def test_agreed_needs_the_same_relation_at_every_point():
    from gradverify.diagnosis import agreed

    assert agreed(["off by a constant factor: claimed = 1.025 × true", "off by a constant factor: claimed = 0.9 × true"]) == ""
    assert agreed(["wrong only at column o=2", "wrong only at column o=4"]) == "wrong only at column o=2"
    assert agreed(["sign flipped"]) == ""  # one point is not enough


def test_worst_entries_print_enough_digits_to_show_a_small_difference():
    from gradverify.diagnosis import pair_text

    claimed, numeric = pair_text(-0.5, -0.5 - 1e-7)
    assert claimed != numeric and claimed == "-0.5"
