"""gradcheck's buffers: the complex step's memory serves the central differences that certify a pass,
and gives the same numbers whichever way it was used last."""

import numpy as np

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
