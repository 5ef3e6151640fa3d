"""gradcheck: one implementation's gradients against its own value, at any size.

    result = gradcheck(loss_and_grads, (v_c, o, U), wrt=(0, 2))
    assert result, result.message

``fn(*args)`` returns ``(value, grad for args[wrt[0]], grad for args[wrt[1]], ...)``
(as torch's gradcheck users write a function and its backward). No spec, no
sympy: this is the numeric check alone, sized for word2vec (U of 50,000 × 300).

Estimators of the derivative (``estimator=``):

* ``"complex-step"``: Im f(x + i·h·u) / h with h = 1e-20. No difference of two
  nearby values is taken, so the estimate is accurate to rounding (relative
  ~1e-15), not to ~1e-8 as a finite difference. It needs code that computes
  with complex numbers analytically: the arguments are wrapped so that every
  numpy operation is watched, and abs, sign, comparisons, rounding, or a cast
  to real (numpy's ComplexWarning) make it fall back. One complex evaluation
  also gives the value and the claimed gradients (their real parts are exact
  to O(h²) = 1e-40), so no separate real evaluation is needed.
* ``"central"``: (f(x+hu) − f(x−hu)) / 2h at h and 2h, Richardson-extrapolated,
  the difference of the two giving the truncation error estimate.
* ``"auto"``: complex step when the code allows it, else central.

Modes (``mode=``):

* ``"entries"``: every entry, one derivative estimate each (cost grows with size);
* ``"directional"``: the derivative along ``directions`` random ±1 directions u
  over all ``wrt`` arrays together, compared with Σ gradᵀu. A ±1 direction makes
  an error δ in any single entry change the comparison by exactly δ, so one
  direction finds it; cost does not grow with the number of entries. When a
  direction fails, bisection over halves of the entries (one evaluation each)
  finds the wrong entry: ``result.located``.
* ``"auto"``: entries up to ``ENTRIES_UP_TO`` (256) entries, directional above.
  ``spot=k`` adds k entries drawn at random, checked one by one, to a directional check.

A comparison that fails this tight bound is confirmed before it is reported: the
code is run ``CONFIRM_RUNS`` more times in Monte Carlo arithmetic (each operation's
result moved by a random rounding error) and the spread it shows is added to the
tolerance. A gradient computed by cancellation (v_c(ŷ − y) when the model is sure,
ŷ_o ≈ 1) is rounding at its own size; only this measurement sees that.

Tolerance (named constants below): a sum of N terms computed in float64 is off
by about eps·√N·Σ|term| (Higham, *Accuracy and Stability*, §4.2, the typical,
not worst, case); both sides of the directional comparison are such sums over
the N checked entries, so

    |D_u − Σ gradᵀu| ≤ safety · eps · √N · 2 (Σ|grad_i u_i| + max|grad|)   (complex step)

and the central difference adds its truncation estimate and eps·|f|·√N_f / h.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .errors import InvalidArgument
from .mca import MonteCarloArithmetic
from .tolerances import (COMPLEX_STEP, CONFIRM_RUNS, DEFAULT_TOLERANCE, DIRECTION_BLOCK, ENTRIES_UP_TO,
                         Tolerance)
from .watching import Watcher

__all__ = ["gradcheck", "GradcheckResult", "release_buffers", "ENTRIES_UP_TO", "COMPLEX_STEP"]


_NON_ANALYTIC = {np.absolute, np.fabs, np.sign, np.greater, np.greater_equal, np.less, np.less_equal,
                 np.equal, np.not_equal, np.floor, np.ceil, np.trunc, np.rint, np.fmod, np.remainder,
                 np.copysign, np.heaviside, np.conjugate, np.fmax, np.fmin}


class _NotAnalytic(Exception):
    pass


#: numpy functions (not ufuncs) that conjugate, take parts or order complex numbers
_NON_ANALYTIC_FUNCTIONS = {np.vdot, np.real, np.imag, np.angle, np.real_if_close, np.round, np.around,
                           np.sort, np.argsort, np.clip, np.linalg.norm}


class _ComplexGuard(Watcher):
    """Follows complex arrays and refuses non-analytic numpy operations (for the complex step)."""

    kinds = "c"

    def before(self, ufunc, method, args):
        if ufunc in _NON_ANALYTIC:
            raise _NotAnalytic(ufunc.__name__)

    def function(self, func, args, kwargs):
        if func in _NON_ANALYTIC_FUNCTIONS:
            raise _NotAnalytic(func.__name__)
        return NotImplemented




@dataclass
class GradcheckResult:
    ok: bool
    mode: str
    estimator: str
    #: worst |numeric − claimed| / tolerance over the comparisons made (≤ 1 passes)
    error_over_tolerance: float
    evaluations: int
    seconds: float
    message: str = ""
    #: for a failed directional check: the wrong entries found by bisection,
    #: as (argument position, index, claimed, numeric)
    located: list = field(default_factory=list)
    #: why the complex step was not used, when it was not
    fallback: str = ""

    def __bool__(self):
        return self.ok


def gradcheck(fn: Callable, args: Sequence, wrt: Sequence[int], *, mode: str = "auto", estimator: str = "auto",
              directions: int = 1, spot: int = 0, seed: int = 0, tolerance: Tolerance = DEFAULT_TOLERANCE,
              locate: bool = True) -> GradcheckResult:
    """Check ``fn``'s gradients for ``args[i]``, ``i`` in ``wrt``; see the module docstring.

    ``spot``: in directional mode, also check this many entries drawn at random one by
    one (one evaluation each): errors in several entries that happen to cancel along the
    direction cannot hide from those."""
    if mode not in ("auto", "entries", "directional"):
        raise InvalidArgument("mode 'auto', 'entries' or 'directional'", f"mode={mode!r}")
    if estimator not in ("auto", "complex-step", "central"):
        raise InvalidArgument("estimator 'auto', 'complex-step' or 'central'", f"estimator={estimator!r}")
    args = list(args)
    if isinstance(wrt, int) or not all(isinstance(i, int) for i in wrt):
        raise InvalidArgument("wrt as a sequence of argument positions, like wrt=(0, 2)", f"wrt={wrt!r}")
    for i in wrt:
        if not 0 <= i < len(args):
            raise InvalidArgument(f"positions of args (0..{len(args) - 1}) in wrt", f"wrt={tuple(wrt)!r}")
        if not (isinstance(args[i], np.ndarray) and args[i].dtype.kind == "f"):
            raise InvalidArgument("a float numpy array at each wrt position",
                                  f"args[{i}] of type {type(args[i]).__name__}", "Pass the parameters as arrays.")
    t0 = time.perf_counter()
    run = _Runner(fn, args, list(wrt), tolerance)
    n = sum(args[i].size for i in wrt)
    if mode == "auto":
        mode = "entries" if n <= ENTRIES_UP_TO else "directional"
    rng = np.random.default_rng(seed)
    try:
        if mode == "directional":
            result = _directional(run, rng, directions, estimator, locate)
            if result.ok and spot:
                picks = rng.choice(n, size=min(spot, n), replace=False)
                spot_result = _entries(run, result.estimator, picks)
                result.ok, result.message, result.located = spot_result.ok, spot_result.message, spot_result.located
                result.error_over_tolerance = max(result.error_over_tolerance, spot_result.error_over_tolerance)
        else:
            result = _entries(run, estimator)
    finally:
        _release_large_buffers()
    result.seconds = time.perf_counter() - t0
    result.evaluations = run.evaluations
    return result


class _Runner:
    def __init__(self, fn, args, wrt, tol):
        self.fn, self.args, self.wrt, self.tol = fn, args, wrt, tol
        self.evaluations = 0

    def call(self, args):
        """fn(*args), its output checked (on the first call: later ones have the same form)."""
        try:
            out = self.fn(*args)
        except (_NotAnalytic, np.exceptions.ComplexWarning):
            raise
        except TypeError as exc:
            if any(np.iscomplexobj(a) for a in args):
                raise _NotAnalytic(f"TypeError: {exc}") from exc
            raise InvalidArgument("a function that runs on the arguments given", f"TypeError: {exc}",
                                  "Call fn(*args) yourself first.") from exc
        except Exception as exc:
            raise InvalidArgument("a function that runs on the arguments given",
                                  f"{type(exc).__name__}: {exc}", "Call fn(*args) yourself first.") from exc
        if not self.evaluations:
            self._validate(out)
        self.evaluations += 1
        return out

    def _validate(self, out) -> None:
        """fn must return a scalar value and a gradient per wrt of its argument's shape."""
        if not isinstance(out, (tuple, list)) or len(out) < 1 + len(self.wrt):
            got = len(out) if isinstance(out, (tuple, list)) else 1
            raise InvalidArgument(f"fn to return (value, {len(self.wrt)} gradients, one per wrt)",
                                  f"{got} value{'s' if got != 1 else ''}")
        if np.ndim(out[0]) != 0:
            raise InvalidArgument("a scalar value as fn's first output", f"shape {np.shape(out[0])}",
                                  "gradcheck checks the gradient of one number; sum or pick an entry.")
        for g, i in zip(out[1:], self.wrt):
            if np.shape(g) != self.args[i].shape:
                raise InvalidArgument(f"the gradient for args[{i}] with its shape {self.args[i].shape}",
                                      f"shape {np.shape(g)}")

    def real(self, moved: dict | None = None):
        args = list(self.args)
        for i, x in (moved or {}).items():
            args[i] = x
        out = self.call(args)
        return float(out[0]), [np.asarray(g, dtype=float) for g in out[1:1 + len(self.wrt)]]

    def complex(self, directions: dict, h: float, jitter: np.random.Generator | None = None):
        """One evaluation at x + i·h·u: (value, claimed grads, D_u), or _NotAnalytic.
        With ``jitter``, in Monte Carlo arithmetic, one rounding error per operation."""
        args = list(self.args)
        watcher: Watcher = _ComplexGuard()
        if jitter is not None:  # one rounding error per operation: cheap at any size
            watcher = MonteCarloArithmetic(jitter, self.tol.unit_roundoff, self.tol.mca_spread, per_entry=False,
                                           kinds="fc", guard=watcher)
        for i in self.wrt:
            z = _buffer(i, args[i].shape) if jitter is None else np.empty(args[i].shape, dtype=np.complex128)
            z.real = args[i]
            if i in directions:
                _fill(z.imag, directions[i], h)
            else:
                z.imag = 0.0
            args[i] = watcher.watch(z)
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            try:
                out = self.call(args)
            except np.exceptions.ComplexWarning as exc:
                raise _NotAnalytic(f"ComplexWarning: {exc}") from exc
        value = np.asarray(out[0])
        if value.dtype.kind != "c":
            raise _NotAnalytic("the value came back real: the imaginary part was dropped")
        grads = [np.asarray(g).real for g in out[1:1 + len(self.wrt)]]
        return float(value.real), grads, float(value.imag) / h


_BUFFERS: dict = {}
#: complex buffers up to this many entries (256 MiB: U at word2vec's 50,000 × 300) are
#: kept between gradcheck calls, larger ones let go when the call ends;
#: ``release_buffers()`` lets go of all of them
KEEP_BUFFERS_UP_TO = 2**24


def _buffer(slot: int, shape: tuple) -> np.ndarray:
    """A complex array for argument ``slot``, reused across the evaluations of a check
    (and across checks when small): a fresh allocation each time costs more in page
    faults than the arithmetic at 10⁵ entries."""
    z = _BUFFERS.get(slot)
    if z is None or z.shape != shape:
        z = _BUFFERS[slot] = np.empty(shape, dtype=np.complex128)
    return z


def _release_large_buffers() -> None:
    for slot in [s for s, z in _BUFFERS.items() if z.size > KEEP_BUFFERS_UP_TO]:
        del _BUFFERS[slot]


def release_buffers() -> None:
    """Let go of the complex arrays gradcheck keeps between calls."""
    _BUFFERS.clear()


class _Tiled:
    """A direction stored as one block of values repeated over the flattened array
    (never materialised at full size: at 1.5e7 entries every pass over memory counts)."""

    def __init__(self, block: np.ndarray, shape: tuple):
        self.block, self.shape = block, shape
        self.size = int(np.prod(shape, dtype=int))

    def _blocks(self, flat):
        full = self.size // self.block.size * self.block.size
        return flat[:full].reshape(-1, self.block.size), flat[full:], self.block[: self.size - full]

    def dot_and_abs(self, g: np.ndarray) -> tuple[float, float]:
        """Σ g·u and Σ|g| in one pass over ``g`` (which may be a strided real part),
        a few blocks at a time so that nothing of full size is allocated."""
        flat = g.reshape(-1)
        head, tail, rest = self._blocks(flat)
        dot, total = float(tail @ rest), float(np.abs(tail).sum())
        step = 16
        buf = np.empty((step, self.block.size))
        for s in range(0, head.shape[0], step):
            chunk = head[s:s + step]
            out = buf[: chunk.shape[0]]
            np.copyto(out, chunk)
            dot += float(np.sum(out @ self.block))
            total += float(np.abs(out, out=out).sum())
        return dot, total

    def dense(self) -> np.ndarray:
        return np.resize(self.block, self.size).reshape(self.shape)


def _fill(imag: np.ndarray, u, h: float) -> None:
    """imag = h·u, writing straight into the (strided) imaginary part."""
    if isinstance(u, _Tiled):
        flat = imag.reshape(-1)
        full = u.size // u.block.size * u.block.size
        flat[:full].reshape(-1, u.block.size)[...] = h * u.block
        flat[full:] = h * u.block[: u.size - full]
    else:
        np.multiply(u, h, out=imag)


def _signs(rng, shape) -> "_Tiled":
    """A ±1 direction: a random block of 4,099 signs (a prime, so no row pattern lines up), tiled.
    Every entry is ±1, so an error in any one entry moves Σ gradᵀu by its full size."""
    return _Tiled(2.0 * rng.integers(0, 2, size=DIRECTION_BLOCK) - 1.0, tuple(shape))


def _compare(tol: Tolerance, grads, directions, wrt) -> tuple[float, float, int]:
    """Σ gradᵀu, and the rounding bound eps·√N·(Σ|g_i u_i| + max|g|), N all the entries
    checked: each side is computed through sums over the whole problem, so even a
    single entry's derivative carries rounding of the size of the largest one."""
    claimed, total, n = 0.0, 0.0, 0
    n_all = sum(g.size for g in grads)
    largest = max(float(np.max(np.abs(g), initial=0.0)) for g in grads)
    for g, i in zip(grads, wrt):
        if i not in directions:
            continue
        u = directions[i]
        if isinstance(u, _Tiled):  # ±1 everywhere: Σ|g u| = Σ|g|
            d, a = u.dot_and_abs(g)
            n += u.size
        else:
            d, a = float(g.ravel() @ u.ravel()), float(np.abs(g).ravel() @ np.abs(u).ravel())
            n += int(np.count_nonzero(u))
        claimed += d
        total += a
    return claimed, tol.unit_roundoff * np.sqrt(max(n_all, 1)) * (total + largest), n


def _directional(run: _Runner, rng, count: int, estimator: str, locate: bool) -> GradcheckResult:
    used, fallback, worst = estimator, "", 0.0
    for _ in range(count):
        directions = {i: _signs(rng, run.args[i].shape) for i in run.wrt}
        est = _along(run, directions, used)
        if isinstance(est, str):
            raise InvalidArgument("an implementation the complex step can run", est,
                                  "Use estimator='central' or 'auto'.")
        used, fallback = est["estimator"], est.get("fallback") or fallback
        ratio = abs(est["numeric"] - est["claimed"]) / est["tolerance"] if est["tolerance"] else (
            0.0 if est["numeric"] == est["claimed"] else float("inf"))
        worst = max(worst, ratio)
        if ratio > 1.0:
            message = (f"directional derivative along a random ±1 direction: claimed Σ gradᵀu = "
                       f"{est['claimed']:.12g}, {used} {est['numeric']:.12g} "
                       f"(error {ratio:.3g}× the tolerance {est['tolerance']:.3g})")
            located = _bisect(run, directions, used) if locate else []
            return GradcheckResult(False, "directional", used, worst, 0, 0.0, message, located, fallback)
    return GradcheckResult(True, "directional", used, worst, 0, 0.0, "", [], fallback)


def _along(run: _Runner, directions: dict, estimator: str) -> dict | str:
    tol = run.tol
    fallback = ""
    if estimator in ("auto", "complex-step"):
        try:
            _, grads, numeric = run.complex(directions, COMPLEX_STEP)
            claimed, bound, _ = _compare(tol, grads, directions, run.wrt)
            tolerance = tol.safety * 2 * bound
            if abs(numeric - claimed) > tolerance:  # confirm against the measured rounding first
                tolerance += tol.safety * _complex_noise(run, directions, numeric, claimed)
            return {"estimator": "complex-step", "numeric": numeric, "claimed": claimed, "tolerance": tolerance}
        except _NotAnalytic as exc:
            if estimator == "complex-step":
                return f"estimator='complex-step' but {exc}"
            fallback = f"complex step not possible ({exc})"
    f0, grads = run.real()
    scale = max(1.0, max(float(np.max(np.abs(run.args[i]), initial=0)) for i in directions))
    h = tol.fd_step * scale
    diffs, sizes = [], []
    dense = {i: u.dense() if isinstance(u, _Tiled) else u for i, u in directions.items()}
    for step in (h, 2 * h):
        plus = {i: run.args[i] + step * u for i, u in dense.items()}
        minus = {i: run.args[i] - step * u for i, u in dense.items()}
        fp, _ = run.real(plus)
        fm, _ = run.real(minus)
        diffs.append((fp - fm) / (2 * step))
        sizes.append(max(abs(fp), abs(fm)))
    trunc = abs(diffs[1] - diffs[0]) / 3
    numeric = diffs[0] + (diffs[0] - diffs[1]) / 3  # Richardson: the h² terms cancel
    claimed, bound, n = _compare(tol, grads, directions, run.wrt)
    rounding = tol.unit_roundoff * np.sqrt(max(n, 1)) * max(sizes[0], abs(f0)) / h
    tolerance = tol.safety * (trunc + rounding + bound)
    if abs(numeric - claimed) > tolerance:  # confirm against the measured rounding first
        noise_f, noise_claimed = _real_noise(run, directions, f0, claimed)
        tolerance += tol.safety * (noise_f / h + noise_claimed)
    return {"estimator": "central", "numeric": numeric, "claimed": claimed, "tolerance": tolerance,
            "fallback": fallback}


def _complex_noise(run: _Runner, directions: dict, numeric: float, claimed: float) -> float:
    """How far Monte Carlo arithmetic moves D_u and Σ gradᵀu: the rounding the tight
    bound cannot see (a gradient like v_c(ŷ − y) when ŷ_o ≈ 1 is all cancellation)."""
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(CONFIRM_RUNS):
        _, grads, d = run.complex(directions, COMPLEX_STEP, jitter=rng)
        c, _, _ = _compare(run.tol, grads, directions, run.wrt)
        worst = max(worst, abs(d - numeric) + abs(c - claimed))
    return worst


def _real_noise(run: _Runner, directions: dict, f0: float, claimed: float) -> tuple[float, float]:
    """Monte Carlo arithmetic on the real code: how far f and Σ gradᵀu move."""
    mca = MonteCarloArithmetic(np.random.default_rng(0), run.tol.unit_roundoff, run.tol.mca_spread)
    noise_f = noise_c = 0.0
    for _ in range(CONFIRM_RUNS):
        f, grads = run.real({i: mca.watch(run.args[i]) for i in run.wrt})
        c, _, _ = _compare(run.tol, grads, directions, run.wrt)
        noise_f, noise_c = max(noise_f, abs(f - f0)), max(noise_c, abs(c - claimed))
    return noise_f, noise_c


def _bisect(run: _Runner, directions: dict, estimator: str, limit: int = 64) -> list:
    """Halve the set of entries in the direction while the failing half keeps failing."""
    directions = {i: u.dense() if isinstance(u, _Tiled) else u for i, u in directions.items()}
    flat = [(i, k) for i in run.wrt for k in range(run.args[i].size)]
    lo, hi = 0, len(flat)
    for _ in range(limit):
        if hi - lo <= 1:
            break
        mid = (lo + hi) // 2
        part = _restricted(run, directions, flat, lo, mid)
        est = _along(run, part, estimator)
        if isinstance(est, str):
            return []
        wrong = abs(est["numeric"] - est["claimed"]) > est["tolerance"]
        lo, hi = (lo, mid) if wrong else (mid, hi)
    i, k = flat[lo]
    single = _restricted(run, directions, flat, lo, lo + 1)
    est = _along(run, single, estimator)
    if isinstance(est, str) or abs(est["numeric"] - est["claimed"]) <= est["tolerance"]:
        return []
    index = tuple(int(j) for j in np.unravel_index(k, run.args[i].shape))
    sign = float(directions[i].ravel()[k])
    return [(i, index, est["claimed"] * sign, est["numeric"] * sign)]


def _restricted(run, directions, flat, lo, hi) -> dict:
    out = {i: np.zeros_like(u) for i, u in directions.items()}
    by_arg: dict[int, list[int]] = {}
    for i, k in flat[lo:hi]:
        by_arg.setdefault(i, []).append(k)
    for i, ks in by_arg.items():
        out[i].ravel()[ks] = directions[i].ravel()[ks]
    return {i: u for i, u in out.items() if i in by_arg}


def _entries(run: _Runner, estimator: str, picks=None) -> GradcheckResult:
    """Every entry (or the ``picks``, flat positions over all wrt arrays), one estimate each."""
    worst, used, fallback = 0.0, estimator, ""
    offsets = np.cumsum([0] + [run.args[i].size for i in run.wrt])
    for slot, i in enumerate(run.wrt):
        x = run.args[i]
        ks = range(x.size) if picks is None else [int(p) - offsets[slot] for p in picks
                                                   if offsets[slot] <= p < offsets[slot + 1]]
        for k in ks:
            u = np.zeros_like(x)
            u.ravel()[k] = 1.0
            est = _along(run, {i: u}, used)
            if isinstance(est, str):
                raise InvalidArgument("an implementation the complex step can run", est,
                                      "Use estimator='central' or 'auto'.")
            used, fallback = est["estimator"], est.get("fallback") or fallback
            err = abs(est["numeric"] - est["claimed"])
            ratio = err / est["tolerance"] if est["tolerance"] else (0.0 if err == 0 else float("inf"))
            worst = max(worst, ratio)
            if ratio > 1.0:
                index = tuple(int(j) for j in np.unravel_index(k, x.shape))
                message = (f"claimed gradient of argument {i} at {list(index)}: claimed {est['claimed']:.12g}, "
                           f"{used} {est['numeric']:.12g} (error {ratio:.3g}× the tolerance)")
                return GradcheckResult(False, "entries", used, worst, 0, 0.0, message,
                                       [(i, index, est["claimed"], est["numeric"])], fallback)
    return GradcheckResult(True, "entries", used, worst, 0, 0.0, "", [], fallback)
