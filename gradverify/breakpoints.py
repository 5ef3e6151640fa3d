"""Where a piecewise function or claim changes branch, and points on both sides of and between.

A claim wrong only in a band of values (smooth L1 with β = 0.9 whose claim switches branch at
|r| = 1: wrong for 0.9 ≤ |r| < 1) is missed by random points most of the time. The bands are in
the sympy expressions: every ``Piecewise`` condition, ``Heaviside``, ``Max``/``Min``, ``Abs`` and
``sign`` has an argument g whose sign change is a *breakpoint*. The function's and the claim's
breakpoints are found along lines through a base point (one free symbol moves, the others stay),
by the sign changes of each g on a grid refined by bisection; the points tried are each breakpoint
± a small step and the midpoint between each two neighbouring breakpoints. A claim whose
breakpoints differ from the function's has a band between them, and its midpoint is tried first.

g is evaluated in float64 (numpy, through ``lambdify`` of an expression whose symbols are renamed
to dummies first, so no user-chosen name reaches generated code); a breakpoint is located to
float64's resolution, far finer than any step the checks take.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .sympy_eval import as_object

__all__ = ["kink_arguments", "Breakpoint", "line_points", "BREAKPOINT_GRID", "MAX_KINK_ARGUMENTS"]

#: grid points per line on which each argument's sign is read (plus as many log-spaced ones
#: around the base value, so that two breakpoints 1e-6 apart are still told apart)
BREAKPOINT_GRID = 401
#: the most kink arguments read per expression: beyond them the rest are left to random points
#: (a hinge over C = 4 classes has 4 Max and 4 masks; a max pool over a 4×4 window has dozens)
MAX_KINK_ARGUMENTS = 48
#: bisection steps refining a sign change found on the grid (2⁻⁶⁰ of a grid cell: below float64's
#: resolution of the line's values)
BISECTIONS = 60
#: how far either side of a breakpoint a point is put: this fraction of the distance to the
#: nearest other breakpoint, at most `SIDE_STEP` of the line's scale (the central difference's
#: stencil, ~1e-5 of it, then stays on one side)
SIDE_FRACTION = 0.25
SIDE_STEP = 1e-2


def kink_arguments(exprs) -> list[sp.Expr]:
    """The expressions g whose sign change marks a branch change of ``exprs`` (an array of sympy
    expressions): Piecewise conditions' lhs − rhs, the arguments of Heaviside, Abs and sign, the
    pairwise differences of Max's and Min's arguments. Constants are left out; at most
    `MAX_KINK_ARGUMENTS`, in order of first appearance."""
    found: dict = {}
    for e in as_object(exprs).ravel():
        e = sp.sympify(e)
        if not e.free_symbols:
            continue
        for node in sp.preorder_traversal(e):
            for g in _arguments_of(node):
                g = sp.sympify(g)
                if g.free_symbols and g not in found and -g not in found:
                    found[g] = None
                    if len(found) >= MAX_KINK_ARGUMENTS:
                        return list(found)
    return list(found)


def _arguments_of(node) -> list:
    if isinstance(node, sp.Piecewise):
        out = []
        for _, cond in node.args:
            if isinstance(cond, sp.Basic) and not isinstance(cond, sp.logic.boolalg.BooleanAtom):
                rels = [cond] if isinstance(cond, sp.core.relational.Relational) else \
                    list(cond.atoms(sp.core.relational.Relational))
                out += [r.lhs - r.rhs for r in rels]
        return out
    if isinstance(node, (sp.Heaviside, sp.sign, sp.Abs)):
        return [node.args[0]]
    if isinstance(node, (sp.Max, sp.Min)):
        args = node.args
        return [args[i] - args[j] for i in range(len(args)) for j in range(i + 1, len(args))]
    return []


@dataclass
class Breakpoint:
    """A zero of one kink argument along a line: where on the line, and whose it is."""

    at: float
    #: "function" (the function's or its derivative's) or "claim"
    origin: str


class _Numeric:
    """g as a float64 function of all the free symbols (renamed to dummies), vectorised."""

    def __init__(self, g: sp.Expr, order: list):
        self.symbols = [s for s in order if s in g.free_symbols]
        dummies = [sp.Dummy() for _ in self.symbols]
        self.fn = sp.lambdify(dummies, g.xreplace(dict(zip(self.symbols, dummies))), modules="numpy")

    def __call__(self, values: dict, moving, xs: np.ndarray) -> np.ndarray:
        args = [xs if s == moving else values[s] for s in self.symbols]
        with np.errstate(all="ignore"):
            out = np.asarray(self.fn(*args), dtype=float)
        return np.broadcast_to(out, xs.shape)


def compile_arguments(args_by_origin: dict, order: list) -> list[tuple[_Numeric, str]]:
    """Each kink argument as a vectorised float64 function, with its origin; arguments that
    lambdify cannot translate are left out (random points still reach them)."""
    out = []
    for origin, gs in args_by_origin.items():
        for g in gs:
            try:
                out.append((_Numeric(g, order), origin))
            except Exception:  # noqa: BLE001 (a function numpy has no name for: no breakpoints from it)
                continue
    return out


def breakpoints_on_line(compiled, values: dict, moving, lo: float, hi: float) -> list[Breakpoint]:
    """The zeros of every argument that contains ``moving``, on [lo, hi] with the other symbols
    at ``values``, sorted; a zero of the function and of the claim at the same place is one
    breakpoint of origin "function"."""
    x0 = float(values[moving])
    grid = np.linspace(lo, hi, BREAKPOINT_GRID)
    near = x0 + np.array([-1.0, 1.0])[:, None] * np.logspace(-6, 0, BREAKPOINT_GRID // 4)[None, :] * \
        max(abs(x0), 1e-3)
    grid = np.unique(np.concatenate([grid, near.ravel()[(near.ravel() > lo) & (near.ravel() < hi)]]))
    found: list[Breakpoint] = []
    for fn, origin in compiled:
        if moving not in fn.symbols:
            continue
        g = fn(values, moving, grid)
        finite = np.isfinite(g)
        sg = np.sign(np.where(finite, g, 0.0))
        for i in np.nonzero(finite[:-1] & finite[1:] & (sg[:-1] * sg[1:] < 0))[0]:
            found.append(Breakpoint(_bisect(fn, values, moving, grid[i], grid[i + 1]), origin))
        for i in np.nonzero(finite & (g == 0))[0]:
            found.append(Breakpoint(float(grid[i]), origin))
    found.sort(key=lambda b: b.at)
    merged: list[Breakpoint] = []
    for b in found:
        if merged and abs(b.at - merged[-1].at) <= 1e-12 * max(1.0, abs(b.at)):
            if b.origin == "function":
                merged[-1].origin = "function"
            continue
        merged.append(b)
    return merged


def _bisect(fn, values, moving, a: float, b: float) -> float:
    fa = float(fn(values, moving, np.array([a]))[0])
    for _ in range(BISECTIONS):
        m = 0.5 * (a + b)
        if m in (a, b):
            break
        fm = float(fn(values, moving, np.array([m]))[0])
        if fm == 0:
            return m
        if np.sign(fm) == np.sign(fa):
            a, fa = m, fm
        else:
            b = m
    return 0.5 * (a + b)


def line_points(breaks: list[Breakpoint], lo: float, hi: float, scale: float) -> list[tuple[int, float]]:
    """(priority, x) to try along a line with these breakpoints: the midpoint of every band
    between a claim's breakpoint and a neighbour of other origin first (priority 0), then the
    other midpoints (1), then each breakpoint ± a small step (2)."""
    out: list[tuple[int, float]] = []
    for a, b in zip(breaks, breaks[1:]):
        band = "claim" in (a.origin, b.origin) and a.origin != b.origin
        out.append((0 if band else 1, 0.5 * (a.at + b.at)))
    for i, b in enumerate(breaks):
        gaps = [b.at - breaks[i - 1].at] if i else [b.at - lo]
        gaps += [breaks[i + 1].at - b.at] if i + 1 < len(breaks) else [hi - b.at]
        step = min(SIDE_FRACTION * min(gaps), SIDE_STEP * max(scale, abs(b.at)))
        if step > 0:
            out += [(2, b.at - step), (2, b.at + step)]
    return [(p, x) for p, x in out if lo < x < hi]
