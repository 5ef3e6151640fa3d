"""The report's numeric side: a derivation's implementation called at a `Point`, its rounding
noise, and central differences entry by entry.

The mechanisms are the shared core's, the same as gradcheck's: calling user code
(`calling.py`: the pinned RNGs, writes to arguments, determinism) and central
differences (`differences.py`: the stencil, the Richardson pair, kinks, finer steps).
Here they are adapted to a derivation: which variable moves and how (a symmetric
matrix's partner entry, a batched call, the domain's room), the outputs named by
``returns``, their shapes and finiteness, and the report's messages.

Nothing here imports sympy: these are the checks a user's numpy code can run
at any size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import rounding
from .calling import copied, difference, modified, running, snapshot
from .rng import keeping
from .errors import DerivationError, InvalidArgument
from .frameworks import framework, framework_of_values
from .sampling import room_in_domain
from .sympy_eval import user_frame
from .spec import Point
from .spec import Derivation, Implementation
from .tolerances import FINER_READINGS, KINK_SHRINK, Tolerance
from .differences import agree, apart, central, fourth_difference, shrinks, stencil
from .watching import Watched

__all__ = ["NotFinite", "OUTSIDE", "PINNED_SEED", "CallLog", "call", "call_twice", "keeping_global_rng", "fd_comparison", "KINK", "noise", "Rounding", "central_difference", "CURVE_STEPS", "step_curve", "Comparison", "compare", "selected_positions"]

#: the seed of the global ``np.random`` and ``random`` states before every call of an
#: implementation that draws from them (word2vec's assignment harness does the same): the
#: reruns behind a check then see the same draws, and a spec can name them
PINNED_SEED = 0


class CallLog:
    """What calling one derivation's implementation showed, over a whole check."""

    def __init__(self):
        #: the code drew from the global ``np.random`` or ``random`` state: every call ran with
        #: both seeded with `PINNED_SEED` (the report should say so)
        self.rng_pinned = False
        #: per output, the smallest normal number of the dtype the code returned it in (float32's
        #: 1.2e-38 for code that computes in float32): below it the code's numbers underflow, so no
        #: difference smaller than it says anything about the claim
        self.smallest: dict[str, float] = {}
        #: the machine epsilon of the least precise dtype the code returned anything in (2⁻²³ for
        #: code that computes in float32): finite differences then step as that precision needs
        self.epsilon = 0.0

    def saw(self, name: str, value) -> None:
        # a Python number or a list of them is float64; an array (or a list of float32 arrays) its own dtype
        dtype = np.asarray(value).dtype if not isinstance(value, (int, float)) else np.dtype(np.float64)
        if dtype.kind in "fc":
            self.smallest[name] = max(self.smallest.get(name, 0.0), float(np.finfo(dtype).tiny))
            self.epsilon = max(self.epsilon, float(np.finfo(dtype).eps))


#: the global ``np.random`` and ``random`` states as they were before the block (one home: `rng.keeping`)
keeping_global_rng = keeping


def _run(impl: Implementation, args, log, what=""):
    """``fn(*args)`` with the RNG pinned, in the library the code is written in; an exception, or a
    change to an argument, is the derivation's error."""
    fn, names, written_in = impl.fn, impl.args, impl.written_in
    before = snapshot(args, deep=True)
    try:
        code = framework(written_in)
    except InvalidArgument as exc:
        raise DerivationError(str(exc)) from None
    try:
        # an overflow that matters shows up as inf or NaN; the RNGs seeded with PINNED_SEED, whether the
        # code drew from them told to the log (only `call_twice` asks)
        with running(PINNED_SEED, _IGNORE, observe=log is not None) as seen:
            out = code.call(fn, args)
    except Exception as exc:  # the user's code: any exception is theirs to see
        raise DerivationError(f"implementation {fn.__name__} raised {type(exc).__name__}{what}: {exc}"
                              f"{user_frame(exc)}{_framework_hint(exc, written_in)}{_int_hint(exc, names, args)}") \
            from exc
    if seen.drew:
        log.rng_pinned = True
    if written_in == "numpy":
        _returned_numpy(fn, out)
    for i in modified(before, args)[:1]:
        name = names[i]
        raise DerivationError(
            f"implementation {fn.__name__} modifies its argument `{name}` in place; the caller's array "
            f"changes and every later use of it sees other numbers. Work on a copy: `{name} = {name}.copy()` "
            f"first, or `{name} = {name} - ...` instead of `{name} -= ...`", fn=fn)
    return out


#: numpy's floating-point error handling for the implementation's calls
_IGNORE = {"all": "ignore"}


def _framework_hint(exc: BaseException, written_in: str) -> str:
    """What to say when numpy arrays reached code written in torch or jax (detection missed it)."""
    text = str(exc)
    if written_in == "numpy" and ("Tensor" in text or "jax" in text.lower()
                                  or "'numpy.ndarray' object has no attribute" in text):
        return ("; if the code is written in torch or jax, say so with Implementation(..., "
                "framework='torch') or framework='jax' (it was read as numpy code), and its inputs arrive as "
                "float64 tensors")
    return ""


def _int_hint(exc: BaseException, names, args) -> str:
    """What to say when the code subscripted an int: which of its arguments are ints."""
    if "'int' object is not subscriptable" not in str(exc):
        return ""
    ints = [f"`{n}`" for n, a in zip(names, args) if isinstance(a, int) and not isinstance(a, bool)]
    named = f"{', '.join(ints)} {'arrives' if len(ints) == 1 else 'arrive'} as an int: " if ints else ""
    return (f"; {named}an Index variable arrives in the code as an int, as do a dimension and an Int, and an "
            "Indices variable as a list of ints; an int cannot be subscripted")


def _returned_numpy(fn, out) -> None:
    """Code read as numpy that returns torch tensors or jax arrays is written in that library
    (detection missed it): it was given numpy arrays, and jax computes them in float32."""
    found = framework_of_values(out if isinstance(out, (tuple, list)) else (out,))
    if found != "numpy":
        kind = {"torch": "torch tensors", "jax": "jax arrays"}[found]
        raise DerivationError(
            f"implementation {fn.__name__} returned {kind} but was read as numpy code (no {found} name found in "
            f"it, nor in the helpers it calls by name), so it was called with numpy arrays"
            + (" (jax computes those in float32 unless its 64-bit mode is on)" if found == "jax" else "")
            + f"; say Implementation(..., framework={found!r}): then it gets float64 "
            f"{'tensors' if found == 'torch' else 'arrays (64-bit mode on)'} and Monte Carlo arithmetic sees "
            "its operations", fn=fn)


def call(derivation: Derivation, point: Point, values: dict | None = None,
         log: CallLog | None = None) -> dict[str, np.ndarray]:
    """Run the implementation at ``point`` (with ``values`` overriding some inputs).

    Any way the code can go wrong (it raises, changes an argument in place, returns the
    wrong number of values, a wrong shape, NaN or inf) is a `DerivationError` with one
    clear line. The global random states are seeded with `PINNED_SEED` for the call and
    given back after it (``log.rng_pinned`` says whether the code drew from them).
    """
    impl = derivation.implementation
    vals = {**point.sizes, **point.values, **(values or {})}  # args may name a dimension: the code gets the int
    real = set(derivation.real_variables)
    # copies: the point must stay as it was even when the code writes into its inputs
    args = [_copy_real(vals[a]) if a in real else copied(vals[a]) for a in impl.args]
    out = _run(impl, args, log)
    names = list(impl.returns)
    if len(names) == 1:
        out = (out,)
    if not isinstance(out, (tuple, list)) or len(out) != len(names):
        got = f"{type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list)) else type(out).__name__
        raise DerivationError(f"implementation {impl.fn.__name__} returned {got}; expected {len(names)} values "
                              f"({', '.join(names)})", fn=impl.fn)
    result = {name: _finite(name, value) for name, value in zip(names, out)}
    _check_shapes(derivation, point, result)
    if log is not None:
        for name, value in zip(names, out):
            log.saw(name, value)
    return result


class NotFinite(DerivationError):
    """The implementation returned NaN or inf: outside the function's domain when the spec is
    undefined there too (the point is drawn again), the code's error when the spec is finite."""


#: why points are drawn again (`NumericFigures.set_aside`): the spec is undefined there as well
OUTSIDE = "outside the function's domain, redrawn"


#: what to do about a NaN or inf where the code is run
_DOMAIN_HINT = ("if the function is undefined there (log 0, 0/0, a constant input to a normalisation), declare "
                "the domain of that input (Real(..., domain=...)) so that inputs are drawn within it")


def _finite(name, value) -> np.ndarray:
    if type(value) is float or (isinstance(value, (np.ndarray, np.float64)) and value.dtype == np.float64):
        arr = np.array(value, dtype=np.float64)  # (what the float64 code returns, every call: the short way)
        if np.isfinite(arr).all():
            return arr
    if isinstance(value, (list, tuple)) and value and any(np.ndim(v) > 0 for v in value) and \
            len({np.shape(v) for v in value}) > 1:
        shapes = ", ".join(str(np.shape(v)) for v in value)
        raise DerivationError(f"implementation returned {name} as a {type(value).__name__} of {len(value)} arrays "
                              f"(shapes {shapes}); each name in returns= is one array. Return them as separate "
                              f"values (return loss, dW, db) and name each in returns=")
    if np.iscomplexobj(value) and np.any(np.imag(value) != 0):
        raise DerivationError(f"implementation returned {name} with a nonzero imaginary part "
                              f"(largest {float(np.max(np.abs(np.imag(value)))):.3g}); expected real numbers. "
                              "Return the real result (np.real only where the imaginary part is rounding).")
    try:
        arr = np.array(np.real(value) if np.iscomplexobj(value) else value, dtype=np.float64)  # a plain copy
    except (TypeError, ValueError) as exc:
        raise DerivationError(f"implementation returned {name} of type {type(value).__name__}, "
                              f"not numbers: {exc}") from exc
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))
        where = f" at {list(map(int, bad[0]))}" if arr.ndim else ""
        raise NotFinite(f"implementation returned {name} = {arr[tuple(bad[0])] if arr.ndim else arr}"
                              f"{where}; expected finite numbers ({_DOMAIN_HINT})")
    return arr


def call_twice(derivation: Derivation, point: Point, log: CallLog | None = None) -> dict[str, np.ndarray]:
    """`call`, twice at the same point: the outputs must be the same bit for bit (with the global
    random states pinned, as every call is). Code that still differs (an unseeded
    ``np.random.default_rng()``, the time, threads) cannot be checked: every comparison would
    measure a different function. Returns the first call's outputs."""
    first = call(derivation, point, log=log)
    second = call(derivation, point, log=log)
    for name, a in first.items():
        b = second[name]
        differs = difference(a, b)
        if differs is not None:
            largest, worst = differs
            at = f" at {list(worst)}" if worst else ""
            raise DerivationError(
                f"not deterministic: outputs differ between two calls at the same point by {largest:.3g} "
                f"(in {name}{at}: {float(a[worst])!r} then {float(b[worst])!r}), with np.random and random "
                f"seeded alike before each call. Draw random numbers from np.random or random (gradverify "
                f"seeds both), or take a seeded generator or the random draws as an argument",
                fn=derivation.implementation.fn)
    return first


def _values_at_moves(derivation: Derivation, point: Point, var: str, flat: np.ndarray,
                     moves: np.ndarray, of: str | None = None, memo: dict | None = None) -> np.ndarray:
    """The implementation's value with entry ``flat[j]`` of ``var`` moved by ``moves[k, j]``,
    for every k and j. One call with all of them stacked on a leading axis when the
    implementation says it takes a batch of ``var`` (``Implementation(batched=...)``);
    else one call each. ``of``: another output than the value (a second derivative moves the gradient).

    ``memo``: the values already computed at this point, by what was moved how (the code is
    deterministic, `call_twice`): an entry selected twice (a claim by ``U[:, samples]`` with a
    sample drawn twice), or the same moves read again (a comparison repeated with the whole
    rounding measurement, `Rounding`), calls the code once."""
    impl = derivation.implementation
    value_name = of or impl.returns[0]
    x0 = point.values[var]
    k, n = moves.shape
    memo = {} if memo is None else memo
    if var in impl.batched and value_name == impl.returns[0]:
        key = (var, value_name, np.asarray(flat).tobytes(), np.asarray(moves, dtype=np.float64).tobytes(), k)
        if key not in memo:
            memo[key] = _values_batched(derivation, point, var, flat, moves)
            memo[key].flags.writeable = False
        return memo[key]
    partner = _partners(derivation.variables[var], x0.shape, flat)  # (i, j) and (j, i) of a symmetric matrix
    values = []
    for kk in range(k):
        row = []
        for j, p in enumerate(flat):
            key = (var, value_name, int(p), float(moves[kk, j]))
            value = memo.get(key)
            if value is None:
                moved = x0.copy()
                moved.flat[p] = x0.flat[p] + moves[kk, j]
                if partner[j] != p:
                    moved.flat[partner[j]] = moved.flat[p]
                value = memo[key] = call(derivation, point, {var: moved})[value_name]
            row.append(value)
        values.append(row)
    return np.array(values)


def _values_batched(derivation: Derivation, point: Point, var: str, flat: np.ndarray, moves: np.ndarray) -> np.ndarray:
    """`_values_at_moves` in one call of an implementation that takes a batch of ``var``."""
    x0 = point.values[var]
    k, n = moves.shape
    partner = _partners(derivation.variables[var], x0.shape, flat)
    batch = np.broadcast_to(x0, (k, n) + x0.shape).copy().reshape(k * n, -1)
    rows = np.arange(k * n)
    batch[rows, np.tile(flat, k)] += moves.ravel()
    other = np.tile(partner, k)
    off = other != np.tile(flat, k)
    batch[rows[off], other[off]] += moves.ravel()[off]
    out = call_batched(derivation, point, var, batch.reshape((k * n,) + x0.shape))
    return out.reshape((k, n) + out.shape[1:])


def _partners(kind, shape: tuple, flat: np.ndarray) -> np.ndarray:
    """For each flat position, the position that moves with it: its transpose in a symmetric (or
    positive-definite) matrix, whose free entry X_ij = X_ji is one; itself otherwise."""
    flat = np.asarray(flat)
    if not getattr(kind, "symmetric", False):
        return flat
    n = shape[0]
    return (flat % n) * n + flat // n


def call_batched(derivation: Derivation, point: Point, var: str, batch: np.ndarray) -> np.ndarray:
    """The implementation's value for a batch of ``var`` (leading axis), checked like `call`."""
    impl = derivation.implementation
    vals = {**point.sizes, **point.values, var: batch}
    real = set(derivation.real_variables)
    args = [np.array(vals[a], dtype=np.float64) if a in real else copied(vals[a]) for a in impl.args]
    out = _run(impl, args, None, f" on a batch of {var} (it is declared batched)")
    value = np.asarray(out[0] if len(impl.returns) > 1 else out, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        raise NotFinite(f"implementation returned {impl.returns[0]} = {value[~np.isfinite(value)][0]} for a "
                              f"batch of moved {var}; expected finite numbers")
    if value.shape[:1] != batch.shape[:1]:
        raise DerivationError(f"implementation returned {impl.returns[0]} with shape {value.shape} for a batch of "
                              f"{batch.shape[0]} {var}; expected a leading axis of {batch.shape[0]} "
                              f"(Implementation(batched={impl.batched!r}))")
    return value


def _copy_real(value):
    if isinstance(value, Watched):
        return value.copy()  # keeps its watcher
    return np.array(value, dtype=np.float64)


def _check_shapes(derivation, point, result):
    value_name = derivation.implementation.returns[0]
    out_shape = result[value_name].shape
    for claim in derivation.claims:
        if claim.identity:
            expected = out_shape
        elif claim.order == 2:  # a Hessian of a scalar function: x's shape twice
            if out_shape != ():
                raise DerivationError(f"claim {claim.name} has order=2 but the function value {value_name} has shape "
                                      f"{out_shape}; a second derivative is claimed of a scalar function")
            expected = point.values[claim.wrt].shape * 2
        else:
            expected = (() if claim.upstream else out_shape) + point.values[claim.wrt].shape
        got = result[claim.output].shape
        if claim.upstream is not None and point.values[claim.upstream].shape != out_shape:
            raise DerivationError(f"upstream {claim.upstream!r} of claim {claim.name} has shape "
                                  f"{point.values[claim.upstream].shape}; the function value {value_name} has shape "
                                  f"{out_shape}. Declare {claim.upstream} with the output's dimensions (dout is "
                                  f"∂L/∂out, one entry per entry of the layer's output)")
        if got != expected:
            if claim.identity:
                what = "the value's shape"
            elif claim.upstream is not None:
                what = (f"{claim.wrt}'s shape alone: a vector–Jacobian product Σ {claim.upstream} ⊙ "
                        f"∂{value_name}/∂{claim.wrt} has the shape of {claim.wrt}")
            else:
                what = f"{value_name}'s shape {out_shape} + {claim.wrt}'s shape {point.values[claim.wrt].shape}"
            impl = derivation.implementation
            scalar = (f" The value {value_name} itself has shape {out_shape}: if the function is one number, "
                      f"return a scalar ({value_name}.item() or float({value_name})).") \
                if out_shape and int(np.prod(out_shape)) == 1 and not claim.identity else ""
            raise DerivationError(f"implementation returned {claim.output} with shape {got}; expected {expected} "
                                  f"({what}). returns={tuple(impl.returns)} names fn's outputs in order, the "
                                  f"function value first, and args={tuple(impl.args)} its inputs in order: check "
                                  f"both against the code.{scalar}", fn=impl.fn)


def noise(derivation: Derivation, point: Point, base: dict[str, np.ndarray], tol: Tolerance,
          rng: np.random.Generator) -> tuple[dict[str, np.ndarray], bool]:
    """The rounding error of each output of the implementation at ``point``, estimated,
    and whether Monte Carlo arithmetic could watch the code (`rounding.measure`).

    ``tol.noise_samples`` runs in which every free real input is moved by one
    ulp and every numpy operation's result by a random rounding error (LAPACK's
    arguments too, backward-stably); the largest change of each entry is kept.
    Code that hid its arithmetic from those (it copied its inputs) is run again
    in the three directed rounding modes. (`Rounding` takes it in two steps.)
    """
    return Rounding(derivation, point, base, tol, rng).finish()


class Rounding:
    """`noise`'s measurement, taken in steps (`rounding.Measurement`): `take` the first runs, read
    what they measured so far (`so_far`: a lower bound of `finish`'s, entry by entry, for the same
    ``rng``), then `finish` it with the same random stream: `finish` gives exactly what `noise` gives.

    A comparison whose tolerance grows with the noise (`fd_comparison` at its default step, with no
    entry near a kink; `compare`) that passes with the noise so far passes with the whole of it."""

    def __init__(self, derivation: Derivation, point: Point, base: dict[str, np.ndarray], tol: Tolerance,
                 rng: np.random.Generator):
        self.base = base
        free = [n for n in derivation.real_variables if n not in point.fixed]
        self.measurement = rounding.Measurement(
            lambda moved: call(derivation, point, moved), {n: point.values[n] for n in free},
            rounding.LinalgWatch(rng, tol.unit_roundoff, tol.mca_spread), tol.noise_samples,
            move=rng, view=lambda x: np.asarray(x, dtype=np.float64), skip=(DerivationError,),
            outside=lambda: rounding.directed(lambda: call(derivation, point), skip=(DerivationError,)))

    def take(self, runs: int) -> None:
        """Monte Carlo arithmetic's first ``runs`` runs (of ``tol.noise_samples``)."""
        self.measurement.take(runs)

    def so_far(self) -> dict[str, np.ndarray] | None:
        """The noise measured by the runs taken, when it is a lower bound of the whole measurement's
        (the code computed on the watched arrays and called no LAPACK function: `finish` then only
        adds runs of the same kind); else None."""
        runs = self.measurement.so_far()
        return None if runs is None else rounding.largest_change(runs, self.base)

    def finish(self) -> tuple[dict[str, np.ndarray], bool]:
        """(the noise of every output, whether the code was watched): `noise`'s answer."""
        measured = self.measurement.finish()
        return rounding.largest_change(measured.runs, self.base), measured.watched


def selected_positions(shape: tuple, index) -> np.ndarray:
    """Flat positions of ``array[index]`` for an array of ``shape`` (numpy indexing)."""
    flat = np.arange(int(np.prod(shape, dtype=int))).reshape(shape)
    return flat if index is None else np.asarray(flat[index])


def _steps(derivation: Derivation, var: str, xs: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Steps ``h`` at the entries ``xs`` of ``var``, kept so that x ± 2h stays inside the variable's domain
    (log p at p = 1e-6 with h = 6e-6 is NaN) and made exactly representable at each x."""
    h = np.minimum(h, room_in_domain(derivation.variables[var], xs) / 4)
    return (xs + h) - xs


def _default_steps(derivation: Derivation, point: Point, var: str, flat: np.ndarray, tol: Tolerance) -> np.ndarray:
    """The first step of each entry ``flat`` of ``var``: fd_step · max(1, |x|), within the domain (`_steps`)."""
    xs = point.values[var].ravel()[flat]
    return _steps(derivation, var, xs, tol.fd_step * np.maximum(1.0, np.abs(xs)))


def _stencil(derivation: Derivation, point: Point, var: str, flat: np.ndarray, h: np.ndarray,
             of: str | None = None, memo: dict | None = None) -> tuple:
    """The implementation's value at x ± h and x ± 2h along each entry ``flat`` of ``var`` (`differences.stencil`):
    (f(x+h), f(x−h), f(x+2h), f(x−2h)), each (n,) + value dims (``memo``: see `_values_at_moves`)."""
    return stencil(lambda moves: _values_at_moves(derivation, point, var, flat, moves, of, memo), h)


def _layout(a, positions):  # (n, *out) -> (*out, *selected)
    a = np.moveaxis(a, 0, -1)
    return a.reshape(a.shape[:-1] + positions.shape)


def central_difference(derivation: Derivation, point: Point, var: str, positions: np.ndarray,
                       tol: Tolerance) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Central differences of the implementation's value along each selected entry of ``var``.

    Returns (D_h, truncation estimate, step h, max |f(x +- h)|), each laid out as
    value dims + selected dims.
    """
    flat = positions.ravel()
    h = _default_steps(derivation, point, var, flat, tol)
    c = central(*_stencil(derivation, point, var, flat, h), h)
    return tuple(_layout(a, positions) for a in (c.d_h, c.truncation, np.broadcast_to(c.h, c.d_h.shape), c.size))


def _reading(derivation: Derivation, point: Point, var: str, flat: np.ndarray, h: np.ndarray, f, noise_f,
             tol: Tolerance, of: str | None = None, memo: dict | None = None) -> tuple:
    """Central differences at the steps ``h`` along the entries ``flat`` of ``var``, with their bound:
    (D_h, its error bound, near a kink, the step, the truncation estimate, the rounding it can carry:
    err(f) at x ± 2h over h), each (n, *value dims).

    The bound is safety · (truncation + err(f)/h), err(f) the noise measured at x and the final rounding
    at x ± h: the estimate's own error, not the claim's. Near a kink: see `fd_comparison`."""
    values = _stencil(derivation, point, var, flat, h, of, memo)
    c = central(*values, h)
    fourth = fourth_difference(f, *values)
    err_step = noise_f + tol.unit_roundoff * c.size
    err_stencil = err_step + tol.unit_roundoff * np.maximum(np.abs(values[2]), np.abs(values[3]))  # x ± 2h as well
    steps = np.broadcast_to(c.h, c.d_h.shape)
    bound = tol.safety * (c.truncation + err_step / steps)
    kink = (fourth > 16 * err_stencil) & (fourth > 4 * steps * c.truncation) & (fourth > steps * bound)
    return c.d_h, bound, kink, steps, c.truncation, err_stencil / steps


#: the steps of the finite-difference error curve (report.html), largest first
CURVE_STEPS = tuple(10.0 ** -k for k in range(1, 13))


def step_curve(derivation: Derivation, point: Point, var: str, position: int, output: tuple,
               steps=CURVE_STEPS, upstream: np.ndarray | None = None,
               of: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Central differences D_h of the implementation's value entry ``output`` along entry
    ``position`` (flat) of ``var``, at each step h · max(1, |x|) for h in ``steps``: the curve
    of report.html. Steps whose stencil would leave the variable's domain are left out, and each
    step is made exactly representable at x, as in `central_difference`. Returns (h, D_h)."""
    x = float(np.asarray(point.values[var], dtype=np.float64).ravel()[position])
    h = np.asarray(steps, dtype=np.float64) * max(1.0, abs(x))
    h = h[h < room_in_domain(derivation.variables[var], np.full(h.shape, x))]
    h = (x + h) - x
    h = h[h > 0]
    if not h.size:
        return h, h
    moves = np.concatenate([h, -h])[:, None]  # (2k, 1)
    values = _values_at_moves(derivation, point, var, np.array([position]), moves, of)[:, 0]  # (2k, *value dims)
    if upstream is not None:  # a backward pass: the value read out along the cotangent, Σ dout ⊙ out
        values = values.reshape(values.shape[0], -1) @ np.ravel(upstream)
    else:
        values = values[(slice(None),) + tuple(output)]
    return h, (values[:h.size] - values[h.size:]) / (2 * h)


#: why an entry is set aside (`NumericFigures.set_aside`)
KINK = "near a kink"


def nothing_compared(examples_aside: int) -> str:
    """The detail of a check that could compare no entry at any example: not a pass."""
    return (f"no example could be compared: every selected entry of the {examples_aside} examples was near a kink "
            "(its finite-difference stencil crosses a point where the function is not differentiable)")


def fd_comparison(derivation: Derivation, point: Point, var: str, positions: np.ndarray, claimed: np.ndarray,
                  err_claimed: np.ndarray, f: np.ndarray, noise_f: np.ndarray, tol: Tolerance,
                  upstream: np.ndarray | None = None, of: str | None = None,
                  memo: dict | None = None) -> "Comparison":
    """``claimed`` against central differences of the implementation's value, entries whose
    stencil crosses a kink set aside.

    An entry fails when |claimed − D_h| > safety · (truncation + err(f)/h + err(claimed)).

    **Kinks.** Where f is smooth on [x − 2h, x + 2h], the fourth difference
    Δ⁴ = f(x+2h) − 4 f(x+h) + 6 f(x) − 4 f(x−h) + f(x−2h) is h⁴ f⁽⁴⁾ plus rounding (at most
    16 err(f)): below both the rounding bound and h · truncation. A kink (a jump J of f')
    inside the stencil makes it J·h·O(1). An entry is *near a kink* when |Δ⁴| exceeds
    16 err(f), 4 h · truncation and h · safety · (truncation + err(f)/h), the estimate's own
    error bound (so that only a kink that could move D_h beyond it counts; the claim's rounding
    is left out: at x exactly on the kink a mask flips under a one-ulp move, and that must not
    hide the kink); it is set aside, not compared, and counted
    (``Comparison.set_aside``). Where the comparison would be a false alarm (the kink within
    0.375 h of x: D_h is off by up to J/2 while the Richardson estimate stays small) |Δ⁴| is at
    least 28 err(f), 28 h · truncation and 2.8 h · the tolerance, so those entries are always caught; a kink further
    out inflates the truncation estimate enough to cover D_h's error. A wrong mask is still
    refuted at every point whose stencil crosses no kink.

    ``memo``: the code's values at moves already read at this point (`_values_at_moves`).
    ``Comparison.refined`` says whether finer steps were read (the default reading had a kink or failed).
    """
    flat = positions.ravel()
    h = _default_steps(derivation, point, var, flat, tol)
    d_h, numeric_tol, kink, steps, truncation, rounding = (
        _layout(a, positions) for a in _reading(derivation, point, var, flat, h, f, noise_f, tol, of, memo))
    if upstream is not None:  # a backward pass: the derivative of Σ dout ⊙ out, its error bounded alike
        axes = (list(range(np.ndim(upstream))), list(range(np.ndim(upstream))))
        d_h = np.tensordot(upstream, d_h, axes=axes)
        numeric_tol = np.tensordot(np.abs(upstream), numeric_tol, axes=axes)
        kink = np.tensordot(np.ones_like(upstream), kink, axes=axes) > 0
    result = compare(claimed, d_h, numeric_tol + tol.safety * err_claimed, skip=kink)
    if upstream is None and (kink.any() or not result.ok):
        d_h, numeric_tol, kink, unresolved = _finer(derivation, point, var, positions, claimed, err_claimed, f,
                                                    noise_f, tol, d_h, numeric_tol, kink, steps, result, of,
                                                    first=(truncation, rounding), memo=memo)
        result = compare(claimed, d_h, numeric_tol + tol.safety * err_claimed, skip=kink | unresolved)
        result.unresolved = int(np.count_nonzero(unresolved & ~kink))
        result.set_aside -= result.unresolved
        result.refined = True
    return result


#: why an entry is set aside (`NumericFigures.set_aside`): no two readings at finer steps agree
UNRESOLVED = "not resolved by finite differences"


def _finer(derivation, point, var, positions, claimed, err_claimed, f, noise_f, tol, d_h, numeric_tol, kink, steps,
           result, of: str | None = None, first: tuple = (), memo: dict | None = None):
    """Entries that failed or were near a kink at the default step, read again at finer steps (the
    step follows the entry's own scale). A reading decides where it and the next finer one are both
    free of kinks and agree within their own error bounds (the estimate has converged): then it
    replaces the default one, with its bound widened by their difference. An entry where no two
    readings converge keeps its default reading (a failure stays a failure, a kink a kink). A kink
    at distance δ from x leaves the stencils of steps below δ/2: "near a kink" only where the code
    has one within the finest converged step, and a smooth function at a tiny scale loses nothing.

    Two readings converge only where the finer one's truncation estimate is no larger than the coarser
    one's, beyond what its rounding explains (in the range where the error falls as h², it shrinks
    4096-fold): at a step far above the entry's own scale (x = 0 in a row of norm 8e-78, moved by 6e-6)
    D_h is about 1/h and its Richardson estimate grows with 1/h too, wide enough for two such readings
    to "agree" while neither says anything of the derivative. ``first``: the default reading's
    (truncation, rounding), as `_reading` gives them."""
    out_shape = d_h.shape[:d_h.ndim - positions.ndim]
    n = positions.size
    as_rows = lambda a: np.moveaxis(np.asarray(a).reshape(out_shape + (n,)), -1, 0)  # noqa: E731
    tolerance = numeric_tol + tol.safety * err_claimed
    bad = as_rows((np.abs(claimed - d_h) > tolerance) | kink).reshape(n, -1).any(axis=1)
    idx = np.nonzero(bad)[0]
    flat = positions.ravel()[idx]
    x0 = np.asarray(point.values[var], dtype=np.float64)
    xs = x0.ravel()[flat]
    h0 = as_rows(steps)[idx].reshape(len(idx), -1)[:, 0]
    nonzero = np.abs(x0[x0 != 0])
    own = np.where(xs != 0, np.abs(xs), nonzero.min() if nonzero.size else 0.0) * tol.fd_step
    levels = [h0 / shrink for shrink in shrinks(FINER_READINGS)]
    at_own = (own > 0) & (own < levels[-1] / 4)  # the entry's own scale is far below the default's
    levels.append(np.where(at_own, own, levels[-1] / KINK_SHRINK))
    levels.append(levels[-1] / KINK_SHRINK)
    readings = [tuple(as_rows(a)[idx] for a in (d_h, numeric_tol, kink) + tuple(first))]

    def reading(k):  # a finer level is read (for every entry, as one batch) only once an entry needs it:
        while len(readings) <= k:  # a wrong entry, smooth, decides at the first pair; a kink may need them all
            h = _steps(derivation, var, xs, levels[len(readings) - 1])
            h = np.where(h > 0, h, np.spacing(np.maximum(np.abs(xs), np.finfo(float).tiny)) * 4)
            d, bound, kinked, _, trunc, rnd = _reading(derivation, point, var, flat, h, f, noise_f, tol, of, memo)
            readings.append((d, bound, kinked, trunc, rnd))
        return readings[k]

    d_rows, t_rows, k_rows = (np.array(as_rows(a), copy=True) for a in (d_h, numeric_tol, kink))
    unresolved = np.zeros(k_rows.shape, dtype=bool)
    # the gradient's own size, as the claim or the default readings see it: a reading whose error
    # bound exceeds both says nothing of any entry (a claim 1e-12 times too small is still compared)
    size = max(float(np.max(np.abs(claimed), initial=0.0)), float(np.max(np.abs(d_h), initial=0.0)))
    floor = tol.unit_roundoff * size
    for j, i in enumerate(idx):
        for k in range(len(levels)):
            (d1, t1, k1, *first1), (d2, t2, k2, *first2) = reading(k), reading(k + 1)
            a, b = (d1[j], t1[j], k1[j]), (d2[j], t2[j], k2[j])
            if not (np.any(a[2]) or np.any(b[2])) and np.all(agree(a[0], b[0], a[1] + b[1])) \
                    and _asymptotic(first1, first2, j, tol) and _informative(a[1], b[1], floor):
                if size > 0 and np.any(a[1] > size):  # converged, but to nothing: its bound dwarfs the gradient
                    unresolved[i] = True
                    break
                d_rows[i], t_rows[i], k_rows[i] = a[0], a[1] + np.abs(a[0] - b[0]), False
                break
        else:
            (d0, t0, k0), (d1, t1, k1) = (r[j] for r in reading(0)[:3]), (r[j] for r in reading(1)[:3])
            if not (np.any(k0) or np.any(k1)) and np.any(apart(d0, d1, t0 + t1)):
                # no kink, yet the default reading and the next finer one disagree beyond both bounds and
                # no two readings converge: finite differences cannot resolve this entry here; set aside
                # and counted, not a failure
                unresolved[i] = True
    back = lambda a: np.moveaxis(a, 0, -1).reshape(d_h.shape)  # noqa: E731
    return back(d_rows), back(t_rows), back(k_rows), back(unresolved)


#: how much wider a finer reading's error bound may be than the coarser one's for the pair to confirm
#: it: its rounding grows KINK_SHRINK-fold with the step's shrink (64), doubled for the truncation
#: estimate's own rounding, with a further factor 32 of margin; a reading at a step far below where the
#: function changes measurably (bound 1e75 times wider) agrees with anything and confirms nothing
CONFIRMING_WIDTH = KINK_SHRINK**2


def _informative(coarse_bound, fine_bound, floor: float) -> bool:
    """Whether the finer reading is tight enough to confirm the coarser: its bound at most
    `CONFIRMING_WIDTH` times the coarser one's (``floor``: what rounding of the gradient's size allows)."""
    return bool(np.all(np.asarray(fine_bound) <= CONFIRMING_WIDTH * (np.asarray(coarse_bound) + floor)))


def _asymptotic(coarse: list, fine: list, j: int, tol: Tolerance) -> bool:
    """Whether the finer of two readings (each [truncation, rounding], per entry row ``j``) has a truncation
    estimate no larger than the coarser one's plus safety · its own rounding: the steps are in the range
    where D_h's error falls with h, so their error bounds mean what they say. Without the figures
    (``coarse`` or ``fine`` empty) the readings are taken as they are."""
    if not coarse or not fine:
        return True
    return bool(np.all(fine[0][j] <= coarse[0][j] + tol.safety * fine[1][j]))


@dataclass
class Comparison:
    """``claimed`` against ``reference`` entry by entry, each with its own tolerance."""

    ok: bool
    #: max |claimed - reference| / (max(|claimed|, |reference|) + max tolerance), whole array
    max_rel_err: float
    #: the entry where |claimed - reference| / tolerance is largest
    worst_index: tuple
    worst_claimed: float
    worst_reference: float
    worst_ratio: float
    #: entries not compared (near a kink), and entries compared
    set_aside: int = 0
    compared: int = 0
    claimed: np.ndarray = field(default=None, repr=False)
    reference: np.ndarray = field(default=None, repr=False)
    tolerance: np.ndarray = field(default=None, repr=False)
    #: entries not compared because no finite difference resolves them (`UNRESOLVED`)
    unresolved: int = 0
    #: the mask of entries set aside (near a kink, or unresolved), as ``compare`` was given it
    skipped: np.ndarray = field(default=None, repr=False)
    #: finite differences read at finer steps than the default one (`fd_comparison`)
    refined: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"max_rel_err": self.max_rel_err, "worst_index": list(self.worst_index),
                "claimed": self.worst_claimed, "numeric": self.worst_reference,
                "error_over_tolerance": self.worst_ratio}


def compare(claimed: np.ndarray, reference: np.ndarray, tolerance: np.ndarray, skip=None) -> Comparison:
    """Entry by entry; ``skip``: a mask of entries set aside (not compared, counted)."""
    claimed, reference = np.asarray(claimed, float), np.asarray(reference, float)
    err = np.abs(claimed - reference)
    tolerance = np.broadcast_to(tolerance, err.shape)
    skip = np.zeros(err.shape, bool) if skip is None else np.broadcast_to(skip, err.shape)
    aside = int(np.count_nonzero(skip))
    err = np.where(skip, 0.0, err)
    # normwise: relative to the largest entry, floored at the tolerance so that
    # two numbers that are both rounding noise do not read as a 100% error
    scale = max(float(np.max(np.abs(claimed), initial=0.0)), float(np.max(np.abs(reference), initial=0.0)))
    scale += float(np.max(tolerance, initial=0.0))
    rel = float(np.max(err, initial=0.0) / scale) if scale > 0 else 0.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(err == 0, 0.0, err / tolerance)
    if ratio.size == 0:
        return Comparison(True, 0.0, (), 0.0, 0.0, 0.0, 0, 0, claimed, reference, tolerance)
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    return Comparison(ok=bool(np.all(ratio <= 1.0)), max_rel_err=rel, worst_index=tuple(int(i) for i in worst),
                      worst_claimed=float(claimed[worst]), worst_reference=float(reference[worst]),
                      worst_ratio=float(ratio[worst]), set_aside=aside, compared=err.size - aside,
                      claimed=claimed, reference=reference, tolerance=tolerance, skipped=skip)
