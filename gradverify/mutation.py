"""The mutation self-test: would the checks catch a wrong claim?

For every claimed derivative, make wrong variants (mutants) by changing its
sympy expression, and check each one three ways:

* symbolic: the mutant against sympy's derivative;
* finite difference: the implementation with the *matching numeric variant*
  (its output moved by mutant − claim at each point) against central differences;
* agreement: the unchanged implementation against the mutant spec.

A mutant equal to the claim (zero difference at random 50-digit points) is
*equivalent*: no check could or should refute it, and it is not counted.
A mutant no check refutes is a *survivor*: a hole in the checks.

Operators, each applied wherever it makes a different expression:
flip the sign of the claim; scale it by 2; add 1 (the one mutant of a claim
that is 0); transpose it (matrices); flip the
sign of one kind of term or drop it (terms grouped as `terms.term_classes`
groups them, so "the −u_o term" is one term at every size); exp(a) -> exp(−a)
everywhere (σ(x) <-> σ(−x), softmax of the negated scores); shift an index
variable by one; swap two variables of the same kind and shape.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy as sp

from . import numeric
from .checks import finite_difference
from .options import Options
from .sampling import RandomSource, draw_point
from .search import explore
from .spec import Claim, Derivation, Index, Indices
from .symbolic import check_symbolic, symbolic_size_list
from .sympy_eval import ShapeMismatch, build_namespace, evaluate_by_substitution, to_array
from .terms import term_parts
from .tolerances import MUTANT_SAME_RTOL, SYMBOLIC_ZERO

__all__ = ["Mutant", "MutantResult", "make_mutants", "run_mutants"]


@dataclass
class Mutant:
    claim: str
    operator: str
    description: str
    build: Callable = field(repr=False)


@dataclass
class MutantResult:
    derivation: str
    mutant: Mutant
    #: "equivalent", "refuted" or "survived"; "claim refuted" when the unmutated claim is
    #: itself wrong under every assumption (then its mutants prove nothing and are not made)
    status: str
    refuted_by: list[str] = field(default_factory=list)
    expression: str = ""
    detail: str = ""

    def as_dict(self):
        return {"derivation": self.derivation, "claim": self.mutant.claim, "operator": self.mutant.operator,
                "mutant": self.mutant.description, "status": self.status, "refuted_by": self.refuted_by,
                "expression": self.expression, "detail": self.detail}


# ---------------------------------------------------------------- making mutants
def _entrywise(expr, fn):
    arr = to_array(expr)
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = fn(sp.sympify(arr[idx]))
    return out if out.ndim else out[()]


def _keep_terms(expr, key, sign):
    """Each entry with the terms of kind ``key`` multiplied by ``sign`` (0: dropped)."""
    def entry(e):
        parts = {k: part for k, _, part in term_parts(e)}
        return sum(((sign if k == key else 1) * p[()] for k, p in parts.items()), sp.S.Zero)
    return _entrywise(expr, entry)


def _shifted(s, name, kind):
    n = getattr(s, kind.dim)
    value = getattr(s, name)
    if isinstance(kind, Index):
        return (value + 1) % n
    if value and isinstance(value[0], list):
        return [[(v + 1) % n for v in row] for row in value]
    return [(v + 1) % n for v in value]


def _with(s, **changes):
    return type(s)(**{**vars(s), **changes})


def make_mutants(derivation: Derivation, claim: Claim, sample_namespace) -> list[Mutant]:
    """Every mutant of ``claim``; ``sample_namespace`` (symbols at one size) tells
    which kinds of terms it has and whether it is a matrix."""
    expr = claim.expr
    built = to_array(expr(sample_namespace))
    out = [Mutant(claim.name, "flip sign", "−(claim)", lambda s: _entrywise(expr(s), lambda e: -e)),
           Mutant(claim.name, "scale by 2", "2 × claim", lambda s: _entrywise(expr(s), lambda e: 2 * e)),
           Mutant(claim.name, "add a constant", "claim + 1", lambda s: _entrywise(expr(s), lambda e: e + 1))]
    if built.ndim == 2 and min(built.shape) > 1:
        out.append(Mutant(claim.name, "transpose", "claimᵀ", lambda s: sp.Matrix(to_array(expr(s)).tolist()).T))
    parts = term_parts(built)
    if len(parts) > 1:
        for key, label, _ in parts:
            out.append(Mutant(claim.name, "drop a term", f"without {label}",
                              lambda s, key=key: _keep_terms(expr(s), key, 0)))
            out.append(Mutant(claim.name, "flip a term", f"with −({label})",
                              lambda s, key=key: _keep_terms(expr(s), key, -1)))
    if any(isinstance(a, sp.exp) for e in built.ravel() for a in sp.preorder_traversal(sp.sympify(e))):
        out.append(Mutant(claim.name, "exp(a) → exp(−a)", "every exp(a) as exp(−a): σ(x) ↔ σ(−x)",
                          lambda s: _entrywise(expr(s), lambda e: e.replace(sp.exp, lambda a: sp.exp(-a)))))
    for name, kind in derivation.variables.items():
        if isinstance(kind, (Index, Indices)):
            out.append(Mutant(claim.name, "shift an index", f"{name} → {name} + 1",
                              lambda s, name=name, kind=kind: expr(_with(s, **{name: _shifted(s, name, kind)}))))
    names = list(derivation.variables)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ka, kb = derivation.variables[a], derivation.variables[b]
            if type(ka) is type(kb) and ka == kb:
                out.append(Mutant(claim.name, "swap variables", f"{a} ↔ {b}",
                                  lambda s, a=a, b=b: expr(_with(s, **{a: getattr(s, b), b: getattr(s, a)}))))
    return out


# ---------------------------------------------------------------- running them
def _difference(derivation, claim, mutant, sizes, seed) -> tuple[float, str]:
    """max |mutant − claim| relative to their size, over sample points at every size; and the mutant printed."""
    rng = np.random.default_rng(seed)
    worst, printed = 0.0, ""
    for size in sizes:
        for _ in range(2):
            point = draw_point(derivation, RandomSource(rng), derivation.assumptions, sizes=size, scale=1.0)
            expected = _expected(derivation, claim, point)
            try:
                m = evaluate_by_substitution(derivation, point, mutant.build, expected)
            except ShapeMismatch as exc:
                s, _ = build_namespace(derivation, point, "symbols")
                return float("inf"), f"{exc}: {sp.sstr(mutant.build(s))[:200]}"
            c = evaluate_by_substitution(derivation, point, claim.expr, expected)
            scale = max(float(np.max(np.abs(c), initial=0)), float(np.max(np.abs(m), initial=0)))
            if scale:
                worst = max(worst, float(np.max(np.abs(m - c))) / scale)
            if not printed:
                s, _ = build_namespace(derivation, point, "symbols")
                printed = sp.sstr(mutant.build(s))
    return worst, (printed if len(printed) <= 300 else printed[:297] + "...")


def _expected(derivation, claim, point):
    base = numeric.call(derivation, point)
    value = base[derivation.implementation.returns[0]]
    return claim.shape(point.namespace(), value.shape, np.shape(point.values.get(claim.wrt)))


def run_mutants(derivation: Derivation, options: Options) -> list[MutantResult]:
    """Every mutant of every claim of ``derivation``, checked; raises DerivationError
    when the derivation itself cannot run."""
    sizes = symbolic_size_list(derivation)
    point = draw_point(derivation, RandomSource(np.random.default_rng(options.seed)), derivation.assumptions,
                       sizes=sizes[0], scale=1.0)
    sample, _ = build_namespace(derivation, point, "symbols")
    results: list[MutantResult] = []
    truth = check_symbolic(derivation, tuple(derivation.assumptions), options.seed, prove=False)
    for claim in derivation.claims:
        if truth[claim.name].status == "refuted":  # a wrong claim's mutants test nothing
            results.append(MutantResult(derivation.id, Mutant(claim.name, "(none)", "the claim itself",
                                                              claim.expr), "claim refuted",
                                        detail=truth[claim.name].detail))
            continue
        seen: list[np.ndarray] = []
        for mutant in make_mutants(derivation, claim, sample):
            difference, printed = _difference(derivation, claim, mutant, sizes, options.seed)
            if difference <= SYMBOLIC_ZERO:
                results.append(MutantResult(derivation.id, mutant, "equivalent", expression=printed))
                continue
            fingerprint = _fingerprint(derivation, claim, mutant, sizes[0], options.seed)
            if fingerprint is not None and any(f.shape == fingerprint.shape and np.allclose(f, fingerprint, rtol=MUTANT_SAME_RTOL,
                                                                                          atol=0) for f in seen):
                continue  # the same expression as an earlier mutant of this claim
            if fingerprint is not None:
                seen.append(fingerprint)
            results.append(_check(derivation, claim, mutant, sizes, options, printed))
    return results


def _fingerprint(derivation, claim, mutant, size, seed):
    point = draw_point(derivation, RandomSource(np.random.default_rng(seed + 1)), derivation.assumptions,
                       sizes=size, scale=1.0)
    try:
        return evaluate_by_substitution(derivation, point, mutant.build, _expected(derivation, claim, point))
    except ShapeMismatch:
        return None


def _check(derivation, claim, mutant, sizes, options, printed) -> MutantResult:
    refuted_by, details = [], []
    variant = dataclasses.replace(derivation, claims=[dataclasses.replace(claim, expr=mutant.build)],
                                  symbolic_sizes=sizes)
    symbolic = check_symbolic(variant, tuple(derivation.assumptions), options.seed, configs=2, prove=False)
    if symbolic[claim.name].status == "refuted":
        refuted_by.append("symbolic")
        details.append(symbolic[claim.name].diagnosis or symbolic[claim.name].detail[:120])
    failures = _numeric(derivation, claim, mutant, sizes, options)
    for check in ("finite_difference", "agreement"):
        if check in failures:
            refuted_by.append(check)
    status = "refuted" if refuted_by else "survived"
    return MutantResult(derivation.id, mutant, status, refuted_by, printed, "; ".join(details))


def _numeric(derivation, claim, mutant, sizes, options) -> dict:
    tol = options.tolerance
    value_name = derivation.implementation.returns[0]

    def evaluate(point, target=None):
        base = numeric.call(derivation, point)
        f = base[value_name]
        s = point.namespace()
        index, full = claim.select(s), claim.full_index(s, f.ndim)
        a = np.asarray(base[claim.output][full])
        expected = a.shape
        try:
            m = evaluate_by_substitution(derivation, point, mutant.build, expected)
        except ShapeMismatch:  # a mutant of another shape: its numeric variant has the wrong shape
            return {"finite_difference": "shape", "agreement": "shape"}
        c = evaluate_by_substitution(derivation, point, claim.expr, expected)
        noise, _ = numeric.noise(derivation, point, base, tol, np.random.default_rng(options.seed))
        err_a = np.asarray(noise[claim.output][full]) + tol.unit_roundoff * np.abs(a)
        found = {}
        if not numeric.compare(a, m, tol.safety * err_a).ok:
            found["agreement"] = "differs"
        variant = a + (m - c)  # the implementation, moved as the claim was
        if not finite_difference(derivation, point, claim, index, variant, err_a, f, noise, tol).ok:
            found["finite_difference"] = "differs"
        return found

    def draw(source):
        return draw_point(derivation, source, derivation.assumptions, sizes=source.choice(sizes))

    exploration = explore(draw, evaluate, options.examples, options.seed, shrink=False,
                          until={"finite_difference", "agreement"})
    return exploration.failures
