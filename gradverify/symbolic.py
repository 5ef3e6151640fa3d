"""The symbolic side: sympy differentiates the function, component by component.

Matrix-level differentiation in sympy silently drops terms on these losses (see
README, "why component-wise"), so every real variable becomes an array of
scalar symbols at concrete sizes, the spec builds the function and the claims
from them, and sympy differentiates by each scalar.

A claim is compared with sympy's derivative in two steps:
1. the difference is evaluated at random points with 50 significant digits; a
   difference that is not ~1e-50 of the derivative *refutes* the claim;
2. otherwise sympy tries to *prove* it zero (expand(numer(together(.))))
   within a time budget; if it cannot, the claim is reported *sampled*.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .diagnosis import diagnose, worst_entries
from .errors import DerivationError
from .sampling import RandomSource, draw_point
from .spec import Point
from .spec import Claim, Derivation, Real, resolve_sizes
from .tolerances import SYMBOLIC_DIGITS, SYMBOLIC_TIME_BUDGET, SYMBOLIC_ZERO

__all__ = ["SymbolicResult", "check_symbolic", "evaluate_spec", "build_namespace", "to_layout",
           "ShapeMismatch", "default_symbolic_sizes", "time_budget", "BudgetExceeded", "term_classes",
           "index_values", "evaluate_by_substitution"]


class ShapeMismatch(Exception):
    pass


class BudgetExceeded(BaseException):  # BaseException: sympy code must not swallow it
    pass


@contextmanager
def time_budget(seconds: float):
    """Interrupt the block after ``seconds`` (main thread only; elsewhere: no limit
    can be enforced, so the block is not run and BudgetExceeded is raised)."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        raise BudgetExceeded

    def handler(signum, frame):
        raise BudgetExceeded

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------- namespaces
def _number(mode):
    kind, n = mode
    if kind == "digits":
        return lambda x: sp.Float(float(x), n)
    return lambda x: sp.Float(float(x), precision=n)


def build_namespace(derivation: Derivation, point: Point, mode="symbols"):
    """The namespace ``s`` the spec functions read. ``mode`` is ``"symbols"``,
    ``("digits", 50)`` or ``("bits", 53)``. Returns (s, {variable: object array
    of its symbols, laid out as the implementation sees it})."""
    number = None if mode == "symbols" else _number(mode)
    overrides, symbols = {}, {}
    for name, kind in derivation.variables.items():
        if not isinstance(kind, Real):
            continue
        value = np.asarray(point.values[name], dtype=float)
        if name in point.fixed:
            arr = np.vectorize(lambda x: sp.Integer(int(x)) if float(x).is_integer() else sp.Float(x),
                               otypes=[object])(value) if value.size else value.astype(object)
        elif number is None:
            arr = np.empty(value.shape, dtype=object)
            for idx in np.ndindex(value.shape):
                label = name + ("[" + ",".join(map(str, idx)) + "]" if idx else "")
                arr[idx] = sp.Symbol(label, real=True)
            symbols[name] = arr
        else:
            arr = np.empty(value.shape, dtype=object)
            for idx in np.ndindex(value.shape):
                arr[idx] = number(value[idx])
        overrides[name] = _to_sympy(arr, kind)
    return point.namespace(**overrides), symbols


def _to_sympy(arr: np.ndarray, kind: Real):
    if arr.ndim == 0:
        return arr[()]
    if arr.ndim == 1:
        return sp.Matrix(1, arr.shape[0], list(arr)) if kind.row else sp.Matrix(arr.shape[0], 1, list(arr))
    return sp.Matrix(arr.tolist())


def to_array(expr) -> np.ndarray:
    if isinstance(expr, sp.MatrixBase):
        out = np.empty(expr.shape, dtype=object)
        for i in range(expr.rows):
            for j in range(expr.cols):
                out[i, j] = expr[i, j]
        return out
    if isinstance(expr, np.ndarray):
        return expr.astype(object)
    out = np.empty((), dtype=object)
    out[()] = sp.sympify(expr)
    return out


def to_layout(expr, expected: tuple, what: str) -> np.ndarray:
    """Lay a sympy result out as ``expected`` (numpy shape). A vector may be a
    row or a column (a layout convention, not an error); a matrix must match."""
    arr = to_array(expr)
    if arr.shape == expected:
        return arr
    if len(expected) == 1 and arr.shape in ((expected[0], 1), (1, expected[0])):
        return arr.reshape(expected)
    if expected == () and arr.shape in ((1, 1), (1,)):
        return arr.reshape(())
    raise ShapeMismatch(f"{what} has shape {_shape_text(arr.shape)}; expected {_shape_text(expected)}")


def _shape_text(shape):
    return "scalar" if shape == () else "×".join(map(str, shape))


def value_shape(J) -> tuple:
    arr = to_array(J)
    if arr.ndim == 2 and 1 in arr.shape:
        return () if arr.shape == (1, 1) else (max(arr.shape),)
    return arr.shape


def _call_spec(fn, s, what):
    try:
        return fn(s)
    except DerivationError:
        raise
    except Exception as exc:
        raise DerivationError(f"spec {what} raised {type(exc).__name__}: {exc}") from exc


def evaluate_spec(derivation: Derivation, point: Point, mode, shape: tuple | None = None
                  ) -> tuple[np.ndarray, dict[str, np.ndarray | str]]:
    """The spec's function value and claims as float arrays at ``point``,
    computed with sympy numbers in ``mode``; ``shape`` is the value's shape
    (the implementation's: a 1×1 spec Matrix may be a scalar or a 1-vector).
    A claim whose shape does not fit is returned as the message saying so."""
    s, _ = build_namespace(derivation, point, mode)
    J = _call_spec(derivation.function, s, "function")
    if shape is None:
        shape = value_shape(J)
    try:
        value = _floats(to_layout(J, shape, "the spec's function"), "function")
    except ShapeMismatch as exc:
        raise DerivationError(f"{exc}, the shape of the implementation's value") from exc
    claims = {}
    for claim in derivation.claims:
        expected = claim.shape(point.namespace(), shape, np.shape(point.values.get(claim.wrt)))
        try:
            arr = to_layout(_call_spec(claim.expr, s, f"claim {claim.name!r}"), expected, f"claimed {claim.name}")
        except ShapeMismatch as exc:
            claims[claim.name] = str(exc)
            continue
        claims[claim.name] = _floats(arr, f"claim {claim.name!r}")
    return value, claims


def _floats(arr: np.ndarray, what: str) -> np.ndarray:
    out = np.empty(arr.shape)
    for idx in np.ndindex(arr.shape):
        try:
            out[idx] = float(arr[idx])
        except TypeError as exc:
            raise DerivationError(f"spec {what} did not evaluate to a real number at entry {list(idx)}: "
                                  f"{sp.sstr(arr[idx])[:80]}") from exc
    return out


# ---------------------------------------------------------------- the symbolic check
@dataclass
class SymbolicResult:
    status: str  # proved | sampled | refuted
    sizes: list = field(default_factory=list)
    detail: str = ""
    counterexample: str | None = None
    points: int = 0
    seconds: float = 0.0
    diagnosis: str = ""


def default_symbolic_sizes(derivation: Derivation) -> list[dict]:
    """Two size tuples with all sizes different within each (so d != V), the
    smallest the ranges allow."""
    tuples, taken = [], set()
    for _ in range(2):
        sizes, used = {}, set()
        for name, rng in derivation.dims.items():
            if callable(rng):
                sizes[name] = resolve_sizes({name: rng}, sizes)[name]
                continue
            lo, hi = rng
            options = [v for v in range(lo, hi + 1) if v not in used and (name, v) not in taken] or \
                      [v for v in range(lo, hi + 1) if v not in used] or [lo]
            sizes[name] = options[0]
            used.add(options[0])
            taken.add((name, options[0]))
        tuples.append(sizes)
    return tuples


def symbolic_size_list(derivation: Derivation) -> list[dict]:
    """The size tuples the symbolic check uses: the derivation's, else the defaults; resolved."""
    return [derivation.sizes(s) for s in (derivation.symbolic_sizes or default_symbolic_sizes(derivation))]


def check_symbolic(derivation: Derivation, assumptions, seed: int, configs: int = 1, points: int = 3,
                   budget: float = SYMBOLIC_TIME_BUDGET) -> dict[str, SymbolicResult]:
    """Each claim against sympy's derivative, at every symbolic size tuple and
    ``configs`` index choices drawn within ``assumptions`` at each."""
    rng = np.random.default_rng(seed)
    size_list = symbolic_size_list(derivation)
    results = {c.name: SymbolicResult("proved", sizes=size_list) for c in derivation.claims}
    left = {c.name: budget for c in derivation.claims}
    for sizes in size_list:
        for _ in range(configs):
            point = draw_point(derivation, RandomSource(rng), assumptions, sizes=sizes, scale=1.0)
            s, symbols = build_namespace(derivation, point, "symbols")
            J = to_array(_call_spec(derivation.function, s, "function"))
            out_shape = value_shape(J)
            config = _Config(point, s, symbols, J.reshape(out_shape), out_shape)
            for claim in derivation.claims:
                res = results[claim.name]
                if res.status == "refuted":
                    continue
                t0 = time.perf_counter()
                _check_claim(derivation, claim, config, rng, points, res, left)
                res.seconds += time.perf_counter() - t0
    return results


class _Config:
    """One size tuple and index choice: the function built once, its derivatives cached."""

    def __init__(self, point, s, symbols, J, out_shape):
        self.point, self.s, self.symbols, self.J, self.out_shape = point, s, symbols, J, out_shape
        self.free = [sym for arr in symbols.values() for sym in arr.ravel()]
        self._d: dict = {}

    def derivative(self, i, sym):
        key = (i, sym)
        if key not in self._d:
            self._d[key] = sp.diff(self.J[i], sym)
        return self._d[key]


def _check_claim(derivation, claim, cfg: _Config, rng, points, res, left):
    s, out_shape = cfg.s, cfg.out_shape
    if claim.identity:
        truth, expected = cfg.J, out_shape
    else:
        sel = np.asarray(cfg.symbols[claim.wrt][claim.select(s)])
        expected = out_shape + sel.shape
        truth = np.empty(expected, dtype=object)
        for i in np.ndindex(out_shape):
            for j in np.ndindex(sel.shape):
                truth[i + j] = cfg.derivative(i, sel[j])
    built = _call_spec(claim.expr, s, f"claim {claim.name!r}")
    try:
        claimed = to_layout(built, expected, f"claimed {claim.name}")
    except ShapeMismatch as exc:
        res.status, res.detail = "refuted", f"{exc}, the shape of the true derivative"
        res.counterexample = _where(cfg.point)
        res.diagnosis = diagnose(np.zeros(to_array(built).shape), np.zeros(expected))
        return
    diff = _as_object(claimed - truth)
    # 1. one random point with 50 digits refutes a wrong claim (a right one leaves ~1e-50)
    if _refuted_at_random_point(derivation, claim, cfg, claimed, truth, diff, rng, res):
        return
    # 2. try to prove the difference zero, within the budget left for this claim
    if res.status == "proved":
        t0 = time.perf_counter()
        try:
            with time_budget(left[claim.name]):
                proved = all(_is_zero(e) for e in diff.ravel())
        except BudgetExceeded:
            proved = False
        left[claim.name] -= time.perf_counter() - t0
        if proved:
            return
        res.status = "sampled"
    # 3. not proved: the evidence is more random points
    for _ in range(points - 1):
        if _refuted_at_random_point(derivation, claim, cfg, claimed, truth, diff, rng, res):
            return
    res.detail = f"zero at {res.points} points with {SYMBOLIC_DIGITS} digits; not proved within the time budget"


def _is_zero(e) -> bool:
    """Prove ``e`` == 0: expand(numer(together(.))), measured the fastest reliable
    form (see README). Sums of sigmoids or softmaxes over many words put every
    term over one common denominator, whose expansion grows exponentially with
    the number of terms; so the terms are first grouped by the exponentials they
    contain, and each group proved zero alone (which proves the sum zero). The
    groups that do not vanish alone (a constant term cancelling part of a
    sigmoid) are then tried together."""
    e = sp.sympify(e)
    if e == 0:
        return True
    if len({sp.denom(term) for term in sp.Add.make_args(e)}) <= 3:  # few denominators: together is cheap
        return sp.expand(sp.numer(sp.together(e))) == 0
    groups: dict = {}
    for term in sp.Add.make_args(sp.expand_mul(e)):
        key = frozenset(min(a.args[0], -a.args[0], key=sp.default_sort_key) for a in term.atoms(sp.exp))
        groups[key] = groups.get(key, 0) + term
    if len(groups) > 1:
        rest = [g for g in groups.values() if sp.expand(sp.numer(sp.together(g))) != 0]
        if not rest:
            return True
        if len(rest) < len(groups):  # the groups that cancel each other, without the ones that vanished
            e = sp.Add(*rest)
    return sp.expand(sp.numer(sp.together(e))) == 0


def _refuted_at_random_point(derivation, claim, cfg, claimed, truth, diff, rng, res) -> bool:
    values = rng.uniform(-1.0, 1.0, size=len(cfg.free))
    sub = {sym: sp.Float(float(v), SYMBOLIC_DIGITS) for sym, v in zip(cfg.free, values)}
    res.points += 1
    d = _values_at(diff, sub)
    t_arr = _values_at(truth, sub)
    c_arr = t_arr + d
    scale = max(float(np.max(np.abs(t_arr), initial=0.0)), float(np.max(np.abs(c_arr), initial=0.0)))
    if not d.size or float(np.max(np.abs(d))) <= SYMBOLIC_ZERO * scale:
        return False
    entries = "; ".join(f"{idx}: claimed {c:.6g}, sympy {r:.6g}" for idx, c, r in worst_entries(c_arr, t_arr))
    res.status = "refuted"
    res.detail = f"claimed {claim.name} vs sympy's derivative, worst entries {entries}"
    res.counterexample = _at_values(cfg.point, cfg.symbols, values).describe()
    res.diagnosis = diagnose(
        c_arr, t_arr, indices=index_values(derivation, cfg.point),
        terms=[(label, _values_at(arr, sub)) for label, arr in term_classes(claimed)],
        true_terms=[(label, _values_at(arr, sub)) for label, arr in term_classes(truth)])
    return True


def _as_object(x) -> np.ndarray:
    if isinstance(x, (np.ndarray, sp.MatrixBase)):
        return to_array(x)
    out = np.empty((), dtype=object)
    out[()] = x
    return out


def _values_at(arr, sub) -> np.ndarray:
    """Each entry at ``sub`` (50-digit numbers), as float64. An entry that comes
    out complex (a log of a negative number) keeps its size: |value| with the
    sign of its real part, so a difference never hides in the imaginary part."""
    arr = _as_object(arr)
    out = np.zeros(arr.shape)
    for idx in np.ndindex(arr.shape):
        e = sp.sympify(arr[idx])
        if e == 0:
            continue
        v = complex(sp.N(e.xreplace(sub), SYMBOLIC_DIGITS))
        out[idx] = v.real if v.imag == 0 else abs(v) * (1.0 if v.real >= 0 else -1.0)
    return out


def index_values(derivation: Derivation, point: Point) -> dict:
    """The index variables at ``point`` ({"o": 2, "samples": [1, 1]}), to name where a claim is wrong."""
    return {n: v for n, v in point.values.items() if not isinstance(derivation.variables[n], Real)}


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
    arr = _as_object(arr)
    classes: dict[tuple, tuple[str, np.ndarray]] = {}
    for idx in np.ndindex(arr.shape):
        entry = sp.sympify(arr[idx])
        for term in sp.Add.make_args(sp.expand_mul(entry)):
            if term == 0:
                continue
            key = _term_key(term)
            if key not in classes:
                label = sp.sstr(term)
                classes[key] = (label if len(label) <= 60 else label[:57] + "...", np.zeros(arr.shape, dtype=object))
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


def evaluate_by_substitution(derivation: Derivation, point: Point, build, expected: tuple) -> np.ndarray:
    """``build(s)`` with symbols, then the point's values substituted at 50 digits:
    for builders that look at the structure of what they build (mutants)."""
    s, symbols = build_namespace(derivation, point, "symbols")
    arr = to_layout(build(s), expected, "the expression")
    sub = {}
    for name, syms in symbols.items():
        for idx in np.ndindex(syms.shape):
            sub[syms[idx]] = sp.Float(float(point.values[name][idx]), SYMBOLIC_DIGITS)
    return _values_at(arr, sub)


def _at_values(point: Point, symbols: dict, values: np.ndarray) -> Point:
    """``point`` with its free real variables set to the sample ``values``."""
    filled, i = dict(point.values), 0
    for name, arr in symbols.items():
        filled[name] = np.asarray(values[i:i + arr.size]).reshape(arr.shape)
        i += arr.size
    return Point(point.sizes, filled, point.scale, point.fixed)


def _where(point: Point) -> str:
    parts = [f"{k}={v}" for k, v in point.sizes.items()]
    parts += [f"{k}={v}" for k, v in point.values.items() if not isinstance(v, np.ndarray)]
    parts += [f"{k}={np.array2string(point.values[k], separator=', ')}" for k in sorted(point.fixed)]
    return ", ".join(parts)
