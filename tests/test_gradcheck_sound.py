"""gradcheck is sound by construction: a pass rests on real arithmetic, measuring never breaks or
changes the caller's code or process, and what fn returns is validated.

The catalogue (tests/gradcheck_catalogue/unseen.py) holds the losses of this round, right and
planted wrong; here are the cases that need a setting around the call (a profiler, threads), the
direction weights, and the messages."""

from __future__ import annotations

import cProfile
import ctypes
import ctypes.util
import random
import sys
import threading
import warnings

import numpy as np
import pytest

from gradverify import InvalidArgument, gradcheck
from gradverify import rounding_modes
from gradverify.checking.directions import random_direction


# ---------------------------------------------------------------- a forgotten term behind no list
def _gp(forget: bool):
    """A GP's negative log marginal likelihood in its kernel scale, the log-det through scipy."""
    import scipy.linalg as sl
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 2)), rng.standard_normal(12)
    D = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)

    def nll(a):
        K = a[0] * np.exp(-0.5 * D) + 0.1 * np.eye(12)
        c, low = sl.cho_factor(K, lower=True)
        alpha = sl.cho_solve((c, low), y)
        J = 0.5 * y @ alpha + np.sum(np.log(np.diag(c)))
        dK = np.exp(-0.5 * D)
        Kinv = sl.cho_solve((c, low), np.eye(12))
        g = -0.5 * alpha @ dK @ alpha + (0 if forget else 0.5 * np.trace(Kinv @ dK))
        return float(J), np.array([g])
    return nll


def test_a_forgotten_log_det_through_scipy_fails_with_a_profiler_running():
    """A profiler (cProfile, pytest-profiling, yappi) used to switch off the hook that saw scipy; no
    hook is needed now, and the profiler is left exactly as it was."""
    a = np.array([1.3])
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        hook = sys.getprofile()
        forgot = gradcheck(_gp(True), (a,))
        right = gradcheck(_gp(False), (a,))
        assert sys.getprofile() is hook
    finally:
        profiler.disable()
    assert not forgot.ok and not forgot.inconclusive, forgot
    assert right.ok, right


def test_a_forgotten_term_behind_a_ctypes_call_fails():
    """|r| by the C library's fabs through ctypes, one entry at a time: no list can name it."""
    libm = ctypes.CDLL(ctypes.util.find_library("m") or ctypes.util.find_library("c"))
    libm.fabs.restype, libm.fabs.argtypes = ctypes.c_double, [ctypes.c_double]
    r0 = np.random.default_rng(4).standard_normal(40)

    def loss(r, forget=False):
        with warnings.catch_warnings():  # (the test's own code: float() of a complex warns)
            warnings.simplefilter("ignore")
            l1 = sum(libm.fabs(float(v)) for v in r)
        return 0.5 * float(r @ r) + l1, r + (0 if forget else np.sign(r))
    assert gradcheck(loss, (r0,)).ok
    forgot = gradcheck(lambda r: loss(r, True), (r0,))
    assert not forgot.ok and not forgot.inconclusive, forgot


# ---------------------------------------------------------------- direction weights
def test_direction_weights_are_never_small():
    rng = np.random.default_rng(0)
    u = random_direction(rng, (800, 7))
    values = np.concatenate([u.values(0, 0, 800), u.values(1, 0, 7)])
    assert np.all(np.abs(values) > 0.5) and np.all(np.abs(values) < 1.0)
    assert 0.4 < np.mean(values > 0) < 0.6  # random signs


def test_every_weight_is_its_code_exactly_whatever_table_it_is_gathered_from():
    from gradverify.checking.directions import _WEIGHT_OF_CODE32, _weights

    codes = np.arange(-(2**15), 2**15, dtype=np.int16)
    u = random_direction(np.random.default_rng(3), (2**16,))
    assert np.array_equal(_WEIGHT_OF_CODE32.take(codes.view(np.uint16)).astype(np.float64), _weights(codes))
    assert np.array_equal(u.values(0, 0, 2**16), _weights(u.codes(0, 0, 2**16)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_small_error_in_the_entry_with_the_smallest_weight_is_caught_at_every_seed(seed):
    """The worst entry for the seed (its |u_k| the smallest of 800) still moves the comparison by at
    least half its error: a 1e-3·max|g| error there fails."""
    rng = np.random.default_rng(5)
    A, b, x = rng.standard_normal((40, 800)), rng.standard_normal(40), rng.standard_normal(800)
    first = random_direction(np.random.default_rng(seed), (800,))
    k = int(np.argmin(np.abs(first.values(0, 0, 800))))

    def loss(x):
        r = A @ x - b
        g = A.T @ r
        g[k] += 1e-3 * np.abs(g).max()
        return 0.5 * float(r @ r), g
    result = gradcheck(loss, (x,), seed=seed, mode="directional")
    assert not result.ok and result.located and result.located[0].index == (k,), result


# ---------------------------------------------------------------- measuring never changes the caller's process
def _fegetround():
    return rounding_modes.current() if rounding_modes.available() else None


def test_gradcheck_from_threads_leaves_the_process_as_it_was():
    """numpy code in one thread and torch code (if installed) in another, each with the complex step
    cast away somewhere, while the main thread draws from np.random and random: warnings filters,
    both global streams, np.geterr(), the rounding mode and the profile hook are exactly as before."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((30, 40))

    def numpy_loss(x):
        out = np.zeros(30)
        out[:] = W @ x  # into a real array: a cast of the complex step
        return 0.5 * float(out @ out), W.T @ out

    jobs = [lambda: gradcheck(numpy_loss, (rng.standard_normal(40),))]
    try:
        import torch
        Wt = torch.tensor(W)
        jobs.append(lambda: gradcheck(lambda x: (0.5 * ((Wt @ x) ** 2).sum(), Wt.T @ (Wt @ x)),
                                      (torch.tensor(rng.standard_normal(40)),)))
    except ImportError:
        pass
    filters, err, mode, hook = list(warnings.filters), np.geterr(), _fegetround(), sys.getprofile()
    np.random.seed(123)
    random.seed(123)
    expected_np = np.random.random(2000)
    expected_py = [random.random() for _ in range(2000)]
    np.random.seed(123)
    random.seed(123)
    results, threads = [], []
    for job in jobs * 2:
        t = threading.Thread(target=lambda job=job: results.append(job()))
        threads.append(t)
        t.start()
    drawn_np = np.array([np.random.random() for _ in range(2000)])
    drawn_py = [random.random() for _ in range(2000)]
    for t in threads:
        t.join()
    assert all(r.ok for r in results), results
    assert np.array_equal(drawn_np, expected_np)  # never seeded, never rewound
    assert drawn_py == expected_py
    assert warnings.filters == filters
    assert np.geterr() == err and _fegetround() == mode and sys.getprofile() is hook


def test_a_callers_rounding_mode_is_given_back_not_reset_to_nearest():
    if not rounding_modes.available():
        pytest.skip("this platform cannot switch the rounding mode")
    upward = 0x800 if rounding_modes.current() == 0 and sys.platform == "linux" else None
    lib = ctypes.CDLL(ctypes.util.find_library("m"))
    before = lib.fegetround()
    try:
        if upward is not None:
            lib.fesetround(upward)
        mode = lib.fegetround()
        with rounding_modes.directed("downward"):
            pass
        assert lib.fegetround() == mode
    finally:
        lib.fesetround(before)


def test_the_global_generators_are_seeded_only_when_asked():
    data = np.random.default_rng(0).standard_normal((200, 10))

    def loss(w):
        batch = data[np.random.choice(200, 20, replace=False)]
        r = batch @ w
        return 0.5 * float(r @ r), batch.T @ r
    w = np.ones(10)
    unpinned = gradcheck(loss, (w,))
    assert not unpinned.ok and "pin_rng=True" in unpinned.message, unpinned
    pinned = gradcheck(loss, (w,), pin_rng=True)
    assert pinned.ok and pinned.pinned_rng, pinned
    # fn's own draws moved the stream in the unpinned check (its business); the pinned check gave the
    # state back as it found it
    state = np.random.get_state()
    gradcheck(loss, (w,), pin_rng=True)
    assert np.array_equal(np.random.get_state()[1], state[1])


# ---------------------------------------------------------------- what fn returns, and the caller's settings
@pytest.mark.parametrize("fn, args, phrase", [
    pytest.param(lambda x: (0.5 * x @ x + 1j, x), (np.ones(3),), "a real number as fn's value", id="complex-value"),
    pytest.param(lambda x: (0.5 * x @ x, x.astype(complex)), (np.ones(3),), "a real float array", id="complex-grad"),
    pytest.param(lambda x: (0.5 * x @ x, x.astype(object)), (np.ones(3),), "a real float array", id="object-grad"),
    pytest.param(lambda x, y: (0.5 * x @ x, x, y), (np.ones(3), np.ones(2)), "1 gradient", id="extra-gradient"),
    pytest.param(lambda x: (0.0, x), (np.ones(0),), "non-empty", id="empty-argument"),
])
def test_what_fn_returns_is_validated(fn, args, phrase):
    wrt = (0,) if len(args) > 1 else None
    with pytest.raises(InvalidArgument, match=phrase):
        gradcheck(fn, args, wrt)


def test_the_callers_seterr_raise_does_not_reach_gradchecks_own_arithmetic():
    x = np.full(5, 1e-100)  # gradient entries near 1e-200: their squares underflow
    old = np.seterr(all="raise")
    try:
        result = gradcheck(lambda x: (float(np.sum(x ** 3)) / 3, x * x), (x,))
        assert np.geterr()["under"] == "raise"
    finally:
        np.seterr(**old)
    assert result.ok or result.inconclusive, result


def test_fn_that_sets_seterr_raise_itself_leaves_gradcheck_running():
    def loss(x):
        np.seterr(all="raise")
        return float(np.sum(x ** 3)) / 3, x * x
    old = np.geterr()
    try:
        result = gradcheck(loss, (np.full(5, 1e-100),))
    finally:
        np.seterr(**old)
    assert result.ok or result.inconclusive, result


def test_a_timeout_returns_an_inconclusive_result_that_says_so():
    import time

    def slow(x):
        time.sleep(0.3)
        return float(x @ x), 2 * x
    result = gradcheck(slow, (np.ones(3),), timeout=0.5)
    assert not result.ok and result.inconclusive and "timeout=0.5" in result.message, result
    assert gradcheck(lambda x: (float(x @ x), 2 * x), (np.ones(3),), timeout=30).ok
    with pytest.raises(InvalidArgument, match="timeout"):
        gradcheck(slow, (np.ones(3),), timeout=-1)


# ---------------------------------------------------------------- state kept between calls
class _LSTMCell:
    """A step whose backward accumulates dnext_c into an array kept across calls (the bug)."""

    def __init__(self, n):
        rng = np.random.default_rng(0)
        self.W, self.dout = rng.standard_normal((n, n)) * 0.3, rng.standard_normal(n)
        self.dc = np.zeros(n)

    def __call__(self, c):
        h = np.tanh(self.W @ c)
        self.dc += self.W.T @ (self.dout * (1 - h ** 2))  # should be self.dc = ...
        return float(self.dout @ h), self.dc.copy()


def test_state_kept_between_calls_is_named_not_blamed_on_generators():
    result = gradcheck(_LSTMCell(20), (np.random.default_rng(1).standard_normal(20),))
    assert not result.ok and "not deterministic" in result.message, result
    assert "the gradient for args[0]" in result.message and "keeps state between calls" in result.message
    assert "seed your" not in result.message and "pin_rng" not in result.message


def test_code_that_refuses_watched_arrays_is_measured_on_plain_arrays_and_said_so():
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((40, 40)), rng.standard_normal(40)

    def loss(x, error=0.0):
        if type(x) is not np.ndarray:
            raise TypeError("plain numpy arrays only")
        r = A @ x - b
        g = A.T @ r
        g[3] += error
        return 0.5 * float(r @ r), g
    x = rng.standard_normal(40)
    assert gradcheck(loss, (x,)).ok
    wrong = gradcheck(lambda x: loss(x, 1e-4), (x,))
    assert not wrong.ok and wrong.located and wrong.located[0].index == (3,), wrong
