"""Code the complex step cannot see through, judged by central differences instead of passing blind.

A Gaussian-process log-likelihood whose log-det term comes from a Cholesky factor, a spectral
penalty through eigvalsh, a nuclear norm through an SVD: LAPACK reads x + i·h·u as Hermitian (or
makes unitary factors), so Im f(x + i·h·u)/h has no part from that term, and a claim that forgot
it agreed with the complex step (a false pass). scipy's routines hand their inputs to compiled
code as plain arrays, out of the guard's watch. Each case: the right gradient passes, the gradient
that forgets the term fails.
"""

import functools
import importlib

import numpy as np
import pytest
import scipy.linalg as sl
from scipy.spatial.distance import cdist

from gradverify import InvalidArgument
from gradverify.frameworks.detection import opaque_libraries
from gradverify import gradcheck

RNG = np.random.default_rng(0)
W0 = RNG.standard_normal((5, 4))
I4 = np.eye(4)


def _logdet_grad(W):  # ∂ log det(WᵀW + I) / ∂W = 2 W (WᵀW + I)⁻¹
    return 2 * W @ np.linalg.inv(W.T @ W + I4)


def _top_eig_grad(W):  # ∂ λ_max(W Wᵀ)/∂W = 2 v vᵀ W
    _, V = np.linalg.eigh(W @ W.T)
    v = V[:, -1]
    return 2 * np.outer(v, v) @ W


def _nuclear_grad(W):  # ∂ Σσ(W)/∂W = U Vᵀ (distinct nonzero singular values)
    U, _, Vt = np.linalg.svd(W, full_matrices=False)
    return U @ Vt


#: (id, the term t(W), its gradient): J = ½‖W‖² + t(W)
TERMS = [
    pytest.param(lambda W: 2 * np.sum(np.log(np.diag(np.linalg.cholesky(W.T @ W + I4)))), _logdet_grad,
                 id="np.linalg.cholesky-logdet"),
    pytest.param(lambda W: np.linalg.slogdet(W.T @ W + I4)[1], _logdet_grad, id="np.linalg.slogdet"),
    pytest.param(lambda W: 0.5 * np.sum(np.log(np.diag(np.linalg.qr(W.T @ W + I4)[1]) ** 2)), _logdet_grad,
                 id="np.linalg.qr-logdet"),
    pytest.param(lambda W: np.linalg.eigvalsh(W @ W.T)[-1], _top_eig_grad, id="np.linalg.eigvalsh"),
    pytest.param(lambda W: np.linalg.svd(W, compute_uv=False).sum(), _nuclear_grad, id="np.linalg.svd"),
    pytest.param(lambda W: 2 * np.sum(np.log(np.diag(sl.cholesky(W.T @ W + I4)))), _logdet_grad,
                 id="scipy.linalg.cholesky-logdet"),
    pytest.param(lambda W: sl.eigvalsh(W @ W.T)[-1], _top_eig_grad, id="scipy.linalg.eigvalsh"),
    pytest.param(lambda W: sl.svdvals(W).sum(), _nuclear_grad, id="scipy.linalg.svdvals"),
    pytest.param(lambda W: np.sum(sl.solve(W.T @ W + I4, np.ones(4), assume_a="pos")),
                 lambda W: -2 * W @ np.outer(*(2 * [sl.solve(W.T @ W + I4, np.ones(4))])),
                 id="scipy.linalg.solve-pos"),
]


@pytest.mark.parametrize("term, term_grad", TERMS)
def test_a_term_through_hermitian_linear_algebra_is_judged_by_central_differences(term, term_grad):
    right = gradcheck(lambda W: (0.5 * np.sum(W ** 2) + term(W), W + term_grad(W)), (W0,))
    assert right.ok and right.estimator == "central", right.message
    assert "complex step not possible" in right.fallback, right.fallback
    forgot = gradcheck(lambda W: (0.5 * np.sum(W ** 2) + term(W), W.copy()), (W0,))
    assert not forgot.ok and not forgot.inconclusive, forgot
    assert forgot.located, forgot.message


def test_the_fallback_names_the_linear_algebra_routine():
    result = gradcheck(lambda W: (np.linalg.slogdet(W.T @ W + I4)[1], _logdet_grad(W)), (W0,))
    assert "np.linalg.slogdet reads a complex matrix as Hermitian" in result.fallback, result.fallback
    result = gradcheck(lambda W: (sl.eigvalsh(W @ W.T)[-1], _top_eig_grad(W)), (W0,))
    assert "fn calls scipy.linalg" in result.fallback, result.fallback


def test_analytic_linear_algebra_keeps_the_complex_step():
    """det, inv and solve are analytic in the entries: the complex step runs through them."""
    def fn(W):
        A = W.T @ W + I4
        return np.log(np.linalg.det(A)) + np.sum(np.linalg.solve(A, np.ones(4))), \
            _logdet_grad(W) - 2 * W @ np.outer(*(2 * [np.linalg.solve(A, np.ones(4))]))
    result = gradcheck(fn, (W0,))
    assert result.ok and result.estimator == "complex-step" and not result.fallback, result


def test_code_that_runs_on_reals_but_refuses_complex_numbers_gets_a_verdict_not_an_error():
    """scipy's cdist raises ValueError ("Unsupported dtype complex128") on x + i·h·u: central
    differences judge (it was an InvalidArgument telling the user to call fn themselves)."""
    C = RNG.standard_normal((4, 3))
    X = RNG.standard_normal((6, 3))

    def rbf(X, C, sign=1.0):
        K = np.exp(-cdist(X, C, "sqeuclidean"))
        grad = -2 * (K.sum(1)[:, None] * X - K @ C)
        return K.sum(), sign * grad

    right = gradcheck(rbf, (X, C), wrt=(0,))
    assert right.ok and right.estimator == "central", right.message
    assert not gradcheck(lambda X, C: rbf(X, C, -1.0), (X, C), wrt=(0,)).ok


def test_a_complex_step_error_in_code_that_also_fails_on_reals_is_still_the_users_error():
    def broken(x):
        raise ValueError("shapes do not match")
    with pytest.raises(InvalidArgument, match="shapes do not match"):
        gradcheck(broken, (np.ones(3),))


class _Buffered:
    """A layer with gradient buffers zeroed and accumulated into at every call: right, repeatable."""

    def __init__(self, n, sign=1.0):
        self.dW, self.sign = np.zeros((n, n)), sign

    def __call__(self, W, X, Y):
        self.dW.fill(0.0)
        R = X @ W - Y
        self.dW += self.sign * (X.T @ R)  # complex values refused here: the buffer was zeroed already
        return 0.5 * np.sum(R ** 2), self.dW


@pytest.mark.parametrize("n", [4, 40])
def test_a_zeroed_gradient_buffer_left_by_a_refused_complex_call_is_no_accumulation(n):
    """The complex-step call zeroes the buffer the real call returned, then stops at the complex
    write: the base is taken again before the determinism test copies it (it said "accumulates")."""
    rng = np.random.default_rng(1)
    W, X, Y = rng.standard_normal((n, n)), rng.standard_normal((8, n)), rng.standard_normal((8, n))
    right = gradcheck(_Buffered(n), (W, X, Y), wrt=(0,))
    assert right.ok, right.message
    wrong = gradcheck(_Buffered(n, sign=-1.0), (W, X, Y), wrt=(0,))
    assert not wrong.ok and "accumulates" not in wrong.message, wrong.message


def _import_inside(x):
    import scipy.linalg
    return scipy.linalg.norm(x)


def _from_import(x):
    from scipy.linalg import norm
    return norm(x)


def _through_a_helper(x):
    return _import_inside(x)


@pytest.mark.parametrize("fn, found", [
    pytest.param(lambda W: sl.eigvalsh(W), ["scipy.linalg"], id="module-alias"),
    pytest.param(lambda X: cdist(X, X), ["scipy.spatial"], id="imported-function"),
    pytest.param(_import_inside, ["scipy.linalg"], id="import-inside"),
    pytest.param(_from_import, ["scipy.linalg"], id="from-import-inside"),
    pytest.param(_through_a_helper, ["scipy.linalg"], id="helper"),
    pytest.param(lambda W, t=lambda W: sl.norm(W): t(W), ["scipy.linalg"], id="default-argument"),
    pytest.param(lambda x: __import__("scipy.special").special.expit(x), [], id="scipy.special-is-watched"),
    pytest.param(lambda x: np.sum(x), [], id="numpy-only"),
])
def test_the_libraries_the_complex_step_cannot_watch_are_read_from_fns_code(fn, found):
    assert opaque_libraries(fn) == found


def _gp(lib, array):
    """A GP's negative log marginal likelihood written in ``lib`` (torch or jax.numpy), the log-det
    by Cholesky, theta = (log lengthscale, log signal variance, log noise variance), with its
    gradient, or with the gradient that forgets the log-det term."""
    rng = np.random.default_rng(47)
    X, y = rng.standard_normal((8, 2)), rng.standard_normal(8)
    D2, y = array(np.sum((X[:, None, :] - X[None, :, :]) ** 2, -1)), array(y)

    def nll(theta, forget=False):
        e = lib.exp(theta)
        Kf = e[1] * lib.exp(-0.5 * D2 / e[0] ** 2)
        noise = e[2] * array(np.eye(8))
        K = Kf + noise
        L = lib.linalg.cholesky(K)
        alpha = lib.linalg.solve(K, y)
        value = 0.5 * y @ alpha + lib.sum(lib.log(lib.diagonal(L)))
        M = lib.outer(alpha, alpha) - (0 if forget else lib.linalg.inv(K))
        grad = lib.stack([-0.5 * lib.sum(M * dK) for dK in (Kf * D2 / e[0] ** 2, Kf, noise)])
        return value, grad

    return nll


def test_torch_cholesky_is_judged_by_central_differences():
    torch = pytest.importorskip("torch")
    nll = _gp(torch, lambda a: torch.tensor(a, dtype=torch.float64))
    theta = torch.tensor([0.3, -0.2, -1.0], dtype=torch.float64)
    right = gradcheck(nll, (theta,))
    assert right.ok and right.estimator == "central", right.message
    assert "cholesky" in right.fallback, right.fallback
    assert not gradcheck(lambda t: nll(t, forget=True), (theta,)).ok


def test_jax_cholesky_is_judged_by_central_differences():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    nll = _gp(jnp, jnp.asarray)
    theta = np.array([0.3, -0.2, -1.0])
    right = gradcheck(nll, (theta,), framework="jax")
    assert right.ok and right.estimator == "central", right.message
    # jnp.linalg.cholesky symmetrises with a conjugate first, which the guard meets before the primitive
    assert "cholesky" in right.fallback or "conj" in right.fallback, right.fallback
    assert not gradcheck(lambda t: nll(t, forget=True), (theta,), framework="jax").ok


class _Model:
    """A callable object whose log-det goes through a helper held in a dict, as code is organised."""

    helpers = {"logdet": lambda A: 2 * np.sum(np.log(np.diag(sl.cholesky(A, lower=True))))}

    def __init__(self, forget):
        self.forget = forget

    def __call__(self, W):
        value = 0.5 * np.sum(W ** 2) + self.helpers["logdet"](W.T @ W + I4)
        return value, W + (0 if self.forget else _logdet_grad(W))


def _imported_logdet(A):
    cholesky = importlib.import_module("scipy.linalg").cholesky  # no name of scipy's in this code
    return 2 * np.sum(np.log(np.diag(cholesky(A, lower=True))))


def _partial_logdet(W, forget, factor):
    return 0.5 * np.sum(W ** 2) + factor(W.T @ W + I4), W + (0 if forget else _logdet_grad(W))


@pytest.mark.parametrize("make", [
    pytest.param(lambda forget: _Model(forget), id="callable-object-dict-helper"),
    pytest.param(lambda forget: functools.partial(_partial_logdet, forget=forget, factor=_imported_logdet),
                 id="functools-partial-importlib"),
])
@pytest.mark.parametrize("n", [5, 3000])
def test_scipy_reached_through_objects_partials_and_dicts_is_seen_as_it_is_called(make, n):
    """Reading fn's code cannot follow every road to scipy, and no list or hook has to: every pass
    must agree with central differences in real arithmetic too, and scipy's Cholesky, which reads
    x + i·h·u as Hermitian, makes the complex step disagree with them."""
    W = np.random.default_rng(0).standard_normal((n, 4))
    right = gradcheck(make(False), (W,))
    assert right.ok and right.estimator == "central" and "central differences" in right.fallback, right.fallback
    forgot = gradcheck(make(True), (W,))
    assert not forgot.ok and not forgot.inconclusive, forgot


def test_scipy_fft_is_not_complex_stepped():
    x = np.random.default_rng(2).standard_normal(64)
    import scipy.fft

    def power(x, k=2.0):
        return np.sum(np.abs(scipy.fft.fft(x)) ** 2), k * x.size * x
    right = gradcheck(power, (x,))
    assert right.ok and "scipy.fft" in right.fallback, right.fallback
    assert not gradcheck(lambda x: power(x, 1.0), (x,)).ok


@pytest.mark.parametrize("n", [8, 5000])
def test_scipy_specials_exponentially_scaled_functions_are_not_complex_stepped(n):
    """ive(v, z) = I_v(z)·e^(−|Re z|): log I0(κ) = log ive(0, κ) + κ, ∂/∂κ = I1/I0; the claim that
    adds the 1 of "+ κ" (forgetting that ive is scaled) passed by the complex step."""
    import scipy.special as special
    k = np.random.default_rng(3).uniform(0.5, 5.0, n)

    def log_i0(k, wrong=False):
        return np.sum(np.log(special.ive(0, k)) + k), special.ive(1, k) / special.ive(0, k) + (1.0 if wrong else 0.0)
    right = gradcheck(log_i0, (k,))
    assert right.ok and "ive" in right.fallback, right.fallback
    assert not gradcheck(lambda k: log_i0(k, True), (k,)).ok


def test_torch_functions_that_take_a_norm_inside_are_not_complex_stepped():
    """F.normalize runs whole under torch's function mode, its norm inside unseen: the complex step
    read d(x/‖x‖)/dx as u/‖x‖, and a claim that forgot the projection term passed."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(2)
    X, c = torch.tensor(rng.standard_normal((16, 8))), torch.tensor(rng.standard_normal(8))

    def loss(X, forget=False):
        N = torch.sqrt((X * X).sum(1, keepdim=True))
        Y = X / N
        g = c / N if forget else (c - (Y @ c)[:, None] * Y) / N
        return (F.normalize(X, dim=1) @ c).sum(), g.expand_as(X)
    right = gradcheck(loss, (X,))
    assert right.ok and "normalize" in right.fallback, right.fallback
    assert not gradcheck(lambda X: loss(X, True), (X,)).ok
