"""A term of a diagnosis said at the matrix level, when it is one: ``cos(a,b)·a/‖a‖²``, ``λ·W``.

The spec builds its function from arrays of scalar symbols (`gradverify.sympy_eval`), so a term
the diagnosis names (`gradverify.terms.term_classes`) is an array with one sympy expression per
entry of the gradient. This module reads that array back as one matrix-level expression of the
spec's own variables, when it is one:

* a *view* of the variables: the whole arrays, the rows of the matrices laid out as the gradient
  (a, b: the rows of A, B), or their columns; in it, each vector's sum of squares is ‖a‖², each
  pair's sum of products aᵀb (and aᵀb/(‖a‖‖b‖) is cos(a,b) where that reads shorter), and the entry
  of a variable at the gradient's own position is the variable itself (A at entry (i, j) is A_ij);
* the term is matrix-level in a view when every entry, rewritten so, is the same expression of
  those names (and of scalar variables and numbers), linear in exactly one variable in each of its
  terms (an entrywise product of two arrays is not said);
* the rewriting is checked: the expression, with each name's value at each entry, equals the term's
  entries at random points (`_holds`); where it does not, or no view reads the term, the caller
  keeps the per-entry label.

The relation itself (claimed − true = ± the term) is checked where the diagnosis is made, at every
point it is read (`gradverify.diagnosis`); this module only names the term.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .sympy_eval import as_object
from .terms import MathPrinter

__all__ = ["matrix_label"]

#: the largest entry (sympy operations) a term may have to be read at the matrix level: the
#: rewriting factors every entry, and a diagnosis must stay cheap
MAX_OPS = 120
#: random points the rewritten expression is checked at, and how closely (50-digit evaluation:
#: an identity leaves ~1e-45; a wrong rewriting is off by O(1))
CHECK_POINTS = 2
CHECK_RTOL = 1e-30


class _View:
    """Per entry of the gradient's layout: the vectors in play (name: their symbols), the symbols
    standing at the gradient's own position (symbol: the name of the array it is an entry of), and
    what the view's names mean ("a, b: rows of A, B")."""

    def __init__(self, note: str = ""):
        self.note = note
        self.vectors: dict = {}   # entry index: {vector name: [symbols]}
        self.aligned: dict = {}   # entry index: {symbol: array name}
        self.sums = True          # False: the entrywise view (no norms, no products)
        self.matrix = False       # whole matrices: ‖A‖_F and ⟨A,B⟩


def _lower(name: str, taken: set) -> str:
    low = name.lower()
    return low if len(name) == 1 and name.isupper() and low not in taken else f"{name}ᵢ"


def _views(shape: tuple, symbols: dict) -> list[_View]:
    """The ways the variables can be read at the gradient's layout ``shape``: entrywise, whole
    vectors, rows, columns, whole matrices (the simplest first)."""
    same = {n: np.asarray(a) for n, a in symbols.items() if np.shape(a) == shape}
    if not same:
        return []
    views = [_view(shape, same, {}, sums=False)]
    flat = {n: list(np.asarray(a).ravel()) for n, a in symbols.items() if np.ndim(a) >= 1}
    if len(shape) == 1:
        of_length = {n: v for n, v in flat.items() if len(v) == shape[0]}
        return views + [_view(shape, same, lambda idx: of_length)]
    if len(shape) != 2:
        return views
    taken = set(symbols)
    names = {n: _lower(n, taken) for n in same}
    for axis, word in ((0, "rows"), (1, "columns")):
        # the vectors at an entry: the rows (columns) of the arrays through it, and any vector of their length
        loose = {n: v for n, v in flat.items() if np.ndim(symbols[n]) == 1 and len(v) == shape[1 - axis]}

        def vectors(idx, axis=axis, loose=loose):
            k = idx[axis]
            return {**{names[n]: list(a[k, :] if axis == 0 else a[:, k]) for n, a in same.items()}, **loose}

        views.append(_view(shape, same, vectors, names=names,
                           note=f"{', '.join(names.values())}: {word} of {', '.join(names)}"))
    whole = _view(shape, same, lambda idx: {n: list(a.ravel()) for n, a in same.items()})
    whole.matrix = True
    return views + [whole]


def _view(shape: tuple, same: dict, vectors, names: dict | None = None, note: str = "", sums: bool = True) -> _View:
    """A view: at each entry of ``shape``, ``vectors(idx)`` in play and the arrays ``same`` (laid
    out as the gradient) standing at it, under ``names`` (their own by default)."""
    view = _View(note)
    view.sums = sums
    names = names or {n: n for n in same}
    for idx in np.ndindex(shape):
        view.vectors[idx] = vectors(idx) if sums else {}
        view.aligned[idx] = {a[idx]: names[n] for n, a in same.items()}
    return view


def _norm(name: str, matrix: bool = False) -> sp.Symbol:
    return sp.Symbol(f"‖{name}‖" + ("_F" if matrix else ""), positive=True)


def _dot(g: str, h: str, matrix: bool = False) -> sp.Symbol:
    return sp.Symbol(f"⟨{g},{h}⟩" if matrix else f"{g}ᵀ{h}", real=True)


def _cos(g: str, h: str) -> sp.Symbol:
    return sp.Symbol(f"cos({g},{h})", real=True)


def _named(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def _rewrite(e, view: _View, idx) -> tuple:
    """The entry ``e`` at ``idx`` in the view's names, and {name symbol: its value there}."""
    vectors, m = view.vectors[idx], view.matrix
    meaning: dict = {}
    names = sorted(vectors)
    if view.sums:
        for g in names:
            total = sp.Add(*[x ** 2 for x in vectors[g]])
            meaning[_norm(g, m)] = sp.sqrt(total)
            e = e.subs(total, _norm(g, m) ** 2)
        e = sp.factor(e)
        for i, g in enumerate(names):
            for h in names[i + 1:]:
                if len(vectors[g]) == len(vectors[h]):
                    total = sp.Add(*[x * y for x, y in zip(vectors[g], vectors[h])])
                    meaning[_dot(g, h, m)] = total
                    e = e.subs(total, _dot(g, h, m))
    for sym, name in view.aligned[idx].items():
        meaning[_named(name)] = sym
        e = e.subs(sym, _named(name))
    e = sp.factor(e)
    for (g, h) in [(g, h) for i, g in enumerate(names) for h in names[i + 1:]]:
        dot = _dot(g, h, m)
        if dot in e.free_symbols and {_norm(g, m), _norm(h, m)} <= e.free_symbols:
            shorter = sp.factor(e.subs(dot, _cos(g, h) * _norm(g, m) * _norm(h, m)))
            meaning[_cos(g, h)] = meaning[dot] / (meaning[_norm(g, m)] * meaning[_norm(h, m)])
            if sp.count_ops(shorter) <= sp.count_ops(e):
                e = shorter
    return e, meaning


def _linear_in_one(e, arrays: set) -> bool:
    """Every additive term of ``e`` holds exactly one of the view's arrays, to the first power."""
    for term in sp.Add.make_args(sp.expand(e)):
        powers = term.as_powers_dict()
        if sum(powers.get(a, 0) for a in arrays) != 1 or any(powers.get(a, 0) not in (0, 1) for a in arrays):
            return False
    return True


def _lift(part: np.ndarray, view: _View, scalars: set):
    lifted, meanings = None, {}
    for idx in np.ndindex(part.shape):
        e = sp.sympify(part[idx])
        if e == 0:
            return None
        e, meaning = _rewrite(e, view, idx)
        if lifted is None:
            lifted = e
        elif sp.expand(e - lifted) != 0:
            return None
        meanings[idx] = meaning
    arrays = {_named(n) for n in set().union(*(set(a.values()) for a in view.aligned.values()))}
    names = set().union(*(set(m) for m in meanings.values()))
    if lifted is None or not lifted.free_symbols <= names | scalars or not _linear_in_one(lifted, arrays):
        return None
    return lifted, meanings


def _holds(part: np.ndarray, lifted, meanings: dict, rng) -> bool:
    """The rewritten expression, with every name's value at each entry, equals the term's entries
    at `CHECK_POINTS` random points (50 digits)."""
    free = sorted(set().union(*(sp.sympify(x).free_symbols for x in part.ravel())), key=sp.default_sort_key)
    for _ in range(CHECK_POINTS):
        values = {s: sp.Float(float(v), 50) for s, v in zip(free, rng.uniform(0.5, 1.5, len(free))
                                                             * rng.choice([-1, 1], len(free)))}
        for idx in np.ndindex(part.shape):
            want = sp.sympify(part[idx]).xreplace(values)
            named = {k: v.xreplace(values) for k, v in meanings[idx].items()}
            got = lifted.xreplace(named).xreplace(values)
            want, got = complex(sp.N(want, 50)), complex(sp.N(got, 50))
            if not abs(want - got) <= CHECK_RTOL * max(abs(want), 1.0):
                return False
    return True


def _rank(factor, arrays: set) -> tuple:
    """Print order of a product's factors: numbers, the spec's scalars, norms and cosines, the array."""
    base = factor.as_base_exp()[0]
    return (not factor.is_Number, base in arrays, sp.default_sort_key(factor))


def _text(lifted, arrays: set) -> str:
    printer = MathPrinter({"order": "none"})
    terms = []
    for term in sp.Add.make_args(lifted):
        if term.is_Mul:
            term = sp.Mul(*sorted(term.args, key=lambda f: _rank(f, arrays)), evaluate=False)
        terms.append(printer.doprint(term))
    return " + ".join(terms).replace("+ -", "− ")


def matrix_label(part, symbols: dict, seed: int = 0) -> str:
    """``part`` (an object array of sympy expressions laid out as the gradient, one term of a
    diagnosis) as one matrix-level expression of the spec's variables (``symbols``: variable name:
    its array of symbols, as `gradverify.sympy_eval.build_namespace` gives them), or "" when it is
    not one (then the per-entry label stands)."""
    part = as_object(part)
    if part.ndim == 0 or not part.size or any(sp.count_ops(sp.sympify(x)) > MAX_OPS for x in part.ravel()):
        return ""
    scalars = {np.asarray(a)[()] for a in symbols.values() if np.ndim(a) == 0}
    rng = np.random.default_rng(seed)
    for view in _views(part.shape, symbols):
        found = _lift(part, view, scalars)
        if found is None:
            continue
        lifted, meanings = found
        if not _holds(part, lifted, meanings, rng):
            continue
        arrays = {_named(n) for a in view.aligned.values() for n in a.values()}
        text = _text(lifted, arrays)
        uses_names = bool(view.note) and any(str(s) not in symbols and s in arrays for s in lifted.free_symbols)
        return f"{text} ({view.note})" if uses_names else text
    return ""
