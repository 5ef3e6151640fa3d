"""The scalar check: ``fn -> (value, grads...)``, its arguments checked, and the call that puts
the parts together (`api.gradcheck` reduces every other form to it)."""

from __future__ import annotations

import contextlib
import math
import numbers
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import rng
from ..errors import InvalidArgument
from ..tolerances import ENTRIES_UP_TO, INCONCLUSIVE_RESOLUTION, Tolerance, tolerance_for
from .boundary import at_boundary
from .calls import Calls, ModifiesArgument, NotDeterministic
from .directions import random_direction
from .estimators import Estimators, Kinked, NonFinite
from .modes import Verdict, directional, entries
from .results import GradcheckError, GradcheckResult, WrongEntry
from .workspace import Workspace

__all__ = ["ESTIMATORS", "MODES", "check_scalar", "choice", "resolve_wrt", "valid_seed", "valid_workspace"]

MODES = ("auto", "entries", "directional")
ESTIMATORS = ("auto", "complex-step", "central")


@dataclass(frozen=True)
class _Options:
    fn: Callable
    args: list
    wrt: list
    mode: str
    estimator: str
    directions: int
    spot: int
    locate: bool
    seed: int
    tolerance: Tolerance
    nondet_tol: float


def check_scalar(fn: Callable, args: Sequence, wrt: Sequence[int] | None = None, *, mode: str = "auto",
                 estimator: str = "auto", directions: int | None = None, spot: int | None = None,
                 locate: bool | None = None, seed: int = 0, tolerance: Tolerance | str = "auto",
                 nondet_tol: float = 0.0, raise_exception: bool = False,
                 framework: str | None = None, pin_rng: bool = False,
                 min_resolution: float | None = None, timeout: float | None = None,
                 workspace: Workspace | None = None) -> GradcheckResult:
    """`gradverify.gradcheck` of a scalar ``fn -> (value, grads...)``: its arguments checked, and the
    check run (what every other form of gradcheck is reduced to; the arguments as there)."""
    t0 = time.perf_counter()
    fn, args, estimator = at_boundary(fn, args, estimator, framework)
    options = _validated(fn, args, wrt, mode, estimator, directions, spot, locate, seed, tolerance, nondet_tol)
    if not isinstance(raise_exception, bool):
        raise InvalidArgument("raise_exception True or False", f"raise_exception={raise_exception!r}")
    pin_rng = _flag("pin_rng", pin_rng, False)
    valid_workspace(workspace)
    floor = options.tolerance.min_resolution if min_resolution is None else _min_resolution(min_resolution)
    calls = Calls(options.fn, options.args, options.wrt, options.tolerance, options.seed, options.nondet_tol,
                  pin_rng, workspace)
    est = Estimators(calls, options.estimator)
    if timeout is None:
        result = _check(options, calls, est, pin_rng, floor, t0)
    else:
        result = _within(_seconds(timeout), lambda: _check(options, calls, est, pin_rng, floor, t0), calls, t0)
    if raise_exception and not result.ok:
        raise GradcheckError(result)
    return result


def valid_workspace(workspace) -> None:
    """``workspace=`` is a `Workspace` or None, else `InvalidArgument`."""
    if workspace is not None and not isinstance(workspace, Workspace):
        raise InvalidArgument("workspace a gradverify.Workspace (or None)", f"workspace={workspace!r:.60}",
                              "Make one with gradverify.Workspace() and pass the same one to each call.")


def _within(seconds: float, check, calls: Calls, t0: float) -> GradcheckResult:
    """``check()`` in a daemon thread, waited for ``seconds``; what it raised is raised here."""
    outcome: dict = {}

    def target():
        try:
            outcome["result"] = check()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = exc
    thread = threading.Thread(target=target, name="gradcheck", daemon=True)
    thread.start()
    thread.join(seconds)
    if "error" in outcome:
        raise outcome["error"]
    if "result" in outcome:
        return outcome["result"]
    message = (f"inconclusive: gradcheck did not finish within timeout={seconds:g} s ({calls.evaluations} "
               f"evaluations of fn so far); it was abandoned, and the call of fn in progress runs on in a "
               f"daemon thread, its result unused. What to do: check a smaller problem, raise timeout=, or "
               f"run the check in a worker process if fn may never return.")
    return GradcheckResult(False, "", "", 0.0, calls.evaluations, time.perf_counter() - t0, message,
                           inconclusive=True)


def _check(options: _Options, calls: Calls, est: Estimators, pin_rng: bool, floor: float,
           t0: float) -> GradcheckResult:
    try:
        with rng.keeping() if pin_rng else contextlib.nullcontext(), np.errstate(all="ignore"):
            mode_used, verdict = _run(options, calls, est)
    finally:
        calls.give_back()  # (the buffers back to the workspace, when one was given)
    resolution = est.resolution(mode_used == "directional")
    certified = est.resolution(mode_used == "directional", certified=True)
    weak = verdict.ok and (resolution > floor or certified >= INCONCLUSIVE_RESOLUTION)
    inconclusive = verdict.inconclusive or weak
    if weak:
        verdict = Verdict(False, _inconclusive(resolution, certified, floor, est, options.tolerance))
    result = GradcheckResult(verdict.ok, mode_used, est.used, est.worst, calls.evaluations,
                             time.perf_counter() - t0, verdict.message, verdict.located, est.fallback, calls.pinned,
                             resolution, inconclusive, certified, sorted(est.notes))
    return result


def _run(o: _Options, calls: Calls, est: Estimators) -> tuple[str, Verdict]:
    mode = o.mode
    if mode == "auto":
        mode = "entries" if sum(calls.sizes) <= ENTRIES_UP_TO else "directional"
    try:
        rng = np.random.default_rng(o.seed)
        first = random_direction(rng, calls.sizes) if mode == "directional" else None
        if first is not None:
            est.prefetch(first)  # the complex call first: the real call's gradients reuse its memory
        base = calls.start()
        if not np.isfinite(base.value):
            return mode, Verdict(False, f"fn's value is {base.value} at the point checked")
        if mode == "entries":
            return mode, entries(est)
        return mode, directional(est, rng, first, o.directions, o.spot, o.locate)
    except (NotDeterministic, ModifiesArgument) as exc:
        return mode, Verdict(False, str(exc))
    except Kinked as exc:
        return mode, Verdict(False, f"inconclusive: {exc}. What to do: check at a point away from the kink, "
                                    f"or let the complex step run (it sees through ReLU and |r| exactly).",
                             inconclusive=True)
    except NonFinite as exc:
        return mode, Verdict(False, f"wrong gradient: {exc}",
                             [WrongEntry(exc.argument, exc.index, exc.claimed, float("nan"))])


def _seconds(value) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 < value < math.inf:
        raise InvalidArgument("timeout a number of seconds > 0", f"timeout={value!r}",
                              "Leave it out for no limit.")
    return float(value)


def _min_resolution(value) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 < value < math.inf:
        raise InvalidArgument("min_resolution a number > 0 (a fraction of max|grad|, like 1e-6)",
                              f"min_resolution={value!r}", "Leave it out for the inputs' dtype default.")
    return float(value)


def _inconclusive(resolution: float, certified: float, floor: float, est: Estimators, tol: Tolerance) -> str:
    """Why a check whose comparisons all agreed resolves too little to be a pass, and what to do."""
    float32 = tol.dtype == "float32"
    how = "central differences" if est.used == "central" else "the complex step"
    if float32:
        how += f" on float32 code (unit roundoff {tol.unit_roundoff:.2g})"
    if est.noise > 0:
        how += ": the rounding measured by Monte Carlo arithmetic is that large"
    elif est.used == "central":
        how += ": their tolerance, rounding u·|f|/h plus the truncation seen between steps h and 2h, is that wide"
    do = []
    if float32:
        do.append("check with float64 inputs (x.astype(np.float64); torch: .double())")
    if est.used == "central":
        do.append("let the complex step run, which resolves far finer"
                  + (f" (it was not used: {est.fallback})" if est.fallback else " (estimator='auto')"))
    if est.noise > 0:
        do.append("check at a point where the gradient is not computed by cancellation")
    do.append("check a smaller problem (fewer entries; per entry with mode='entries')")
    if resolution > floor:
        said = (f"resolution {resolution:.3g} > min_resolution {floor:g}: every comparison agreed, but only "
                f"one-entry errors of {resolution:.3g}·max|grad| or more are caught for certain, so this is no pass")
    else:
        said = (f"certified resolution {certified:.3g} ≥ {INCONCLUSIVE_RESOLUTION:g}: the complex step agreed (resolution "
                f"{resolution:.3g}), but central differences, which every pass must agree with in real arithmetic, "
                f"cannot tell an error as large as max|grad| in one entry, so this is no pass")
        how = "central differences on float32 code" if float32 else "central differences"
    return f"inconclusive: {said}. Why: {how}. What to do: " + "; ".join(do) + "."


# ---------------------------------------------------------------- beyond a scalar loss
# ---------------------------------------------------------------- arguments
def _validated(fn, args, wrt, mode, estimator, directions, spot, locate, seed, tolerance, nondet_tol) -> _Options:
    if not callable(fn):
        raise InvalidArgument("a callable fn", f"fn={fn!r}")
    if not isinstance(args, (tuple, list)):
        raise InvalidArgument("args as a tuple or list of fn's arguments", f"args={args!r}",
                              "Wrap a single argument: args=(x,).")
    args = list(args)
    choice("mode", mode, MODES)
    choice("estimator", estimator, ESTIMATORS)
    wrt = resolve_wrt(args, wrt)
    if mode == "entries":
        _not_for_entries(directions=directions, spot=spot, locate=locate)
    return _Options(fn, args, wrt, mode, estimator,
                    _count("directions", directions, 1, minimum=1), _count("spot", spot, 0, minimum=0),
                    _flag("locate", locate, True), valid_seed(seed), _tolerance(tolerance, args, wrt),
                    _nondet_tol(nondet_tol))


def choice(name, value, allowed):
    if value not in allowed:
        raise InvalidArgument(f"{name} " + ", ".join(repr(a) for a in allowed), f"{name}={value!r}")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def resolve_wrt(args: list, wrt) -> list:
    if wrt is None:
        wrt = _default_wrt(args)
        for i in wrt:
            _checkable(args, i)
        return wrt
    wrt = _positions(wrt)
    if not all(0 <= i < len(args) for i in wrt):
        raise InvalidArgument(f"positions of args (0..{len(args) - 1}) in wrt", f"wrt={tuple(wrt)!r}")
    for i in wrt:
        _checkable(args, i)
    return wrt


def _default_wrt(args: list) -> list:
    wrt = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    if not wrt:
        raise InvalidArgument("at least one floating-point numpy array in args (wrt defaults to those)",
                              f"args of types {[type(a).__name__ for a in args]}",
                              "Pass the parameters as float arrays, or name them with wrt=.")
    return wrt


def _positions(wrt) -> list:
    """wrt as a list of distinct ints (numpy integers too)."""
    if _is_int(wrt) or not isinstance(wrt, (tuple, list)) or not all(_is_int(i) for i in wrt):
        raise InvalidArgument("wrt as a sequence of argument positions, like wrt=(0, 2)", f"wrt={wrt!r}")
    wrt = [int(i) for i in wrt]
    if not wrt:
        raise InvalidArgument("at least one position in wrt", "wrt=()", "Leave wrt out to check every float array.")
    if len(set(wrt)) != len(wrt):
        raise InvalidArgument("each position once in wrt", f"wrt={tuple(wrt)!r}")
    return wrt


def _checkable(args: list, i: int) -> None:
    a = args[i]
    if not isinstance(a, np.ndarray):
        raise InvalidArgument("a float numpy array at each wrt position",
                              f"args[{i}]={a!r:.40} of type {type(a).__name__}", "Pass the parameters as arrays.")
    if a.dtype.kind != "f":
        raise InvalidArgument("a float numpy array at each wrt position", f"args[{i}] of dtype {a.dtype}",
                              "Convert it: x.astype(np.float64); complex parameters are not supported.")
    if a.size == 0:
        raise InvalidArgument("a non-empty array at each wrt position", f"args[{i}] of shape {a.shape}",
                              "An empty argument has no gradient to check.")
    if a.dtype.name not in ("float64", "float32"):
        raise InvalidArgument("float64 or float32 arrays", f"args[{i}] of dtype {a.dtype}",
                              "Convert it: x.astype(np.float64).")


def _not_for_entries(**given) -> None:
    for name, value in given.items():
        if value is not None:
            raise InvalidArgument(f"no {name}= with mode='entries' (it checks every entry)", f"{name}={value!r}",
                                  "Use mode='directional' or 'auto', or leave it out.")


def _count(name, value, default, minimum):
    if value is None:
        return default
    if not _is_int(value) or value < minimum:
        raise InvalidArgument(f"{name} an integer ≥ {minimum}", f"{name}={value!r}")
    return int(value)


def _flag(name, value, default):
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name} True or False", f"{name}={value!r}")
    return value


def valid_seed(seed):
    if not _is_int(seed) or seed < 0:
        raise InvalidArgument("seed a non-negative integer", f"seed={seed!r}")
    return int(seed)


def _tolerance(tolerance, args, wrt) -> Tolerance:
    if isinstance(tolerance, Tolerance):
        return tolerance
    if isinstance(tolerance, str) and tolerance == "auto":
        widest = np.result_type(*(args[i].dtype for i in wrt))
        return tolerance_for(widest)
    raise InvalidArgument("tolerance a Tolerance (gradverify.TOLERANCES['float64']) or 'auto'",
                          f"tolerance={tolerance!r}", "Leave it out to follow the inputs' dtype.")


def _nondet_tol(value) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value >= 0 or not np.isfinite(value):
        raise InvalidArgument("nondet_tol a finite number ≥ 0", f"nondet_tol={value!r}")
    return float(value)
