"""The numeric side: calling the implementation, its rounding noise, and central differences.

Nothing here imports sympy: these are the checks a user's numpy code can run
at any size.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import DerivationError
from .exploration import Point
from .spec import Derivation
from .tolerances import Tolerance
from .watching import Watching

__all__ = ["call", "noise", "central_difference", "Comparison", "compare", "selected_positions"]


def call(derivation: Derivation, point: Point, values: dict | None = None) -> dict[str, np.ndarray]:
    """Run the implementation at ``point`` (with ``values`` overriding some inputs).

    Any way the code can go wrong (it raises, returns the wrong number of values,
    a wrong shape, NaN or inf) is a `DerivationError` with one clear line.
    """
    impl = derivation.implementation
    vals = dict(point.values, **(values or {}))
    real = set(derivation.real_variables)
    # copies: an implementation that writes into its inputs must not change the point
    args = [_copy_real(vals[a]) if a in real else copy.deepcopy(vals[a]) for a in impl.args]
    try:
        with np.errstate(all="ignore"):  # an overflow that matters shows up as inf or NaN below
            out = impl.fn(*args)
    except Exception as exc:  # the user's code: any exception is theirs to see
        raise DerivationError(f"implementation {impl.fn.__name__} raised {type(exc).__name__}: {exc}") from exc
    names = list(impl.returns)
    if len(names) == 1:
        out = (out,)
    if not isinstance(out, (tuple, list)) or len(out) != len(names):
        got = f"{type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list)) else type(out).__name__
        raise DerivationError(f"implementation {impl.fn.__name__} returned {got}; expected {len(names)} values "
                              f"({', '.join(names)})")
    result = {}
    for name, value in zip(names, out):
        try:
            arr = np.array(value, dtype=np.float64)  # a plain copy, also of a _Rounded array
        except (TypeError, ValueError) as exc:
            raise DerivationError(f"implementation returned {name} of type {type(value).__name__}, "
                                  f"not numbers: {exc}") from exc
        if not np.all(np.isfinite(arr)):
            bad = np.argwhere(~np.isfinite(arr))
            where = f" at {list(map(int, bad[0]))}" if arr.ndim else ""
            raise DerivationError(f"implementation returned {name} = {arr[tuple(bad[0])] if arr.ndim else arr}"
                                  f"{where}; expected finite numbers")
        result[name] = arr
    _check_shapes(derivation, point, result)
    return result


def _copy_real(value):
    if isinstance(value, _Rounded):
        return value.copy()
    return np.array(value, dtype=np.float64)


def _check_shapes(derivation, point, result):
    value_name = derivation.implementation.returns[0]
    out_shape = result[value_name].shape
    for claim in derivation.claims:
        if claim.identity:
            expected = out_shape
        else:
            expected = out_shape + point.values[claim.wrt].shape
        got = result[claim.output].shape
        if got != expected:
            what = "the value's shape" if claim.identity else \
                f"{value_name}'s shape {out_shape} + {claim.wrt}'s shape {point.values[claim.wrt].shape}"
            raise DerivationError(f"implementation returned {claim.output} with shape {got}; expected {expected} "
                                  f"({what})")


class _Rounded(Watching):
    """An array whose every numpy ufunc result (+, *, @, exp, log, sum, ...) is
    perturbed by one random rounding error: Monte Carlo arithmetic (Parker 1997;
    the idea behind Verificarlo and CADNA). Running the implementation on such
    arrays a few times shows how much its own rounding can move each output,
    cancellation inside it (1 - sigma(-x) for large x) included."""

    rng: np.random.Generator | None = None
    tol: Tolerance | None = None

    @classmethod
    def after(cls, ufunc, method, args, value, in_place):
        if in_place:
            for o in value:
                if isinstance(o, np.ndarray) and o.dtype.kind == "f":
                    o[...] = _perturbed(o)
            return value
        if isinstance(value, tuple):
            return tuple(_perturbed(v) if np.asarray(v).dtype.kind == "f" else v for v in value)
        return _perturbed(value) if np.asarray(value).dtype.kind == "f" else value


def _perturbed(arr):
    """Each entry times 1 + u * spread * eps, u uniform in [-1, 1]: a rounding
    error of up to ``spread`` units of roundoff (see Tolerance.mca_spread)."""
    tol = _Rounded.tol
    return arr * (1.0 + tol.mca_spread * tol.eps * _Rounded.rng.uniform(-1.0, 1.0, size=np.shape(arr)))


def _one_ulp(arr, rng):
    """Each entry moved one ulp up or down at random (the rounding of an input)."""
    toward = np.where(rng.integers(0, 2, size=np.shape(arr)) == 1, np.inf, -np.inf)
    return np.nextafter(arr, toward)


def noise(derivation: Derivation, point: Point, base: dict[str, np.ndarray], tol: Tolerance,
          rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The rounding error of each output of the implementation at ``point``, estimated.

    ``tol.noise_samples`` runs in which every free real input is moved by one
    ulp and every numpy operation's result by a random rounding error; the
    largest change of each entry is kept.
    """
    free = [n for n in derivation.real_variables if n not in point.fixed]
    worst = {k: np.zeros_like(v) for k, v in base.items()}
    _Rounded.rng, _Rounded.tol = rng, tol
    for _ in range(tol.noise_samples):
        moved = {}
        for n in free:
            x = point.values[n]
            moved[n] = np.asarray(_one_ulp(x, rng), dtype=np.float64).view(_Rounded)
        out = call(derivation, point, moved)
        for k in worst:
            np.maximum(worst[k], np.abs(out[k] - base[k]), out=worst[k])
    return worst


def selected_positions(shape: tuple, index) -> np.ndarray:
    """Flat positions of ``array[index]`` for an array of ``shape`` (numpy indexing)."""
    flat = np.arange(int(np.prod(shape, dtype=int))).reshape(shape)
    return flat if index is None else np.asarray(flat[index])


def central_difference(derivation: Derivation, point: Point, var: str, positions: np.ndarray,
                       tol: Tolerance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Central differences of the implementation's value along each selected entry of ``var``.

    Returns (D_h, truncation estimate, step h, max |f(x +- h)|), each laid out as
    value dims + selected dims.
    """
    value_name = derivation.implementation.returns[0]
    x0 = point.values[var]
    d_h, d_2h, steps, sizes = [], [], [], []
    for p in positions.ravel():
        xp = float(x0.flat[p])
        h = tol.fd_step * max(1.0, abs(xp))
        h = (xp + h) - xp  # a step exactly representable at xp
        diffs = []
        for step in (h, 2 * h):
            plus, minus = x0.copy(), x0.copy()
            plus.flat[p] = xp + step
            minus.flat[p] = xp - step
            fp = call(derivation, point, {var: plus})[value_name]
            fm = call(derivation, point, {var: minus})[value_name]
            diffs.append((fp - fm) / (2 * step))
            if step == h:
                sizes.append(np.maximum(np.abs(fp), np.abs(fm)))
        d_h.append(diffs[0])
        d_2h.append(diffs[1])
        steps.append(h)
    d_h, d_2h, sizes = np.array(d_h), np.array(d_2h), np.array(sizes)  # (n_positions,) + value dims
    trunc = np.abs(d_2h - d_h) / 3.0
    steps = np.array(steps).reshape((-1,) + (1,) * (d_h.ndim - 1))
    steps = np.broadcast_to(steps, d_h.shape)

    def layout(a):  # (n, *out) -> (*out, *selected)
        a = np.moveaxis(a, 0, -1)
        return a.reshape(a.shape[:-1] + positions.shape)

    return layout(d_h), layout(trunc), layout(steps), layout(sizes)


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
    claimed: np.ndarray = field(default=None, repr=False)
    reference: np.ndarray = field(default=None, repr=False)
    tolerance: np.ndarray = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"max_rel_err": self.max_rel_err, "worst_index": list(self.worst_index),
                "claimed": self.worst_claimed, "numeric": self.worst_reference,
                "error_over_tolerance": self.worst_ratio}


def compare(claimed: np.ndarray, reference: np.ndarray, tolerance: np.ndarray) -> Comparison:
    claimed, reference = np.asarray(claimed, float), np.asarray(reference, float)
    err = np.abs(claimed - reference)
    tolerance = np.broadcast_to(tolerance, err.shape)
    # normwise: relative to the largest entry, floored at the tolerance so that
    # two numbers that are both rounding noise do not read as a 100% error
    scale = max(float(np.max(np.abs(claimed), initial=0.0)), float(np.max(np.abs(reference), initial=0.0)))
    scale += float(np.max(tolerance, initial=0.0))
    rel = float(np.max(err, initial=0.0) / scale) if scale > 0 else 0.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(err == 0, 0.0, err / tolerance)
    if ratio.size == 0:
        return Comparison(True, 0.0, (), 0.0, 0.0, 0.0, claimed, reference, tolerance)
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    return Comparison(ok=bool(np.all(ratio <= 1.0)), max_rel_err=rel, worst_index=tuple(int(i) for i in worst),
                      worst_claimed=float(claimed[worst]), worst_reference=float(reference[worst]),
                      worst_ratio=float(ratio[worst]), claimed=claimed, reference=reference, tolerance=tolerance)
