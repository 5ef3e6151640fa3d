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
from .mca import MonteCarloArithmetic, one_ulp
from .watching import Watched

__all__ = ["PINNED_SEED", "call", "noise", "central_difference", "Comparison", "compare", "selected_positions"]

#: the seed of the global ``np.random`` and ``random`` states before every call of an
#: implementation that draws from them (word2vec's assignment harness does the same): the
#: reruns behind a check then see the same draws, and a spec can name them
PINNED_SEED = 0


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
            arr = np.array(value, dtype=np.float64)  # a plain copy, also of a watched array
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


def _values_at_moves(derivation: Derivation, point: Point, var: str, flat: np.ndarray,
                     moves: np.ndarray) -> np.ndarray:
    """The implementation's value with entry ``flat[j]`` of ``var`` moved by ``moves[k, j]``,
    for every k and j. One call with all of them stacked on a leading axis when the
    implementation says it takes a batch of ``var`` (``Implementation(batched=...)``);
    else one call each."""
    impl = derivation.implementation
    value_name = impl.returns[0]
    x0 = point.values[var]
    k, n = moves.shape
    if var in impl.batched:
        batch = np.broadcast_to(x0, (k, n) + x0.shape).copy().reshape(k * n, -1)
        rows = np.arange(k * n)
        batch[rows, np.tile(flat, k)] += moves.ravel()
        out = call_batched(derivation, point, var, batch.reshape((k * n,) + x0.shape))
        return out.reshape((k, n) + out.shape[1:])
    values = []
    for kk in range(k):
        row = []
        for j, p in enumerate(flat):
            moved = x0.copy()
            moved.flat[p] = x0.flat[p] + moves[kk, j]
            row.append(call(derivation, point, {var: moved})[value_name])
        values.append(row)
    return np.array(values)


def call_batched(derivation: Derivation, point: Point, var: str, batch: np.ndarray) -> np.ndarray:
    """The implementation's value for a batch of ``var`` (leading axis), checked like `call`."""
    impl = derivation.implementation
    vals = dict(point.values, **{var: batch})
    real = set(derivation.real_variables)
    args = [np.array(vals[a], dtype=np.float64) if a in real else copy.deepcopy(vals[a]) for a in impl.args]
    try:
        with np.errstate(all="ignore"):
            out = impl.fn(*args)
    except Exception as exc:
        raise DerivationError(f"implementation {impl.fn.__name__} raised {type(exc).__name__} on a batch of {var} "
                              f"(it is declared batched): {exc}") from exc
    value = np.asarray(out[0] if len(impl.returns) > 1 else out, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        raise DerivationError(f"implementation returned {impl.returns[0]} = {value[~np.isfinite(value)][0]} for a "
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
        else:
            expected = out_shape + point.values[claim.wrt].shape
        got = result[claim.output].shape
        if got != expected:
            what = "the value's shape" if claim.identity else \
                f"{value_name}'s shape {out_shape} + {claim.wrt}'s shape {point.values[claim.wrt].shape}"
            raise DerivationError(f"implementation returned {claim.output} with shape {got}; expected {expected} "
                                  f"({what})")


def noise(derivation: Derivation, point: Point, base: dict[str, np.ndarray], tol: Tolerance,
          rng: np.random.Generator) -> tuple[dict[str, np.ndarray], bool]:
    """The rounding error of each output of the implementation at ``point``, estimated,
    and whether Monte Carlo arithmetic could watch the code (see the end).

    ``tol.noise_samples`` runs in which every free real input is moved by one
    ulp and every numpy operation's result by a random rounding error; the
    largest change of each entry is kept.
    """
    free = [n for n in derivation.real_variables if n not in point.fixed]
    worst = {k: np.zeros_like(v) for k, v in base.items()}
    mca = MonteCarloArithmetic(rng, tol.unit_roundoff, tol.mca_spread)
    for _ in range(tol.noise_samples):
        moved = {n: mca.watch(np.asarray(one_ulp(point.values[n], rng), dtype=np.float64)) for n in free}
        out = call(derivation, point, moved)
        for k in worst:
            np.maximum(worst[k], np.abs(out[k] - base[k]), out=worst[k])
    # watched: the code computed on our arrays. When it converts its inputs first
    # (np.asarray(x, dtype=float), Python floats), only the input moves were seen.
    return worst, mca.seen > 0


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
    x0 = point.values[var]
    flat = positions.ravel()
    xs = x0.ravel()[flat]
    h = tol.fd_step * np.maximum(1.0, np.abs(xs))
    h = (xs + h) - xs  # steps exactly representable at each x
    # the four moved copies of x for every entry: x + h, x - h, x + 2h, x - 2h
    moves = np.stack([h, -h, 2 * h, -2 * h])  # (4, n)
    values = _values_at_moves(derivation, point, var, flat, moves)  # (4, n) + value dims
    fp, fm, fp2, fm2 = values
    hb = h.reshape((-1,) + (1,) * (fp.ndim - 1))
    d_h, d_2h = (fp - fm) / (2 * hb), (fp2 - fm2) / (4 * hb)
    sizes = np.maximum(np.abs(fp), np.abs(fm))
    steps = h
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
