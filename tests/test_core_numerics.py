"""The shared core of the report's and gradcheck's numerics: `differences.py`, `calling.py` and `rounding.py`."""

import random

import numpy as np
import pytest

from gradverify import calling, differences, rng, rounding
from gradverify.mca import MonteCarloArithmetic
from gradverify.tolerances import DEFAULT_TOLERANCE, KINK_SHRINK


# ---------------------------------------------------------------- central differences
def test_the_stencil_evaluates_x_plus_h_minus_h_plus_2h_minus_2h_in_that_order():
    asked = []
    values = differences.stencil(lambda moves: asked.append(moves) or [float(m) for m in moves], 0.25)
    assert values == (0.25, -0.25, 0.5, -0.5)
    assert len(asked) == 1 and asked[0].shape == (4,)


def test_richardson_cancels_the_h_squared_term_and_the_truncation_estimate_is_its_size():
    f, x, h = (lambda t: t ** 3), 1.0, 1e-3  # D_h = 3 + h², D_2h = 3 + 4h²
    c = differences.central(*differences.stencil(lambda moves: [f(x + m) for m in moves], h), h)
    assert c.d_h == pytest.approx(3 + h * h, rel=1e-12)
    assert c.truncation == pytest.approx(h * h, rel=1e-6)
    assert abs(c.extrapolated - 3.0) < 1e-9 < abs(c.d_h - 3.0)  # the extrapolation is exact for a cubic
    assert c.size == pytest.approx(f(x + h))


def test_one_step_per_row_broadcasts_over_the_value_dims():
    xs, h = np.array([1.0, 2.0]), np.array([1e-3, 2e-3])
    f = lambda x: np.stack([x ** 2, np.sin(x)], axis=-1)  # noqa: E731  (n,) -> (n, 2)
    c = differences.central(*differences.stencil(lambda moves: f(xs + moves), h), h)
    assert c.d_h.shape == (2, 2) and c.h.shape == (2, 1)
    np.testing.assert_allclose(c.extrapolated, np.stack([2 * xs, np.cos(xs)], axis=-1), rtol=1e-10)


def test_the_fourth_difference_and_the_one_sided_slopes_see_a_kink_and_not_a_smooth_function():
    h = 1e-3
    for x, kinked in ((0.3 * h, True), (0.5, False)):
        values = differences.stencil(lambda moves: [abs(x + m) for m in moves], h)
        fourth = differences.fourth_difference(abs(x), *values)
        fwd, bwd, fwd2, bwd2 = differences.one_sided_slopes(abs(x), *values, h)
        gap_grows_with_the_step = abs((fwd2 - bwd2) - 2 * (fwd - bwd)) < 1e-9
        assert bool(fourth > 1e-6) is kinked and bool(gap_grows_with_the_step) is not kinked


def test_finer_steps_are_powers_of_kink_shrink_and_readings_agree_or_are_apart():
    assert differences.shrinks(3) == [KINK_SHRINK, KINK_SHRINK ** 2, KINK_SHRINK ** 3]
    assert differences.agree(1.0, 1.1, 0.2) and not differences.apart(1.0, 1.1, 0.2)
    assert differences.apart(1.0, 1.5, 0.2) and not differences.agree(1.0, 1.5, 0.2)
    assert not differences.agree(np.nan, 1.0, 0.2) and not differences.apart(np.nan, 1.0, 0.2)


# ---------------------------------------------------------------- calling user code
def test_difference_is_none_for_equal_outputs_and_names_the_largest_otherwise():
    a = np.array([[1.0, np.nan], [0.0, 3.0]])
    assert calling.difference(a, a.copy()) is None  # NaN where NaN
    assert calling.difference(a, np.where(a == 0, -0.0, a)) is None  # -0 is 0
    b = a.copy()
    b[1, 1] = 3.5
    b[0, 0] = 1.25
    assert calling.difference(a, b) == (0.5, (1, 1))
    moved_nan = np.array([[1.0, 2.0], [0.0, 3.0]])
    assert calling.difference(a, moved_nan) == (np.inf, (0, 0))  # only where NaN is: never 0


def test_modified_names_the_arguments_a_call_wrote_into():
    args = [np.arange(3.0), np.ones(2), [1, 2], 5]
    before = calling.snapshot(args, deep=True)
    args[1][0] = 7.0
    args[2].append(3)
    assert calling.modified(before, args) == [1, 2]
    assert calling.modified(calling.snapshot(args), args) == []
    with pytest.raises(ValueError, match="read-only"):
        calling.read_only(args[0])[0] = 1.0


def test_running_seeds_the_global_generators_only_when_asked_and_sees_whether_the_code_drew():
    with rng.keeping():
        with calling.running(3, observe=True) as seen:
            first = np.random.rand()
        assert seen.drew
        with calling.running(3, observe=True) as seen:
            pass
        assert not seen.drew
        with calling.running(3):
            assert np.random.rand() == first
        random.seed(1)
        before = rng.global_states()
        with calling.running(None, {"divide": "raise"}):  # no seed: the states untouched
            with pytest.raises(FloatingPointError):
                np.array(1.0) / 0.0
        assert rng.global_states() == before


# ---------------------------------------------------------------- measuring rounding
def _mca(seed=0):
    return MonteCarloArithmetic(np.random.default_rng(seed), DEFAULT_TOLERANCE.unit_roundoff,
                                DEFAULT_TOLERANCE.mca_spread)


def test_monte_carlo_runs_show_the_rounding_of_a_cancellation_and_none_of_exact_code():
    x = np.array([1e-8, 0.5])
    cancels = rounding.measure(lambda a: {"y": (1.0 + a["x"]) - 1.0}, {"x": x}, _mca(), 4)
    assert cancels.watched and len(cancels.runs) == 4 and cancels.refused is None
    worst = rounding.largest_change(cancels.runs, {"y": (1.0 + x) - 1.0})["y"]
    assert worst[0] > 1e-15 > 1e-7 * worst[1]  # rounding at 1.0's size (u absolute), not at y's
    one = rounding.measure(lambda a: {"y": 2.0 * a["x"]}, {"x": x}, _mca(), 4)  # one operation: at y's own size
    bound = DEFAULT_TOLERANCE.mca_spread * DEFAULT_TOLERANCE.unit_roundoff * 2.0 * x
    assert np.all(rounding.largest_change(one.runs, {"y": 2.0 * x})["y"] <= bound)


def test_inputs_are_moved_one_ulp_only_when_asked():
    x = np.array([1.0, 3.0])
    still = rounding.measure(lambda a: {"x": np.asarray(a["x"]).copy()}, {"x": x}, _mca(), 3)
    moved = rounding.measure(lambda a: {"x": np.asarray(a["x"]).copy()}, {"x": x}, _mca(), 3,
                             move=np.random.default_rng(1))
    assert not np.any(rounding.largest_change(still.runs, {"x": x})["x"])
    np.testing.assert_array_equal(rounding.largest_change(moved.runs, {"x": x})["x"], np.spacing(x))


def test_code_that_hides_its_arithmetic_is_measured_from_outside():
    def hides(a):  # a Python float: the watch sees no operation
        return {"y": np.array(float(a["x"][0]) * 3.0)}

    x = np.array([0.1])
    outside = [{"y": np.array(1.0)}]
    kept = rounding.measure(hides, {"x": x}, _mca(), 2, move=np.random.default_rng(0), outside=lambda: outside)
    assert not kept.watched and len(kept.runs) == 3  # the input moves say something: kept beside it
    replaced = rounding.measure(hides, {"x": x}, _mca(), 2, outside=lambda: outside)
    assert not replaced.watched and replaced.runs == outside  # nothing moved, nothing watched: replaced
    ulps = rounding.ulp_moved(lambda a: a["x"], {"x": x}, 2, np.random.default_rng(0))
    assert all(abs(r[0] - x[0]) == np.spacing(x[0]) for r in ulps)


def test_code_that_refuses_the_watched_arrays_is_said_and_measured_from_outside():
    class Refused(Exception):
        pass

    def refuses(a):
        raise Refused("type(x) is np.ndarray")

    m = rounding.measure(refuses, {"x": np.ones(2)}, _mca(), 2, refuse=(Refused,), outside=lambda: ["plain"])
    assert isinstance(m.refused, Refused) and m.runs == ["plain"] and not m.watched
    with pytest.raises(Refused):  # not asked to be refused: the code's own error
        rounding.measure(refuses, {"x": np.ones(2)}, _mca(), 2)


def test_lapack_is_run_again_with_its_arguments_moved_backward_stably():
    x = np.array([[2.0, 1.0], [1.0, 3.0]])
    watch = rounding.LinalgWatch(np.random.default_rng(0), DEFAULT_TOLERANCE.unit_roundoff,
                                  DEFAULT_TOLERANCE.mca_spread)
    m = rounding.measure(lambda a: {"d": np.linalg.det(a["x"])}, {"x": x}, watch, 3)
    assert watch.linalg and watch.backward and len(m.runs) == 6
    plain = rounding.measure(lambda a: {"d": a["x"].sum()}, {"x": x}, rounding.LinalgWatch(
        np.random.default_rng(0), DEFAULT_TOLERANCE.unit_roundoff, DEFAULT_TOLERANCE.mca_spread), 3)
    assert len(plain.runs) == 3
