"""The spec evaluated: with symbols, with 50 significant digits, with float64's 53 bits.

The same spec functions are called with a namespace ``s`` whose real variables
are sympy Matrices of symbols (for differentiation), of 50-digit numbers (the
exact reference) or of 53-bit numbers (float64's rounding of the formula).
Results are laid out as the implementation lays them out (`to_layout`).
"""

from __future__ import annotations


import numpy as np
import sympy as sp

from .errors import DerivationError
from .spec import Derivation, Fixed, Point, Real
from .tolerances import SYMBOLIC_DIGITS
from .tracebacks import user_frame

__all__ = ["ShapeMismatch", "SpecFailed", "build_namespace", "to_array", "to_layout", "value_shape", "call_spec", "evaluate_spec",
           "as_object", "values_at", "evaluate_by_substitution", "spec_undefined"]


class ShapeMismatch(Exception):
    """A spec result whose shape is not the one expected (``shape``: its own, ``expected``)."""

    def __init__(self, message: str, shape: tuple = (), expected: tuple = ()):
        super().__init__(message)
        self.shape, self.expected = shape, expected


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
        if not isinstance(kind, (Real, Fixed)):
            continue
        value = np.asarray(point.values[name], dtype=float)
        if name in point.fixed:
            # exact: the float's own binary value, so that claim and truth built from the
            # same data cancel exactly, whatever order sympy multiplies in
            arr = np.vectorize(lambda x: sp.Integer(int(x)) if float(x).is_integer() else sp.Rational(float(x)),
                               otypes=[object])(value) if value.size else value.astype(object)
        elif number is None:
            arr = np.empty(value.shape, dtype=object)
            assumptions = kind.symbol_assumptions()
            for idx in np.ndindex(value.shape):
                if getattr(kind, "symmetric", False) and idx[0] > idx[1]:
                    arr[idx] = arr[idx[1], idx[0]]  # one free entry: X[i,j] = X[j,i]
                    continue
                label = name + ("[" + ",".join(map(str, idx)) + "]" if idx else "")
                arr[idx] = sp.Symbol(label, **assumptions)
            symbols[name] = arr
        else:
            arr = np.empty(value.shape, dtype=object)
            for idx in np.ndindex(value.shape):
                arr[idx] = number(value[idx])
        overrides[name] = _to_sympy(arr, kind.row)
    return point.namespace(**overrides), symbols


def _to_sympy(arr: np.ndarray, row: bool):
    """``arr`` as the spec reads it: a vector a column Matrix (a row one with ``row``), a matrix a
    Matrix, more dimensions an Array."""
    if arr.ndim == 0:
        return arr[()]
    if arr.ndim == 1:
        return sp.Matrix(1, arr.shape[0], list(arr)) if row else sp.Matrix(arr.shape[0], 1, list(arr))
    if arr.ndim == 2:
        return sp.Matrix(arr.tolist())
    return sp.Array(arr.tolist(), arr.shape)


def to_array(expr) -> np.ndarray:
    if isinstance(expr, sp.MatrixBase):
        out = np.empty(expr.shape, dtype=object)
        for i in range(expr.rows):
            for j in range(expr.cols):
                out[i, j] = expr[i, j]
        return out
    if isinstance(expr, np.ndarray):
        return expr.astype(object)
    if isinstance(expr, sp.NDimArray):
        shape = tuple(int(n) for n in expr.shape)
        out = np.empty(shape, dtype=object)
        for idx in np.ndindex(shape):
            out[idx] = expr[idx]
        return out
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
    raise ShapeMismatch(f"{what} has shape {_shape_text(arr.shape)}; expected {_shape_text(expected)}", arr.shape,
                        expected)


def _shape_text(shape):
    return "scalar" if shape == () else "×".join(map(str, shape))


def value_shape(J) -> tuple:
    arr = to_array(J)
    if arr.ndim == 2 and 1 in arr.shape:
        return () if arr.shape == (1, 1) else (max(arr.shape),)
    return arr.shape


def call_spec(fn, s, what):
    """``fn(s)``, a spec function of the user's: what it raises is the derivation's error, named
    with the file, line and function in the user's code; what it returns must be sympy (or numbers)."""
    try:
        out = fn(s)
    except DerivationError:
        raise
    except Exception as exc:
        raise DerivationError(f"spec {what} raised {type(exc).__name__}: {exc}{user_frame(exc)}{_hint(exc, s)}") \
            from exc
    if not _is_math(out):
        raise DerivationError(f"spec {what} returned {type(out).__name__}; expected a sympy expression, Matrix or "
                              "Array (or a number)" + (" — is a `return` missing?" if out is None else ""), fn=fn)
    return out


def _is_math(out) -> bool:
    if isinstance(out, (sp.Basic, sp.MatrixBase, sp.NDimArray, int, float)) and not isinstance(out, bool):
        return True
    return isinstance(out, np.ndarray) and out.dtype == object and all(_is_math(x) for x in out.ravel())


def _hint(exc: BaseException, s=None) -> str:
    text = str(exc)
    if "'int' object is not subscriptable" in text:
        ints = [f"s.{k}" for k, v in vars(s).items() if isinstance(v, int) and not isinstance(v, bool)] if s else []
        named = f"{', '.join(ints)} {'is an int' if len(ints) == 1 else 'are ints'} here: " if ints else ""
        return (f"; {named}in a spec an Index variable (s.o) is an int, as are a dimension (s.d) and an Int, and "
                "an Indices variable is a list of ints; an int cannot be subscripted (s.U[:, s.o] indexes with one)")
    if "ufunc" in text or "loop of ufunc" in text or isinstance(exc, AttributeError) and "'exp'" in text:
        return "; a spec builds sympy expressions: use sp.exp, sp.log, ... not np.exp, np.log"
    if "Cannot convert expression to float" in text or "can't convert expression to" in text:
        return "; a spec builds sympy expressions: use sp.tanh, sp.exp, sp.sqrt, ... not math.tanh, math.exp"
    return ""


def evaluate_spec(derivation: Derivation, point: Point, mode, shape: tuple | None = None
                  ) -> tuple[np.ndarray, dict[str, np.ndarray | str]]:
    """The spec's function value and claims as float arrays at ``point``,
    computed with sympy numbers in ``mode``; ``shape`` is the value's shape
    (the implementation's: a 1×1 spec Matrix may be a scalar or a 1-vector).
    A claim whose shape does not fit is returned as the message saying so."""
    s, _ = build_namespace(derivation, point, mode)
    J = call_spec(derivation.function, s, "function")
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
            arr = to_layout(call_spec(claim.expr, s, f"claim {claim.name!r}"), expected, f"claimed {claim.name}")
            claims[claim.name] = _floats(arr, f"claim {claim.name!r}")
        except ShapeMismatch as exc:
            claims[claim.name] = str(exc)
        except DerivationError as exc:  # this claim's spec fails: the others are still evaluated
            claims[claim.name] = SpecFailed(str(exc))
    return value, claims


def spec_undefined(derivation: Derivation, point: Point, by_truth: bool = False) -> bool:
    """Whether the spec itself is undefined at ``point``: its value or a claim evaluates (50 digits)
    to NaN, an infinity or zoo, or sympy's evaluation divides by zero. Such a point is outside the
    function's domain, whatever the code does there. ``by_truth``: a claim undefined where the
    function is defined counts only if sympy's own derivative is undefined there too (an implicit
    assumption was dropped: det(X)·X⁻ᵀ at a singular X then fails as stated, where the derivative
    exists, and the assumption shows as needed)."""
    try:
        with np.errstate(all="ignore"):
            value, claims = evaluate_spec(derivation, point, ("digits", SYMBOLIC_DIGITS))
    except (DerivationError, ZeroDivisionError, ArithmeticError, TypeError, ValueError):
        return True
    if not np.all(np.isfinite(value)):
        return True
    undefined = [name for name, c in claims.items()
                 if isinstance(c, SpecFailed) or not isinstance(c, str) and not np.all(np.isfinite(c))]
    if undefined and not by_truth:
        return True
    if undefined:
        # a claim undefined where the function is defined: outside the domain only if the true
        # derivative is undefined there too (√x at 0); det(X)·X⁻ᵀ at a singular X, where the true
        # derivative exists, is inside it, and the code's failure there is the claim's to answer for
        by_name = {c.name: c for c in derivation.claims}
        return all(_truth_undefined(derivation, point, by_name[name]) for name in undefined)
    # sympy keeps a Matrix's exact zeros out of its arithmetic: Matrix([0, 0]) / 0 is Matrix([0, 0]), so a layer
    # norm's (x − μ)/σ at a constant x evaluates to 0 from numbers. The function built with symbols and the
    # point substituted into each entry meets the 0/0 (σ = 0) where it is.
    try:
        with np.errstate(all="ignore"):
            by_symbols = evaluate_by_substitution(derivation, point, derivation.function, np.shape(value))
    except (DerivationError, ZeroDivisionError, ArithmeticError, TypeError, ValueError):
        return True
    return not np.all(np.isfinite(by_symbols))


#: the most real entries at which sympy's own derivative is taken at a point (a 4×4 determinant and
#: its 16 derivatives take ~0.3 s, a 5×5 one seconds): beyond, a claim undefined there counts as the
#: derivative undefined, as it did before the derivative was asked
TRUTH_AT_A_POINT_ENTRIES = 24


def _truth_undefined(derivation: Derivation, point: Point, claim) -> bool:
    """Whether sympy's own derivative of the function by ``claim.wrt`` is undefined at ``point``
    (50 digits). Only a first derivative of a scalar function is taken; for any other claim (an
    identity, a backward pass, a second derivative) the answer is yes, as for an undefined claim."""
    if claim.identity or claim.upstream is not None or getattr(claim, "order", 1) != 1:
        return True
    entries = sum(int(np.size(point.values[name])) for name in derivation.variables if name in point.values
                  and isinstance(derivation.variables[name], (Real, Fixed)))
    if entries > TRUTH_AT_A_POINT_ENTRIES:  # sympy's derivative would cost seconds per point: as undefined
        return True
    try:
        s, symbols = build_namespace(derivation, point, "symbols")
        J = to_layout(call_spec(derivation.function, s, "function"), (), "the spec's function")[()]
        sub = {sym: sp.Float(float(point.values[name][idx]), SYMBOLIC_DIGITS)
               for name, syms in symbols.items() for idx, sym in np.ndenumerate(syms)}
        for sym in np.ravel(symbols[claim.wrt]):
            d = complex(sp.diff(J, sym).xreplace(sub).evalf(SYMBOLIC_DIGITS))
            if not np.isfinite(d):
                return True
    except (DerivationError, ZeroDivisionError, ArithmeticError, TypeError, ValueError, KeyError, ShapeMismatch):
        return True
    return False


class SpecFailed(str):
    """A claim whose spec raised or is not a number: its message, kept apart from a shape mismatch."""


def _floats(arr: np.ndarray, what: str) -> np.ndarray:
    out = np.empty(arr.shape)
    for idx in np.ndindex(arr.shape):
        try:
            out[idx] = float(arr[idx])
        except TypeError as exc:
            raise DerivationError(f"spec {what} did not evaluate to a real number at entry {list(idx)}: "
                                  f"{sp.sstr(arr[idx])[:80]}") from exc
    return out


def as_object(x) -> np.ndarray:
    if isinstance(x, (np.ndarray, sp.MatrixBase)):
        return to_array(x)
    out = np.empty((), dtype=object)
    out[()] = x
    return out


def values_at(arr, sub) -> np.ndarray:
    """Each entry at ``sub`` (50-digit numbers), as float64. An entry that comes
    out complex (a log of a negative number) keeps its size: |value| with the
    sign of its real part, so a difference never hides in the imaginary part."""
    arr = as_object(arr)
    out = np.zeros(arr.shape)
    for idx in np.ndindex(arr.shape):
        e = sp.sympify(arr[idx])
        if e == 0:
            continue
        v = complex(sp.N(e.xreplace(sub), SYMBOLIC_DIGITS))
        out[idx] = v.real if v.imag == 0 else abs(v) * (1.0 if v.real >= 0 else -1.0)
    return out


def evaluate_by_substitution(derivation: Derivation, point: Point, build, expected: tuple) -> np.ndarray:
    """``build(s)`` with symbols, then the point's values substituted at 50 digits:
    for builders that look at the structure of what they build (mutants)."""
    s, symbols = build_namespace(derivation, point, "symbols")
    arr = to_layout(build(s), expected, "the expression")
    sub = {}
    for name, syms in symbols.items():
        for idx in np.ndindex(syms.shape):
            sub[syms[idx]] = sp.Float(float(point.values[name][idx]), SYMBOLIC_DIGITS)
    return values_at(arr, sub)
