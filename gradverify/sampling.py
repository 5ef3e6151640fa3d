"""Drawing inputs within a derivation's assumptions and domains.

Points are drawn from a `Source` of choices, so the same code draws them from
hypothesis (which can then shrink a failing point to a small one) and from a
seeded numpy generator (the symbolic check's sample points, the mutants').
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .errors import DerivationError, InvalidArgument
from .spec import (Derivation, Distinct, Excludes, Fixed, Index, Indices, Int, OneHot, Point, Real, Require,
                   resolve_sizes)
from .tolerances import DOMAIN_MARGIN, TINY

__all__ = ["Source", "RandomSource", "HypothesisSource", "search_seed", "draw_sizes", "other_sizes", "draw_point", "in_domain", "unmet", "room_in_domain", "structured"]


# ---------------------------------------------------------------- sources of choices
class Source:
    def integer(self, lo: int, hi: int) -> int: ...
    def unit_array(self, shape: tuple) -> np.ndarray: ...
    def coin(self) -> bool: ...

    def choice(self, options: Sequence):
        return options[self.integer(0, len(options) - 1)]

    def reject(self, why: str):
        raise _Rejected(why)


class _Rejected(Exception):
    pass


class RandomSource(Source):
    #: draws tried before giving up on a point where every Require holds
    TRIES = 100

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def integer(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))

    def unit_array(self, shape):
        return self.rng.uniform(-1.0, 1.0, size=shape)

    def coin(self):
        return bool(self.rng.integers(0, 2))


class HypothesisSource(Source):
    """Choices drawn by hypothesis, so that it can shrink a failing point. They depend only on
    hypothesis's seed, never on which other modules the process has loaded: hypothesis mixes
    constants it finds in the caller's own modules ("local constants") into the integers and
    floats it draws (also where it plans the next example, outside the test case), so the same
    derivation at the same seed would see other examples under ``pytest losses/`` than under
    ``pytest losses/smooth_l1.py``. So every choice here is an integer drawn `OFFSET` above its
    range, where no constant, hypothesis's own (up to 2**66) or the caller's, can be chosen;
    booleans have no constants. A real value is built from such integers (`unit`): 0, ±1, a
    simple fraction, a uniform value or a small power of two, each shrinking toward 0."""

    #: integer choices are drawn in [lo + OFFSET, hi + OFFSET]: above every constant hypothesis
    #: knows (its own reach 2**66), a range no other strategy asks for
    OFFSET = 2**70
    #: the kinds of a drawn unit value, by the integer that picks them (0 is where it shrinks)
    KINDS = 16
    #: the resolution of a uniform value: 53 bits, every float64 in [0, 1) with exponent -1 or above
    MANTISSA = 2**53

    def __init__(self, data):
        from hypothesis import strategies as st

        self.data, self.st = data, st
        self.cd = getattr(data, "conjecture_data", None)
        if not hasattr(self.cd, "draw_integer"):
            raise DerivationError("this hypothesis version does not offer the choices gradverify draws from "
                                  "(ConjectureData.draw_integer); install hypothesis >= 6.130")

    def _int(self, lo: int, hi: int, towards: int | None = None) -> int:
        towards = lo if towards is None else towards
        return self.cd.draw_integer(lo + self.OFFSET, hi + self.OFFSET, shrink_towards=towards + self.OFFSET) \
            - self.OFFSET

    def integer(self, lo, hi):
        return lo if lo == hi else self._int(lo, hi)

    def unit(self) -> float:
        """One value in [-1, 1]: 0 (kind 0), ±1 (1), a multiple of 1/8 (2, 3), a power of two
        2⁻¹ .. 2⁻⁶⁰ (4), else uniform with 53 bits; the sign a coin."""
        kind = self._int(0, self.KINDS - 1)
        if kind == 0:
            return 0.0
        if kind == 1:
            magnitude = 1.0
        elif kind in (2, 3):
            magnitude = self._int(1, 8) / 8
        elif kind == 4:
            magnitude = 2.0 ** -self._int(1, 60)
        else:
            magnitude = self._int(0, self.MANTISSA) / self.MANTISSA
        return -magnitude if self.coin() else magnitude

    def unit_array(self, shape):
        out = np.empty(shape, dtype=np.float64)
        for idx in np.ndindex(shape):
            out[idx] = self.unit()
        return out

    def coin(self):
        return self.data.draw(self.st.booleans())

    def reject(self, why: str):
        from hypothesis import assume

        assume(False)  # hypothesis draws another example and counts this one as invalid


def search_seed(seed: int, derivation_id: str) -> int:
    """The hypothesis seed of one derivation's search: from the run's seed and the derivation's id
    alone (not its position in the run, nor what else is checked)."""
    import hashlib

    digest = hashlib.sha256(f"{seed}:{derivation_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def draw_sizes(derivation: Derivation, source: Source) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for name, rng in derivation.dims.items():
        sizes[name] = resolve_sizes({name: rng}, sizes)[name] if callable(rng) else source.integer(*rng)
    return sizes


def other_sizes(derivation: Derivation, sizes: dict[str, int], rng: np.random.Generator) -> dict[str, int]:
    """Sizes drawn so that every dimension differs from ``sizes`` where its range allows: a
    relation seen at one size tuple (claimed = N × true, when 1/N is missing) is tried at another."""
    out: dict[str, int] = {}
    for name, spec in derivation.dims.items():
        if callable(spec):
            out[name] = resolve_sizes({name: spec}, out)[name]
            continue
        choices = [v for v in range(spec[0], spec[1] + 1) if v != sizes.get(name)] or [sizes[name]]
        out[name] = int(rng.choice(choices))
    return out


def draw_point(derivation: Derivation, source: Source, assumptions: Sequence,
               sizes: dict[str, int] | None = None, scale: float | None = None) -> Point:
    """Draw one point within ``assumptions`` and the variables' domains; a point where a
    `Require` fails is drawn again (hypothesis: counted as an invalid example)."""
    for _ in range(RandomSource.TRIES):
        point = _draw_once(derivation, source, assumptions, sizes, scale)
        failed = unmet(assumptions, point)
        if failed is None:
            return point
        try:
            source.reject(failed)
        except _Rejected:
            continue
    raise DerivationError(f"no point where {failed!r} holds in {RandomSource.TRIES} draws; "
                          "check the Require's condition against the declared dims and domains")


def unmet(assumptions: Sequence, point: Point) -> str | None:
    """The text of the first `Require` in ``assumptions`` that ``point`` does not meet, else None."""
    for a in assumptions:
        if isinstance(a, Require):
            try:
                ok = a.holds(point.namespace())
            except Exception as exc:
                raise DerivationError(f"Require({a.text!r}) raised {type(exc).__name__}: {exc}") from exc
            if not ok:
                return a.text
    return None


def in_domain(kind: Real, unit: np.ndarray, scale: float) -> np.ndarray:
    """Unit values in [-1, 1] mapped into ``kind``'s domain at ``scale``. Identity times
    ``scale`` without a domain; bounded away from an excluded 0 or an open end by
    `DOMAIN_MARGIN` of the scale, so a shrunk example stays inside the domain."""
    unit = np.asarray(unit, dtype=np.float64)
    domain = kind.domain
    if domain is None:
        return unit * scale
    away = np.maximum(np.abs(unit), DOMAIN_MARGIN) * scale
    if domain == "positive":
        return away
    if domain == "nonzero":
        return np.where(unit < 0, -away, away)
    lo, hi = domain
    if lo is not None and hi is not None:
        return lo + (hi - lo) * (DOMAIN_MARGIN + (1 - 2 * DOMAIN_MARGIN) * (unit + 1) / 2)
    return lo + away if lo is not None else hi - away


def structured(kind, value: np.ndarray, scale: float) -> np.ndarray:
    """``value`` (drawn entry by entry) made the matrix ``kind.structure`` says: symmetric
    (V + Vᵀ)/2; positive-definite scale·(B Bᵀ/n + I/10) with B = V/scale; diagonal, its diagonal."""
    structure = getattr(kind, "structure", None)
    if structure is None:
        return value
    if structure == "symmetric":
        return (value + value.T) / 2
    if structure == "diagonal":
        return np.diag(np.diag(value))
    n = value.shape[0]
    b = value / scale if scale else value
    return scale * (b @ b.T / n + np.eye(n) / 10)


def room_in_domain(kind, x: np.ndarray) -> np.ndarray:
    """How far each value may move either way and stay inside ``kind``'s domain (inf without one)."""
    x = np.asarray(x, dtype=np.float64)
    domain = getattr(kind, "domain", None)
    if domain in ("positive", "nonzero"):
        return np.abs(x)
    if domain is None:
        return np.full(x.shape, np.inf)
    lo, hi = domain
    room = np.full(x.shape, np.inf)
    if lo is not None:
        room = np.minimum(room, x - lo)
    if hi is not None:
        room = np.minimum(room, hi - x)
    return room


def _draw_once(derivation: Derivation, source: Source, assumptions: Sequence, sizes, scale) -> Point:
    sizes = dict(sizes) if sizes is not None else draw_sizes(derivation, source)
    scale = float(source.choice(list(derivation.scales))) if scale is None else scale
    values: dict[str, Any] = {}
    fixed = set()
    for name, kind in derivation.variables.items():
        mine = [a for a in assumptions if a.target == name]
        if isinstance(kind, Real):
            onehot = next((a for a in mine if isinstance(a, OneHot)), None)
            shape = tuple(sizes[d] for d in kind.dims)
            if onehot is not None:
                at = _need(values, onehot.at, name)
                if len(shape) != 1:
                    raise InvalidArgument("OneHot on a vector Real(dim)", f"{name} with shape dims {kind.dims}")
                value = np.zeros(shape)
                value[at] = 1.0
                fixed.add(name)
            else:
                value = np.asarray(in_domain(kind, source.unit_array(shape), scale), dtype=np.float64)
                value = structured(kind, value, scale)
                value[np.abs(value) < TINY] = 0.0
            values[name] = value
        elif isinstance(kind, Index):
            values[name] = source.integer(0, sizes[kind.dim] - 1)
        elif isinstance(kind, Int):
            values[name] = source.integer(kind.lo, kind.hi)
        elif isinstance(kind, Fixed):
            values[name] = kind.at(sizes)
            fixed.add(name)
        elif isinstance(kind, Indices):
            values[name] = _draw_indices(name, kind, mine, sizes, values, source)
    return Point(sizes=sizes, values=values, scale=scale, fixed=frozenset(fixed))


def _need(values, other, name):
    if other not in values:
        raise InvalidArgument(f"variable {other!r} declared before {name!r}", f"the order {list(values)}",
                              "Reorder variables= so that what an assumption refers to comes first.")
    return values[other]


def _draw_indices(name, kind: Indices, mine, sizes, values, source: Source):
    rows = sizes[kind.rows] if kind.rows else None
    count, n = sizes[kind.count], sizes[kind.dim]
    distinct = any(isinstance(a, Distinct) for a in mine)
    excluded = [_need(values, a.other, name) for a in mine if isinstance(a, Excludes)]

    def one_row(r):
        banned = set()
        for ex in excluded:
            banned.add(ex[r] if isinstance(ex, list) else ex)
        candidates = [i for i in range(n) if i not in banned]
        need = count if distinct else 1
        if len(candidates) < need:
            raise InvalidArgument(
                f"at least {need} allowed values for {name!r} ({kind.describe()})",
                f"{len(candidates)} at {kind.dim}={n}",
                f"Raise the lower bound of {kind.dim} in dims=.")
        row: list[int] = []
        for _ in range(count):
            if not distinct and row and source.coin():
                row.append(row[source.integer(0, len(row) - 1)])  # repeats are where bugs hide
                continue
            pick = source.integer(0, len(candidates) - 1)
            row.append(candidates[pick])
            if distinct:
                candidates.pop(pick)
        return row

    return [one_row(r) for r in range(rows)] if rows is not None else one_row(None)


