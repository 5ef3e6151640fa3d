"""The additive terms of a claim, grouped the same way at every size.

``U[0,2]*exp(...)`` and ``U[1,2]*exp(...)`` are one term, ``-U[0,o]`` another:
the terms as the derivation writes them. Diagnosis names them ("missing term:
-U[0, o]") and the mutation self-test drops or flips them one kind at a time.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

from .sympy_eval import as_object

__all__ = ["MathPrinter", "term_classes", "term_parts", "math_text"]


_SUB = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


class MathPrinter(StrPrinter):
    """One line of mathematics, not Python: A[0,1] as A₀,₁, x**2 as x², sqrt as √, · for a product."""

    def _print_Symbol(self, expr):
        name = expr.name
        if name.endswith("]") and "[" in name:
            base, index = name[:-1].split("[", 1)
            return base + index.replace(" ", "").translate(_SUB)
        return name

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.base, expr.exp
        inner = self.parenthesize(base, precedence(expr), strict=False)
        if exp == sp.S.Half:
            return f"√{inner}" if base.is_Atom else f"√({self._print(base)})"
        if exp == -sp.S.Half:
            return f"1/√{inner}" if base.is_Atom else f"1/√({self._print(base)})"
        if exp.is_Integer:
            if exp < 0:
                return f"1/{inner}" if exp == -1 else f"1/{inner}{str(-int(exp)).translate(_SUP)}"
            return inner + str(int(exp)).translate(_SUP)
        if exp.is_Rational:
            return f"{inner}^({exp.p}/{exp.q})"
        return f"{inner}^({self._print(exp)})"

    def _print_Mul(self, expr):
        return super()._print_Mul(expr).replace("*", "·")

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"


def math_text(expr) -> str:
    """``expr`` as one line of mathematics (never truncated): what a diagnosis names."""
    return MathPrinter({"order": None}).doprint(sp.sympify(expr))


def _base_name(sym: sp.Symbol) -> sp.Symbol:
    return sp.Symbol(sym.name.split("[")[0])


def term_classes(arr) -> list[tuple[str, np.ndarray]]:
    """The additive terms of a claim, grouped across entries by their shape with
    indices left out (``U[0,2]*exp(...)`` and ``U[1,2]*exp(...)`` are one term,
    ``-U[0,o]`` another): the terms as the derivation writes them, at any size.
    Returns (label, array of that term's part of each entry), in order of first appearance."""
    return [(label, part) for _, label, part in term_parts(arr)]


def term_parts(arr) -> list[tuple[tuple, str, np.ndarray]]:
    """`term_classes` with each class's key, for code that rebuilds an expression without one."""
    arr = as_object(arr)
    classes: dict[tuple, tuple[str, np.ndarray]] = {}
    for idx in np.ndindex(arr.shape):
        entry = sp.sympify(arr[idx])
        for term in sp.Add.make_args(sp.expand_mul(entry)):
            if term == 0:
                continue
            key = _term_key(term)
            if key not in classes:
                classes[key] = (math_text(term), np.zeros(arr.shape, dtype=object))
            classes[key][1][idx] = classes[key][1][idx] + term
    return [(key, label, part) for key, (label, part) in classes.items()]


def _term_key(term) -> tuple:
    """What kind of term this is, the same at every size: the variables in it,
    the functions applied, whether it divides, and its sign."""
    names = tuple(sorted({_base_name(s).name for s in term.free_symbols}))
    heads = tuple(sorted({type(a).__name__ if not isinstance(a, sp.Pow) else
                          ("divide" if a.exp.is_negative else "power")
                          for a in sp.preorder_traversal(term) if isinstance(a, (sp.Function, sp.Pow))}))
    return names, heads, term.could_extract_minus_sign()
