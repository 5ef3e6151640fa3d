"""The numbers a link is checked with: random points for the declared symbols, a value evaluated at
one to `DIGITS` digits, and whether two evaluated sides differ beyond `TOLERANCE`. Shared by the
check (`chain`) and the diagnosis (`diagnosis`), which both evaluate sides at points."""

from __future__ import annotations

import random

import sympy as sp

from .translate import as_matrix

__all__ = ["random_points", "evaluate", "differ", "POINTS", "DIGITS", "TOLERANCE", "SPREAD"]

#: random points per size and index value: a wrong step is an identity that fails almost everywhere,
#: so one point finds it; three make a coincidence at a point of a 50-digit draw practically impossible
POINTS = 3
#: significant digits of each evaluation (mpmath): a right step agrees to ~1e-45 after cancellation
DIGITS = 50
#: |left − right| ≤ TOLERANCE · (1 + max |side|): 20 digits of margin over the evaluation's own error,
#: and 25 digits below anything a wrong step produces at a random point
TOLERANCE = sp.Float("1e-30", DIGITS)
#: random values are drawn from [-SPREAD, SPREAD]: exp and σ stay well inside their range
SPREAD = 1.5


def random_points(symbols: dict, rng: random.Random) -> list[dict]:
    """`POINTS` random points: each symbol of ``symbols`` (matrices entry by entry) in [-SPREAD, SPREAD]
    to `DIGITS` digits."""
    flat = [s for v in symbols.values() for s in (list(v) if isinstance(v, sp.MatrixBase) else [v])]
    return [{s: sp.Float(f"{rng.uniform(-SPREAD, SPREAD):.{DIGITS}f}", DIGITS) for s in flat}
            for _ in range(POINTS)]


def evaluate(value, point: dict):
    """``value`` at ``point`` to `DIGITS` digits (entries of a matrix one by one)."""
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(lambda e: sp.N(sp.sympify(e).xreplace(point), DIGITS))
    return sp.N(sp.sympify(value).xreplace(point), DIGITS)


def differ(a, b) -> bool:
    """Whether two evaluated values differ beyond `TOLERANCE` (or either is not a finite number)."""
    for x, y in zip(list(as_matrix(a)), list(as_matrix(b))):
        if not (x.is_number and y.is_number) or x.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or y.has(sp.zoo, sp.nan):
            return True
        if abs(x - y) > TOLERANCE * (1 + max(abs(x), abs(y))):
            return True
    return False
