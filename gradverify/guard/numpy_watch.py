"""The complex step's guard for numpy code: a `Watcher` that follows complex arrays and refuses
what is not analytic on x + i·h·u (`hints.REFUSED_BY["numpy"]`), computes |x| and sign(x) by the
real part (`hints.BY_REAL_PART`), and refuses the ties of the orderings it lets through
(`gradverify.guard.ties`)."""

from __future__ import annotations

import numpy as np

from ..tolerances import STEP_FLOOR, STEP_SIZED
from ..watching import Watcher
from . import NotAnalytic, ties
from .hints import BY_REAL_PART, HERMITIAN, ORDERINGS, SCALED_BY_A_MODULUS, canonical, refusal

__all__ = ["ComplexGuard"]

#: the ordering ufuncs whose ties this guard watches (and their reductions: np.max is
#: np.maximum.reduce); numpy orders complex numbers by the real part first, so away from a tie they
#: decide as on the real numbers (a ReLU mask, np.maximum, a max-pool). Other ordering ufuncs
#: (np.fmax, np.fmin, with NaN rules of their own) are refused.
_TIES_WATCHED = frozenset({"gt", "ge", "lt", "le", "eq", "ne", "maximum", "minimum"})
#: np.sort and np.argsort: ties watched (`ties.neighbours`), a top-k loss sorts x + i·h·u as x
_SORTS = frozenset({"sort", "argsort"})
#: orderings numpy functions leave to the ufuncs above (np.max is np.maximum.reduce) or that only
#: return positions (np.argmax); np.clip is refused whole
_LEFT_TO_UFUNCS = ORDERINGS.names - {"clip"}


def _own(func, *modules) -> bool:
    """Whether ``func`` is numpy's own of its name (not a scipy.special ufunc or a user's function)."""
    name = getattr(func, "__name__", "")
    return any(vars(m).get(name) is func for m in modules)  # (not getattr: numpy warns of some names)


def _by_real_part(ufunc, method, args) -> bool:
    return method == "__call__" and bool(args) and np.iscomplexobj(args[0]) and _own(ufunc, np) and \
        canonical(ufunc.__name__) in BY_REAL_PART.names


def _refused_ufunc(ufunc) -> bool:
    name = getattr(ufunc, "__name__", "")
    if name in SCALED_BY_A_MODULUS.names:
        return True
    return _own(ufunc, np) and refusal("numpy", name, computes=_TIES_WATCHED) is not None


def _reduce_tie(ufunc, args):
    """np.max(z): a tie for the largest (smallest) real part, along the first axis."""
    z = np.asarray(args[0])
    if z.size == 0 or z.dtype.kind != "c":
        return False
    return ties.extremes(z, 0 if z.ndim else None, larger=ufunc is np.maximum), \
        ties.shared_extremes(ufunc is np.maximum)


def _tie(ufunc, method, args):
    """(where the imaginary parts would decide, what a tie is called), or False."""
    if method == "reduce" and args:
        return _reduce_tie(ufunc, args)
    if method != "__call__" or len(args) != 2:
        return False
    return ties.between(*np.broadcast_arrays(*(np.asarray(x, dtype=complex) for x in args))), ties.pairs_of_values


def _sort_tie(args, kwargs):
    """Where np.sort(z, axis) would meet two equal real parts (the imaginary parts would decide), or False."""
    z = np.asarray(args[0])
    if z.dtype.kind != "c" or z.size < 2:
        return False
    return ties.neighbours(z, kwargs.get("axis", args[1] if len(args) > 1 else -1))


class ComplexGuard(Watcher):
    """Follows complex arrays and refuses non-analytic numpy operations; counts what it saw."""

    kinds = "c"

    def __init__(self):
        #: operations seen on complex arrays: 0 means the code computed on numbers it took out of the watch
        self.seen = 0

    def call(self, ufunc, method, args, kwargs):
        if _by_real_part(ufunc, method, args):
            z = np.asarray(args[0])
            value = np.sign(z.real).astype(z.dtype) if ufunc is np.sign else np.where(z.real < 0, -z, z)
            out = kwargs.get("out")
            if out is None:
                return value
            out[0][...] = value  # (into a real array: a ComplexWarning, which the complex step refuses)
            return out
        return getattr(ufunc, method)(*args, **kwargs)

    def before(self, ufunc, method, args):
        self.seen += 1
        if _by_real_part(ufunc, method, args):
            z = np.asarray(args[0])
            if z.size and np.any(np.abs(z.imag) > STEP_SIZED * np.maximum(np.abs(z.real), STEP_FLOOR * np.max(np.abs(z.real)))):
                raise NotAnalytic(f"{ufunc.__name__} of the code's own complex numbers (the modulus, not |x| continued)")
            ties.refuse(f"np.{ufunc.__name__}", (z.real == 0) & (z.imag != 0), ties.kinks_at(0))
            return
        if _refused_ufunc(ufunc):
            raise NotAnalytic(ufunc.__name__)
        if canonical(ufunc.__name__) in _TIES_WATCHED and _own(ufunc, np) and any(np.iscomplexobj(a) for a in args):
            found = _tie(ufunc, method, args)
            if found:
                ties.refuse(f"np.{ufunc.__name__}", *found)

    def function(self, func, args, kwargs):
        name = getattr(func, "__name__", "")
        if name in _SORTS and _own(func, np):
            found = _sort_tie(args, kwargs)
            if found is not False:
                ties.refuse(f"np.{name}", found, ties.neighbours_in_order)
            return NotImplemented
        kind = refusal("numpy", name, computes=_LEFT_TO_UFUNCS) if _own(func, np, np.linalg) else None
        if kind is None:
            return NotImplemented
        if kind is HERMITIAN and _own(func, np.linalg):
            raise NotAnalytic(f"np.linalg.{name} reads a complex matrix as Hermitian or makes unitary "
                              f"factors: it is not the real routine continued to x + i·h·u")
        raise NotAnalytic(name)

    def inspect(self, func, args, value):
        self.seen += 1
        results = value if isinstance(value, (tuple, list)) else (value,)
        if any(isinstance(v, (np.ndarray, np.floating)) and np.asarray(v).dtype.kind == "f" for v in results) and \
                _has_complex(args):
            raise NotAnalytic(f"np.{getattr(func, '__name__', func)} turned complex numbers into real ones")

    def part(self, name, array):
        if array.dtype.kind == "c":
            if name in ("tolist", "complex"):
                raise NotAnalytic(f"{'.tolist()' if name == 'tolist' else 'complex()'} of a complex array hands its "
                                  f"numbers to Python, out of the watch (abs() of a Python complex is the modulus)")
            raise NotAnalytic(f".{name} of a complex array (the complex step's imaginary part would be dropped)")

    def scalar(self, value):
        # .item() of a complex array: a watched 0-d array instead of a Python complex, so that what
        # follows (abs(), arithmetic) is still seen; float() of it is refused as a cast
        return self.adopt(np.asarray(value)) if isinstance(value, complex) else value


def _has_complex(values) -> bool:
    for v in values:
        if isinstance(v, (tuple, list)):
            if _has_complex(v):
                return True
        elif np.iscomplexobj(v) and isinstance(v, (np.ndarray, np.generic, complex)):
            return True
    return False
