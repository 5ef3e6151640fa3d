"""gradcheck's buffers: the complex step's memory serves the central differences that certify a pass,
and gives the same numbers whichever way it was used last."""

import warnings

import numpy as np
import pytest

from gradverify import gradcheck
from gradverify.checking.calls import Calls
from gradverify.checking.directions import random_direction
from gradverify.tolerances import COMPLEX_STEP, DEFAULT_TOLERANCE


def loss(W, b):
    r = np.tanh(W @ b)
    return 0.5 * (r @ r), np.outer(r * (1 - r * r), b), W.T @ (r * (1 - r * r))


def test_central_differences_in_the_complex_buffer_leave_every_number_as_drawn():
    rng = np.random.default_rng(0)
    args = [rng.normal(size=(70, 300)), rng.normal(size=300)]
    calls = Calls(loss, args, [0, 1], DEFAULT_TOLERANCE, seed=0, nondet_tol=0.0)
    calls.start()
    u = random_direction(np.random.default_rng(1), calls.sizes)
    first = calls.complex(u, COMPLEX_STEP)
    h = 2.0**-20
    for step in (h, -h, 2 * h, -2 * h):  # x + step·u for every entry: the complex buffer's memory is used
        moved = calls.moved(u, step)
        for slot, i in enumerate((0, 1)):
            expected = args[i].reshape(-1) + step * u.values(slot, 0, args[i].size)
            assert np.array_equal(moved[i].reshape(-1), expected), (step, slot)
            assert not moved[i].flags.writeable
        assert calls.real(moved).value == loss(*(moved[0], moved[1]))[0]
    for slot, i in enumerate((0, 1)):  # u read back, as drawn
        assert np.array_equal(calls.weights(u, slot, 0, args[i].size), u.values(slot, 0, args[i].size))
    calls.release_moved()
    moved = calls.moved(u, h)  # taken again after it was let go
    assert np.array_equal(moved[0].reshape(-1), args[0].reshape(-1) + h * u.values(0, 0, args[0].size))
    again = calls.complex(u, COMPLEX_STEP)  # the complex buffer filled afresh: the same derivative, bit for bit
    assert again.derivative == first.derivative and again.value == first.value
    for slot, i in enumerate((0, 1)):  # and u read back from it as a complex buffer again
        assert np.array_equal(calls.weights(u, slot, 0, args[i].size), u.values(slot, 0, args[i].size))
    other = random_direction(np.random.default_rng(2), calls.sizes)
    fresh = Calls(loss, args, [0, 1], DEFAULT_TOLERANCE, seed=0, nondet_tol=0.0)
    fresh.start()
    assert calls.complex(other, COMPLEX_STEP).derivative == fresh.complex(other, COMPLEX_STEP).derivative
    assert np.array_equal(args[0], np.random.default_rng(0).normal(size=(70, 300)))  # the caller's arrays untouched


# ---------------------------------------------------------------- arguments in any memory order
def cube(x):
    return np.sum(x**3) / 3, x**2


def cube_wrong(x):
    g = x**2
    g.flat[37] += 0.05 * np.abs(g).max()
    return np.sum(x**3) / 3, g


@pytest.mark.parametrize("make", [
    pytest.param(lambda a: np.asfortranarray(a), id="fortran-order"),
    pytest.param(lambda a: np.ascontiguousarray(a.T).T, id="transposed"),
    pytest.param(lambda a: np.asfortranarray(a).astype(np.float32, order="F"), id="fortran-float32"),
])
@pytest.mark.parametrize("kw", [{}, {"estimator": "central"}, {"mode": "entries"}], ids=["auto", "central", "entries"])
def test_arguments_not_in_c_order_are_moved_for_real(make, kw):
    """x + step·u written into a buffer of x's own memory order went into a flat copy: fn read x unmoved,
    and central differences read 0 for a right gradient."""
    x = make(np.random.default_rng(0).normal(size=(8, 6)))
    right = gradcheck(cube, (x,), **kw)
    assert right.ok, right.message
    wrong = gradcheck(cube_wrong, (x,), **kw)
    assert not wrong.ok and wrong.located, wrong.message
    assert wrong.located[0].index == np.unravel_index(37, x.shape, order="C")


# ---------------------------------------------------------------- a gradient array fn keeps and rewrites
class Layer:
    """A layer that returns its own ``self.dW``, rewritten at every call; ``error`` is added on the path
    real inputs take only (a dtype-dispatched kernel): the complex step's own call does not show it."""

    def __init__(self, shape, error=0.0):
        self.dW, self.error = np.zeros(shape), error

    def __call__(self, W, X, Y):
        R = X @ W - Y
        G = X.T @ R
        if G.dtype == np.float64:
            G = G.copy()
            G[2, 3] += self.error
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (the complex call's cast into the real self.dW)
            self.dW[...] = G
        return 0.5 * np.sum(R * R), self.dW


@pytest.mark.parametrize("kw", [{"mode": "entries"}, {"directions": 3}], ids=["entries", "three-directions"])
def test_a_gradient_array_the_code_keeps_is_claimed_as_the_real_call_returned_it(kw):
    rng = np.random.default_rng(0)
    W, X, Y = rng.normal(size=(6, 5)), rng.normal(size=(20, 6)), rng.normal(size=(20, 5))
    largest = float(np.abs(X.T @ (X @ W - Y)).max())
    right = gradcheck(Layer(W.shape), (W, X, Y), wrt=(0,), **kw)
    assert right.ok, right.message
    wrong = gradcheck(Layer(W.shape, 1e-3 * largest), (W, X, Y), wrt=(0,), **kw)
    assert not wrong.ok and wrong.located and wrong.located[0].index == (2, 3), wrong.message


def test_a_gradient_not_finite_is_said_before_what_the_complex_step_met():
    def fn(x):
        g = 2 * x
        g[3] = np.nan
        return np.sum(x.real * x), g  # .real: the complex step is refused
    x = np.random.default_rng(0).normal(size=300)
    result = gradcheck(fn, (x,), mode="directional", estimator="complex-step")
    assert not result.ok and "is nan at index (3,)" in result.message, result.message
