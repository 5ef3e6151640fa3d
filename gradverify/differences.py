"""Central differences: one stencil, one Richardson pair, one ladder of finer steps.

The report (`numeric.py`, an entry of a variable at a time) and gradcheck
(`checking/estimators.py`, a random direction at a time) read a derivative along a
direction d from the user's code the same way:

* **the stencil** (`stencil`): the value at x + h·d, x − h·d, x + 2h·d and x − 2h·d, in that
  order (`STENCIL`); the caller says how one point is evaluated (a batch of moved entries,
  or one call of ``fn`` at moved arguments);
* **the Richardson pair** (`central`): D_h = (f(x+h) − f(x−h))/2h and D_2h alike at 2h. Their
  errors are c·h² and 4c·h², so |D_2h − D_h|/3 estimates D_h's truncation error and
  D_h + (D_h − D_2h)/3 cancels it (`Central.extrapolated`: gradcheck's estimate; the report
  compares D_h itself with the truncation estimate in its bound);
* **finer steps** (`shrinks`): a reading that fails, or that crosses a kink, is read again at
  steps `KINK_SHRINK`, `KINK_SHRINK`², … times finer; two readings *disagree* (`apart`) when
  they differ by more than their error bounds (`agree` where they do not). Each product stops descending by its own rule,
  for its own question: the report takes the first reading that agrees with the next finer one
  (the estimate has converged, `numeric._finer`); gradcheck the first reading that moved away
  from the coarser one and agrees with the claim, down to the step whose rounding reaches the
  discrepancy (`Estimators._finer`), or the narrowest passing reading (`Estimators._tighter`);
* **kinks** from the same five values f(x), f(x ± h), f(x ± 2h): the fourth difference
  (`fourth_difference`: h⁴ f⁽⁴⁾ where f is smooth, J·h·O(1) across a jump J of f') and the
  one-sided slopes (`one_sided_slopes`: their gap is h·f″ and 2h·f″ on a smooth function, the
  jump in slope at both steps across a kink).

Each caller adds its own rounding bound (the report's measured noise per output, gradcheck's
a-priori sum bound): the bound, not the arithmetic, is what differs between the two.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from .tolerances import KINK_SHRINK

__all__ = ["STENCIL", "Central", "agree", "apart", "central", "fourth_difference", "one_sided_slopes", "shrinks", "stencil"]

#: the stencil's points, in the order they are evaluated: x + h·d, x − h·d, x + 2h·d, x − 2h·d
STENCIL = (1.0, -1.0, 2.0, -2.0)


def stencil(values_at: Callable[[np.ndarray], Any], h) -> tuple:
    """(f(x + h·d), f(x − h·d), f(x + 2h·d), f(x − 2h·d)): ``values_at(moves)`` with the moves
    h, −h, 2h, −2h stacked on a leading axis (``h`` a step, or one step per entry read at once)."""
    h = np.asarray(h, dtype=np.float64)
    fp, fm, fp2, fm2 = values_at(np.stack([m * h for m in STENCIL]))
    return fp, fm, fp2, fm2


class Central(NamedTuple):
    """The central differences at h and 2h of one stencil, and what they say of their error."""

    #: (f(x+h) − f(x−h)) / 2h
    d_h: Any
    #: (f(x+2h) − f(x−2h)) / 4h
    d_2h: Any
    #: |D_2h − D_h| / 3: D_h's truncation error (Richardson: D_h's is c·h², D_2h's 4c·h²)
    truncation: Any
    #: max(|f(x+h)|, |f(x−h)|): the size of the values D_h is a difference of (its rounding scale)
    size: Any
    #: the step, shaped to broadcast against the values (one per leading row where h is an array)
    h: Any

    @property
    def extrapolated(self):
        """D_h + (D_h − D_2h)/3: the h² terms cancel."""
        return self.d_h + (self.d_h - self.d_2h) / 3


def central(fp, fm, fp2, fm2, h) -> Central:
    """`Central` of the four stencil values. ``h``: a number, or one step per leading row of the
    values (each value then (n, *value dims))."""
    if np.ndim(h):
        h = np.reshape(h, np.shape(h) + (1,) * (np.ndim(fp) - np.ndim(h)))
    d_h, d_2h = (fp - fm) / (2 * h), (fp2 - fm2) / (4 * h)
    size = max(abs(fp), abs(fm)) if np.ndim(fp) == 0 else np.maximum(np.abs(fp), np.abs(fm))
    return Central(d_h, d_2h, abs(d_2h - d_h) / 3.0, size, h)


def fourth_difference(f0, fp, fm, fp2, fm2):
    """|f(x+2h) − 4 f(x+h) + 6 f(x) − 4 f(x−h) + f(x−2h)|: h⁴ f⁽⁴⁾ plus rounding (at most 16 times
    the values' error) where f is smooth on [x − 2h, x + 2h]; a jump J in f' inside makes it J·h·O(1)."""
    return np.abs(fp2 - 4 * fp + 6 * np.asarray(f0) - 4 * fm + fm2)


def one_sided_slopes(f0, fp, fm, fp2, fm2, h) -> tuple:
    """(forward at h, backward at h, forward at 2h, backward at 2h). On a smooth function the gap
    between forward and backward grows with the step (h·f″, then 2h·f″); with a kink within the
    step it is the jump in slope at both steps."""
    return (fp - f0) / h, (f0 - fm) / h, (fp2 - f0) / (2 * h), (f0 - fm2) / (2 * h)


def shrinks(levels: int) -> list[float]:
    """How much finer each of ``levels`` finer readings is: `KINK_SHRINK`, `KINK_SHRINK`², …"""
    return [KINK_SHRINK ** k for k in range(1, levels + 1)]


def agree(a, b, bound):
    """Whether two readings are within ``bound`` (their error bounds added) of each other, entry by entry."""
    return np.abs(a - b) <= bound


def apart(a, b, bound):
    """Whether two readings differ by more than ``bound``, entry by entry. A NaN reading neither agrees
    nor is apart: each caller says what it makes of one."""
    return np.abs(a - b) > bound
