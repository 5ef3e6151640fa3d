"""What a refuted link most likely got wrong, where one explanation fits the numbers.

Tried in order, each at the counterexample and at a second random point: the sides' shapes are
each other's transpose and so are their values (*transposed*); the right side is minus the left
(*sign flipped*); a constant multiple (*off by a factor*); the difference is one term written on
one side and missing on the other (*a term dropped* / *a term added*, naming the term's LaTeX), or
twice a term of the right side (*a term's sign flipped*).
Nothing fits: no diagnosis, the counterexample speaks.
"""

from __future__ import annotations

import random

import sympy as sp
from lark import Tree

from .latex import source
from .points import differ, evaluate, random_points
from .translate import Scope, TranslateError, as_matrix, shape, symbols_for

__all__ = ["explain", "terms"]


def terms(tree, text: str, sign: int = 1) -> list[tuple[int, str, object]]:
    """The top-level terms of a side: (sign, LaTeX, tree)."""
    if isinstance(tree, Tree) and tree.data in ("add", "minus"):
        a, b = tree.children
        return terms(a, text, sign) + terms(b, text, sign if tree.data == "add" else -sign)
    if isinstance(tree, Tree) and tree.data == "neg":
        return terms(tree.children[0], text, -sign)
    return [(sign, source(tree, text), tree)]


def explain(failure, left, right, table) -> str:
    found = _explain(failure, left, right, table)
    reused = sorted(failure.shadowed & failure.used)
    if reused:
        names = ", ".join(reused)
        found = (found + "; " if found else "") + (
            f"note: {names} is a free index of this step and also the index of a sum in it; inside the "
            f"sum, {names} is the sum's own (the usual reading), so a ∂/∂ or subscript with {names} there "
            "runs over every value, not the free one")
    return found


def _explain(failure, left, right, table) -> str:
    """The first explanation that fits at the counterexample and at a second random point, else ""."""
    lv, rv = failure.left, failure.right
    points = [failure.point] + random_points(symbols_for(table, failure.sizes), random.Random("diagnosis"))[:1]

    def same(f, g) -> bool:
        try:
            return all(not differ(evaluate(f, p), evaluate(g, p)) for p in points)
        except (TypeError, ValueError, ZeroDivisionError):
            return False

    if shape(lv) != shape(rv):
        return _shapes(lv, rv, same)
    if same(lv, -rv if isinstance(rv, sp.MatrixBase) else -rv):
        return "sign flipped: the right side is minus the left"
    ratio = _ratio(lv, rv, points)
    if ratio is not None:
        return f"off by a factor: the right side is {ratio} times the left"
    return _terms(failure, left, right, table, same)


def _shapes(lv, rv, same) -> str:
    """Sides of different shapes: transposed, or said as they are."""
    if shape(lv) and shape(rv) and shape(lv)[::-1] == shape(rv) and same(as_matrix(lv).T, rv):
        return (f"transposed: the right side is the transpose of the left "
                f"({shape(lv)[0]}×{shape(lv)[1]} and {shape(rv)[0]}×{shape(rv)[1]})")
    return (f"the shapes differ: {_shape(lv)} on the left, {_shape(rv)} on the right")


def _term_value(failure, table, text: str, term, mine):
    """A term's value with the failure's sizes and indices (a 1×1 matrix as its entry), or None when
    it does not translate or its shape is not the side's."""
    scope = Scope(table, failure.sizes, symbols_for(table, failure.sizes), failure.indices)
    scope.text = text
    try:
        value = scope.value(term)
    except TranslateError:
        return None
    if isinstance(value, sp.MatrixBase) and value.shape == (1, 1):
        value = value[0, 0]
    return value if shape(value) == shape(mine) else None


def _terms(failure, left, right, table, same) -> str:
    """One term dropped, added, or (on the right) with its sign flipped."""
    for which, (text, tree), other, mine in (("left", left, failure.right, failure.left),
                                             ("right", right, failure.left, failure.right)):
        for sign, latex, term in terms(tree, text):
            value = _term_value(failure, table, text, term, mine)
            if value is None:
                continue
            found = _term_fits(which, sign, latex, value, mine, other, same)
            if found:
                return found
    return ""


def _term_fits(which: str, sign: int, latex: str, value, mine, other, same) -> str:
    written = f"{'−' if sign < 0 else '+'}{latex}"
    if which == "right" and same(mine - 2 * sign * value, other):
        flipped = f"{'−' if sign > 0 else '+'}{latex}"
        return f"a term's sign flipped: the right side's {written} is {flipped} on the left"
    if same(mine - sign * value, other):
        if which == "left":
            return f"a term dropped: {written} of the left side is missing on the right"
        return f"a term added: the right side's {written} is not on the left"
    return ""


def _shape(v) -> str:
    s = shape(v)
    return "a scalar" if not s else f"{s[0]}×{s[1]}"


def _ratio(lv, rv, points):
    ratios = set()
    for p in points:
        for a, b in zip(as_matrix(evaluate(lv, p)), as_matrix(evaluate(rv, p))):
            if abs(a) < sp.Float("1e-20"):
                if abs(b) > sp.Float("1e-20"):
                    return None
                continue
            ratios.add(sp.nsimplify(sp.N(b / a, 12), rational=True, tolerance=1e-10))
    if len(ratios) == 1:
        r = ratios.pop()
        if r != 1 and (r.is_Rational and abs(r.q) <= 12 and abs(r.p) <= 100):
            return r
    return None
