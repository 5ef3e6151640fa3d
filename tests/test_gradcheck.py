"""gradcheck: estimators and modes, each failing on a planted error and passing the right gradient."""

import numpy as np
import pytest

import b_softmax_grad_center as b
from gradverify import InvalidArgument
from gradverify.gradcheck import gradcheck


def problem(d, V, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=d) * 0.3, int(rng.integers(V)), rng.normal(size=(d, V)) * 0.3


def planted(r, where=(1, 7)):
    """naive softmax with r × max|g| added to one entry of ∂J/∂U."""
    def fn(v_c, o, U):
        loss, g_v, g_U = b.naive_softmax_loss_and_gradient(v_c, o, U)
        g_U = np.array(g_U, copy=True)
        scale = max(np.abs(g_U.real).max(), np.abs(np.asarray(g_v).real).max())
        g_U[where] += r * scale
        return loss, g_v, g_U
    return fn


def relu_loss(x, w):
    """A loss through abs (not analytic): the complex step cannot run it."""
    z = w @ x
    return float(np.abs(z).sum()), np.sign(z) @ w


@pytest.mark.parametrize("mode, estimator, r", [
    pytest.param("directional", "complex-step", 1e-8, id="directional-complex-1e-8"),
    pytest.param("directional", "central", 1e-4, id="directional-central-1e-4"),
    pytest.param("entries", "complex-step", 1e-8, id="entries-complex-1e-8"),
    pytest.param("entries", "central", 1e-4, id="entries-central-1e-4"),
])
def test_each_estimator_and_mode_catches_a_planted_error_and_passes_the_right_one(mode, estimator, r):
    d, V = (4, 9) if mode == "entries" else (20, 500)
    args = problem(d, V)
    right = gradcheck(b.naive_softmax_loss_and_gradient, args, wrt=(0, 2), mode=mode, estimator=estimator)
    assert right.ok and right.mode == mode and right.estimator == estimator, right.message
    wrong = gradcheck(planted(r), args, wrt=(0, 2), mode=mode, estimator=estimator)
    assert not wrong.ok and wrong.message
    assert wrong.located and (wrong.located[0].argument, wrong.located[0].index) == (2, (1, 7))
    assert "args[2] at index (1, 7)" in wrong.message


def test_directional_cost_does_not_grow_with_the_number_of_entries():
    small = gradcheck(b.naive_softmax_loss_and_gradient, problem(20, 100), wrt=(0, 2), mode="directional")
    large = gradcheck(b.naive_softmax_loss_and_gradient, problem(50, 4000), wrt=(0, 2), mode="directional")
    assert small.ok and large.ok
    assert small.evaluations == large.evaluations == 3  # two real calls (determinism), one complex


def test_auto_picks_entries_for_small_and_directional_for_large():
    assert gradcheck(b.naive_softmax_loss_and_gradient, problem(3, 5), wrt=(0, 2)).mode == "entries"
    assert gradcheck(b.naive_softmax_loss_and_gradient, problem(20, 100), wrt=(0, 2)).mode == "directional"


def test_auto_falls_back_to_central_differences_when_the_code_uses_abs():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=30), rng.normal(size=(40, 30))
    result = gradcheck(relu_loss, (x, w), wrt=(0,), mode="directional")
    assert result.ok and result.estimator == "central" and "absolute" in result.fallback

    def wrong(x, w):
        value, g = relu_loss(x, w)
        return value, -g

    assert not gradcheck(wrong, (x, w), wrt=(0,), mode="directional").ok


def test_forcing_the_complex_step_on_code_that_cannot_take_it_is_a_clear_error():
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidArgument, match="Expected an implementation the complex step can run"):
        gradcheck(relu_loss, (rng.normal(size=3), rng.normal(size=(2, 3))), wrt=(0,), estimator="complex-step")


@pytest.mark.parametrize("kwargs, words", [
    pytest.param({"mode": "fast"}, "mode='fast'", id="bad-mode"),
    pytest.param({"estimator": "forward"}, "estimator='forward'", id="bad-estimator"),
    pytest.param({"wrt": (1,)}, "of type int", id="wrt-not-an-array"),
])
def test_bad_arguments_say_what_was_expected(kwargs, words):
    call = {"wrt": (0, 2), **kwargs}
    with pytest.raises(InvalidArgument, match="Expected") as info:
        gradcheck(b.naive_softmax_loss_and_gradient, problem(2, 3), **call)
    assert words in str(info.value)


@pytest.mark.parametrize("d, V", [(3, 5), (20, 500)])
def test_no_false_alarm_over_seeds_and_scales(d, V):
    for seed in range(20):
        v_c, o, U = problem(d, V, seed)
        for scale in (1e-3, 1.0, 5.0):
            result = gradcheck(b.naive_softmax_loss_and_gradient, (v_c * scale, o, U * scale), wrt=(0, 2), seed=seed)
            assert result.ok, (seed, scale, result.message)


@pytest.mark.parametrize("estimator", ["auto", "central"])
@pytest.mark.parametrize("mode", ["entries", "directional"])
def test_no_false_alarm_when_the_model_is_sure(mode, estimator):
    """o = the top-scoring word: ŷ_o ≈ 1 and the gradient v_c(ŷ − y) is all cancellation."""
    rng = np.random.default_rng(1)
    for trial in range(40):
        d, V, scale = int(rng.integers(1, 6)), int(rng.integers(2, 8)), (0.1, 1.0, 3.0, 10.0)[trial % 4]
        U, v_c = rng.normal(size=(d, V)) * scale, rng.normal(size=d) * scale
        o = int(np.argmax(U.T @ v_c))
        result = gradcheck(b.naive_softmax_loss_and_gradient, (v_c, o, U), wrt=(0, 2), mode=mode,
                           estimator=estimator)
        assert result.ok, (trial, result.message)


def test_vdot_conjugates_so_the_complex_step_falls_back():
    x = np.random.default_rng(0).normal(size=5)
    result = gradcheck(lambda x: (np.vdot(x, x), 2 * x), (x,), wrt=(0,))
    assert result.ok and result.estimator == "central" and "vdot" in result.fallback


@pytest.mark.parametrize("fn, args, wrt, words", [
    pytest.param(lambda x: (x @ x, 2 * x), (np.ones(3),), 0, "wrt=0", id="wrt-int"),
    pytest.param(lambda x: (x @ x, 2 * x), (np.ones(3),), (0, 5), "wrt=(0, 5)", id="wrt-out-of-range"),
    pytest.param(lambda x: (x @ x,), (np.ones(3),), (0,), "1 value", id="too-few-outputs"),
    pytest.param(lambda x: (x, 2 * x), (np.ones(3),), (0,), "a scalar value", id="vector-value"),
    pytest.param(lambda x: (x @ x, 2 * x[:2]), (np.ones(3),), (0,), "shape (2,)", id="gradient-shape"),
    pytest.param(lambda x: 1 / 0, (np.ones(3),), (0,), "ZeroDivisionError", id="fn-raises"),
])
def test_gradcheck_argument_mistakes_are_clear(fn, args, wrt, words):
    with pytest.raises(InvalidArgument, match="Expected") as info:
        gradcheck(fn, args, wrt=wrt)
    assert words in str(info.value)
