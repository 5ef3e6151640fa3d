"""The numeric machinery: central differences, the rounding-noise estimate, comparisons,
and the no-false-alarm run over the right seed claims."""

import numpy as np
import pytest

from conftest import replace_impl
from gradverify import numeric
from gradverify.checks import Options, _numeric
from gradverify.spec import Point
from gradverify.tolerances import DEFAULT_TOLERANCE, TOLERANCES, Tolerance, tolerance_for
from gradverify.errors import InvalidArgument


def point_b(scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    return Point({"d": 3, "V": 4}, {"v_c": rng.uniform(-1, 1, 3) * scale, "o": 1,
                                    "U": rng.uniform(-1, 1, (3, 4)) * scale}, scale)


def test_central_difference_matches_the_analytic_gradient_to_1e_9(seed):
    p = point_b()
    out = numeric.call(seed["b"], p)
    pos = numeric.selected_positions((3,), None)
    d_h, trunc, h, _ = numeric.central_difference(seed["b"], p, "v_c", pos, DEFAULT_TOLERANCE)
    assert np.max(np.abs(d_h - out["grad_v_c"])) < 1e-9
    assert np.all(trunc < 1e-8) and np.all(h > 0)


def test_selected_positions_follow_numpy_indexing():
    pos = numeric.selected_positions((2, 3), (slice(None), [2, 0]))
    assert pos.tolist() == [[2, 0], [5, 3]]


def test_noise_sees_cancellation_inside_the_implementation(seed):
    """1 - sigma(-x) at x = 36 rounds to a multiple of 1.1e-16 although the true
    value is 2.3e-16: moving the inputs alone shows nothing; Monte Carlo arithmetic does."""
    p = Point({"d": 1, "K": 1, "V": 4}, {"v_c": np.array([6.0]), "o": 0, "samples": [1],
                                         "U": np.array([[0.0, 6.0, 0.0, 0.0]])}, 6.0)
    base = numeric.call(seed["e"], p)
    noise, watched = numeric.noise(seed["e"], p, base, DEFAULT_TOLERANCE, np.random.default_rng(0))
    assert watched
    assert noise["grad_U"][0, 1] > 1e-16 * 6  # ~ eps times the size of the intermediate (1) times v_c


def test_compare_reports_the_worst_entry_with_both_values():
    c = numeric.compare(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 2.0], [3.0, 5.0]]), np.full((2, 2), 1e-3))
    assert not c.ok and c.worst_index == (1, 1) and c.worst_claimed == 4.0 and c.worst_reference == 5.0
    assert c.max_rel_err == pytest.approx(1 / 5.001)


def test_compare_passes_within_tolerance_and_reads_noise_as_noise():
    c = numeric.compare(np.array([1e-22]), np.array([0.0]), np.array([1e-16]))
    assert c.ok and c.max_rel_err < 1e-5


def test_the_implementation_may_not_change_the_point_by_writing_into_its_inputs(seed):
    def writes_into_U(v_c, o, U):
        out = seed["b"].implementation.fn(v_c, o, U)
        U[:] = 0.0
        return out

    p = point_b()
    before = p.values["U"].copy()
    numeric.call(replace_impl(seed["b"], writes_into_U), p)
    assert np.array_equal(p.values["U"], before)


def test_tolerance_table_has_float64_and_float32_with_derived_steps():
    assert TOLERANCES["float64"].unit_roundoff == 2.0**-53
    assert TOLERANCES["float64"].fd_step == pytest.approx((2.0**-52) ** (1 / 3))
    assert TOLERANCES["float32"].unit_roundoff == 2.0**-24
    assert tolerance_for(np.float32) is TOLERANCES["float32"]


def test_tolerance_override_and_bad_override():
    t = DEFAULT_TOLERANCE.replace(safety=100.0)
    assert t.safety == 100.0 and isinstance(t, Tolerance)
    with pytest.raises(InvalidArgument, match="Expected fields of Tolerance"):
        DEFAULT_TOLERANCE.replace(saftey=1.0)
    with pytest.raises(InvalidArgument, match="dtype=int64"):
        tolerance_for(np.int64)


def test_a_smaller_safety_factor_can_only_make_more_failures(seed):
    """The tolerance is used: with safety 1e-6 the right claims fail (and the
    documented safety 10 is what makes them pass)."""
    strict = Options(seed=0, examples=10, tolerance=DEFAULT_TOLERANCE.replace(safety=1e-6))
    results = _numeric(seed["b"], (), strict)
    assert results["∂J/∂v_c"]["finite_difference"].status == "fail"


# ---- no false alarms -----------------------------------------------------------------------
#: examples per seed derivation here: 8 derivations x 1250 = 10,000 examples of
#: right claims, tiny vectors to scores of +-50 (and sigmoid inputs of +-50).
#: benchmarks/false_alarms.py runs the same with any count.
NO_FALSE_ALARM_EXAMPLES = 1250


@pytest.mark.parametrize("did", ["a", "b", "c", "d-scalar", "d-vector", "e", "f-softmax", "f-negsample"])
def test_no_false_alarm_on_right_claims_over_many_examples(seed, did):
    derivation = seed[did]
    results = _numeric(derivation, tuple(derivation.assumptions),
                       Options(seed=20261124, examples=NO_FALSE_ALARM_EXAMPLES))
    for claim, checks in results.items():
        for name, check in checks.items():
            assert check.status == "pass", (claim, name, check.detail, check.counterexample)
            assert check.figures.examples == NO_FALSE_ALARM_EXAMPLES
