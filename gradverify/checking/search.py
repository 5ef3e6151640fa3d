"""Locating a wrong entry once a direction has failed.

A failed direction u over the entries [lo, hi) leaves an error E = Σ e_k u_k.
If one entry is wrong, the same direction weighted by each entry's position
t_k ∈ (0, 1) leaves e_k u_k t_k, so t = E_weighted / E says where it is, to
within the estimates' tolerance over |E|: one evaluation narrows [lo, hi) by a
factor of about |E|/tolerance (10³–10⁸). The first try trusts that reading:
the window around t is read again the same way (its error is E if one entry is
wrong) until one entry is left, and only that entry is compared (at 1.5·10⁷
entries and |E|/tolerance ~10⁵: three evaluations). If that entry does not
fail (several wrong entries, errors near the tolerance), the careful search
runs from the whole range: each window is checked to fail before it is read
again, and where it does not, the range is halved (bisection, one evaluation
a step). The entry found is then confirmed on its own (`confirmed_entry`),
reusing the estimate of the range that failed last when that was the entry.
"""

from __future__ import annotations

import numpy as np

from ..tolerances import LOCATE_MARGIN
from .directions import Direction, unit_direction
from .estimators import Estimate, Estimators
from .results import WrongEntry

__all__ = ["confirmed_entry", "entry_at", "locate"]


def locate(est: Estimators, u: Direction, failed: Estimate) -> tuple[int, Estimate | None]:
    """The global position of a wrong entry within the failed direction ``u``, and the failed
    (unconfirmed) estimate along ``u`` restricted to that entry alone, when one was made."""
    quick = _trusting(est, u, failed)
    if quick is not None:
        return quick
    lo, hi, err, tol, measured = u.lo, u.hi, failed.error, failed.tolerance, None
    for _ in range(2 * int(np.log2(max(hi - lo, 2))) + 2):
        if hi - lo <= 1:
            break
        lo, hi, err, tol, measured = _narrow(est, u, lo, hi, err, tol)
    return lo, measured if hi - lo == 1 else None


def confirmed_entry(est: Estimators, u: Direction, failed: Estimate) -> WrongEntry | None:
    """`locate`, then the entry found confirmed on its own (along u restricted to it: only that
    entry moves, so central differences and Monte Carlo runs there rewrite one entry of a buffer).
    None when no entry's failure survives confirmation."""
    k, e = locate(est, u, failed)
    r = u.restricted(k, k + 1)
    if e is None:
        e = est.look(r)
        if not e.fails:
            return None
    e = est.confirm(r, e)
    if not e.fails:
        return None
    return _wrong_entry(est, u, k, e.numeric / u.value_at(k))


def _trusting(est, u, failed) -> tuple[int, Estimate] | None:
    """Windows read one inside the other, as if one entry were wrong; the entry left compared."""
    lo, hi = u.lo, u.hi
    while hi - lo > 1:
        window = _window(est, u, lo, hi, failed.error, failed.tolerance)
        if window is None or window == (lo, hi):
            return None
        lo, hi = window
    e = est.quick(u.restricted(lo, hi))
    return (lo, e) if e.fails else None


def _narrow(est, u, lo, hi, err, tol):
    """A smaller range holding a wrong entry, its error and tolerance, and the failed estimate
    over exactly that range (None when its error was inferred, not measured)."""
    window = _window(est, u, lo, hi, err, tol)
    if window is not None:
        w = est.quick(u.restricted(*window))
        if w.fails:
            return window[0], window[1], w.error, w.tolerance, w
    mid = (lo + hi) // 2
    first = est.quick(u.restricted(lo, mid))
    if first.fails:
        return lo, mid, first.error, first.tolerance, first
    return mid, hi, err - first.error, tol + first.tolerance, None


def _window(est, u, lo, hi, err, tol) -> tuple[int, int] | None:
    """[a, b) around the position a weighted direction reads, or None if it says nothing useful."""
    if hi - lo < 8:
        return None
    w = est.quick(u.restricted(lo, hi, weighted=True))
    t = w.error / err
    half = LOCATE_MARGIN * (w.tolerance + abs(t) * tol) / abs(err) * (hi - lo)
    if not 0.0 <= t <= 1.0 or 4 * half >= hi - lo:
        return None
    centre = lo + t * (hi - lo)
    return max(lo, int(centre - half)), min(hi, int(centre + half) + 1)


def entry_at(est: Estimators, sizes: tuple, k: int) -> WrongEntry | None:
    """Entry ``k`` (global flat position) compared on its own, confirmed: a WrongEntry if it fails."""
    u = unit_direction(sizes, k)
    e = est.estimate(u)
    if not e.fails:
        return None
    return _wrong_entry(est, u, k, e.numeric)


def _wrong_entry(est: Estimators, u: Direction, k: int, numeric: float) -> WrongEntry:
    """Global entry ``k`` named: argument, index, the claimed gradient there and the estimate."""
    slot, j = u.where(k)
    i = est.calls.wrt[slot]
    index = tuple(int(v) for v in np.unravel_index(j, est.calls.args[i].shape))
    return WrongEntry(i, index, float(est.calls.base.grads[slot].reshape(-1)[j]), numeric)
