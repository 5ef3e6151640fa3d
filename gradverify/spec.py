"""The derivation spec: variables, assumptions, the function, the claims, the code.

A derivation is data. It names its variables with shapes over named dimensions,
states its assumptions, gives the function and every claimed derivative as
Python functions that build sympy expressions from a namespace ``s`` (``s.U``,
``s.v_c``, ``s.o``, ``s.d`` ...), and points at the numpy implementation that
returns the value and the claimed gradients the way a user's code would.

The same spec functions are called with symbols (for sympy's differentiation),
with 50-digit numbers (the exact reference) and with 53-bit numbers (float64's
rounding), so they must only use sympy and plain Python on ``s``.
"""

from __future__ import annotations

import warnings
from dataclasses import InitVar, dataclass, field
from functools import cached_property
from types import SimpleNamespace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .errors import DerivationError, InvalidArgument
from .tolerances import DEFAULT_SCALES

__all__ = [
    "Real",
    "Index",
    "Indices",
    "Int",
    "Fixed",
    "Assumption",
    "OneHot",
    "Excludes",
    "Distinct",
    "Require",
    "Claim",
    "Implementation",
    "Derivation",
    "resolve_sizes",
    "by_name",
    "Point",
]



# ---------------------------------------------------------------- points
class Names(SimpleNamespace):
    """What a spec's functions read as ``s``: the point's sizes and values by name (``s.U``, ``s.d``).
    A name that is not there is an AttributeError that lists the names that are, and the nearest."""

    def __getattr__(self, name: str):
        if name.startswith("_"):  # (copy, pickle and hasattr probes: plainly absent)
            raise AttributeError(name)
        import difflib

        known = sorted(vars(self))
        near = difflib.get_close_matches(name, known, n=1)
        raise AttributeError(f"s.{name}: this derivation has no variable or dimension {name!r} (it has "
                             f"{', '.join(known)})" + (f"; did you mean s.{near[0]}?" if near else ""))


@dataclass
class Point:
    """One input: sizes for every named dimension, a value for every variable, and the
    scale the real values were drawn at."""

    sizes: dict[str, int]
    values: dict[str, Any]
    scale: float
    #: real variables whose value an assumption fixes (a one-hot y): not free symbols
    fixed: frozenset = frozenset()

    def namespace(self, **overrides) -> SimpleNamespace:
        return Names(**{**self.sizes, **self.values, **overrides})

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in self.sizes.items()]
        for name, v in self.values.items():
            if isinstance(v, np.ndarray):
                text = np.array2string(v, precision=4, separator=", ", max_line_width=10**6)
                parts.append(f"{name}={' '.join(text.split())}")
            else:
                parts.append(f"{name}={v}")
        return ", ".join(parts)



# ---------------------------------------------------------------- variable kinds
@dataclass(frozen=True)
class Real:
    """A real array over named dimensions: ``Real()`` scalar, ``Real("d")``,
    ``Real("d", "V")``, ``Real("N", "C", "T")``. In the spec a vector is a column
    (d x 1) unless ``row=True`` (1 x d), a matrix a sympy Matrix, and an array of
    three or more dimensions a sympy Array (index it ``s.x[n, c, t]``); the
    implementation always sees a numpy array of shape ``(d,)``, ``(d, V)``, ...

    ``domain``: where the values may lie — ``"positive"`` (x > 0), ``"nonzero"``,
    or an open interval ``(lo, hi)`` (either end may be None). Inputs are drawn
    within it and the sympy symbols get the matching assumptions (positive=True,
    nonzero=True). A condition on the whole point ("the entries are not all
    equal") is a `Require` assumption."""

    dims: tuple = ()
    row: bool = False
    domain: Any = None
    #: a square matrix drawn with structure: "symmetric", "positive-definite" (symmetric too) or
    #: "diagonal"; a claim by a symmetric one states its reading (`Claim.reading`)
    structure: str | None = None

    def __init__(self, *dims: str, row: bool = False, domain=None, structure: str | None = None):
        if not all(isinstance(d, str) for d in dims):
            raise InvalidArgument("dimension names (strings) for Real", f"dims={dims!r}",
                                  'Name each dimension and give its range in dims=, e.g. Real("N", "C", "T").')
        if not (domain in (None, "positive", "nonzero") or _is_interval(domain)):
            raise InvalidArgument('domain="positive", "nonzero" or an open interval (lo, hi)', f"domain={domain!r}",
                                  "Use None for an end without a bound, e.g. (0, None); for a condition on "
                                  "the whole point use a Require assumption.")
        if structure is not None and (structure not in STRUCTURES or len(dims) != 2 or dims[0] != dims[1]):
            raise InvalidArgument(f"structure= one of {', '.join(map(repr, STRUCTURES))} on a square matrix "
                                  'Real("n", "n")', f"structure={structure!r} on Real{tuple(dims)!r}",
                                  "A structure describes a square matrix over one dimension twice.")
        object.__setattr__(self, "dims", tuple(dims))
        object.__setattr__(self, "row", row)
        object.__setattr__(self, "domain", domain)
        object.__setattr__(self, "structure", structure)

    @property
    def symmetric(self) -> bool:
        """Drawn symmetric: entries (i, j) and (j, i) are one free entry."""
        return self.structure in ("symmetric", "positive-definite")

    def describe(self) -> str:
        text = "real " + ("scalar" if not self.dims else "×".join(self.dims))
        if self.structure:
            text += f", {self.structure}"
        if self.domain in ("positive", "nonzero"):
            return f"{text}, {self.domain}"
        if self.domain is not None:
            lo, hi = self.domain
            return f"{text}, in ({'-∞' if lo is None else lo}, {'∞' if hi is None else hi})"
        return text

    def symbol_assumptions(self) -> dict:
        """sympy assumptions of this variable's symbols."""
        if self.domain == "positive" or (_is_interval(self.domain) and self.domain[0] is not None
                                         and self.domain[0] >= 0):
            return {"real": True, "positive": True}
        if self.domain == "nonzero":
            return {"real": True, "nonzero": True}
        return {"real": True}


#: the structures a square Real may be drawn with
STRUCTURES = ("symmetric", "positive-definite", "diagonal")
#: how a claim by a symmetric matrix reads (`Claim.reading`), and what the report says of each
READINGS = {"free-entries": "the derivative with respect to the free entries (X_ij and X_ji one entry)",
            "symmetric-perturbation": "the gradient along symmetric perturbations X + εE, E = Eᵀ"}
#: how a claim by a diagonal matrix reads (optional: without a reading it is read entry by entry, the
#: gradient of the function of a general matrix at a diagonal point), and what the report says of each
DIAGONAL_READINGS = {"free-entries": "the derivative with respect to the free entries (the diagonal X_ii; "
                                     "0 off the diagonal)",
                     "diagonal-perturbation": "the gradient along diagonal perturbations X + εD, D diagonal "
                                              "(its diagonal; the entries off it are not read)"}


def readings_of(kind) -> dict:
    """The readings a claim by a variable of this kind may state (`Claim.reading`): their texts."""
    if isinstance(kind, Real) and kind.symmetric:
        return READINGS
    if isinstance(kind, Real) and kind.structure == "diagonal":
        return DIAGONAL_READINGS
    return {}


def _is_interval(domain) -> bool:
    if not (isinstance(domain, tuple) and len(domain) == 2):
        return False
    lo, hi = domain
    numbers = all(x is None or (isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x))
                  for x in domain)
    return numbers and (lo is None or hi is None or lo < hi)


@dataclass(frozen=True)
class Int:
    """An integer hyper-parameter drawn in ``lo..hi`` (a window size, a stride, a count):
    the code and the spec receive a plain int; nothing is differentiated by it."""

    lo: int
    hi: int

    def __post_init__(self):
        if not (isinstance(self.lo, int) and isinstance(self.hi, int) and self.lo <= self.hi):
            raise InvalidArgument("Int(lo, hi) with integers lo <= hi", f"Int({self.lo!r}, {self.hi!r})")

    def describe(self) -> str:
        return f"integer in {self.lo}..{self.hi}"


@dataclass(frozen=True)
class Fixed:
    """Data the user supplies, not drawn and not differentiated: a constant, a data matrix,
    a hyper-parameter such as GloVe's x_max. ``value`` is a number or array, or a function
    of the sizes (``lambda n: np.eye(n["d"])``). The code receives it as a float array (a
    float for a scalar); the spec as sympy numbers laid out as for `Real`."""

    value: Any
    row: bool = False

    def at(self, sizes: Mapping[str, int]) -> np.ndarray:
        try:
            value = self.value(dict(sizes)) if callable(self.value) else self.value
            return np.array(value, dtype=np.float64)
        except Exception as exc:
            raise DerivationError(f"Fixed value raised {type(exc).__name__}: {exc}") from exc

    def describe(self) -> str:
        return "fixed data"


@dataclass(frozen=True)
class Index:
    """One word index in ``range(dim)``."""

    dim: str

    def describe(self) -> str:
        return f"index in 0..{self.dim}-1"


@dataclass(frozen=True)
class Indices:
    """A list of ``count`` word indices in ``range(dim)``; with ``rows`` a
    ``rows`` x ``count`` table (one list per row). Drawn with replacement unless
    a `Distinct` assumption says otherwise."""

    count: str
    dim: str
    rows: str | None = None

    def describe(self) -> str:
        shape = f"{self.rows}×{self.count}" if self.rows else self.count
        return f"{shape} indices in 0..{self.dim}-1"


# ---------------------------------------------------------------- assumptions
@dataclass(frozen=True)
class Assumption:
    """An assumption about the variable ``var`` that the inputs are drawn within.

    ``source`` is ``"stated"`` when the derivation's source states it,
    ``"implicit"`` when the claim needs it but the source does not say so (then
    ``why`` says how we know). Drawing honours every assumption in force;
    dropping one lets the inputs leave it. Only the kinds below are drawn within
    (`sampling`); another subclass is refused at registration, never ignored.
    """

    text: str
    source: str = "stated"
    why: str = ""
    var: str = ""

    @property
    def target(self) -> str:
        return self.var


@dataclass(frozen=True)
class OneHot(Assumption):
    """``var`` (a ``Real(dim)``) is the one-hot vector with a 1 at index ``at``."""

    at: str = ""


@dataclass(frozen=True)
class Excludes(Assumption):
    """The indices in ``var`` never equal ``other`` (an Index, or one Index per
    row when ``other`` is an Indices list as long as ``var`` has rows)."""

    other: str = ""


@dataclass(frozen=True)
class Require(Assumption):
    """A condition on the whole point: ``holds(s)`` is true for every point drawn
    (``s`` is the namespace the implementation's values live in: ``s.x`` a numpy
    array). For what a per-variable domain cannot say, e.g. layer norm's
    ``Require("x is not constant", var="x", holds=lambda s: np.ptp(s.x) > 1e-3)``.
    Points where it fails are drawn again."""

    holds: Callable[[SimpleNamespace], bool] | None = None


@dataclass(frozen=True)
class Distinct(Assumption):
    """The indices in ``var`` (each row) are all different."""


# ---------------------------------------------------------------- claims
Builder = Callable[[SimpleNamespace], Any]


@dataclass(frozen=True)
class Claim:
    """One claim of a derivation.

    * ``name``: how the report names it, e.g. ``"∂J/∂v_c"``.
    * ``as_written``: the claim as the source writes it, e.g. ``"U (ŷ − y)ᵀ"``
      (``seed_text=`` is the old name, still accepted).
    * ``expr(s)``: the claimed derivative as a sympy expression or Matrix.
    * ``wrt``: the variable differentiated by; ``index(s)`` optionally selects
      part of it with numpy indexing (``(slice(None), s.o)`` is column o).
      The claimed array is laid out as (function output dims) + (selected dims).
    * ``output``: the implementation's return value that holds the claim
      (the same ``index`` is applied to it).
    * ``identity=True``: the claim is an identity ``function == expr``, not a
      derivative (then ``wrt`` and ``index`` are unused).
    * ``upstream``: a backward pass, as a layer's code is written (``dx = backward(dout,
      cache)``): the function is the layer's output (a vector or tensor), ``upstream`` names
      the Real variable holding dout (the output's shape), and the claim is the
      vector–Jacobian product Σ_i dout_i ∂out_i/∂wrt, laid out as the selected part of wrt.
    * ``order=2`` (or ``wrt=("x", "x")``): a second derivative, ∂²f/∂x² of a scalar function,
      laid out as (x dims) + (selected x dims): the Jacobian of the gradient, as torch's
      gradgradcheck and jax's ``order=2`` see it. Checked three ways like a first-order claim:
      against sympy's second derivative, against central differences of the implementation's
      gradient (the output of the derivation's first-order claim by the same ``wrt``, which must
      exist), and against the spec at 50 digits.
    * ``expect``: the verdict this claim is known to get ("conditional",
      "refuted", ...), with the ``reason``; like pytest's ``xfail(strict=True)``
      the run passes while the verdict is the expected one and fails when it
      changes, either way.
    """

    name: str
    expr: Builder
    output: str
    wrt: str | None = None
    index: Callable[[SimpleNamespace], Any] | None = None
    as_written: str = ""
    identity: bool = False
    expect: str | None = None
    reason: str = ""
    upstream: str | None = None
    #: 1: a derivative; 2: a second derivative (a Hessian), see above
    order: int = 1
    seed_text: InitVar[str | None] = None
    #: for ``wrt`` a symmetric (or positive-definite) matrix: how the claim reads, "free-entries"
    #: (∂f/∂θ_ij with X_ij = X_ji = θ_ij: the Matrix Cookbook's symmetric formulas) or
    #: "symmetric-perturbation" (the symmetric G with df = ⟨G, dX⟩ for every symmetric dX); for a
    #: diagonal matrix (optional) "free-entries" (∂f/∂X_ii on the diagonal, 0 off it) or
    #: "diagonal-perturbation" (G with df = ⟨G, dX⟩ for every diagonal dX: its diagonal only)
    reading: str | None = None

    def __post_init__(self, seed_text):
        if isinstance(self.wrt, tuple):  # wrt=("x", "x"): the second derivative by x
            if len(self.wrt) not in (1, 2) or len(set(self.wrt)) != 1 or not isinstance(self.wrt[0], str):
                raise InvalidArgument('wrt a variable name, or ("x", "x") for a second derivative by x',
                                      f"wrt={self.wrt!r} for claim {self.name!r}",
                                      "Mixed second derivatives ∂²f/∂x∂y are not supported: claim ∂²f/∂x² per variable.")
            object.__setattr__(self, "order", max(self.order, len(self.wrt)))
            object.__setattr__(self, "wrt", self.wrt[0])
        if seed_text is not None:
            warnings.warn("Claim(seed_text=) is now Claim(as_written=)", DeprecationWarning, stacklevel=3)
            object.__setattr__(self, "as_written", seed_text)

    def select(self, s):
        """The claim's selection in ``wrt`` (numpy indexing; ``...`` for all of it) at namespace ``s``.
        A failing index function is the derivation's error, not gradverify's."""
        if self.index is None or self.identity:
            return ...
        try:
            return self.index(s)
        except Exception as exc:
            raise DerivationError(f"index of claim {self.name!r} raised {type(exc).__name__}: {exc}") from exc

    def full_index(self, s, out_ndim: int) -> tuple:
        """The selection in the implementation's output that holds the claim: the function
        value's own dimensions first (all of them), then the claim's selection."""
        index = self.select(s)
        out_ndim = 0 if self.upstream else out_ndim  # a backward pass has the shape of its input
        if self.order == 2:  # a Hessian: the gradient's dimensions (x's) first
            out_ndim = np.ndim(getattr(s, self.wrt))
        return (slice(None),) * out_ndim + (index if isinstance(index, tuple) else (index,))

    def shape(self, s, out_shape: tuple, wrt_shape: tuple) -> tuple:
        """The claimed array's shape: the function value's dimensions, then the selected ones."""
        if self.identity:
            return tuple(out_shape)
        out_shape = () if self.upstream else out_shape
        if self.order == 2:  # a Hessian: the gradient's dimensions (x's) first
            out_shape = tuple(wrt_shape)
        try:
            selected = np.empty(wrt_shape)[self.select(s)].shape
        except (IndexError, TypeError, ValueError) as exc:
            raise DerivationError(f"index of claim {self.name!r} does not fit {self.wrt} of shape "
                                  f"{tuple(wrt_shape)}: {exc}") from exc
        return tuple(out_shape) + selected


@dataclass(frozen=True)
class Implementation:
    """The code: ``fn(*args)`` returns the values named by ``returns``;
    ``returns[0]`` is the function value, the others hold claimed gradients.
    Real variables arrive as float64 arrays, indices as ints / lists of ints.

    ``batched``: real variables for which ``fn`` also takes a stack of values on
    a new leading axis and returns the stack of function values (first output):
    finite differences then move every entry in one call (vectorised)."""

    fn: Callable
    args: Sequence[str]
    returns: Sequence[str]
    batched: Sequence[str] = ()
    #: the array library ``fn`` is written in: "numpy", "torch" or "jax"; None: read from the
    #: names its code uses (`gradverify.frameworks.detect`). torch and jax code gets float64
    #: CPU tensors and its outputs are converted back to numpy, at the boundary.
    framework: str | None = None

    @cached_property
    def written_in(self) -> str:
        """The framework ``fn`` is written in: the one given, else the one detected (once: the
        implementation is called thousands of times in a check)."""
        from .frameworks import detect

        return self.framework or detect(self.fn)


@dataclass
class Derivation:
    """One registered derivation; see the module docstring and README.

    ``citation``: where the derivation comes from ("seed …, question (e)", "my
    notes, page 3"); ``source=`` is the old name, still accepted."""

    id: str
    title: str
    dims: Mapping[str, Any]
    variables: Mapping[str, Any]
    function: Builder
    claims: Sequence[Claim]
    implementation: Implementation
    assumptions: Sequence[Assumption] = ()
    #: sizes the symbolic check uses; each tuple has all sizes different so that
    #: a transposed matrix cannot pass because two dimensions happen to be equal.
    symbolic_sizes: Sequence[Mapping[str, int]] = ()
    scales: Sequence[float] = DEFAULT_SCALES
    #: claims about cost (`gradverify.cost.CostClaim`), checked by counting operations
    costs: Sequence[Any] = ()
    citation: str = ""
    origin: str = field(default="", compare=False)
    source: InitVar[str | None] = None

    def __post_init__(self, source):
        if source is not None:
            warnings.warn("Derivation(source=) is now Derivation(citation=)", DeprecationWarning, stacklevel=3)
            self.citation = source
        self.validate()

    def sizes(self, given: Mapping[str, int]) -> dict[str, int]:
        """``given`` with every dimension declared as a function of the others filled in."""
        return resolve_sizes(self.dims, given)

    # A derivation with a mistake in its own description is an InvalidArgument
    # raised at registration, with the field named, not a failure at check time.
    def validate(self) -> None:
        where = f"derivation {self.id!r}"
        if not isinstance(self.id, str) or not self.id or " " in self.id:
            raise InvalidArgument("a non-empty id without spaces", f"id={self.id!r}")
        for check in (_check_dims, _check_variables, _check_assumptions, _check_implementation, _check_claims,
                      _check_symbolic_sizes):
            check(self, where)

    def claim(self, name: str) -> Claim:
        return by_name(self.claims, name, lambda c: c.name)

    @property
    def real_variables(self) -> list[str]:
        return [n for n, k in self.variables.items() if isinstance(k, Real)]

    def indices_at(self, point: "Point") -> dict:
        """The index variables at ``point`` ({"o": 2, "samples": [1, 1]}), to name where a claim is wrong."""
        return {n: v for n, v in point.values.items() if isinstance(self.variables[n], (Index, Indices))}


# ---------------------------------------------------------------- validation, one field at a time
#: the widest range a dimension may be drawn from, and the most scalar symbols the
#: symbolic check may build at one size tuple: beyond them a check runs for minutes
#: (per-entry finite differences at 10**6 entries; sympy over 60×70 symbols took 123 s)
MAX_DIM = 1000
MAX_SYMBOLS = 400


def _check_dims(d: "Derivation", where: str) -> None:
    for name, rng in d.dims.items():
        if callable(rng):
            continue
        if not (isinstance(rng, tuple) and len(rng) == 2 and all(isinstance(x, int) for x in rng)
                and 1 <= rng[0] <= rng[1]):
            raise InvalidArgument("each dimension as (low, high) with 1 <= low <= high, or a function of the others",
                                  f"dims[{name!r}]={rng!r} in {where}")
        if rng[1] > MAX_DIM:
            raise InvalidArgument(f"dimension ranges up to {MAX_DIM}", f"dims[{name!r}]={rng!r} in {where}",
                                  "Every entry is checked by finite differences at each example: small sizes "
                                  "find the same mistakes. For large sizes use gradverify.checking.")


def _check_variables(d: "Derivation", where: str) -> None:
    for name, kind in d.variables.items():
        if not isinstance(kind, (Real, Index, Indices, Int, Fixed)):
            raise InvalidArgument("Real(...), Index(...), Indices(...), Int(lo, hi) or Fixed(value)",
                                  f"variables[{name!r}]={kind!r} in {where}")
        for dim in _dims_of(kind):
            if dim not in d.dims:
                raise InvalidArgument(f"a dimension declared in dims ({', '.join(d.dims)})",
                                      f"{dim!r} in variables[{name!r}] of {where}", "Add it to dims=.")
    clash = set(d.dims) & set(d.variables)
    if clash:
        raise InvalidArgument("dimension names different from variable names", f"{sorted(clash)} in {where}")


#: the assumption kinds drawing knows how to honour; any other is refused, never ignored
KNOWN_ASSUMPTIONS = ("OneHot", "Excludes", "Distinct", "Require")


def _check_assumptions(d: "Derivation", where: str) -> None:
    for a in d.assumptions:
        if type(a) not in (OneHot, Excludes, Distinct, Require):
            raise InvalidArgument(f"an assumption of a kind gradverify draws within ({', '.join(KNOWN_ASSUMPTIONS)})",
                                  f"{type(a).__name__} in {where}",
                                  "A subclass would be silently ignored; for any condition on the point use "
                                  "Require(text, var=, holds=lambda s: ...).")
        if a.target not in d.variables:
            raise InvalidArgument(f"an assumption about a declared variable ({', '.join(d.variables)})",
                                  f"{type(a).__name__}(var={a.target!r}) in {where}")
        if a.source not in ("stated", "implicit"):
            raise InvalidArgument('source="stated" or source="implicit"', f"source={a.source!r} in {where}",
                                  'source="seed" is now "stated".' if a.source == "seed" else "")
        if isinstance(a, Require) and not callable(a.holds):
            raise InvalidArgument("Require(..., holds=a function of the point)", f"holds={a.holds!r} in {where}")


def _check_implementation(d: "Derivation", where: str) -> None:
    impl = d.implementation
    for name in impl.batched:
        if name not in d.real_variables:
            raise InvalidArgument(f"batched naming Real variables ({', '.join(d.real_variables)})",
                                  f"batched contains {name!r} in {where}")
    for arg in impl.args:
        if arg not in d.variables and arg not in d.dims:
            import difflib

            near = difflib.get_close_matches(arg, [*d.variables, *d.dims], n=1)
            raise InvalidArgument(f"implementation args among the variables ({', '.join(d.variables)}) or the "
                                  f"dimensions ({', '.join(d.dims)})",
                                  f"args={tuple(impl.args)!r}, whose {arg!r} is neither, in {where}",
                                  f"Did you mean {near[0]!r}?" if near else "")
    if len(impl.returns) < 1:
        raise InvalidArgument("at least one name in returns (the function value first)",
                              f"returns={impl.returns!r} in {where}")
    from .frameworks import FRAMEWORKS

    if impl.framework is not None and impl.framework not in FRAMEWORKS:
        names = ", ".join(map(repr, FRAMEWORKS[:-1])) + f" or {FRAMEWORKS[-1]!r}"
        raise InvalidArgument(f"framework {names} (or None: detected from the code)",
                              f"framework={impl.framework!r} in {where}")


def _check_claims(d: "Derivation", where: str) -> None:
    if not d.claims:
        raise InvalidArgument("at least one Claim", f"claims=[] in {where}")
    names = [c.name for c in d.claims]
    if len(set(names)) != len(names):
        raise InvalidArgument("a different name for each claim", f"names {names} in {where}",
                              "Results are reported by claim name.")
    verdicts = ("holds", "conditional", "refuted", "error")
    for c in d.claims:
        if c.output not in d.implementation.returns:
            raise InvalidArgument(f"claim output among the implementation's returns "
                                  f"({', '.join(d.implementation.returns)})",
                                  f"output={c.output!r} for claim {c.name!r} in {where}")
        if not c.identity and (c.wrt not in d.variables or not isinstance(d.variables[c.wrt], Real)):
            raise InvalidArgument("wrt naming a Real variable", f"wrt={c.wrt!r} for claim {c.name!r} in {where}")
        if c.upstream is not None and (c.identity or not isinstance(d.variables.get(c.upstream), Real)):
            raise InvalidArgument("upstream naming a Real variable (the cotangent dout, the output's shape)",
                                  f"upstream={c.upstream!r} for claim {c.name!r} in {where}")
        _check_order(d, c, where)
        _check_reading(d, c, where)
        if c.expect is not None and c.expect not in verdicts:
            raise InvalidArgument(f"expect= one of {', '.join(verdicts)}", f"expect={c.expect!r} for claim "
                                  f"{c.name!r} in {where}", "Say which verdict the claim is known to get.")


def _check_reading(d: "Derivation", c: Claim, where: str) -> None:
    """A claim by a symmetric matrix states its reading; one by a diagonal matrix may; no other does."""
    kind = d.variables.get(c.wrt)
    structured = isinstance(kind, Real) and kind.symmetric and not c.identity
    if structured and c.reading not in READINGS:
        raise InvalidArgument(f"reading= one of {', '.join(map(repr, READINGS))} for a claim by the symmetric "
                              f"matrix {c.wrt}", f"reading={c.reading!r} for claim {c.name!r} in {where}",
                              "Say which derivative the claim is: with respect to the free entries (the "
                              "Cookbook's symmetric formulas) or along symmetric perturbations.")
    diagonal = isinstance(kind, Real) and kind.structure == "diagonal" and not c.identity
    if diagonal and c.reading not in (None, *DIAGONAL_READINGS):
        raise InvalidArgument(f"reading= one of {', '.join(map(repr, DIAGONAL_READINGS))} (or none: entry by "
                              f"entry) for a claim by the diagonal matrix {c.wrt}",
                              f"reading={c.reading!r} for claim {c.name!r} in {where}",
                              "Say which derivative the claim is: with respect to the diagonal entries (0 off "
                              "it), or along diagonal perturbations (its diagonal only).")
    if not (structured or diagonal) and c.reading is not None:
        raise InvalidArgument("reading= only for a claim by a structured matrix (Real(..., structure=...))",
                              f"reading={c.reading!r} for claim {c.name!r} in {where}")


def _check_order(d: "Derivation", c: Claim, where: str) -> None:
    """order 1 or 2; a second derivative needs the first-order claim whose output it differentiates."""
    if isinstance(c.order, bool) or c.order not in (1, 2):
        raise InvalidArgument("order=1 (a derivative) or order=2 (a second derivative)",
                              f"order={c.order!r} for claim {c.name!r} in {where}")
    if c.order == 2:
        if c.identity or c.upstream is not None:
            raise InvalidArgument("order=2 on a claim about a scalar function's second derivative (no identity=, "
                                  "no upstream=)", f"claim {c.name!r} in {where}")
        differentiated_output(d, c)


def differentiated_output(d: "Derivation", c: Claim) -> str:
    """The implementation's output whose derivative claim ``c`` is: the function value, or for a
    second derivative the gradient (the output of the first-order claim by the same variable, over
    all of it, no upstream)."""
    if c.order != 2:
        return d.implementation.returns[0]
    for other in d.claims:
        if other.order == 1 and other.wrt == c.wrt and other.index is None and other.upstream is None \
                and not other.identity:
            return other.output
    raise InvalidArgument(f"a first-order claim ∂f/∂{c.wrt} (no index=, no upstream=) beside the second derivative "
                          f"{c.name!r}", f"none in {where_of(d)}",
                          f"The second derivative is checked against central differences of the implementation's "
                          f"gradient: claim it too, Claim('∂f/∂{c.wrt}', ..., output='<the gradient>', wrt={c.wrt!r}).")


def where_of(d: "Derivation") -> str:
    return f"derivation {d.id!r}"


def _check_symbolic_sizes(d: "Derivation", where: str) -> None:
    for sizes in d.symbolic_sizes:
        if not all(isinstance(v, int) and v >= 1 for v in sizes.values()):
            raise InvalidArgument("positive integer sizes in symbolic_sizes", f"{dict(sizes)} in {where}")
        missing = set(d.dims) - set(sizes) - {k for k, v in d.dims.items() if callable(v)}
        if missing:
            raise InvalidArgument("every dimension in each symbolic_sizes entry",
                                  f"{dict(sizes)} missing {sorted(missing)} in {where}")
        symbols = sum(int(np.prod([resolve_sizes(d.dims, sizes).get(x, 1) for x in k.dims]))
                      for k in d.variables.values() if isinstance(k, Real))
        if symbols > MAX_SYMBOLS:
            raise InvalidArgument(f"symbolic sizes with at most {MAX_SYMBOLS} scalar symbols in all",
                                  f"{dict(sizes)} ({symbols} symbols) in {where}",
                                  "sympy differentiates by each symbol; the smallest sizes with all dimensions "
                                  "different catch the same mistakes.")


def by_name(items, name: str, name_of: Callable[[Any], str]):
    """The item called ``name`` (a claim, a claim's result); a clear error naming the others if none is."""
    for item in items:
        if name_of(item) == name:
            return item
    raise InvalidArgument(f"one of the claims ({', '.join(name_of(i) for i in items)})", f"claim={name!r}")


def resolve_sizes(dims: Mapping[str, Any], given: Mapping[str, int]) -> dict[str, int]:
    """The one place sizes resolve: ``given`` (drawn or chosen sizes) with each dimension
    declared as a function of the others (``"W": lambda n: 2 * n["m"]``) computed, in
    declaration order. A function that raises or returns no positive int is the
    derivation's error."""
    sizes = dict(given)
    for name, rng in dims.items():
        if callable(rng):
            try:
                value = rng(sizes)
            except Exception as exc:
                raise DerivationError(f"dims[{name!r}] raised {type(exc).__name__}: {exc}") from exc
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise DerivationError(f"dims[{name!r}] returned {value!r} at {dict(sizes)}; expected a positive int")
            sizes[name] = int(value)
    return sizes


def _dims_of(kind) -> list[str]:
    if isinstance(kind, Real):
        return list(kind.dims)
    if isinstance(kind, (Int, Fixed)):
        return []
    if isinstance(kind, Index):
        return [kind.dim]
    return [kind.count, kind.dim] + ([kind.rows] if kind.rows else [])
