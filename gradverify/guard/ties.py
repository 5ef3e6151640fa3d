"""Ties of real parts: where a piecewise function's branch on x + i·h·u would be decided by the
imaginary part (a kink of the real function), and the one wording of the guards' refusal.

The guards decide comparisons, max and min, clamps, relu and sorts by the real part (`hints.ORDERINGS`).
Away from a tie that is the real function's choice; at a tie (real parts equal, imaginary parts
not) it is not, and the guard refuses. `pairs`, `extremes` and `neighbours` find ties on numpy
arrays; `pairs` works on anything with ``==``, ``!=`` and ``&`` (torch tensors, Python numbers),
given the parts; `refuse` raises `NotAnalytic` with the count and the library's name for the
operation ("np.maximum", "torch relu", "jax max").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import NotAnalytic

__all__ = ["between", "count", "extremes", "kinks_at", "neighbours", "neighbours_in_order", "pairs", "pairs_of_values",
           "refuse", "shared_extremes"]


def count(n: int, one: str, many: str) -> str:
    """``n`` and the noun in the number it needs: "1 input", "3 inputs"."""
    return f"{n} {one if n == 1 else many}"


def pairs_of_values(n: int) -> str:
    """What ``n`` ties of two operands are called in the refusal."""
    return count(n, "pair of values", "pairs of values") + " of equal real part"


def kinks_at(threshold: float) -> Callable[[int], str]:
    """What ``n`` inputs exactly at a kink (relu's 0, a threshold) are called in the refusal."""
    return lambda n: count(n, "input", "inputs") + f" exactly at the kink {threshold:g}"


def shared_extremes(larger: bool) -> Callable[[int], str]:
    """What ``n`` ties for the largest (smallest) real part are called in the refusal."""
    extreme = "largest" if larger else "smallest"
    return lambda n: count(n, f"{extreme} real part", f"{extreme} real parts") + " shared by several entries"


def neighbours_in_order(n: int) -> str:
    """What ``n`` ties between neighbours of a sort are called in the refusal."""
    return count(n, "pair of neighbours", "pairs of neighbours") + " of equal real part"


def refuse(label: str, tie, what: Callable[[int], str]) -> None:
    """`NotAnalytic` when ``tie`` (a bool array or tensor) holds anywhere; ``label`` names the
    operation as its library does ("np.maximum", "torch relu"), ``what`` names one tie, with its count."""
    total = int(tie.sum()) if hasattr(tie, "sum") else int(bool(tie))
    if total:
        raise NotAnalytic(f"{label} at a tie: {what(total)}, where the imaginary parts differ, so the complex "
                          f"step's imaginary part would decide (a kink of the real function)")


def pairs(real_a, imag_a, real_b, imag_b):
    """Where two operands' real parts are equal and their imaginary parts are not (any arrays,
    tensors or numbers that compare elementwise)."""
    return (real_a == real_b) & (imag_a != imag_b)


def between(a, b) -> np.ndarray:
    """`pairs` of two numpy arrays (or numbers), broadcast."""
    a, b = np.asarray(a), np.asarray(b)
    return np.asarray(pairs(np.real(a), np.imag(a), np.real(b), np.imag(b)))


def extremes(z, axis, larger: bool) -> np.ndarray:
    """The groups along ``axis`` (an int, a tuple, None: all) whose largest (smallest) real part is
    shared by entries whose imaginary parts differ (numpy arrays; a NaN ties nothing)."""
    z = np.asarray(z)
    r, i = np.real(z), np.imag(z)
    if r.size == 0:
        return np.zeros((), dtype=bool)
    best = np.max(r, axis=axis, keepdims=True) if larger else np.min(r, axis=axis, keepdims=True)
    at = r == best
    hi = np.max(np.where(at, i, -np.inf), axis=axis)
    lo = np.min(np.where(at, i, np.inf), axis=axis)
    return (np.sum(at, axis=axis) > 1) & (hi != lo)


def neighbours(z, axis) -> np.ndarray:
    """Where np.sort(z, axis) puts two equal real parts side by side with different imaginary parts
    (the imaginary part would decide their order); equal numbers (ReLU's zeros) sort alike."""
    z = np.asarray(z)
    if axis is None:
        z, axis = z.reshape(-1), -1
    s = np.moveaxis(np.sort(z, axis=axis), axis, -1)  # numpy's order: real part first, the imaginary part deciding a tie
    return between(s[..., :-1], s[..., 1:])
