"""Directions u over all the checked entries, and the claimed side Σ gradᵀu.

The entries of every ``wrt`` array, flattened and laid end to end, are numbered
0 … N−1. A `Direction` gives u on a range [lo, hi) of those numbers (0
elsewhere): random entries for a directional check, a range of them while a
wrong entry is being located, or 1 at one entry for a per-entry check.

A random entry is (m + ½)/2¹⁵, m a uniform 16-bit integer: uniform in (−1, 1),
never 0, independent between entries. An error e in the claimed gradient moves
the comparison by Σ e_k u_k; the density of that sum is at most that of its
largest term e_k u_k (adding an independent term never raises a density), so
one direction misses the error, |Σ e_k u_k| ≤ tol, with probability at most
tol/max|e_k| + 2⁻¹⁶, whatever the number, signs and places of the wrong
entries. Nothing is tiled: no two entries share a value by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..tolerances import CHUNK, DIRECTION_LEVELS

__all__ = ["Claimed", "Direction", "chunks", "claimed_along", "random_direction", "unit_direction"]


def chunks(a: int, b: int):
    """[a, b) in pieces of at most CHUNK entries."""
    for s in range(a, b, CHUNK):
        yield s, min(s + CHUNK, b)


@dataclass(frozen=True)
class Direction:
    """u over the entries [lo, hi) of the flattened ``wrt`` arrays (0 elsewhere).

    ``codes[slot]``: the random 16-bit codes of the slot's entries, or None for u = 1.
    ``weighted``: u_k is also multiplied by t_k = (k − lo + ½)/(hi − lo), its position
    in the range (used to read where a single wrong entry sits)."""

    sizes: tuple
    codes: tuple
    lo: int
    hi: int
    weighted: bool = False

    @property
    def starts(self) -> tuple:
        return tuple(int(s) for s in np.cumsum((0,) + self.sizes[:-1]))

    def pieces(self):
        """(slot, a, b): the local flat range [a, b) of each slot the direction covers."""
        for slot, (start, n) in enumerate(zip(self.starts, self.sizes)):
            a, b = max(self.lo - start, 0), min(self.hi - start, n)
            if a < b:
                yield slot, a, b

    def values(self, slot: int, a: int, b: int) -> np.ndarray:
        """u on the slot's local entries [a, b) (float64)."""
        codes = self.codes[slot]
        u = np.ones(b - a) if codes is None else (codes[a:b] + 0.5) * (2.0 / DIRECTION_LEVELS)
        if self.weighted:
            first = self.starts[slot] + a - self.lo
            u *= (np.arange(first, first + b - a) + 0.5) / (self.hi - self.lo)
        return u

    def restricted(self, lo: int, hi: int, weighted: bool = False) -> Direction:
        return replace(self, lo=lo, hi=hi, weighted=weighted)

    def where(self, k: int) -> tuple[int, int]:
        """(slot, local flat index) of global entry ``k``."""
        slot = int(np.searchsorted(np.cumsum(self.sizes), k, side="right"))
        return slot, k - self.starts[slot]

    def value_at(self, k: int) -> float:
        slot, j = self.where(k)
        return float(self.values(slot, j, j + 1)[0]) if self.lo <= k < self.hi else 0.0


def random_direction(rng: np.random.Generator, sizes: tuple) -> Direction:
    """Independent random entries over all N entries (2 bytes of randomness each)."""
    half = DIRECTION_LEVELS // 2
    codes = tuple(rng.integers(-half, half, size=n, dtype=np.int16) for n in sizes)
    return Direction(tuple(sizes), codes, 0, int(sum(sizes)))


def unit_direction(sizes: tuple, k: int) -> Direction:
    """u = 1 at global entry ``k``, 0 elsewhere."""
    return Direction(tuple(sizes), (None,) * len(sizes), k, k + 1)


@dataclass(frozen=True)
class Claimed:
    """Σ gradᵀu over the direction, with what its rounding bound needs."""

    value: float
    #: ‖grad ∘ u‖₂: a blocked sum of random-sign terms is off by about eps·√block times this
    norm: float
    #: number of terms summed
    terms: int
    #: Σ|u_k|: how far the sum moves when every entry moves by one unit
    total_u: float


def claimed_along(grads: list, u: Direction) -> Claimed:
    """Σ gradᵀu, each chunk by numpy's pairwise sum, the chunks added exactly (math.fsum):
    rounding about eps·√log₂(CHUNK)·‖grad∘u‖₂, far below the user's own arithmetic."""
    parts, squares, total_u = [], 0.0, 0.0
    for slot, a, b in u.pieces():
        flat = grads[slot].reshape(-1)
        for s, e in chunks(a, b):
            uu = u.values(slot, s, e)
            with np.errstate(invalid="ignore", over="ignore"):  # a NaN or inf is reported by the caller
                p = flat[s:e] * uu
                parts.append(float(p.sum()))
                squares += float(np.square(p, out=p).sum())  # not p @ p: no BLAS call in this loop
            total_u += float(np.abs(uu).sum())
    return Claimed(math.fsum(parts), math.sqrt(squares), u.hi - u.lo, total_u)
