"""The shared core of the report's and gradcheck's numerics: `differences.py` and `calling.py`."""

import random

import numpy as np
import pytest

from gradverify import calling, differences, rng
from gradverify.tolerances import KINK_SHRINK


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
