"""gradcheck(fn, args, jacobian=True), vjp=/jvp= and hvp=: vector-valued functions and second
derivatives reduced to the scalar check by random projections; each fails on a planted mistake
(a flipped sign, a transpose, a dropped term, one wrong entry at scale) and passes the right code."""

import numpy as np
import pytest

from gradverify import InvalidArgument
from gradverify.checking import GradcheckError, gradcheck


def _rng():
    return np.random.default_rng(11)


def tanh_layer(W):
    def fn(x):
        y = np.tanh(W @ x)
        return y, (1 - y ** 2)[:, None] * W
    return fn


# ---------------------------------------------------------------- (y, J)
def test_a_jacobian_at_scale_passes_and_one_wrong_entry_is_named_as_an_entry_of_j():
    rng = _rng()
    W, x = rng.normal(size=(300, 400)) / 20, rng.normal(size=400)
    fn = tanh_layer(W)
    right = gradcheck(fn, (x,), jacobian=True)
    assert right.ok and right.mode == "directional", right.message

    def wrong(x):
        y, J = fn(x)
        J = J.copy()
        J[123, 45] += 1e-4
        return y, J

    r = gradcheck(wrong, (x,), jacobian=True)
    assert not r.ok
    assert r.located[0].index == (45,)
    assert "entry J[123, 45] = ∂y[123]/∂x[45] looks wrong" in r.message


def test_a_transposed_square_jacobian_and_a_flipped_sign_fail():
    rng = _rng()
    W, x = rng.normal(size=(6, 6)), rng.normal(size=6) * 0.3
    fn = tanh_layer(W)
    assert gradcheck(fn, (x,), jacobian=True)
    assert not gradcheck(lambda x: (fn(x)[0], fn(x)[1].T), (x,), jacobian=True).ok
    assert not gradcheck(lambda x: (fn(x)[0], -fn(x)[1]), (x,), jacobian=True).ok


def test_a_jacobian_for_two_arguments_matrix_valued_output():
    rng = _rng()
    A, B = rng.normal(size=(3, 4)), rng.normal(size=(4, 5))

    def fn(A, B):  # y = A B, ∂y[i, k]/∂A[a, b] = δ_ia B[b, k], ∂y[i, k]/∂B[b, c] = A[i, b] δ_kc
        JA = np.einsum("ia,bk->ikab", np.eye(3), B)
        JB = np.einsum("ib,kc->ikbc", A, np.eye(5))
        return A @ B, JA, JB

    assert gradcheck(fn, (A, B), jacobian=True)
    r = gradcheck(lambda A, B: (lambda y, JA, JB: (y, JA, 0.5 * JB))(*fn(A, B)), (A, B), jacobian=True)
    assert not r.ok and r.located[0].argument == 1


def _softmax_ce(U, o):
    """J(v) = −log softmax(Uᵀv)_o: its gradient U(ŷ − y) and Hessian U(diag ŷ − ŷŷᵀ)Uᵀ."""
    def grad(v):
        z = U.T @ v
        p = np.exp(z - z.max())
        p = p / p.sum()
        y = np.zeros_like(p)
        y[o] = 1
        return U @ (p - y), p

    def hess(v, outer=True):
        _, p = grad(v)
        return U @ (np.diag(p) - (np.outer(p, p) if outer else 0)) @ U.T

    return grad, hess


def test_a_hessian_is_the_jacobian_of_the_gradient():
    rng = _rng()
    U, v = rng.normal(size=(8, 30)), rng.normal(size=8)
    grad, hess = _softmax_ce(U, 3)
    assert gradcheck(lambda v: (grad(v)[0], hess(v)), (v,), jacobian=True)
    wrong = gradcheck(lambda v: (grad(v)[0], hess(v, outer=False)), (v,), jacobian=True)
    assert not wrong.ok and "Jacobian for v (args[0])" in wrong.message


# ---------------------------------------------------------------- vjp / jvp
def _tanh_pair(W):
    fn = lambda x: np.tanh(W @ x)  # noqa: E731
    vjp = lambda v, x: W.T @ (v * (1 - np.tanh(W @ x) ** 2))  # noqa: E731
    jvp = lambda t, x: (1 - np.tanh(W @ x) ** 2) * (W @ t)  # noqa: E731
    return fn, vjp, jvp


def test_a_vjp_jvp_pair_at_scale_passes():
    rng = _rng()
    W, x = rng.normal(size=(1000, 2000)) / 50, rng.normal(size=2000)
    fn, vjp, jvp = _tanh_pair(W)
    r = gradcheck(fn, (x,), vjp=vjp, jvp=jvp)
    assert r.ok, r.message


def test_a_vjp_missing_the_local_derivative_is_named_and_a_jvp_with_it_is_caught():
    rng = _rng()
    W, x = rng.normal(size=(20, 30)), rng.normal(size=30) * 0.1
    fn, vjp, jvp = _tanh_pair(W)
    r = gradcheck(fn, (x,), vjp=lambda v, x: W.T @ v)
    assert not r.ok and "vjp's vᵀJ for x (args[0])" in r.message
    r = gradcheck(fn, (x,), jvp=lambda t, x: W @ t)
    assert not r.ok and r.message.startswith("jvp is wrong along random direction 1")
    r = gradcheck(fn, (x,), vjp=vjp, jvp=jvp)
    assert r.ok, r.message


def test_a_jvp_transposed_is_caught():
    rng = _rng()
    W, x = rng.normal(size=(7, 7)), rng.normal(size=7) * 0.1
    fn, _, jvp = _tanh_pair(W)
    assert gradcheck(fn, (x,), jvp=jvp, directions=3)
    assert not gradcheck(fn, (x,), jvp=lambda t, x: (1 - np.tanh(W @ x) ** 2) * (W.T @ t)).ok


# ---------------------------------------------------------------- hvp
def _logcosh(A):
    def fn(x):
        return np.sum(np.log(np.cosh(A @ x))), A.T @ np.tanh(A @ x)

    def hvp(v, x):
        return A.T @ ((1 - np.tanh(A @ x) ** 2) * (A @ v))
    return fn, hvp


def test_an_hvp_where_the_hessian_is_too_big_to_form():
    rng = _rng()
    A, x = rng.normal(size=(100, 10000)) / 100, rng.normal(size=10000)
    fn, hvp = _logcosh(A)
    r = gradcheck(fn, (x,), hvp=hvp)
    assert r.ok, r.message
    wrong = gradcheck(fn, (x,), hvp=lambda v, x: A.T @ (A @ v))  # the Gauss–Newton-like term sech² dropped
    assert not wrong.ok and "hvp's H·v for x (args[0])" in wrong.message


def test_an_hvp_with_one_wrong_entry_is_located():
    rng = _rng()
    A, x = rng.normal(size=(50, 400)) / 10, rng.normal(size=400)
    fn, hvp = _logcosh(A)

    def wrong(v, x):
        out = hvp(v, x)
        out[77] += 1e-5 * v[77]
        return out

    r = gradcheck(fn, (x,), hvp=wrong)
    assert not r.ok and r.located[0].index == (77,)


def test_an_hvp_behind_a_wrong_gradient_reports_the_gradient_first():
    rng = _rng()
    A, x = rng.normal(size=(5, 8)), rng.normal(size=8)
    fn, hvp = _logcosh(A)
    r = gradcheck(lambda x: (fn(x)[0], -fn(x)[1]), (x,), hvp=hvp)
    assert not r.ok and r.message.startswith("first order")
    with pytest.raises(GradcheckError, match="first order"):
        gradcheck(lambda x: (fn(x)[0], -fn(x)[1]), (x,), hvp=hvp, raise_exception=True)


# ---------------------------------------------------------------- bad calls
_W = np.arange(12.0).reshape(3, 4) / 10


@pytest.mark.parametrize("fn, kwargs, words", [
    pytest.param(lambda x: np.tanh(_W @ x), dict(jacobian=True), r"fn to return \(y, J\)", id="no-jacobian-returned"),
    pytest.param(lambda x: (_W @ x, _W.T), dict(jacobian=True), "it looks transposed", id="transposed-shape"),
    pytest.param(lambda x: (_W @ x, _W[:2]), dict(jacobian=True), r"y.shape \+ args\[0\].shape", id="wrong-shape"),
    pytest.param(lambda x: _W @ x, dict(vjp=3), "vjp a callable", id="vjp-not-callable"),
    pytest.param(lambda x: _W @ x, dict(jvp=lambda t, x: t), "jvp to return", id="jvp-wrong-shape"),
    pytest.param(lambda x: _W @ x, dict(hvp="H"), "hvp a callable", id="hvp-not-callable"),
    pytest.param(lambda x: _W @ x, dict(vjp=lambda v, x: v, jacobian=True), "one of backward=",
                 id="vjp-and-jacobian"),
    pytest.param(lambda x: _W @ x, dict(jacobian=1), "jacobian True or False", id="jacobian-int"),
])
def test_bad_jacobian_calls_raise_invalid_argument(fn, kwargs, words):
    with pytest.raises(InvalidArgument, match=words):
        gradcheck(fn, (np.ones(4),), **kwargs)


def test_an_hvp_over_two_arguments_takes_and_returns_tuples():
    """f(x, y) = ½ Σ (x ⊙ y)²: ∇x = x y², ∇y = x² y; H (vx, vy) = (y² vx + 2xy vy, 2xy vx + x² vy)."""
    rng = _rng()
    x, y = rng.normal(size=50), rng.normal(size=50)

    def fn(x, y):
        return 0.5 * np.sum((x * y) ** 2), x * y ** 2, x ** 2 * y

    def hvp(v, x, y, wrong=False):
        vx, vy = v
        return y ** 2 * vx + 2 * x * y * vy, 2 * x * y * vx * (0 if wrong else 1) + x ** 2 * vy

    assert gradcheck(fn, (x, y), hvp=hvp)
    r = gradcheck(fn, (x, y), hvp=lambda v, x, y: hvp(v, x, y, wrong=True))
    assert not r.ok and r.located[0].argument == 1
    assert "hvp's H·v for y (args[1]), hvp's output 1 of 2" in r.message


def test_the_caller_s_global_random_state_is_left_alone():
    rng = _rng()
    W, x = rng.normal(size=(6, 5)), rng.normal(size=5)
    fn, vjp, jvp = _tanh_pair(W)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    gradcheck(fn, (x,), vjp=vjp, jvp=jvp)
    gradcheck(tanh_layer(W), (x,), jacobian=True)
    assert np.array_equal(np.random.get_state()[1], before)
