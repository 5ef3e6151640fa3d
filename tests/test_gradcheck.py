"""gradcheck: estimators and modes, each failing on a planted error and passing the right gradient."""

import b_softmax_grad_center as b
import numpy as np
import pytest

from gradverify import InvalidArgument
from gradverify import gradcheck


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
    """A loss through abs: |z| = z·sign(Re z) by the real part, the complex step runs it exactly."""
    z = w @ x
    return np.abs(z).sum(), np.sign(z) @ w


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
    # one real call and one complex-step call, whose real value agreeing with the real call's is the
    # determinism test of a pass, and the four real calls of central differences at h and 2h that
    # certify the pass in real arithmetic
    assert small.evaluations == large.evaluations == 6


def test_auto_picks_entries_for_small_and_directional_for_large():
    assert gradcheck(b.naive_softmax_loss_and_gradient, problem(3, 5), wrt=(0, 2)).mode == "entries"
    assert gradcheck(b.naive_softmax_loss_and_gradient, problem(20, 100), wrt=(0, 2)).mode == "directional"


def test_the_complex_step_runs_through_abs_by_the_real_part():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=30), rng.normal(size=(40, 30))
    result = gradcheck(relu_loss, (x, w), wrt=(0,), mode="directional")
    assert result.ok and result.estimator == "complex-step" and not result.fallback, result.fallback

    def wrong(x, w):
        value, g = relu_loss(x, w)
        return value, -g

    assert not gradcheck(wrong, (x, w), wrt=(0,), mode="directional").ok


def test_forcing_the_complex_step_on_code_that_cannot_take_it_is_a_clear_error():
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidArgument, match="Expected an implementation the complex step can run") as raised:
        gradcheck(lambda x: (np.std(x), (x - x.mean()) / (x.size * np.std(x))), (rng.normal(size=3),),
                  estimator="complex-step")
    assert "for code it cannot run through (" in str(raised.value) and "estimator='central'" in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__  # (no chain of gradverify's frames)


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
    rng, passes = np.random.default_rng(1), 0
    for trial in range(40):
        d, V, scale = int(rng.integers(1, 6)), int(rng.integers(2, 8)), (0.1, 1.0, 3.0, 10.0)[trial % 4]
        U, v_c = rng.normal(size=(d, V)) * scale, rng.normal(size=d) * scale
        o = int(np.argmax(U.T @ v_c))
        result = gradcheck(b.naive_softmax_loss_and_gradient, (v_c, o, U), wrt=(0, 2), mode=mode,
                           estimator=estimator)
        # no false alarm: a pass, or inconclusive, where p_o rounds to 1 and the whole gradient is
        # below rounding (J = −0, max|grad| ~ 1e-20 … 1e-166: a sign flip there would pass too) or the
        # rounding measured leaves a pass weaker than min_resolution; never a wrong entry named
        assert result.ok or result.inconclusive, (trial, result.message)
        assert result.ok or not result.located, (trial, result.message)
        passes += result.ok
        # a search made before the rounding was measured leaves no trace in a pass
        assert result.error_over_tolerance <= 1.0, (trial, result.error_over_tolerance)
    assert passes >= 20, passes


@pytest.mark.parametrize("value, refused", [
    pytest.param(lambda x: np.vdot(x, x), "vdot", id="vdot"),
    pytest.param(lambda x: np.vecdot(x, x), "vecdot", id="vecdot"),
    pytest.param(lambda x: np.linalg.vecdot(x, x), "vecdot", id="linalg-vecdot"),
    pytest.param(lambda x: np.sum(x.real * x), ".real", id="real-part"),
    pytest.param(lambda x: np.sum(x * x.imag) + np.sum(x * x), ".imag", id="imaginary-part"),
])
@pytest.mark.parametrize("n", [5, 600])
def test_code_that_conjugates_or_takes_a_part_makes_the_complex_step_fall_back(value, refused, n):
    """Each of these is Σ x² on real x, but conjugates (or drops) the imaginary part of x + i·h·u:
    the complex step alone would pass a gradient of 0 or of x. Refused, central differences judge."""
    x = np.random.default_rng(0).normal(size=n)
    right = gradcheck(lambda x: (value(x), 2 * x), (x,), wrt=(0,))
    assert right.ok and right.estimator == "central" and refused in right.fallback, right.message
    wrong = gradcheck(lambda x: (value(x), x), (x,), wrt=(0,))  # half the gradient
    assert not wrong.ok and wrong.estimator == "central"


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


@pytest.mark.parametrize("fn, words", [
    pytest.param(lambda x: (x @ x,), "1 value", id="too-few-outputs"),
    pytest.param(lambda x: (x, 2 * x), "a scalar value", id="vector-value"),
    pytest.param(lambda x: (x @ x, 2 * x[:2]), "shape (2,)", id="gradient-shape"),
    pytest.param(lambda x: 1 / 0, "ZeroDivisionError", id="fn-raises"),
])
def test_mistakes_are_the_same_when_the_complex_call_comes_first(fn, words):
    """Directional mode makes its complex-step call before the real one; the real call still has
    the first word, so a mistake reads as it does in the per-entry mode."""
    with pytest.raises(InvalidArgument, match="Expected") as info:
        gradcheck(fn, (np.ones(1000),), wrt=(0,))
    assert words in str(info.value)
    assert gradcheck(lambda x: (x @ x, 2 * x), (np.ones(1000),), wrt=(0,)).ok


def test_code_that_only_the_complex_call_breaks_falls_back_and_still_judges():
    """A TypeError raised only for complex input (a cast the code makes) is the complex step's
    limit, met in the first call: central differences judge, the right gradient passes."""
    x = np.random.default_rng(0).normal(size=1000)

    def fn(x, factor=2.0):
        if np.iscomplexobj(x):
            raise TypeError("no complex here")
        return float(x @ x), factor * x

    right = gradcheck(fn, (x,))
    assert right.ok and right.estimator == "central" and "no complex here" in right.fallback
    assert not gradcheck(lambda x: fn(x, 2.01), (x,)).ok


# ---------------------------------------------------------------- verdicts gradcheck must not get wrong
def square(x):
    return float(np.sum(x ** 2)), 2 * x


@pytest.mark.parametrize("n", [5, 1000])
@pytest.mark.parametrize("estimator", ["auto", "central"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_the_gradient_is_a_failure_that_says_so(n, estimator, bad):
    x = np.random.default_rng(0).normal(size=n)
    result = gradcheck(lambda x: (np.sum(x ** 2), 2 * x * bad), (x,), estimator=estimator)
    assert not result.ok and str(bad) in result.message and "not finite" in result.message
    assert gradcheck(square, (x,), estimator=estimator).ok


def test_nan_in_one_entry_is_located():
    x = np.random.default_rng(0).normal(size=1000)

    def fn(x):
        g = 2 * x
        g[321] = np.nan
        return np.sum(x ** 2), g

    result = gradcheck(fn, (x,))
    assert not result.ok and result.located[0].index == (321,) and "(321,)" in result.message


def test_nan_in_the_value_is_a_failure_that_says_so():
    x = np.ones(4)
    result = gradcheck(lambda x: (np.nan * np.sum(x), 2 * x), (x,))
    assert not result.ok and "value is nan" in result.message


@pytest.mark.parametrize("n", [5, 1000])
def test_zero_mean_noise_in_the_gradient_fails(n):
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    result = gradcheck(lambda x: (np.sum(x ** 2), 2 * x + rng.normal(size=x.shape)), (x,))
    assert not result.ok and "not deterministic" in result.message


@pytest.mark.parametrize("n", [5, 1000])
def test_a_random_value_fails_though_its_gradient_is_right(n):
    """The complex step's real value is the determinism test of a pass: a value that moves between
    calls (here, unseeded noise added to it) sends the check to the full test, which fails."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    result = gradcheck(lambda x: (np.sum(x ** 2) + rng.normal(), 2 * x), (x,))
    assert not result.ok and "not deterministic" in result.message


@pytest.mark.parametrize("n", [5, 1000])
def test_a_real_value_unlike_the_complex_one_is_another_function_and_central_differences_judge(n):
    """Code whose real value differs from the complex step's real part (here, on purpose) is
    deterministic (the full test says so) but computes another function on complex numbers
    (x.view(complex) does, and a wrong claim passed): the complex step is not trusted."""
    x = np.random.default_rng(0).normal(size=n)

    def fn(x, factor=2.0):
        return np.sum(x ** 2) + (1.0 if np.iscomplexobj(x) else 0.0), factor * x

    right = gradcheck(fn, (x,))
    assert right.ok and right.estimator == "central", right.message
    assert "computes another function" in right.fallback, right.fallback
    assert not gradcheck(lambda x: fn(x, 2.01), (x,)).ok


def test_a_pair_of_reals_viewed_as_complex_numbers_is_another_function_under_the_complex_step():
    """Σ|a + ib| over pairs, x.view(complex): on x + i·h·u the view is x itself, and |z| by the
    real part read sign(x), which a wrong claim sign(x) matched (ok=True)."""
    x = np.random.default_rng(1).normal(size=64)

    def fn(x, wrong=False):
        z = x.view(np.complex128)
        value = np.sum(np.abs(z))
        if wrong:
            return value, np.sign(x)
        pairs = x.reshape(-1, 2)
        return value, (pairs / np.abs(z)[:, None]).reshape(-1)

    assert gradcheck(fn, (x,)).ok
    wrong = gradcheck(lambda x: fn(x, True), (x,))
    assert not wrong.ok and wrong.estimator == "central", wrong


@pytest.mark.parametrize("estimator", ["complex-step", "central"])
def test_buffers_reused_between_calls_hold_exactly_the_point_asked_for(estimator):
    """The complex buffer and the moved real buffer are written once and then only where a
    direction changes them: every call still sees x on its real part, moved on one range only,
    while a wrong entry is located (full direction, halves, windows, the entry alone)."""
    x = np.random.default_rng(5).normal(size=5000)
    seen = []

    def fn(z):
        if np.iscomplexobj(z):
            assert np.array_equal(np.asarray(z).real, x)
            moved = np.flatnonzero(np.asarray(z).imag)
        else:
            moved = np.flatnonzero(z != x)
        seen.append(moved)
        g = 2 * np.asarray(z).real
        g[1234] += 1e-3 if estimator == "complex-step" else 1.0
        return np.sum(z ** 2), g

    result = gradcheck(fn, (x,), estimator=estimator)
    assert not result.ok and result.located[0].index == (1234,), result.message
    ranges = [m for m in seen if m.size]
    assert all(m[-1] - m[0] + 1 == m.size for m in ranges)  # one range each, nothing left from before
    assert ranges[0].size == x.size and ranges[-1].tolist() == [1234]  # the whole direction first, the entry last


@pytest.mark.parametrize("n", [5, 1000])
def test_noise_from_the_global_generator_is_pinned_and_then_fails(n):
    x = np.random.default_rng(0).normal(size=n)
    fn = lambda x: (np.sum(x ** 2), 2 * x + 1e-3 * np.random.normal(size=x.shape))  # noqa: E731
    result = gradcheck(fn, (x,), pin_rng=True)
    assert not result.ok and result.pinned_rng
    unpinned = gradcheck(fn, (x,))  # the global generators untouched: not deterministic, and the hint
    assert not unpinned.ok and not unpinned.pinned_rng and "pin_rng=True" in unpinned.message, unpinned


def test_randomness_inside_fn_is_pinned_so_a_sign_flip_is_caught_and_the_right_gradient_passes():
    """A loss that draws its own mini-batch with np.random on every call."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(200, 30))

    def loss(w, sign=1.0):
        batch = data[np.random.choice(len(data), size=20, replace=False)]
        r = batch @ w
        return 0.5 * float(r @ r), sign * batch.T @ r

    w = rng.normal(size=30)
    state = np.random.get_state()
    right = gradcheck(loss, (w,), mode="directional", pin_rng=True)
    assert right.ok and right.pinned_rng, right.message
    assert np.all(np.random.get_state()[1] == state[1])  # the caller's global state is put back
    wrong = gradcheck(lambda w: loss(w, -1.0), (w,), mode="directional", pin_rng=True)
    assert not wrong.ok


def test_nondet_tol_accepts_a_stated_difference_between_calls():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)

    def jittery(x):
        return np.sum(x ** 2), 2 * x + 1e-12 * rng.uniform(-1, 1, size=x.shape)

    assert not gradcheck(jittery, (x,)).ok
    assert gradcheck(jittery, (x,), nondet_tol=1e-11).ok
    assert not gradcheck(lambda x: (np.sum(x ** 2), 2.001 * x + 1e-12 * rng.uniform(-1, 1, size=x.shape)),
                         (x,), nondet_tol=1e-11).ok


@pytest.mark.parametrize("mode", ["entries", "directional"])
def test_float32_inputs_follow_their_dtype(mode):
    W = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    if mode == "directional":
        W = np.random.default_rng(0).normal(size=(30, 40)).astype(np.float32)

    def fn(W, scale=2.0):
        u = np.zeros_like(W)  # float32: the 1e-20 step must not be rounded away in here
        u += W
        return np.sum(u * u), scale * W

    right = gradcheck(fn, (W,), mode=mode)
    assert right.ok, right.message
    assert not gradcheck(lambda W: fn(W, 2.01), (W,), mode=mode).ok


# ---------------------------------------------------------------- complex step through code that drops imaginary parts
def layer_norm(x, wrong=False):
    mu, sigma = x.mean(), np.std(x)
    xhat = (x - mu) / sigma
    w = np.arange(1.0, x.size + 1)
    value = float(np.real(w @ xhat)) if not np.iscomplexobj(xhat) else w @ xhat
    dxhat = w
    g = (dxhat - dxhat.mean() - xhat * np.mean(dxhat * xhat)) / sigma
    return value, (np.real(g) if not np.iscomplexobj(g) else g) * (1.5 if wrong else 1.0)


DROPPING = [
    pytest.param(lambda x: (np.std(x), (x - x.mean()) / (x.size * np.std(x))), id="np.std"),
    pytest.param(lambda x: (np.var(x), 2 * (x - x.mean()) / x.size), id="np.var"),
    pytest.param(lambda x: (np.linalg.norm(x), x / np.linalg.norm(x)), id="np.linalg.norm"),
    pytest.param(lambda x: (np.sqrt(np.sum(np.abs(x) ** 2)), x / np.sqrt(np.sum(x * x))), id="abs"),
    pytest.param(lambda x: (np.sum(np.maximum(x, 0.3) ** 2), 2 * np.maximum(x, 0.3) * (x > 0.3)), id="np.maximum"),
    pytest.param(lambda x: (np.sum(np.minimum(x, 0.3) ** 2), 2 * np.minimum(x, 0.3) * (x < 0.3)), id="np.minimum"),
    pytest.param(lambda x: (np.sum(x.real ** 3), 3 * x ** 2), id=".real"),
]


@pytest.mark.parametrize("fn", DROPPING)
@pytest.mark.parametrize("n", [7, 600])
def test_code_that_drops_the_imaginary_part_passes_when_right_and_fails_when_wrong(fn, n):
    x = np.random.default_rng(1).normal(size=n)
    right = gradcheck(fn, (x,))
    assert right.ok, (right.message, right.fallback)

    def flipped(x):
        value, g = fn(x)
        return value, -np.asarray(g)

    def one_entry(x):
        value, g = fn(x)
        g = np.array(g, copy=True)
        g[n // 2] += 1e-3 * np.max(np.abs(g))
        return value, g

    assert not gradcheck(flipped, (x,)).ok
    wrong = gradcheck(one_entry, (x,))
    assert not wrong.ok and wrong.located and wrong.located[0].index == (n // 2,), wrong.message


@pytest.mark.parametrize("n", [7, 600])
def test_layer_norm_complex_step_disagreement_falls_back_and_says_why(n):
    x = np.random.default_rng(2).normal(size=n)
    right = gradcheck(layer_norm, (x,))
    assert right.ok, right.message
    if right.estimator == "central":
        assert right.fallback
    assert not gradcheck(lambda x: layer_norm(x, wrong=True), (x,)).ok


# ---------------------------------------------------------------- in-place changes
def test_an_implementation_that_normalises_its_argument_in_place_is_reported_and_the_callers_array_kept():
    x = np.random.default_rng(0).normal(size=50)
    keep = x.copy()

    def normalising(o, x):
        x /= np.linalg.norm(x)
        return float(np.sum(x)), np.ones_like(x)

    result = gradcheck(normalising, (3, x))
    assert not result.ok and "modifies its argument args[1] in place" in result.message
    assert np.array_equal(x, keep)
    assert gradcheck(lambda o, x: (float(np.sum(x)), np.ones_like(x)), (3, x)).ok


# ---------------------------------------------------------------- no cancellation
@pytest.mark.parametrize("count", [2, 16])
@pytest.mark.parametrize("signs", ["equal", "opposite", "random"])
def test_errors_in_several_entries_do_not_cancel(count, signs):
    rng = np.random.default_rng(count)
    x = rng.normal(size=3000)
    where = rng.choice(x.size, size=count, replace=False)
    sign = {"equal": np.ones(count), "opposite": np.resize([1.0, -1.0], count),
            "random": rng.choice([-1.0, 1.0], size=count)}[signs]

    scale = np.max(np.abs(2 * x))

    def planted_many(x):
        g = 2 * x
        g[where] += sign * 1e-6 * scale
        return np.sum(x ** 2), g

    for seed in range(10):
        result = gradcheck(planted_many, (x,), seed=seed)
        assert result.estimator == "complex-step"
        assert not result.ok and result.located[0].index[0] in where, (seed, result.message)


# ---------------------------------------------------------------- the API
def test_raise_exception_names_the_wrong_entry():
    from gradverify.checking import GradcheckError

    args = problem(20, 500)
    with pytest.raises(GradcheckError, match=r"args\[2\] at index \(1, 7\): claimed .*estimate") as info:
        gradcheck(planted(1e-4), args, wrt=(0, 2), raise_exception=True)
    assert not info.value.result.ok
    assert gradcheck(b.naive_softmax_loss_and_gradient, args, wrt=(0, 2), raise_exception=True).ok


def test_wrt_defaults_to_every_float_array_argument():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=3), rng.normal(size=(2, 3))

    def fn(x, k, w):
        return float(np.sum(w @ x)), w.sum(axis=0), np.tile(x, (2, 1))

    assert gradcheck(fn, (x, 4, w)).ok
    wrong = gradcheck(lambda x, k, w: (*fn(x, k, w)[:2], -fn(x, k, w)[2]), (x, 4, w))
    assert not wrong.ok and wrong.located[0].argument == 2


def f_sq(x):
    return float(x @ x), 2 * x


BAD_ARGUMENTS = [
    pytest.param({"wrt": ()}, "wrt=()", id="wrt-empty"),
    pytest.param({"directions": 0}, "directions=0", id="directions-0"),
    pytest.param({"directions": -1}, "directions=-1", id="directions-negative"),
    pytest.param({"spot": -1}, "spot=-1", id="spot-negative"),
    pytest.param({"wrt": (0, 0)}, "wrt=(0, 0)", id="wrt-repeated"),
    pytest.param({"args": 5}, "args=5", id="args-not-a-sequence"),
    pytest.param({"seed": -1}, "seed=-1", id="seed-negative"),
    pytest.param({"seed": "abc"}, "seed='abc'", id="seed-string"),
    pytest.param({"tolerance": None}, "tolerance=None", id="tolerance-none"),
    pytest.param({"args": ("abc",), "wrt": (0,)}, "args[0]='abc' of type str", id="string-argument"),
    pytest.param({"args": ("abc",)}, "args of types ['str']", id="no-float-array"),
    pytest.param({"args": (np.arange(3),), "wrt": (0,)}, "args[0] of dtype int64", id="int-array"),
    pytest.param({"args": (np.ones(3, complex),), "wrt": (0,)}, "args[0] of dtype complex128", id="complex-array"),
    pytest.param({"mode": "entries", "directions": 3}, "directions=3", id="entries-with-directions"),
    pytest.param({"mode": "entries", "spot": 2}, "spot=2", id="entries-with-spot"),
    pytest.param({"mode": "entries", "locate": False}, "locate=False", id="entries-with-locate"),
    pytest.param({"nondet_tol": -1.0}, "nondet_tol=-1.0", id="nondet-tol-negative"),
    pytest.param({"raise_exception": "yes"}, "raise_exception='yes'", id="raise-exception-string"),
    pytest.param({"fn": 3}, "fn=3", id="fn-not-callable"),
]


@pytest.mark.parametrize("change, words", BAD_ARGUMENTS)
def test_every_bad_argument_is_an_invalid_argument(change, words):
    call = {"fn": f_sq, "args": (np.ones(3),), **change}
    with pytest.raises(InvalidArgument, match="^Expected .* but got ") as info:
        gradcheck(**call)
    assert words in str(info.value)


def test_numpy_integers_are_positions_too():
    assert gradcheck(f_sq, (np.ones(3),), wrt=(np.int64(0),)).ok


def test_from_four_threads_at_once_the_results_are_the_serial_ones():
    from concurrent.futures import ThreadPoolExecutor

    cases = [(b.naive_softmax_loss_and_gradient, problem(20, 500, s)) for s in range(4)]
    cases += [(planted(1e-6, (s, 3 * s)), problem(20, 500, s)) for s in range(4)]

    def run(case):
        r = gradcheck(case[0], case[1], wrt=(0, 2), seed=1)
        return r.ok, r.located, r.error_over_tolerance, r.evaluations

    serial = [run(c) for c in cases]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(run, cases * 2))
    assert threaded == serial * 2
    assert [s[0] for s in serial] == [True] * 4 + [False] * 4


def regularised_least_squares(W, x, t, error=None):
    """J = ½‖Wx − t‖² + ½λ‖W‖², ∂J/∂W = (Wx − t)xᵀ + λW, with a planted ``error``."""
    r = W @ x - t
    g = np.outer(r, x)
    if error == "transposed":
        g = g.T
    value = 0.5 * (r @ r) + 0.05 * np.sum(W * W)
    return value, g if error == "dropped term" else g + 0.1 * W


@pytest.mark.parametrize("mode", ["entries", "directional"])
@pytest.mark.parametrize("error", ["transposed", "dropped term"])
def test_a_transposed_gradient_or_a_dropped_term_fails_and_the_right_one_passes(mode, error):
    n = 12 if mode == "entries" else 60
    rng = np.random.default_rng(3)
    W, x, t = rng.normal(size=(n, n)), rng.normal(size=n), rng.normal(size=n)
    assert gradcheck(regularised_least_squares, (W, x, t), wrt=(0,), mode=mode).ok
    wrong = gradcheck(lambda W, x, t: regularised_least_squares(W, x, t, error), (W, x, t), wrt=(0,), mode=mode)
    assert not wrong.ok and wrong.located and wrong.located[0].argument == 0, wrong.message


# ---------------------------------------------------------------- what a pass can resolve
def _least_squares(W, x, t):
    r = W @ x - t
    return 0.5 * r @ r, np.outer(r, x)


@pytest.mark.parametrize("estimator, dtype", [("auto", np.float64), ("central", np.float64), ("auto", np.float32)])
def test_the_resolution_a_result_states_is_what_it_catches(estimator, dtype):
    """An error of `resolution`·max|g| in one entry is caught on at least 90% of seeds (the promise),
    and the figure is no wider than needed: a thousandth of it passes."""
    rng = np.random.default_rng(0)
    W, x, t = (rng.normal(size=s).astype(dtype) for s in ((200, 300), 300, 200))
    first = gradcheck(_least_squares, (W, x, t), wrt=(0,), estimator=estimator)
    assert first.ok and first.mode == "directional"
    largest = float(np.abs(_least_squares(W, x, t)[1]).max())
    caught = {}
    for scale in (1.0, 1e-3):
        def planted(W, x, t, e=scale * first.resolution * largest):
            J, g = _least_squares(W, x, t)
            g = g.copy()
            g[17, 42] += e
            return J, g
        caught[scale] = sum(not gradcheck(planted, (W, x, t), wrt=(0,), estimator=estimator, seed=s).ok
                            for s in range(20))
    assert caught[1.0] >= 18 and caught[1e-3] <= 2, caught


def test_the_complex_step_resolves_ten_thousand_times_finer_than_central_differences():
    rng = np.random.default_rng(0)
    W, x, t = rng.normal(size=(200, 300)), rng.normal(size=300), rng.normal(size=200)
    complex_step = gradcheck(_least_squares, (W, x, t), wrt=(0,)).resolution
    central = gradcheck(_least_squares, (W, x, t), wrt=(0,), estimator="central").resolution
    assert complex_step < 1e-9 and central > 1e4 * complex_step


# ---------------------------------------------------------------- the guard follows what numpy code really does
def _relu_net(rng, n=40, h=30, masked=True, near_kink=False):
    W1, W2, x = rng.normal(size=(h, n)), rng.normal(size=(1, h)), rng.normal(size=n)
    if near_kink:  # half the pre-activations within 1e-9 of the kink, none exactly on it
        near = np.arange(h) % 2 == 0
        W1[near] -= np.outer((W1 @ x)[near] - rng.uniform(-1e-9, 1e-9, size=near.sum()), x) / (x @ x)

    def fn(W1, W2, x):
        z = W1 @ x
        a = np.maximum(z, 0.0)
        out = W2 @ a
        d = W2[0] * (z > 0) if masked else W2[0]  # the mask as users write it
        return 0.5 * (out @ out), np.outer(out[0] * d, x), np.outer(out, a)

    return fn, (W1, W2, x)


@pytest.mark.parametrize("near_kink", [False, True], ids=["ordinary", "within-1e-9-of-the-kink"])
def test_a_relu_mask_is_seen_through_by_the_complex_step(near_kink):
    """z > 0 on x + i·h·u compares real parts: a locally constant mask, so the complex step is exact
    (central differences cross the kink at 1e-9 and read half the slope)."""
    fn, args = _relu_net(np.random.default_rng(3), near_kink=near_kink)
    right = gradcheck(fn, args, wrt=(0, 1), mode="directional")
    assert right.ok and right.estimator == "complex-step" and right.fallback == "", right.message
    assert right.resolution < 1e-8
    unmasked, _ = _relu_net(np.random.default_rng(3), masked=False, near_kink=near_kink)
    assert not gradcheck(unmasked, args, wrt=(0, 1), mode="directional").ok


def test_a_tie_at_a_kink_makes_the_complex_step_fall_back():
    x = np.array([0.0, 1.0, -2.0, 3.0])  # relu at exactly 0: the imaginary part would pick the side
    result = gradcheck(lambda x: (np.sum(np.maximum(x, 0.0) ** 2), 2 * np.maximum(x, 0.0)), (x,))
    assert result.estimator == "central" and "np.maximum at a tie: 1 pair of values of equal real part" in result.fallback


def _lasso(style, drop_l1, lam=0.1):
    """Least squares plus an L1 term; the gradient may forget the L1 term."""
    def fn(w, X, y):
        if style == "asarray":
            w = np.asarray(w)  # a defensive first line: w leaves the watch
            r = X @ w - y
            penalty = np.sum(np.abs(w))
        else:  # the residual through np.dot (a plain array comes back), a robust term on part of it
            r = np.dot(X, w) - y
            penalty = np.sum(np.abs(r[:20]))
        g = X.T @ r
        if not drop_l1:
            g = g + lam * (np.sign(w) if style == "asarray" else X[:20].T @ np.sign(r[:20]))
        return 0.5 * r @ r + lam * penalty, g
    return fn


@pytest.mark.parametrize("style, refused", [("dot", None), ("asarray", "np.asarray")])
def test_code_through_np_dot_or_np_asarray_cannot_hide_a_dropped_term(style, refused):
    """np.dot hands back a plain array: the watch goes on from its result, so the abs after it is
    seen (and run by the real part); np.asarray(w) takes w out of the watch (no hook sees it): the
    complex step is refused. Either way a gradient without the L1 term fails (the complex step
    alone passed it: the modulus dropped the imaginary part of the penalty unseen, and agreed with
    the wrong gradient)."""
    rng = np.random.default_rng(0)
    X, y, w = rng.standard_normal((200, 50)), rng.standard_normal(200), rng.standard_normal(50)
    estimator = "central" if refused else "complex-step"
    right = gradcheck(_lasso(style, drop_l1=False), (w, X, y), wrt=(0,))
    assert right.ok and right.estimator == estimator, right.message
    wrong = gradcheck(_lasso(style, drop_l1=True), (w, X, y), wrt=(0,))
    assert not wrong.ok and wrong.estimator == estimator and (refused or "") in wrong.fallback, wrong.fallback


def _layer_norm(forget_variance_path, eps=1e-5):
    def fn(X, G):
        mu, var = X.mean(1, keepdims=True), X.var(1, keepdims=True)
        inv = 1 / np.sqrt(var + eps)
        xh = (X - mu) * inv
        dX = inv * (G - G.mean(1, keepdims=True))
        if not forget_variance_path:
            dX = dX - inv * xh * (G * xh).mean(1, keepdims=True)
        return np.sum(G * xh), dX
    return fn


def test_a_layer_norm_backward_that_treats_the_variance_as_a_constant_fails():
    """X.var() of complex numbers is |X − mean|², real: the complex step would treat the variance as
    a constant too, and agree with a backward pass that forgets its path. It is refused."""
    rng = np.random.default_rng(0)
    X, G = rng.standard_normal((8, 64)), rng.standard_normal((8, 64))
    assert gradcheck(_layer_norm(False), (X, G), wrt=(0,)).ok
    wrong = gradcheck(_layer_norm(True), (X, G), wrt=(0,))
    assert not wrong.ok and wrong.estimator == "central"


# ---------------------------------------------------------------- a confident softmax: cancellation on both sides
def confident_softmax(margin, error=None, V=500, d=20):
    """word2vec's softmax cross-entropy when the score of the true word o leads by ``margin``: J = −log p_o
    with p_o ≈ 1 is rounded at u absolute (not u·|J|), and row o of ∂J/∂U, (p_o − 1)·v, by cancellation."""
    rng = np.random.default_rng(0)
    U, v, o = 0.1 * rng.standard_normal((V, d)), rng.standard_normal(d), 7
    U[o] = margin * v / (v @ v)

    def fn(v, o, U, size=0.0):
        s = U @ v
        e = np.exp(s - s.max())
        p = e / e.sum()
        dp = p.copy()
        dp[o] -= 1
        g_U = np.outer(dp, v)
        if error == "flipped":
            g_U[o] = -g_U[o]
        elif error == "one entry":
            g_U[o, 3] += size
        return -np.log(p[o]), U.T @ dp, g_U

    size = 0.1 * float(np.max(np.abs(fn(v, o, U)[2])))  # the plant's size, fixed before any check
    return (lambda v, o, U: fn(v, o, U, size)), (v, o, U)


def test_a_confident_softmax_is_judged_by_the_complex_step_not_by_central_noise():
    """Central differences' a-priori rounding (u·|J|/h) is far below what J = −log p_o really has (u/h):
    measured before the two estimators are said to disagree, they agree, and the complex step judges,
    its tolerance widened by its own measured rounding only (central's f-noise/h once passed a sign flip)."""
    fn, args = confident_softmax(30)
    right = gradcheck(fn, args, wrt=(0, 2), min_resolution=0.1)  # (its rounding is 2e-3 of max|g|: weak)
    assert right.ok and right.estimator == "complex-step" and not right.fallback, (right.message, right.fallback)
    assert right.resolution < 0.1
    default = gradcheck(fn, args, wrt=(0, 2))
    assert default.inconclusive and "min_resolution" in default.message, default
    flipped = gradcheck(confident_softmax(30, "flipped")[0], args, wrt=(0, 2))
    assert not flipped.ok and flipped.estimator == "complex-step", flipped.fallback
    one = gradcheck(confident_softmax(30, "one entry")[0], args, wrt=(0, 2))
    assert not one.ok and one.estimator == "complex-step" and one.located[0].index == (7, 3), one.message


# ---------------------------------------------------------------- the complex step refused in a later call
class LaterFloor:
    """tanh summed, whose gradient's size is logged with np.floor from the 4th call on: the first complex-step
    call runs, a later one (a search's, a Monte Carlo run's) is refused."""

    def __init__(self, factor=1.0):
        self.factor, self.calls, self.logged = factor, 0, []

    def __call__(self, x):
        self.calls += 1
        t = np.tanh(x)
        g = (1 - t ** 2) * self.factor
        if self.calls > 3:
            self.logged.append(np.floor(g).max())
        return np.sum(t), g


@pytest.mark.parametrize("locate", [True, False])
def test_a_complex_step_refused_in_a_later_call_falls_back_and_says_why(locate):
    """NotAnalytic met in the search's estimates (locate=True) or in the Monte Carlo runs that measure the
    complex step's rounding (locate=False) is the fallback to central differences, never raised."""
    x = np.random.default_rng(0).normal(size=1000)
    assert gradcheck(LaterFloor(), (x,), locate=locate).ok
    wrong = gradcheck(LaterFloor(1.001), (x,), locate=locate)
    assert not wrong.ok and wrong.estimator == "central" and "floor" in wrong.fallback, wrong.fallback
    dropped = gradcheck(LaterFloor(0.0), (x,), locate=locate)
    assert not dropped.ok and dropped.estimator == "central"


def test_a_comparison_only_monte_carlo_arithmetic_follows_falls_back_not_raised():
    """A sanity check on the gradient read as floats: the plain guard does not follow that float array,
    Monte Carlo arithmetic (which follows real results too) meets the comparison; the right gradient passes,
    a wrong one fails, nothing is raised."""
    x = np.random.default_rng(0).normal(size=1000)

    def fn(x, factor=1.0):
        t = np.tanh(x)
        g = 1 - t ** 2
        if np.iscomplexobj(g) and (g.view(np.float64) * 1.0).max() > 10:
            print("large gradient")
        return np.sum(t), g * factor

    right = gradcheck(fn, (x,))
    assert right.ok, right.message
    wrong = gradcheck(lambda x: fn(x, 1.001), (x,))
    assert not wrong.ok
    if wrong.estimator == "central":
        assert "greater" in wrong.fallback, wrong.fallback


# ---------------------------------------------------------------- fn returning its own gradient array
class Layer:
    """J = ½‖XW − Y‖², its gradient kept in the layer's own array self.dW and returned (the same array
    at every call): written afresh (``self.dW[...] =``), or accumulated (``self.dW +=``, never zeroed)."""

    def __init__(self, shape, accumulate=False, error=0.0):
        self.dW, self.accumulate, self.error = np.zeros(shape), accumulate, error

    def __call__(self, W, X, Y):
        R = X @ W - Y
        if self.accumulate:
            self.dW += X.T @ R
        else:
            self.dW[...] = X.T @ R
        self.dW[2, 3] += self.error
        return 0.5 * np.sum(R * R), self.dW


def _layer_problem():
    rng = np.random.default_rng(0)
    return rng.normal(size=(30, 20)), rng.normal(size=(100, 30)), rng.normal(size=(100, 20))


@pytest.mark.parametrize("estimator", ["auto", "central"])
def test_a_gradient_accumulated_into_the_array_fn_returns_fails_and_says_so(estimator):
    """The second call returns the first call's own array, doubled: compared with itself it was 'equal'
    (a pass); now the copy taken before the call says what changed."""
    W, X, Y = _layer_problem()
    result = gradcheck(Layer(W.shape, accumulate=True), (W, X, Y), wrt=(0,), estimator=estimator)
    assert not result.ok and "accumulates into it" in result.message, result.message
    assert "same gradient array for args[0]" in result.message and "seed" not in result.message


@pytest.mark.parametrize("estimator", ["auto", "central"])
def test_a_gradient_array_written_afresh_at_every_call_is_judged_at_the_point(estimator):
    """The same array returned, right at each call: the right gradient passes; a planted error is found,
    and the claim it names is the one at the point, not what a later call at a moved point wrote there."""
    W, X, Y = _layer_problem()
    assert gradcheck(Layer(W.shape), (W, X, Y), wrt=(0,), estimator=estimator).ok
    largest = float(np.abs(X.T @ (X @ W - Y)).max())
    wrong = gradcheck(Layer(W.shape, error=1e-3 * largest), (W, X, Y), wrt=(0,), estimator=estimator)
    assert not wrong.ok and wrong.located and wrong.located[0].index == (2, 3), wrong.message
    claimed = (X.T @ (X @ W - Y))[2, 3] + 1e-3 * largest
    assert wrong.located[0].claimed == claimed
    dropped = gradcheck(Layer(W.shape, error=-(X.T @ (X @ W - Y))[2, 3]), (W, X, Y), wrt=(0,), estimator=estimator)
    assert not dropped.ok and dropped.located[0].index == (2, 3)


@pytest.mark.parametrize("estimator", ["auto", "central"])
def test_a_cached_gradient_returned_unchanged_at_every_call_passes(estimator):
    """J = Σ c ∘ x: its gradient c, computed once and the same array returned at every call."""
    c = np.random.default_rng(1).normal(size=(40, 10))
    x = np.random.default_rng(2).normal(size=(40, 10))
    cached = c.copy()
    assert gradcheck(lambda x: (np.sum(c * x), cached), (x,), estimator=estimator).ok
    wrong = -c
    assert not gradcheck(lambda x: (np.sum(c * x), wrong), (x,), estimator=estimator).ok


def test_a_torch_grad_not_zeroed_fails_and_says_so():
    """torch's own accumulation: p.grad kept between calls (.numpy() of it is the same memory each call)."""
    torch = pytest.importorskip("torch")
    W, X, Y = (torch.from_numpy(a) for a in _layer_problem())
    p = torch.nn.Parameter(torch.zeros(W.shape, dtype=torch.float64))

    def fn(W, zero=False, sign=1.0):
        if W.is_complex():  # a real layer (and no complex write into p: torch warns of that once a process)
            raise TypeError("real weights only")
        with torch.no_grad():
            p.copy_(W)
        if zero:
            p.grad = None
        J = 0.5 * ((X @ p - Y) ** 2).sum()
        J.backward()
        return J.detach(), p.grad if sign == 1.0 else sign * p.grad  # p.grad itself: the same memory each call

    result = gradcheck(fn, (W,))
    assert not result.ok and "accumulates into it" in result.message and ".grad" in result.message, result.message
    assert gradcheck(lambda W: fn(W, zero=True), (W,)).ok
    assert not gradcheck(lambda W: fn(W, zero=True, sign=-1.0), (W,)).ok


def test_torch_randomness_is_named_when_a_torch_dropout_is_not_deterministic():
    torch = pytest.importorskip("torch")
    x = torch.from_numpy(np.random.default_rng(0).normal(size=500))

    def fn(x, seeded=False, sign=1.0):
        if seeded:
            torch.manual_seed(0)
        keep = (torch.rand(x.shape, dtype=x.dtype) > 0.5).to(x.dtype)  # a dropout mask
        return (keep * x * x).sum(), sign * 2 * keep * x

    result = gradcheck(fn, (x,))
    assert not result.ok and "torch.manual_seed" in result.message and "torch.Generator" in result.message
    assert gradcheck(lambda x: fn(x, seeded=True), (x,)).ok
    assert not gradcheck(lambda x: fn(x, seeded=True, sign=-1.0), (x,)).ok


# ---------------------------------------------------------------- a pass that resolves nothing is no pass
def relu_mlp(dtype, error=None, B=16, D=30, H=20, C=5):
    """A ReLU MLP's softmax cross-entropy (the complex step sees through its mask z > 0; forced central
    differences judge it in float32 only at a resolution of a few max|grad|)."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(B, D)).astype(dtype), rng.integers(0, C, size=B)
    W1, W2 = (rng.normal(size=(D, H)) / D ** 0.5).astype(dtype), (rng.normal(size=(H, C)) / H ** 0.5).astype(dtype)

    def fn(W1, W2, X, y):
        z1 = X @ W1
        a1 = np.maximum(z1, 0)
        s = a1 @ W2
        e = np.exp(s - s.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        ds = p.copy()
        ds[np.arange(B), y] -= 1
        ds /= B
        g_W1, g_W2 = X.T @ ((ds @ W2.T) * (z1 > 0)), a1.T @ ds
        if error == "flipped":
            g_W1 = -g_W1
        elif error == "one entry":
            g_W1[3, 4] += 1e-3 * np.abs(g_W1).max()
        return -np.log(p[np.arange(B), y]).mean(), g_W1, g_W2

    return fn, (W1, W2, X, y)


def test_a_pass_that_cannot_resolve_max_grad_is_inconclusive_and_says_what_to_do():
    """float32 code judged by central differences: resolution 3 (an error of 3·max|grad| in one entry
    could pass). That was ok=True; it is now not ok, inconclusive, and says why and what to do."""
    from gradverify.checking import GradcheckError

    fn, args = relu_mlp(np.float32)
    result = gradcheck(fn, args, wrt=(0, 1), estimator="central")  # (the complex step sees through z > 0)
    assert not result.ok and result.inconclusive and result.resolution >= 1, result
    assert result.message.startswith("inconclusive:") and f"{result.resolution:.3g}" in result.message
    assert "central differences on float32" in result.message and "float64 inputs" in result.message
    with pytest.raises(GradcheckError, match="^inconclusive:") as info:
        gradcheck(fn, args, wrt=(0, 1), estimator="central", raise_exception=True)
    assert info.value.result.inconclusive
    fn64, args64 = relu_mlp(np.float64)  # what it says to do: in float64 the right gradient passes
    right = gradcheck(fn64, args64, wrt=(0, 1))
    assert right.ok and not right.inconclusive and right.resolution < 1e-4, right.message
    for error in ("flipped", "one entry"):
        wrong = gradcheck(relu_mlp(np.float64, error)[0], args64, wrt=(0, 1))
        assert not wrong.ok and not wrong.inconclusive, (error, wrong.message)
    assert wrong.located and wrong.located[0].index == (3, 4), wrong.message


@pytest.mark.parametrize("n", [10, 1000])
def test_a_complex_step_that_underflows_is_said_so_not_blamed_on_the_code(n):
    """J = 1e-300·Σx²: Im f(x + i·h·u) = h·f' ≈ 1e-321, subnormal, its digits lost. Central differences
    judge; the fallback says the complex step underflowed, not that the code drops the imaginary part."""
    x = np.random.default_rng(0).normal(size=n)
    right = gradcheck(lambda x: (1e-300 * np.sum(x ** 2), 2e-300 * x), (x,))
    assert right.ok and right.estimator == "central", right.message
    assert "underflowed" in right.fallback and "drops the imaginary part" not in right.fallback, right.fallback
    assert not gradcheck(lambda x: (1e-300 * np.sum(x ** 2), -2e-300 * x), (x,)).ok


# ---------------------------------------------------------------- how many Monte Carlo runs a confirmation takes
def _monte_carlo_runs(monkeypatch, fn, args):
    from gradverify.checking.calls import Calls
    runs, complex_call = [], Calls.complex

    def counted(self, u, h, jitter=None, grads=False):
        runs.append((u.lo, u.hi, u.weighted) if jitter is not None else None)
        return complex_call(self, u, h, jitter=jitter, grads=grads)

    monkeypatch.setattr(Calls, "complex", counted)
    result = gradcheck(fn, args, wrt=(0, 2), min_resolution=0.1)
    # the runs of each confirmation: consecutive Monte Carlo calls along one direction
    groups = [[runs[0]]] if runs else []
    for before, run in zip(runs, runs[1:]):
        if run != before:
            groups.append([])
        groups[-1].append(run)
    return result, [len(g) for g in groups if g[0] is not None]


def test_a_failure_far_beyond_the_spread_of_two_monte_carlo_runs_is_confirmed_by_those_two(monkeypatch):
    from gradverify.tolerances import CONFIRM_FEWEST, CONFIRM_RUNS
    result, runs = _monte_carlo_runs(monkeypatch, planted(1e-8), problem(20, 500))
    assert not result.ok and result.located[0].index == (1, 7), result.message
    assert runs == [CONFIRM_FEWEST] and CONFIRM_FEWEST < CONFIRM_RUNS


def test_a_failure_that_rounding_explains_gets_every_monte_carlo_run_and_passes(monkeypatch):
    """A right gradient rounded by cancellation fails its a-priori bound: the runs' spread is what
    overturns it, so none is left out."""
    from gradverify.tolerances import CONFIRM_RUNS
    fn, args = confident_softmax(30)
    result, runs = _monte_carlo_runs(monkeypatch, fn, args)
    assert result.ok and result.estimator == "complex-step", result.message
    assert runs and all(n == CONFIRM_RUNS for n in runs), runs  # each confirmation made took every run
