"""Calling user code safely: one way for the report and for gradcheck.

The report (`numeric.py`, a derivation's implementation at a point) and gradcheck
(`checking/calls.py`, ``fn`` at its arguments) call code they did not write, many
times at one point, and must neither let it change what they hold nor be fooled by
code that answers differently each time. Both do it with these pieces:

* **the call** (`running`): the code runs under numpy's floating-point error handling
  as the caller asks (the report: all ignored, an overflow that matters shows up as
  inf or NaN; gradcheck: the caller's own), with the global ``np.random`` and ``random``
  seeded where asked (`rng.pinned`: the lock, then both seeded), and says whether the
  code drew from them;
* **writes to its arguments**: the code gets read-only views (`read_only`: gradcheck, a
  write raises), or copies whose `snapshot` is compared after the call (`modified`: the
  report, whose implementations may convert their inputs to torch or jax first);
* **determinism**: two calls at the same point compared output by output
  (`difference`: none where bitwise equal, NaN where NaN; else the largest difference
  and where it is).

What each product says about a failure (`DerivationError` for the report,
`NotDeterministic` or `ModifiesArgument` for gradcheck) stays with the product: the
words differ, the mechanism does not.
"""

from __future__ import annotations

import copy
import math
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np

from .rng import global_states, pinned

__all__ = ["Drew", "copied", "difference", "modified", "read_only", "running", "snapshot", "unchanged"]


@dataclass
class Drew:
    """Whether the code run in `running` drew from the global ``np.random`` or ``random`` (set when
    the block ends without an exception, if asked)."""

    drew: bool = False


@contextmanager
def running(seed: int | None = None, errstate: dict | None = None, observe: bool = False):
    """The block in which user code runs: numpy's floating-point error handling as ``errstate`` says
    (keyword arguments of ``np.errstate``; what the code sets in it is undone), and, with a ``seed``,
    the global ``np.random`` and ``random`` seeded with it under `rng.GLOBAL_RNG_LOCK`. Yields a `Drew`:
    with ``observe`` (and a seed), whether the code drew from them (reading the states costs ~0.3 ms)."""
    seen = Drew()
    with pinned(seed) if seed is not None else nullcontext():
        fresh = global_states() if observe and seed is not None else None
        with np.errstate(**(errstate or {})):
            yield seen
        if fresh is not None and global_states() != fresh:
            seen.drew = True


def read_only(x):
    """A read-only view of an array (anything else as it is): a write into it raises."""
    if not isinstance(x, np.ndarray):
        return x
    view = x.view()
    view.flags.writeable = False
    return view


#: argument types nothing can change in place: handed over as they are
_IMMUTABLE = frozenset({int, float, bool, complex, str, bytes, type(None)})


def copied(value):
    """A deep copy of an argument that is not a real array: an int as it is, a list of ints (an
    Indices variable) or of lists of ints as new lists, anything else by copy.deepcopy (whose
    machinery every call of the code paid, twice, for a dimension and a list of indices)."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is list:
        if all(type(v) is int for v in value):
            return list(value)
        if all(type(v) is list and all(type(x) is int for x in v) for v in value):
            return [list(v) for v in value]
    return copy.deepcopy(value)


def snapshot(args, deep: bool = False) -> list:
    """Copies of ``args`` to compare with after a call (`modified`): every array copied, anything
    else deep-copied (``deep``) or kept as it is."""
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) else copied(a) if deep else a
            for a in args]


def unchanged(old, new) -> bool:
    """Whether ``new`` is still ``old``: an array bit for bit (and its shape), anything else ``==``."""
    if old is new:
        return True
    if isinstance(old, np.ndarray):
        new = np.asarray(new)
        return old.shape == new.shape and old.tobytes() == new.tobytes()
    return old == new


def modified(before, after) -> list[int]:
    """The positions where ``after`` is not ``before`` (`snapshot`) any more, in order."""
    return [i for i, (old, new) in enumerate(zip(before, after)) if not unchanged(old, new)]


def difference(a, b) -> tuple[float, tuple] | None:
    """None when ``a`` and ``b`` are equal (NaN where NaN, -0 as 0); else the largest |a − b| and
    where it is. Never 0 for arrays that differ: one that differs only in where NaN is gives inf."""
    if np.array_equal(a, b) or np.array_equal(a, b, equal_nan=True):  # the fast test first
        return None
    with np.errstate(invalid="ignore"):
        d = np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
    if not np.any(~np.isnan(d)):
        return math.inf, (0,) * d.ndim
    at = tuple(int(i) for i in np.unravel_index(int(np.nanargmax(d)), d.shape))
    return float(d[at]) or math.inf, at
