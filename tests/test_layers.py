"""gradcheck(forward, args, backward=backward): a layer checked as written, at realistic sizes;
each planted mistake (a flipped sign, a transpose, a dropped term, one wrong entry at scale, an
in-place write) fails and names itself, the right code passes."""

import numpy as np
import pytest

from gradverify import InvalidArgument
from gradverify.checking import GradcheckError, gradcheck
from gradverify.checking.layers import DOUT_SMALLEST, never_small, weights_rng


# ---------------------------------------------------------------- CS231n-style layers
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, x):
    return dout * (x > 0)


def conv_forward(x, w, b):
    """stride 1, zero padding 1 (the CS231n conv layer), by windows: x N×C×H×W, w F×C×k×k."""
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))  # N×C×H×W×k×k
    out = np.einsum("nchwij,fcij->nfhw", windows, w) + b[None, :, None, None]
    return out, (x, w, b, windows)


def conv_backward(dout, cache, flip=False):
    x, w, b, windows = cache
    k = w.shape[2]
    db = dout.sum(axis=(0, 2, 3))
    dw = np.einsum("nfhw,nchwij->fcij", dout, windows)
    dxp = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2, x.shape[3] + 2))
    kernel = w[:, :, ::-1, ::-1] if flip else w
    H, W = x.shape[2], x.shape[3]
    for i in range(k):
        for j in range(k):
            dxp[:, :, i:i + H, j:j + W] += np.einsum("nfhw,fc->nchw", dout, kernel[:, :, i, j])
    return dxp[:, :, 1:-1, 1:-1], dw, db


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    inv = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv
    return gamma * xhat + beta, (xhat, gamma, inv)


def batchnorm_backward(dout, cache, mean_term=True):
    xhat, gamma, inv = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dx = (gamma * inv / N) * (N * dout - (dbeta if mean_term else 0) - xhat * dgamma)
    return dx, dgamma, dbeta


def _rng():
    return np.random.default_rng(7)


def affine_args(N=64, D=3 * 16 * 16, M=100):
    rng = _rng()
    return rng.normal(size=(N, 3, 16, 16)), rng.normal(size=(D, M)) * 0.05, rng.normal(size=M)


# ---------------------------------------------------------------- right code passes
def test_an_affine_layer_at_realistic_size_costs_what_the_hand_written_scalar_check_costs():
    args = affine_args()
    r = gradcheck(affine_forward, args, backward=affine_backward)
    assert r.ok, r.message
    assert r.mode == "directional" and r.estimator == "complex-step"
    dout = np.random.default_rng(1).uniform(0.5, 1.0, size=(64, 100))

    def by_hand(x, w, b):  # what users wrote before backward=: J = Σ dout ⊙ out and the grads packed
        out, cache = affine_forward(x, w, b)
        return (np.sum(dout * out), *affine_backward(dout, cache))

    scalar = gradcheck(by_hand, args)
    assert scalar.ok and r.evaluations == scalar.evaluations
    assert r.resolution < 1e-6 and scalar.resolution < 1e-6


def test_a_conv_layer_passes_and_a_flipped_kernel_in_dx_is_named():
    rng = _rng()
    args = (rng.normal(size=(4, 3, 10, 10)), rng.normal(size=(6, 3, 3, 3)), rng.normal(size=6))
    assert gradcheck(conv_forward, args, backward=conv_backward)
    wrong = gradcheck(conv_forward, args, backward=lambda d, c: conv_backward(d, c, flip=True))
    assert not wrong.ok
    assert wrong.located[0].argument == 0
    assert "backward's gradient for x (args[0])" in wrong.message


def test_batchnorm_passes_and_the_dropped_mean_term_fails_on_dx():
    rng = _rng()
    args = (rng.normal(size=(32, 20)) * 2 + 1, rng.normal(size=20), rng.normal(size=20))
    assert gradcheck(batchnorm_forward, args, backward=batchnorm_backward)
    wrong = gradcheck(batchnorm_forward, args, backward=lambda d, c: batchnorm_backward(d, c, mean_term=False))
    assert not wrong.ok and wrong.located[0].argument == 0
    assert "backward's gradient for x (args[0]), backward's output 0 of 3" in wrong.message


def test_a_forward_returning_only_out_gets_the_args_as_cache():
    rng = _rng()
    x = rng.normal(size=(40, 30))
    r = gradcheck(np.tanh, (x,), backward=lambda dout, cache: dout * (1 - np.tanh(cache[0]) ** 2))
    assert r.ok, r.message
    wrong = gradcheck(np.tanh, (x,), backward=lambda dout, cache: dout * (1 + np.tanh(cache[0]) ** 2))
    assert not wrong.ok


def test_relu_backward_returning_one_array_passes():
    x = _rng().normal(size=(50, 40))
    assert gradcheck(relu_forward, (x,), backward=relu_backward)


# ---------------------------------------------------------------- planted mistakes
def test_one_wrong_entry_at_scale_is_located_in_the_right_argument():
    def wrong(dout, cache):
        dx, dw, db = affine_backward(dout, cache)
        dw = dw.copy()
        dw[300, 42] += 1e-6 * np.abs(dw).max()
        return dx, dw, db

    r = gradcheck(affine_forward, affine_args(), backward=wrong)
    assert not r.ok
    assert (r.located[0].argument, r.located[0].index) == (1, (300, 42))
    assert "backward's gradient for w (args[1]), backward's output 1 of 3 is wrong at index (300, 42)" in r.message


def test_a_flipped_sign_is_caught():
    r = gradcheck(affine_forward, affine_args(N=8, M=10), backward=lambda d, c: (lambda dx, dw, db: (dx, dw, -db))(
        *affine_backward(d, c)))
    assert not r.ok and r.located[0].argument == 2


def test_a_transposed_square_weight_gradient_is_caught():
    rng = _rng()
    args = (rng.normal(size=(5, 12)), rng.normal(size=(12, 12)), rng.normal(size=12))

    def transposed(dout, cache):
        dx, dw, db = affine_backward(dout, cache)
        return dx, dw.T, db

    assert gradcheck(affine_forward, args, backward=affine_backward)
    r = gradcheck(affine_forward, args, backward=transposed)
    assert not r.ok and r.located[0].argument == 1


def test_writing_into_dout_is_named_as_such():
    def relu_backward_aliasing(dout, x):
        dx = dout
        dx[x <= 0] = 0
        return dx

    x = _rng().normal(size=(20, 10))
    r = gradcheck(relu_forward, (x,), backward=relu_backward_aliasing)
    assert not r.ok
    assert r.message.startswith("backward writes into dout in place")
    with pytest.raises(GradcheckError, match="writes into dout in place"):
        gradcheck(relu_forward, (x,), backward=relu_backward_aliasing, raise_exception=True)


def test_writing_into_the_cache_is_named_as_such_and_an_alias_of_an_input_too():
    def scaling(dout, cache):
        x, w, b = cache
        w *= 2  # cache[1] is w itself
        return affine_backward(dout, (x, w / 2, b))

    args = affine_args(N=4, M=5)
    before = [a.copy() for a in args]
    r = gradcheck(affine_forward, args, backward=scaling)
    assert not r.ok
    assert "backward writes into its cache in place: cache[1], which is w (args[1])" in r.message
    assert all(np.array_equal(a, b) for a, b in zip(args, before))  # the caller's arrays untouched


def test_a_forward_writing_into_its_input_is_named():
    def forward(x):
        x += 1
        return x * 2

    r = gradcheck(forward, (np.ones((3, 4)),), backward=lambda d, c: 2 * d)
    assert not r.ok and "forward modifies its argument x (args[0]) in place" in r.message


def test_dout_is_drawn_never_small_from_a_local_generator():
    state = np.random.get_state()
    d = never_small(weights_rng(3), (1000,))
    assert np.all(np.abs(d) >= DOUT_SMALLEST) and np.all(np.abs(d) <= 1.0)
    assert 0.4 < np.mean(d > 0) < 0.6
    assert np.array_equal(np.random.get_state()[1], state[1])  # the global RNG untouched


# ---------------------------------------------------------------- bad calls
def _ok_backward(d, c):
    return affine_backward(d, c)


@pytest.mark.parametrize("kwargs, words", [
    pytest.param(dict(backward="affine_backward"), "backward a callable", id="backward-not-callable"),
    pytest.param(dict(backward=_ok_backward, jacobian=True), "one of backward=, jacobian=True",
                 id="backward-and-jacobian"),
    pytest.param(dict(backward=_ok_backward, hvp=_ok_backward), "one of backward=", id="backward-and-hvp"),
    pytest.param(dict(jacobian="yes"), "jacobian True or False", id="jacobian-not-bool"),
    pytest.param(dict(backward=_ok_backward, framework="torch"), "numpy code with backward=", id="torch"),
    pytest.param(dict(backward=lambda d, c: affine_backward(d, c)[:2]), "backward to return 3 gradients",
                 id="too-few-gradients"),
    pytest.param(dict(backward=lambda d, c: affine_backward(d, c)[::-1]),
                 r"gradient for x \(args\[0\]\) with its shape", id="gradients-out-of-order"),
    pytest.param(dict(backward=lambda d, c: 1 / 0), r"a backward that runs on \(dout, cache\)", id="backward-raises"),
    pytest.param(dict(backward=_ok_backward, wrt=(0, 1)), "backward to return 2 gradients", id="wrt-mismatch"),
    pytest.param(dict(backward=_ok_backward, seed=-1), "seed a non-negative integer", id="bad-seed"),
])
def test_bad_layer_calls_raise_invalid_argument(kwargs, words):
    with pytest.raises(InvalidArgument, match=words):
        gradcheck(affine_forward, affine_args(N=2, M=3), **kwargs)


def test_a_forward_returning_three_values_is_refused():
    with pytest.raises(InvalidArgument, match=r"forward to return out or \(out, cache\)"):
        gradcheck(lambda x: (x, x, x), (np.ones(3),), backward=lambda d, c: d)


def test_a_vector_valued_fn_without_backward_points_to_jacobian_and_backward():
    with pytest.raises(InvalidArgument, match="jacobian=True") as info:
        gradcheck(np.tanh, (np.ones(3),))
    assert "backward=backward" in str(info.value) and "sum or pick" not in str(info.value)
