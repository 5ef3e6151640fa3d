"""Directions u over all the checked entries, and the claimed side Σ gradᵀu.

The entries of every ``wrt`` array, flattened and laid end to end, are numbered
0 … N−1. A `Direction` gives u on a range [lo, hi) of those numbers (0
elsewhere): random entries for a directional check, a range of them while a
wrong entry is being located, or 1 at one entry for a per-entry check.

A random entry is ±(½ + a), a = |m + ½|/2¹⁶ for m a uniform 16-bit integer: a random
sign and a magnitude uniform in (½, 1), independent between entries. An error e in
the claimed gradient moves the comparison by Σ e_k u_k:

* one wrong entry moves it by at least |e_k|/2, whatever the seed: it is caught
  for certain once |e_k| > 2·tol (never a weight that happens to be small);
* several wrong entries: the density of the sum is at most that of its largest
  term e_k u_k, 1/|e_k| (adding an independent term never raises a density), so
  one direction misses them, |Σ e_k u_k| ≤ tol, with probability at most
  2·tol/max|e_k| + 2⁻¹⁶, whatever their number, signs and places.

Nothing is tiled: no two entries share a value by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..tolerances import CHUNK, DIRECTION_LEVELS

__all__ = ["Claimed", "Direction", "chunks", "claimed_along", "largest_magnitude", "random_direction",
           "unit_direction"]


def chunks(a: int, b: int):
    """[a, b) in pieces that never cross a multiple of CHUNK (so each lies in one block of codes)."""
    s = a
    while s < b:
        e = min((s // CHUNK + 1) * CHUNK, b)
        yield s, e
        s = e


@dataclass(frozen=True)
class Direction:
    """u over the entries [lo, hi) of the flattened ``wrt`` arrays (0 elsewhere).

    ``key``: the seed of the random 16-bit codes, or None for u = 1. The codes are never
    stored: block j (entries [j·CHUNK, (j+1)·CHUNK) of a slot) is drawn again from its own
    place in the PCG64 stream of ``key`` whenever it is needed (`codes`), so a direction over
    10⁷ entries costs no memory, and reading part of it costs only that part.
    ``weighted``: u_k is also multiplied by t_k = (k − lo + ½)/(hi − lo), its position
    in the range (used to read where a single wrong entry sits)."""

    sizes: tuple
    key: int | None
    lo: int
    hi: int
    weighted: bool = False
    #: the generator the blocks are drawn with (one per direction and its restrictions; one thread),
    #: and its state at the start of the stream (PCG64(key).state)
    _generator: object = field(default=None, compare=False, repr=False)
    _start: dict | None = field(default=None, compare=False, repr=False)
    #: the block drawn last, {(slot, block): codes}: a direction over one block draws it once
    _last: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def starts(self) -> tuple:
        return tuple(int(s) for s in np.cumsum((0,) + self.sizes[:-1]))

    def pieces(self):
        """(slot, a, b): the local flat range [a, b) of each slot the direction covers."""
        for slot, (start, n) in enumerate(zip(self.starts, self.sizes)):
            a, b = max(self.lo - start, 0), min(self.hi - start, n)
            if a < b:
                yield slot, a, b

    def codes(self, slot: int, a: int, b: int) -> np.ndarray:
        """The 16-bit codes of the slot's local entries [a, b), within one block."""
        block = a // CHUNK
        if (b - 1) // CHUNK != block:
            raise ValueError(f"[{a}, {b}) crosses a block of {CHUNK} entries")
        codes = self._last.get((slot, block))
        if codes is None:
            first = sum(-(-n // CHUNK) for n in self.sizes[:slot]) + block  # blocks before this one
            gen = self._generator
            gen.state = self._start
            gen.advance(first * _WORDS)
            codes = gen.random_raw(_WORDS).view(np.int16)
            self._last.clear()
            self._last[(slot, block)] = codes
        return codes[a - block * CHUNK:b - block * CHUNK]

    def values(self, slot: int, a: int, b: int) -> np.ndarray:
        """u on the slot's local entries [a, b) (float64), [a, b) within one block (`chunks`)."""
        if self.key is None:
            u = np.ones(b - a)
        else:
            # one gather from the float32 table (half the memory of a float64 one, and ndarray.take's
            # fast path), widened: a fresh float64 array, every value exact (18 significant bits)
            u = _WEIGHT_OF_CODE32.take(self.codes(slot, a, b).view(np.uint16)).astype(np.float64)
        if self.weighted:
            t = np.arange(b - a, dtype=np.float64)
            t += self.starts[slot] + a - self.lo + 0.5
            t *= 1.0 / (self.hi - self.lo)
            u *= t
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


def _weights(codes: np.ndarray) -> np.ndarray:
    """u of each 16-bit code m: ±(½ + |m + ½|/L), exactly (18 significant bits, |u| in (½, 1))."""
    u = codes + 0.5  # m + ½: never 0
    sign = np.copysign(0.5, u)
    u *= 1.0 / DIRECTION_LEVELS
    u += sign
    return u


#: u by code, read as an unsigned 16-bit index (one gather per block instead of four passes of arithmetic)
_CODES = np.arange(-(2**15), 2**15, dtype=np.int16)
_WEIGHT_OF_CODE = np.empty(2**16)
_WEIGHT_OF_CODE[_CODES.view(np.uint16)] = _weights(_CODES)
_WEIGHT_OF_CODE.flags.writeable = False
_WEIGHT_OF_CODE32 = _WEIGHT_OF_CODE.astype(np.float32)  # (exact: u has 18 significant bits)
_WEIGHT_OF_CODE32.flags.writeable = False

#: 64-bit words of the PCG64 stream per block of CHUNK 16-bit codes
_WORDS = CHUNK // 4


def random_direction(rng: np.random.Generator, sizes: tuple) -> Direction:
    """Independent random entries over all N entries (2 bytes of randomness each), drawn by block."""
    key = int(rng.integers(0, 2**63))
    generator = np.random.PCG64(key)
    return Direction(tuple(sizes), key, 0, int(sum(sizes)), _generator=generator, _start=generator.state)


def unit_direction(sizes: tuple, k: int) -> Direction:
    """u = 1 at global entry ``k``, 0 elsewhere."""
    return Direction(tuple(sizes), None, k, k + 1)


@dataclass(frozen=True)
class Claimed:
    """Σ gradᵀu over the direction, with what its rounding bound needs."""

    value: float
    #: ‖grad ∘ u‖₂: a blocked sum of random-sign terms is off by about eps·√block times this
    norm: float
    #: number of terms summed
    terms: int
    #: Σ|u_k|: how far the sum moves when every entry moves by one unit (0 when not asked for)
    total_u: float


def claimed_along(grads: list, u: Direction, total: bool = False, weights=None) -> Claimed:
    """Σ gradᵀu, each chunk by numpy's pairwise sum, the chunks added exactly (math.fsum):
    rounding about eps·√log₂(CHUNK)·‖grad∘u‖₂, far below the user's own arithmetic.
    ``total``: also Σ|u_k| (needed only when a nondeterminism was accepted; else 0). ``weights``:
    (u, slot, s, e) -> u on those entries as a fresh array (default `Direction.values`)."""
    weights = weights or (lambda u, slot, s, e: u.values(slot, s, e))
    parts, squares, total_u = [], 0.0, 0.0
    for slot, a, b in u.pieces():
        flat = grads[slot].reshape(-1)
        for s, e in chunks(a, b):
            uu = weights(u, slot, s, e)
            if total:
                total_u += float(np.abs(uu).sum())
            with np.errstate(invalid="ignore", over="ignore"):  # a NaN or inf is reported by the caller
                p = np.multiply(flat[s:e], uu, out=uu)
                parts.append(float(p.sum()))
                squares += float(np.square(p, out=p).sum())  # not p @ p: no BLAS call in this loop
    return Claimed(math.fsum(parts), math.sqrt(squares), u.hi - u.lo, total_u)


def largest_magnitude(a: np.ndarray) -> float:
    """max |a| (0 for an empty array) by chunks: no temporary the size of ``a``."""
    flat, worst = np.asarray(a).reshape(-1), 0.0
    for s, e in chunks(0, flat.size):
        piece = flat[s:e]
        worst = max(worst, float(piece.max()), -float(piece.min()))
    return worst
