"""The symbolic side: sympy differentiates the function, component by component.

Matrix-level differentiation in sympy silently drops terms on these losses (see
README, "How each check decides"), so every real variable becomes an array of
scalar symbols at concrete sizes, the spec builds the function and the claims
from them, and sympy differentiates by each scalar.

A claim is compared with sympy's derivative in two steps:
1. the difference is evaluated at random points with 50 significant digits; a
   difference that is not ~1e-50 of the derivative *refutes* the claim;
2. otherwise sympy tries to *prove* it zero (expand(numer(together(.)))) within
   a budget counted in terms, not seconds: before an expansion is attempted, an
   upper bound on the number of terms it can produce is computed from the
   expression's structure (`proof_size`), and an expansion above
   `SYMBOLIC_PROOF_TERMS` is not attempted: the claim is then reported
   *sampled* (zero at every random point). A count needs no signal or thread,
   works the same on every OS and in any thread, and gives the same verdict on
   a fast machine and a slow one.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from math import comb, prod

import numpy as np
import sympy as sp

from .diagnosis import EXACT_RTOL, Observation, decide, degenerate, diagnose, worst_entries, worst_text
from .errors import DerivationError
from .sampling import RandomSource, draw_point, in_domain, structured, unmet
from .spec import Claim, Derivation, Point, resolve_sizes
from .results import CheckResult, Evidence, Status, SymbolicFigures
from .sympy_eval import ShapeMismatch, as_object, build_namespace, call_spec, to_array, to_layout, value_shape, values_at
from .terms import term_classes, term_parts
from .matrix_terms import matrix_label
from .breakpoints import breakpoints_on_line, compile_arguments, kink_arguments, line_points
from .tracebacks import describe
from .tolerances import DIAGNOSIS_POINTS, SYMBOLIC_DIGITS, SYMBOLIC_PROOF_TERMS, SYMBOLIC_ZERO, TINY

#: the breakpoint search's own random stream (its base points), apart from the random points'
KINK_STREAM = 0x6B696E6B
#: lines searched for breakpoints per size tuple (one moving symbol each), points tried at them per
#: claim, and of those the ones the numeric checks try as well (most telling first): a band between
#: two breakpoints has its midpoint among the first few
MAX_LINES = 8
MAX_BREAKPOINT_POINTS = 40
NUMERIC_BREAKPOINTS = 6
#: the most additive terms of the function whose derivatives a diagnosis may name
MAX_FUNCTION_PARTS = 8

__all__ = ["SymbolicResult", "check_symbolic", "default_symbolic_sizes", "symbolic_size_list",
           "proof_size", "degenerate_sizes"]


@dataclass
class SymbolicResult:
    status: str  # proved | sampled | refuted
    sizes: list = field(default_factory=list)
    detail: str = ""
    counterexample: str | None = None
    points: int = 0
    seconds: float = 0.0
    diagnosis: str = ""
    #: what the size tuples could not avoid: a dimension of 1, two dimensions equal
    degenerate: list[str] = field(default_factory=list)
    #: for a refuted claim: claimed − sympy's derivative at the refuting point (report.html's heatmap)
    evidence: Evidence | None = None
    #: for an error: the user's traceback (`gradverify.tracebacks.describe`)
    traceback: str = ""
    #: points on both sides of and between the function's and the claim's breakpoints, most telling
    #: first (`gradverify.breakpoints`): the numeric checks try them before hypothesis's examples
    breakpoints: list = field(default_factory=list)
    #: the diagnoses made at failing points (`gradverify.diagnosis.decide` states one), and the fresh
    #: points where the claim held
    observations: list = field(default_factory=list)
    held: int = 0

    def as_check(self) -> CheckResult:
        """The symbolic check's row of the report."""
        return CheckResult(Status(self.status), SymbolicFigures(self.sizes, self.points, self.seconds, self.degenerate),
                           self.detail, self.counterexample, self.diagnosis, evidence=self.evidence,
                           traceback=self.traceback)


def default_symbolic_sizes(derivation: Derivation) -> list[dict]:
    """Two size tuples, the smallest the ranges allow with every dimension at least 2
    (a sum over K = 1 cannot tell Σ_k from one term), all dimensions different within
    a tuple (so a transposed d×V cannot pass as V×d), and each dimension different in
    the two tuples; each rule is given up only where a range leaves no choice."""
    tuples: list[dict] = []
    for _ in range(2):
        sizes: dict = {}
        for name, rng in derivation.dims.items():
            if callable(rng):
                sizes[name] = resolve_sizes({name: rng}, sizes)[name]
                continue
            before = {t[name] for t in tuples}
            sizes[name] = _pick(range(rng[0], rng[1] + 1), set(sizes.values()), before)
        tuples.append(sizes)
    return tuples


def _pick(values: range, used: set, before: set) -> int:
    """The smallest value meeting the most rules, the first rules weighing most."""
    def rank(v):
        return (v < 2, v in used, v in before, v)
    return min(values, key=rank)


def degenerate_sizes(sizes_list: list[dict]) -> list[str]:
    """What in these size tuples can hide a mistake: a dimension of 1, two dimensions equal."""
    notes = []
    for sizes in sizes_list:
        ones = [k for k, v in sizes.items() if v == 1]
        if ones:
            notes.append(", ".join(f"{k}=1" for k in ones))
        by_value: dict = {}
        for k, v in sizes.items():
            by_value.setdefault(v, []).append(k)
        notes += ["=".join(ks) + f"={v}" for v, ks in by_value.items() if len(ks) > 1 and v > 1]
    return sorted(set(notes))


def symbolic_size_list(derivation: Derivation) -> list[dict]:
    """The size tuples the symbolic check uses: the derivation's, else the defaults; resolved."""
    return [derivation.sizes(s) for s in (derivation.symbolic_sizes or default_symbolic_sizes(derivation))]


def check_symbolic(derivation: Derivation, assumptions, seed: int, configs: int = 1, points: int = 3,
                   prove: bool = True) -> dict[str, SymbolicResult]:
    """Each claim against sympy's derivative, at every symbolic size tuple and
    ``configs`` index choices drawn within ``assumptions`` at each (``prove=False``:
    random points only, as the mutation self-test wants)."""
    rng = np.random.default_rng(seed)
    # the breakpoint lines' base points come from a generator of their own: the random points
    # drawn from ``rng`` are the same as without them
    kink_rng = np.random.default_rng([seed, KINK_STREAM])
    size_list = symbolic_size_list(derivation)
    degenerate = degenerate_sizes(size_list)
    results = {c.name: SymbolicResult("proved", sizes=size_list, degenerate=degenerate) for c in derivation.claims}
    refuted_at: dict = {}  # claim name: the size tuple last checked (where a refuted claim was refuted)
    for sizes in size_list:
        for _ in range(configs):
            point = draw_point(derivation, RandomSource(rng), assumptions, sizes=sizes, scale=1.0)
            config = _Config(derivation, point, kink_rng)
            for claim in derivation.claims:
                res = results[claim.name]
                if res.status == "error" or (res.status == "refuted" and refuted_at[claim.name] == sizes):
                    continue
                t0 = time.perf_counter()
                try:
                    if res.status == "refuted":  # at another size tuple: is the diagnosis the same there?
                        _diagnosis_elsewhere(claim, config, rng, res)
                    else:
                        _check_claim(claim, config, rng, points, res, prove)
                        refuted_at[claim.name] = sizes
                except DerivationError as exc:  # this claim's spec cannot be built: the others still are
                    res.status, res.detail, res.traceback = "error", str(exc), describe(exc)
                res.seconds += time.perf_counter() - t0
    for res in results.values():
        if res.status == "refuted" and res.observations:
            res.diagnosis = decide(res.observations, res.held)
    return results


class _Config:
    """One size tuple and index choice: the function built once with symbols (``s``, the
    namespace; ``symbols``, each variable's; ``J``, laid out as ``out_shape``), its derivatives
    cached, and what the claims' checks there read of the derivation (its variables, scales and
    Requires, the index variables' values): they are handed this, not the derivation.
    ``kink_rng``: the breakpoint search's own random stream."""

    def __init__(self, derivation: Derivation, point: Point, kink_rng: np.random.Generator):
        self.point, self.kink_rng = point, kink_rng
        self.kinds, self.scales, self.requires = derivation.variables, derivation.scales, derivation.assumptions
        #: each variable's structure (Real(..., structure=...)), for the claims' readings
        self.structures = {n: getattr(k, "structure", None) for n, k in self.kinds.items()}
        self.s, self.symbols = build_namespace(derivation, point, "symbols")
        J = to_array(call_spec(derivation.function, self.s, "function"))
        self.out_shape = value_shape(J)
        self.J = J.reshape(self.out_shape)
        self.indices = derivation.indices_at(point)
        self.free = [sym for arr in self.symbols.values() for sym in arr.ravel()]
        self._d: dict = {}
        self._function_kinks = None
        self._parts: dict = {}
        self._matrix_labels: dict = {}
        self._classes: dict = {}

    def term_classes(self, arr) -> list:
        """`term_classes` of a claim's or the truth's array, computed once per array: every point
        a refuted claim is diagnosed at asks again for the same (sympy's expand_mul of each entry)."""
        hit = self._classes.get(id(arr))
        if hit is None or hit[0] is not arr:  # (the array is kept with it: its id is not reused meanwhile)
            hit = self._classes[id(arr)] = (arr, term_classes(arr))
        return hit[1]

    def function_parts(self, claim) -> list:
        """The derivative of each of the function's own additive terms (grouped as `term_classes`
        groups them) by the claim's selection, laid out as the truth: a claim missing one of them
        is diagnosed with it ("missing term: ∂/∂a of …"). None for an identity or a backward pass,
        or when the function is one term."""
        if claim.name not in self._parts:
            out = []
            if not (claim.identity or claim.upstream):
                parts = term_parts(self.J)
                if 2 <= len(parts) <= MAX_FUNCTION_PARTS:
                    sel = np.asarray(self.symbols[claim.wrt][claim.select(self.s)])
                    for _, label, part in parts:
                        arr = np.empty(self.out_shape + sel.shape, dtype=object)
                        for i in np.ndindex(self.out_shape):
                            for j in np.ndindex(sel.shape):
                                arr[i + j] = sp.diff(part[i], sel[j])
                        out.append((f"∂/∂{claim.wrt} of {label}", arr))
            self._parts[claim.name] = out
        return self._parts[claim.name]

    def matrix_level(self, text: str, groups) -> str:
        """``text`` with the term it names said at the matrix level where that is one
        (`gradverify.matrix_terms`: "missing term: cos(a,b)·a/‖a‖² (a, b: rows of A, B)"), else as is."""
        kind, sep, label = text.partition(": ")
        if not sep or kind not in ("missing term", "extra term", "sign of one term flipped"):
            return text
        fraction = re.match(r"\d+/\d+ of ", label)  # "1/2 of λ·W₀,₀": a fraction of the term
        fraction, label = (fraction.group(0), label[fraction.end():]) if fraction else ("", label)
        arr = next((a for group in groups for lab, a in group if lab == label), None)
        if arr is None:
            return text
        key = (label, np.shape(arr))
        if key not in self._matrix_labels:
            self._matrix_labels[key] = matrix_label(arr, self.symbols)
        return f"{kind}: {fraction}{self._matrix_labels[key]}" if self._matrix_labels[key] else text

    def function_kinks(self) -> tuple[list, list]:
        """The function's kink arguments, and each compiled (`gradverify.breakpoints`), built once."""
        if self._function_kinks is None:
            args = kink_arguments(self.J)
            self._function_kinks = (args, compile_arguments({"function": args}, self.free))
        return self._function_kinks

    def derivative(self, i, sym):
        key = (i, sym)
        if key not in self._d:
            self._d[key] = sp.diff(self.J[i], sym)
        return self._d[key]


def _sides(claim, cfg: _Config) -> tuple[np.ndarray, np.ndarray]:
    """The claim built with symbols and sympy's derivative, laid out alike (for an identity: the
    function itself); where the claim's reading says nothing, the truth is the claim. Raises
    `ShapeMismatch` when the claim's shape is not the derivative's."""
    unread = _unread(claim, cfg)
    if claim.identity:
        truth, expected = cfg.J, cfg.out_shape
    else:
        truth, expected = _truth(claim, cfg, np.asarray(cfg.symbols[claim.wrt][claim.select(cfg.s)]))
    claimed = to_layout(call_spec(claim.expr, cfg.s, f"claim {claim.name!r}"), expected, f"claimed {claim.name}")
    if unread is not None:
        truth = np.where(np.broadcast_to(unread, np.shape(truth)), claimed, truth)
    return claimed, truth


def _check_claim(claim, cfg: _Config, rng, points, res, prove: bool):
    try:
        claimed, truth = _sides(claim, cfg)
    except ShapeMismatch as exc:
        res.status, res.detail = "refuted", f"{exc}, the shape of the true derivative"
        res.counterexample = _where(cfg.point)
        res.diagnosis = diagnose(np.zeros(exc.shape), np.zeros(exc.expected))
        return
    diff = as_object(claimed - truth)
    # 1. one random point with 50 digits refutes a wrong claim (a right one leaves ~1e-50)
    if _refuted_at_random_point(claim, cfg, claimed, truth, diff, rng, res):
        return
    # then the points on both sides of and between every breakpoint of the function and the claim:
    # a claim wrong in a band of values (its branch switches at |r| = 1 where the function's does at 0.9)
    around = _breakpoint_values(cfg, claimed)
    res.breakpoints = [_at_values(cfg.point, cfg.symbols, v) for v in around[:NUMERIC_BREAKPOINTS]]
    for values in around:
        if _refuted_at(claim, cfg, claimed, truth, diff, values, rng, res):
            return
    # 2. try to prove the difference zero, within the term budget
    if res.status == "proved":
        if prove and all(_is_zero(e) for e in diff.ravel()):
            return
        res.status = "sampled"
    # 3. not proved: the evidence is more random points
    for _ in range(points - 1):
        if _refuted_at_random_point(claim, cfg, claimed, truth, diff, rng, res):
            return
    res.detail = f"zero at {res.points} points with {SYMBOLIC_DIGITS} digits; not proved within the term budget"


def _diagnosis_elsewhere(claim, cfg: _Config, rng, res) -> None:
    """A claim refuted at one size tuple, diagnosed at another (every dimension different): the
    points here join the observations (`gradverify.diagnosis.decide`), so that a diagnosis the two
    tuples disagree on is not stated (a missing 1/N is "4 × true" at N = 4, "3 × true" at N = 3:
    that is a factor N, not a constant)."""
    if not res.observations or claim.identity:
        return
    try:
        claimed, truth = _sides(claim, cfg)
    except ShapeMismatch:
        return
    for _ in range(DIAGNOSIS_POINTS):
        values = _random_values(cfg, rng, 0)
        sub = {sym: sp.Float(float(v), SYMBOLIC_DIGITS) for sym, v in zip(cfg.free, values)}
        _observe(claim, cfg, claimed, truth, sub, res, fresh=True)


def _truth(claim: Claim, cfg: _Config, sel: np.ndarray) -> tuple[np.ndarray, tuple]:
    """sympy's derivative of the function by the selected symbols, laid out as the claim is: the
    output's dimensions first, or (a backward pass) contracted with the cotangent dout."""
    out_shape = cfg.out_shape
    if claim.order == 2:  # sympy's second derivative: the Jacobian of the gradient by the selection
        if out_shape != ():
            raise DerivationError(f"claim {claim.name} has order=2, but the function has shape {out_shape}: a second "
                                  f"derivative is claimed of a scalar function")
        every = np.asarray(cfg.symbols[claim.wrt])
        truth = np.empty(every.shape + sel.shape, dtype=object)
        for i in np.ndindex(every.shape):
            first = cfg.derivative((), every[i])
            for j in np.ndindex(sel.shape):
                truth[i + j] = sp.diff(first, sel[j])
        return truth, every.shape + sel.shape
    if claim.upstream is not None:
        dout = np.asarray(to_array(getattr(cfg.s, claim.upstream)))
        if dout.size != int(np.prod(out_shape, dtype=int)):
            raise DerivationError(f"upstream {claim.upstream!r} of claim {claim.name} has shape {dout.shape}; the "
                                  f"function has shape {out_shape}. Declare {claim.upstream} with the output's "
                                  f"dimensions (dout is ∂L/∂out, one entry per entry of the layer's output)")
        dout = dout.reshape(out_shape)
        truth = np.empty(sel.shape, dtype=object)
        for j in np.ndindex(sel.shape):
            truth[j] = sum((dout[i] * cfg.derivative(i, sel[j]) for i in np.ndindex(out_shape)), sp.S.Zero)
        return truth, sel.shape
    truth = np.empty(out_shape + sel.shape, dtype=object)
    half = _off_diagonal_half(claim, cfg)
    for i in np.ndindex(out_shape):
        for j in np.ndindex(sel.shape):
            truth[i + j] = cfg.derivative(i, sel[j]) * half[j]
    return truth, out_shape + sel.shape


def _off_diagonal_half(claim: Claim, cfg: _Config) -> np.ndarray:
    """Per selected entry of ``claim.wrt``, what sympy's derivative by its symbol is multiplied by:
    1, except ½ off the diagonal of a symmetric matrix read along symmetric perturbations (the
    symbol θ_ij stands for X_ij and X_ji: ∂f/∂θ_ij = 2 G_ij), and 0 off the diagonal of a diagonal
    matrix read by its free entries (nothing moves those). A free-entries claim is ∂f/∂θ_ij."""
    off = _off_diagonal(claim, cfg)
    if claim.reading == "symmetric-perturbation":
        return np.where(off, sp.Rational(1, 2), sp.S.One).astype(object)
    if claim.reading == "free-entries" and cfg.structures.get(claim.wrt) == "diagonal":
        return np.where(off, sp.S.Zero, sp.S.One).astype(object)
    return np.ones(off.shape, dtype=object)


def _off_diagonal(claim: Claim, cfg: _Config) -> np.ndarray:
    """Per selected entry of ``claim.wrt`` (a square matrix, or any array: then all False), whether
    it lies off the diagonal."""
    arr = cfg.symbols[claim.wrt]
    flat = np.arange(arr.size).reshape(arr.shape)[claim.select(cfg.s)]
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        return np.zeros(np.shape(flat), dtype=bool)
    n = arr.shape[0]
    return np.asarray(flat // n != flat % n)


def _unread(claim: Claim, cfg: _Config) -> np.ndarray | None:
    """Per selected entry, whether the claim's reading says nothing of it (None: it reads every
    entry): a claim by a diagonal matrix read along diagonal perturbations is its diagonal only;
    off it the claim is taken as it is."""
    return _off_diagonal(claim, cfg) if claim.reading == "diagonal-perturbation" else None


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
        return _expands_to_zero(e)
    if not within_budget(e):  # expand_mul distributes every product: its terms are bounded as expand's are
        return False
    groups: dict = {}
    for term in sp.Add.make_args(sp.expand_mul(e)):
        key = frozenset(min(a.args[0], -a.args[0], key=sp.default_sort_key) for a in term.atoms(sp.exp))
        groups[key] = groups.get(key, 0) + term
    if len(groups) > 1:
        rest = [g for g in groups.values() if not _expands_to_zero(g)]
        if not rest:
            return True
        if len(rest) < len(groups):  # the groups that cancel each other, without the ones that vanished
            e = sp.Add(*rest)
    return _expands_to_zero(e)


def _expands_to_zero(e) -> bool:
    """expand(numer(together(e))) == 0, attempted only when its size is within the budget."""
    if len(sp.Add.make_args(e)) * len({sp.denom(t) for t in sp.Add.make_args(e)}) > SYMBOLIC_PROOF_TERMS:
        return False  # together would write each of the terms over every other one's denominator
    numerator = sp.numer(sp.together(e))
    return within_budget(numerator) and sp.expand(numerator) == 0


def within_budget(e) -> bool:
    """Whether expanding ``e`` stays within `SYMBOLIC_PROOF_TERMS` terms: ``e`` itself and the
    argument of every function in it (expand goes inside exp, log, ... too). Every sympy step of a
    proof that can multiply terms out is asked this first."""
    if proof_size(e) > SYMBOLIC_PROOF_TERMS:
        return False
    return all(proof_size(arg) <= SYMBOLIC_PROOF_TERMS
               for f in e.atoms(sp.Function) for arg in f.args)


def proof_size(e) -> int:
    """An upper bound on the number of terms ``expand(e)`` can produce, from the structure
    alone: a sum adds its terms' counts, a product multiplies them, a positive integer
    power k of an m-term sum has at most C(m + k − 1, k) terms; anything else is one term.
    Capped just above the budget so the count itself stays cheap."""
    cap = SYMBOLIC_PROOF_TERMS + 1
    if e.is_Add:
        return min(cap, sum(proof_size(a) for a in e.args))
    if e.is_Mul:
        return min(cap, prod(proof_size(a) for a in e.args))
    if e.is_Pow and e.exp.is_Integer and e.exp > 0:
        return min(cap, comb(proof_size(e.base) + int(e.exp) - 1, int(e.exp)))
    return 1


def _random_values(cfg: _Config, rng, k: int, scales: list | None = None) -> np.ndarray:
    """The free symbols' values at the ``k``-th random point: within each variable's domain
    and every Require, at the derivation's scales in turn (unit scale first), so that a
    claim wrong only at large values (a Huber claim for |r| > 1) is seen. A scale where no
    draw meets the Requires (‖a‖ > 1e-2 at 1e-3 inputs) gives way to the next one."""
    scales = scales or [1.0] + [float(x) for x in cfg.scales if float(x) != 1.0]
    for scale in scales[k % len(scales):] + scales[:k % len(scales)]:
        for _ in range(RandomSource.TRIES):
            unit = rng.uniform(-1.0, 1.0, size=len(cfg.free))
            values, i = np.empty(len(cfg.free)), 0
            for name, arr in cfg.symbols.items():
                kind = cfg.kinds[name]
                drawn = in_domain(kind, unit[i:i + arr.size], scale)
                values[i:i + arr.size] = structured(kind, np.reshape(drawn, arr.shape), scale).ravel()
                i += arr.size
            if unmet(cfg.requires, _at_values(cfg.point, cfg.symbols, values)) is None:
                return values
    raise DerivationError(f"no random point where every Require holds in {RandomSource.TRIES} draws at each "
                          f"of the scales {scales}; check the Require against the dims, domains and scales=")


def _refuted_at_random_point(claim, cfg, claimed, truth, diff, rng, res) -> bool:
    return _refuted_at(claim, cfg, claimed, truth, diff, _random_values(cfg, rng, res.points), rng, res)


def _breakpoint_values(cfg: _Config, claimed) -> list[np.ndarray]:
    """The free symbols' values at points on both sides of and between the breakpoints of the
    function and of ``claimed``, along lines through a base point at each of the derivation's
    scales (one free symbol moves along each line, over the variable's domain at twice the widest
    scale); bands between a claim's breakpoint and the function's first. Every Require holds."""
    fn_args, fn_compiled = cfg.function_kinks()
    known = set(fn_args)
    claim_args = [g for g in kink_arguments(claimed) if g not in known and -g not in known]
    if not fn_args and not claim_args:
        return []
    compiled = fn_compiled + compile_arguments({"claim": claim_args}, cfg.free)
    lines = _moving_symbols(cfg, claim_args + fn_args)
    scales = sorted({float(x) for x in cfg.scales}, key=lambda x: (x != 1.0, x))  # unit scale first
    candidates: list = []
    for k, scale in enumerate(scales):
        base = _random_values(cfg, cfg.kink_rng, k, scales)
        for sym in lines:
            candidates += _line_candidates(cfg, compiled, base, sym, scale, 2 * max(scales))
    order = sorted(range(len(candidates)), key=lambda i: (candidates[i][0], i))
    out = []
    for i in order:
        v = candidates[i][1]
        if unmet(cfg.requires, _at_values(cfg.point, cfg.symbols, v)) is None:
            out.append(v)
            if len(out) >= MAX_BREAKPOINT_POINTS:
                break
    return out


def _moving_symbols(cfg: _Config, arguments: list) -> list:
    """One moving symbol per kink argument not crossed yet (the claim's arguments first), at most
    `MAX_LINES`."""
    lines: list = []
    for g in arguments:
        mine = [sym for sym in cfg.free if sym in g.free_symbols]
        if mine and not any(sym in lines for sym in mine) and len(lines) < MAX_LINES:
            lines.append(mine[0])
    return lines


def _line_candidates(cfg: _Config, compiled, base: np.ndarray, sym, scale: float, widest: float) -> list:
    """(priority, values) at the points around the breakpoints on the line through ``base`` along
    ``sym`` (a symmetric matrix's free entry sits at (i, j) and (j, i): both move), over the
    variable's domain at ``widest``."""
    positions = [i for i, s in enumerate(cfg.free) if s == sym]
    name = next(n for n, arr in cfg.symbols.items() if any(s == sym for s in arr.ravel()))
    kind = cfg.kinds[name]
    lo, hi = (float(v) for v in in_domain(kind, np.array([-1.0, 1.0]), widest))
    out = []
    for priority, x in line_points(breakpoints_on_line(compiled, dict(zip(cfg.free, base)), sym, lo, hi),
                                   lo, hi, scale):
        v = base.copy()
        v[positions] = x
        if getattr(kind, "structure", None) == "positive-definite" and \
                np.any(np.linalg.eigvalsh(_at_values(cfg.point, cfg.symbols, v).values[name]) <= 0):
            continue  # (a move along one entry can leave the positive-definite cone)
        v[np.abs(v) < TINY] = 0.0  # as drawing does: a real input is 0 or at least TINY
        out.append((priority, v))
    return out


def _refuted_at(claim, cfg, claimed, truth, diff, values, rng, res) -> bool:
    sub = {sym: sp.Float(float(v), SYMBOLIC_DIGITS) for sym, v in zip(cfg.free, values)}
    res.points += 1
    d = values_at(diff, sub)
    t_arr = values_at(truth, sub)
    c_arr = t_arr + d
    # the residual of a right claim is ~1e-50 of the largest number in play, the inputs
    # included: an identically-zero claim leaves 1e-52, not 0
    scale = max(float(np.max(np.abs(t_arr), initial=0.0)), float(np.max(np.abs(c_arr), initial=0.0)),
                float(np.max(np.abs(values), initial=0.0)))
    if not d.size or float(np.max(np.abs(d))) <= SYMBOLIC_ZERO * scale:
        return False
    res.status = "refuted"
    res.detail = f"claimed {claim.name} vs sympy's derivative, {worst_text(worst_entries(c_arr, t_arr), 'sympy')}"
    res.counterexample = _at_values(cfg.point, cfg.symbols, values).describe()
    res.evidence = Evidence.of("sympy's derivative", res.counterexample, c_arr, t_arr)
    res.observations, res.held = [], 0
    _observe(claim, cfg, claimed, truth, sub, res, fresh=False, t_arr=t_arr)
    for k in range(1, DIAGNOSIS_POINTS):
        more = _random_values(cfg, rng, 0)  # unit scale: saturation makes terms look alike
        _observe(claim, cfg, claimed, truth,
                 {sym: sp.Float(float(v), SYMBOLIC_DIGITS) for sym, v in zip(cfg.free, more)}, res, fresh=True)
    res.diagnosis = decide(res.observations, res.held)
    return True


def _observe(claim, cfg, claimed, truth, sub, res, fresh: bool, t_arr=None) -> None:
    """How the claim relates to the truth at the point ``sub``, added to ``res.observations`` (a point
    where the claim holds counts in ``res.held``; a degenerate one is left out). ``t_arr``: the
    truth at ``sub``, when the caller has it already."""
    c_arr = values_at(claimed, sub)
    t_arr = values_at(truth, sub) if t_arr is None else t_arr
    scale = max(float(np.max(np.abs(t_arr), initial=0.0)), float(np.max(np.abs(c_arr), initial=0.0)), 1.0)
    if not c_arr.size or float(np.max(np.abs(c_arr - t_arr))) <= SYMBOLIC_ZERO * scale:
        res.held += fresh
        return
    if degenerate(c_arr, t_arr):
        return
    groups = (cfg.term_classes(claimed), cfg.term_classes(truth), cfg.function_parts(claim))
    text = diagnose(c_arr, t_arr, indices=cfg.indices,
                    terms=[(label, values_at(arr, sub)) for label, arr in groups[0]],
                    true_terms=[(label, values_at(arr, sub)) for label, arr in groups[1]],
                    parts=[(label, values_at(arr, sub)) for label, arr in groups[2]],
                    rtol=EXACT_RTOL)
    text = cfg.matrix_level(text, groups)
    res.observations.append(Observation(text, dict(cfg.point.sizes), fresh))


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
