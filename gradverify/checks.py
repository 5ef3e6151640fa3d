"""Running the three checks on one derivation and deciding each claim's verdict.

* symbolic: the claim against sympy's derivative (`symbolic.check_symbolic`);
* finite difference: the implementation's gradient against central differences
  of the implementation's value (for an identity: both sides of the
  implementation against each other);
* agreement: the implementation's outputs against the spec's, evaluated exactly
  (50 digits) at the same points.

Points are drawn by hypothesis within the assumptions. When a claim fails with
the assumptions the source states and the derivation also lists assumptions
the source left implicit, the claim is checked again with those added: if it
then holds, the verdict is *conditional* (true only under an assumption the
source does not state), which still counts as refuted.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import numeric
from .errors import DerivationError
from .sampling import RandomSource, draw_point, other_sizes, search_seed
from .search import Found, OutsideDomain, explore
from .spec import Point
from .spec import Claim, Derivation, Require, differentiated_output, readings_of
from .diagnosis import Observation, decide, degenerate, diagnose, numeric_rtol, pair_text, worst_entries, worst_text
from .options import Options
from .results import READ_AS, CheckResult, ClaimResult, Evidence, NumericFigures, Status, Verdict, error_rows, expected_verdict
from .symbolic import check_symbolic
from .sympy_eval import SpecFailed, evaluate_spec, spec_undefined
from .tolerances import DIAGNOSIS_POINTS, DIAGNOSIS_RTOL, FLOAT64_BITS, SYMBOLIC_DIGITS, SYMBOLIC_ZERO, Tolerance
from .tracebacks import describe

__all__ = ["Options", "check_derivation", "error_rows", "numeric_checks", "evaluate_point"]

#: how each numeric check estimates and where it looks (shown in the report and its JSON)
METHOD = {
    "finite_difference": {"estimator": "central difference at h and 2h (Richardson error estimate)",
                          "mode": "every entry the claim selects, at each hypothesis example"},
    "agreement": {"estimator": "the spec evaluated with 50 digits", "mode": "every entry, at each hypothesis example"},
}


def _assumption_rows(derivation):
    return [{"text": a.text, "source": a.source, "why": a.why} for a in derivation.assumptions]


def check_derivation(derivation: Derivation, options: Options, reproduce: str = "") -> list[ClaimResult]:
    """Every claim of ``derivation``, checked three ways. Never raises for a
    problem in the derivation: that becomes ERROR rows."""
    try:
        results, rescued = _as_stated_then_rescued(derivation, options)
        necessity = _necessity(derivation, options) if options.assumptions else {}
    except _ImplementationFailed as exc:
        rows = error_rows(derivation.id, derivation.title, str(exc), derivation.claims, reproduce, describe(exc))
        for row in rows:
            row.checks["symbolic"] = exc.symbolic.get(row.claim, row.checks["symbolic"])
        return rows
    except DerivationError as exc:
        return error_rows(derivation.id, derivation.title, str(exc), derivation.claims, reproduce, describe(exc))
    return [_row(derivation, claim, results[claim.name], rescued.get(claim.name), necessity, reproduce)
            for claim in derivation.claims]


def _as_stated_then_rescued(derivation: Derivation, options: Options) -> tuple[dict, dict]:
    """Every claim under the assumptions the source states; then the failing claims again with
    the implicit assumptions added (do they hold once those are added?)."""
    stated = tuple(a for a in derivation.assumptions if a.source == "stated")
    implicit = [a for a in derivation.assumptions if a.source == "implicit"]
    try:
        results = _run(derivation, stated, options)
    except DerivationError as exc:
        if not implicit:
            raise
        # the code cannot run under the stated assumptions alone: refuted as stated; with the
        # implicit ones added, each claim gets the verdict it has there (an error there is the row's)
        again = _run(derivation, tuple(derivation.assumptions), options)
        point = getattr(exc, "point", None) or getattr(exc.__cause__, "point", None)
        detail = ("as stated (without " + "; ".join(a.text for a in implicit) + "), the code fails: "
                  + str(exc).split(" (at ")[0])
        where = point.describe() if point is not None else None
        return {name: {**checks, "finite_difference": CheckResult(
            Status.FAIL, checks["finite_difference"].figures, detail, where)} for name, checks in again.items()}, again
    failing = [c for c in derivation.claims if any(r.failed for r in results[c.name].values())]
    if not (implicit and failing):
        return results, {}
    return results, _run(dataclasses.replace(derivation, claims=failing), tuple(derivation.assumptions), options)


def _row(derivation: Derivation, claim: Claim, checks: dict, again: dict | None, necessity: dict,
         reproduce: str) -> ClaimResult:
    verdict, holds_if, message = Verdict.HOLDS, [], ""
    errors = [f"{name}: {c.detail}" for name, c in checks.items() if Status(c.status) == Status.ERROR]
    if errors:  # a check that could compare nothing is no pass
        verdict, message = Verdict.ERROR, "; ".join(errors)
    elif any(c.failed for c in checks.values()):
        verdict = Verdict.REFUTED
        if again and not any(c.failed for c in again.values()):
            verdict = Verdict.CONDITIONAL
            holds_if = [a.text for a in derivation.assumptions if a.source == "implicit"]
    assumptions = _assumption_rows(derivation)
    for row, a in zip(assumptions, derivation.assumptions):
        if a in necessity:
            row.update(necessity[a][claim.name])
    traceback = next((c.traceback for c in checks.values() if c.traceback), "")
    as_written = claim.as_written
    if claim.reading:  # the report says which derivative a claim by a structured matrix was checked as
        as_written = f"{as_written} {READ_AS}{readings_of(derivation.variables[claim.wrt])[claim.reading]}]".strip()
    return ClaimResult(derivation.id, derivation.title, claim.name, as_written, verdict, checks, assumptions,
                       holds_if=holds_if, message=message, reproduce=reproduce, expect=expected_verdict(claim),
                       reason=claim.reason, traceback=traceback)


def _necessity(derivation: Derivation, options: Options) -> dict:
    """For each assumption: every claim re-checked with it dropped (the others kept).
    ``necessary`` when a check then fails (with that check's counterexample)."""
    out = {}
    for dropped in derivation.assumptions:
        kept = tuple(a for a in derivation.assumptions if a is not dropped)
        record: dict = {}
        try:
            results = _run(derivation, kept, options, record)
        except DerivationError as exc:  # the code cannot run without it: that is the answer, with the point
            point = getattr(exc, "point", None) or getattr(exc.__cause__, "point", None)
            found = {"necessary": True, "check": "implementation", "diagnosis": "the code fails without it: "
                     + str(exc).split(" (at ")[0], "counterexample": point.describe() if point is not None else None}
            out[dropped] = {claim.name: dict(found) for claim in derivation.claims}
            continue
        out[dropped] = {}
        outside = next((p for p in record.get("outside_points", ()) if _violates(derivation, dropped, p)), None)
        for claim in derivation.claims:
            failed = [(name, c) for name, c in results[claim.name].items() if c.failed]
            if failed:
                name, c = min(failed, key=lambda nc: (nc[1].counterexample is None, nc[0] == "symbolic"))
                out[dropped][claim.name] = {"necessary": True, "check": name, "counterexample": c.counterexample,
                                            "diagnosis": c.diagnosis}
            elif outside is not None:
                out[dropped][claim.name] = {"necessary": True, "check": "domain", "counterexample": outside.describe(),
                                            "diagnosis": "the function is undefined there without it (the spec "
                                                         "as well as the code)"}
            else:
                out[dropped][claim.name] = {"necessary": False, "check": None, "counterexample": None,
                                            "diagnosis": ""}
    return out


def _violates(derivation: Derivation, assumption, point: Point) -> bool:
    """Whether ``point`` leaves ``assumption`` (a Require is asked; the kinds drawing honours by
    construction are left only when dropped, which is when this is asked)."""
    from .sampling import unmet

    if isinstance(assumption, Require):
        try:
            return unmet([assumption], point) is not None
        except DerivationError:
            return True
    return True


class _ImplementationFailed(DerivationError):
    """The numpy code failed; the symbolic results, which do not use it, are kept."""

    def __init__(self, message: str, symbolic: dict):
        super().__init__(message)
        self.symbolic = symbolic


def _run(derivation: Derivation, assumptions: tuple, options: Options,
         record: dict | None = None) -> dict[str, dict[str, CheckResult]]:
    symbolic = check_symbolic(derivation, assumptions, options.seed, configs=options.symbolic_configs)
    points, results = _breakpoint_points(symbolic), {c: r.as_check() for c, r in symbolic.items()}
    try:
        numeric_results = numeric_checks(derivation, assumptions, options, points, record)
    except DerivationError as exc:
        raise _ImplementationFailed(str(exc), results) from exc
    return {claim.name: {"symbolic": results[claim.name], **numeric_results[claim.name]} for claim in derivation.claims}


def _point_key(point: Point, log: numeric.CallLog):
    """What `evaluate_point` depends on besides the derivation and the options: the point (its sizes,
    values to the bit, scale and fixed variables) and what the code's calls showed so far (``log``);
    None when a value is not an array, a number or a list of ints (no key then: evaluated each time)."""
    parts: list = [tuple(point.sizes.items()), point.scale, tuple(sorted(point.fixed)),
                   tuple(sorted(log.smallest.items())), log.epsilon]
    for name, v in point.values.items():
        if type(v) is np.ndarray:
            parts.append((name, v.dtype.str, v.shape, v.tobytes()))
        elif type(v) in (int, float, bool) or (type(v) is list and all(
                type(x) is int or (type(x) is list and all(type(y) is int for y in x)) for x in v)):
            parts.append((name, type(v).__name__, repr(v)))
        else:
            return None
    return tuple(parts)


def _breakpoint_points(symbolic: dict) -> tuple:
    """The points on both sides of and between breakpoints that the symbolic check tried, each claim's
    most telling first, taken in turn from every claim."""
    lists = [r.breakpoints for r in symbolic.values()]
    out = []
    for k in range(max((len(x) for x in lists), default=0)):
        out += [x[k] for x in lists if k < len(x)]
    return tuple(out)


# ---------------------------------------------------------------- numeric checks at one point
@dataclass
class _Stats:
    max_rel_err: float = 0.0
    worst_ratio: float = 0.0
    #: examples with entries set aside (near a kink), and examples with at least one entry compared
    set_aside: int = 0
    compared: int = 0
    #: the failing example with the largest relative error, (error, point, comparison): hypothesis
    #: shrinks toward tiny inputs, where a wrong claim can be wrong by little; this one shows how much
    largest: tuple | None = None

    #: the best resolution over the examples compared (tolerance over the reference's size): a pass is
    #: worth what its most telling example resolved (a point where the gradient is ~0 resolves nothing)
    resolution: float = float("inf")

    #: examples with entries finite differences could not resolve
    unresolved: int = 0

    def count(self, comparison) -> None:
        self.set_aside += comparison.set_aside > 0
        self.compared += comparison.compared > 0
        self.unresolved += getattr(comparison, "unresolved", 0) > 0
        if comparison.compared and comparison.reference is not None and comparison.tolerance is not None:
            size = float(np.max(np.abs(comparison.reference), initial=0.0))
            if size > 0:
                self.resolution = min(self.resolution, float(np.max(comparison.tolerance)) / size)


def numeric_checks(derivation: Derivation, assumptions: tuple, options: Options,
                   explicit: tuple = (), record: dict | None = None) -> dict[str, dict[str, CheckResult]]:
    """The finite-difference and agreement checks of every claim over hypothesis's examples drawn
    within ``assumptions`` (after the ``explicit`` points: those on both sides of and between
    breakpoints that the symbolic check found): {claim name: {check: CheckResult}}. Raises
    `DerivationError` when the implementation cannot run (the caller turns it into ERROR rows)."""
    tol = options.tolerance
    stats = {(c.name, check): _Stats() for c in derivation.claims for check in ("finite_difference", "agreement")}

    log = numeric.CallLog()

    def decides_nothing(key, comparison, survey: bool) -> bool:
        """Whether a pass measured with part of the rounding (`evaluate_point`'s ``early``) leaves every
        figure of ``key`` as the whole measurement would: its error over the tolerance and relative
        error, which the whole measurement only lowers, are within the largest seen so far, and (in
        the survey, where the resolution is counted) its resolution, which the whole measurement only
        raises, is not below the best so far. Then the report is the same to the byte."""
        st = stats[key]
        if comparison.worst_ratio > st.worst_ratio or comparison.max_rel_err > st.max_rel_err:
            return False
        if survey and comparison.compared and comparison.reference is not None and comparison.tolerance is not None:
            size = float(np.max(np.abs(comparison.reference), initial=0.0))
            if size > 0 and float(np.max(comparison.tolerance)) / size < st.resolution:
                return False
        return True

    seen: dict = {}  # the comparisons made at each point, by `_point_key` (hypothesis meets some again)

    def evaluate(point: Point, target=None) -> dict[Any, Any]:
        found = {}
        at = _point_key(point, log)
        compared = seen.get(at)
        if compared is not None and target is not None and target in compared:
            compared = {target: compared[target]}
        elif compared is not None and (target is not None or len(compared) < len(stats)):
            compared = None  # (made for one key only; the survey wants them all)
        try:
            if compared is None:
                compared = evaluate_point(derivation, point, tol, options.seed, target, log,
                                          early=lambda key, c: decides_nothing(key, c, target is None))
                if at is not None:
                    seen[at] = compared
        except DerivationError:
            dropped = any(a.source == "implicit" and a not in assumptions for a in derivation.assumptions)
            if spec_undefined(derivation, point, by_truth=dropped):
                raise OutsideDomain from None
            raise
        for key, comparison in compared.items():
            st = stats[key]
            if isinstance(comparison, str):
                found[key] = comparison  # (a value that disagrees carries its figures: the table shows them)
                st.worst_ratio = max(st.worst_ratio, getattr(comparison, "worst_ratio", 0.0))
                st.max_rel_err = max(st.max_rel_err, getattr(comparison, "max_rel_err", 0.0))
                continue
            if target is None:  # the survey, not the shrinking
                st.count(comparison)
            st.max_rel_err = max(st.max_rel_err, comparison.max_rel_err)
            st.worst_ratio = max(st.worst_ratio, comparison.worst_ratio)
            if not comparison.ok:
                found[key] = comparison
                if st.largest is None or comparison.max_rel_err > st.largest[0]:
                    st.largest = (comparison.max_rel_err, point, comparison)
        return found

    def draw(source):
        return draw_point(derivation, source, assumptions)

    with numeric.keeping_global_rng():  # every call seeds them (numeric.PINNED_SEED)
        exploration = explore(draw, evaluate, options.examples, search_seed(options.seed, derivation.id),
                              explicit=explicit)
    if record is not None:  # (the points outside the function's domain: report --assumptions names one)
        record["outside_points"] = exploration.outside_points
    out: dict[str, dict[str, CheckResult]] = {c.name: {} for c in derivation.claims}
    for claim in derivation.claims:
        for check in ("finite_difference", "agreement"):
            st = stats[(claim.name, check)]
            aside = {numeric.KINK: st.set_aside} if st.set_aside else {}
            if st.unresolved:
                aside[numeric.UNRESOLVED] = st.unresolved
            if exploration.outside:
                aside[numeric.OUTSIDE] = exploration.outside
            figures = NumericFigures(exploration.examples, st.max_rel_err, st.worst_ratio, **METHOD[check],
                                     set_aside=aside)
            figures.rng_pinned = log.rng_pinned
            figures.resolution = st.resolution if np.isfinite(st.resolution) else 0.0
            found = exploration.failures.get((claim.name, check))
            if found is not None and isinstance(found.detail, SpecFailed):  # nothing to compare with: no verdict
                out[claim.name][check] = CheckResult(Status.ERROR, figures, str(found.detail))
            elif found is None and not st.compared:  # nothing compared is no pass
                out[claim.name][check] = CheckResult(Status.ERROR, figures, numeric.nothing_compared(st.set_aside))
            elif found is None:
                out[claim.name][check] = CheckResult(Status.PASS, figures)
            else:
                diagnosis = _diagnosis(derivation, assumptions, options, (claim.name, check), exploration, found)
                result = CheckResult(Status.FAIL, figures, _failure_text(claim, check, found.detail)
                                     + _largest_text(st.largest, found), found.point.describe(), diagnosis,
                                     evidence=_evidence(derivation, claim, check, found))
                result.detail += _table_figure(check, result)
                out[claim.name][check] = result
    return out


#: what each numeric check compares the claim with (report.html's picture titles)
REFERENCE = {"finite_difference": "central difference", "agreement": "the spec at 50 digits"}


def _evidence(derivation: Derivation, claim: Claim, check: str, found) -> Evidence | None:
    """What report.html draws for a failed numeric check: claimed − reference at the shrunk
    counterexample and, for a derivative, the finite-difference error against the step at
    its worst entry."""
    detail = found.detail
    if isinstance(detail, str):
        return None
    reference = "the identity's other side" if claim.identity and check == "finite_difference" else REFERENCE[check]
    evidence = Evidence.of(reference, found.point.describe(), detail.claimed, detail.reference)
    if not claim.identity:
        try:
            with numeric.keeping_global_rng():
                _add_curve(evidence, derivation, claim, found.point, detail)
        except DerivationError:  # the code fails at a larger step: the failure stands, without its curve
            pass
    return evidence


def _add_curve(evidence: Evidence, derivation: Derivation, claim: Claim, point: Point, detail) -> None:
    """|D_h − claimed| and |D_h − D_{h_best}| against the step h at the comparison's worst entry
    (h_best: the step nearest the optimal step of a central difference, ∛ε · max(1, |x|), where
    truncation (∝ h²) and rounding (∝ ε/h) are about equal)."""
    worst = tuple(detail.worst_index)
    positions = numeric.selected_positions(np.shape(point.values[claim.wrt]), claim.select(point.namespace()))
    value_dims = len(worst) - positions.ndim
    position = int(positions[worst[value_dims:]])
    upstream = None if claim.upstream is None else np.asarray(point.values[claim.upstream])
    h, d_h = numeric.step_curve(derivation, point, claim.wrt, position, worst[:value_dims], upstream=upstream,
                                of=differentiated_output(derivation, claim))
    if h.size < 2:
        return
    claimed = float(detail.claimed[worst])
    x = float(np.ravel(point.values[claim.wrt])[position])
    optimal = np.cbrt(np.finfo(float).eps) * max(1.0, abs(x))
    best = d_h[int(np.argmin(np.abs(np.log(h / optimal))))]
    evidence.entry = list(worst)
    evidence.steps, evidence.claim_gap = h.tolist(), np.abs(d_h - claimed).tolist()
    evidence.spread = np.abs(d_h - best).tolist()
    evidence.claim_error = abs(claimed - float(detail.reference[worst]))


def _diagnosis(derivation: Derivation, assumptions: tuple, options: Options, key, exploration, found) -> str:
    """The diagnosis, when it is the same at several failing non-degenerate points: the shrunk
    one, the first one the survey met, and fresh points at sizes where every dimension differs
    from the shrunk point's (a missing 1/N reads as "2 × true" at N = 2 and "3 × true" at N = 3:
    no constant factor; and at N = 1 any wrong number is a "factor")."""
    if isinstance(found.detail, str):
        return ""
    first = exploration.first.get(key, found)
    # (the same point twice is one point: a band's midpoint tried first and never shrunk must not
    # agree with itself that the claim is "wrong only at entry 0")
    seen = [found] + ([first] if first.point is not found.point else [])
    searched = len(seen)  # the points the search found; those after them are drawn afresh
    held = 0  # fresh points where the claim holds
    rng = np.random.default_rng(options.seed + 1)
    for _ in range(4 * DIAGNOSIS_POINTS):
        if len(seen) >= DIAGNOSIS_POINTS + 1:
            break
        sizes = other_sizes(derivation, found.point.sizes, rng)
        point = draw_point(derivation, RandomSource(rng), assumptions, sizes=sizes, scale=1.0)
        # (a pass here is only counted, its figures unused: it may stand on the first runs' rounding)
        comparison = evaluate_point(derivation, point, options.tolerance, options.seed, key,
                                    early=lambda _key, _comparison: True)[key]
        if not isinstance(comparison, str) and not comparison.ok:
            seen.append(Found(point, comparison))
        elif not isinstance(comparison, str):
            held += 1
    swapped = _swapped(derivation, key[0], seen, options)
    if swapped:
        return swapped
    # the diagnosis at each failing point, read to the precision of its reference
    observations = [Observation(diagnose(f.detail.claimed, f.detail.reference, indices=derivation.indices_at(f.point),
                                         rtol=numeric_rtol(f.detail.tolerance, f.detail.claimed, f.detail.reference)),
                                dict(f.point.sizes), fresh=k >= searched)
                    for k, f in enumerate(seen)
                    if not isinstance(f.detail, str) and not degenerate(f.detail.claimed, f.detail.reference)]
    return decide(observations, held)


def _swapped(derivation: Derivation, name: str, seen: list, options: Options) -> str:
    """"equals the true ∂J/∂w: outputs swapped?" when the code's output for claim ``name`` is, at
    every non-degenerate failing point (at least two), another claim's truth: central differences
    of the code's value along that claim's variable (returns= naming the outputs out of order)."""
    claim = derivation.claim(name)
    if claim.identity:
        return ""
    points = [f for f in seen if not isinstance(f.detail, str)]
    for other in derivation.claims:
        if other.output == claim.output or other.identity or other.upstream != claim.upstream:
            continue
        if claim.index is None and other.index is None and points and \
                np.shape(points[0].point.values[other.wrt]) != np.shape(points[0].point.values[claim.wrt]):
            continue  # (a cheap test first: the shapes cannot match)
        agree = []
        for f in points:
            key = (other.name, "finite_difference")
            try:
                truth = evaluate_point(derivation, f.point, options.tolerance, options.seed, key)[key]
            except DerivationError:
                break
            if isinstance(truth, str) or truth.reference.shape != f.detail.claimed.shape:
                break
            if not degenerate(f.detail.claimed, truth.reference):
                gap = np.abs(f.detail.claimed - truth.reference)
                scale = max(float(np.max(np.abs(truth.reference))), float(np.max(np.abs(f.detail.claimed))))
                agree.append(bool(np.all((gap <= DIAGNOSIS_RTOL * scale) | (gap <= truth.tolerance))))
        else:
            if len(agree) >= 2 and all(agree):
                return f"equals the true {other.name}: outputs swapped? check returns="
    return ""


def _table_figure(check: str, result: CheckResult) -> str:
    """The figure the table shows for this check (the worst over all examples), in the table's own
    words, so that the table and the details never print two different numbers for one thing."""
    from .report.figures import ratio_text

    return f"; worst over all {result.figures.examples} examples (the table's figure): {ratio_text(check, result)} " \
           "its tolerance"


def _largest_text(largest, found) -> str:
    """The failing example with the largest relative error, when it is not the counterexample shown
    and is wrong by more (the shrunk one may sit at 1e-3 inputs where the error is 1e-6 of itself)."""
    if largest is None or isinstance(found.detail, str) or largest[0] <= 10 * found.detail.max_rel_err:
        return ""
    rel, point, c = largest
    claimed, reference = pair_text(c.worst_claimed, c.worst_reference)
    return (f". The largest error among the examples: entry {list(c.worst_index)}, claimed {claimed}, "
            f"reference {reference} (max relative error {rel:.3g}) at {point.describe()}")


def _failure_text(claim: Claim, check: str, detail) -> str:
    if isinstance(detail, str):
        return detail
    against = {"finite_difference": "the identity's other side" if claim.identity else "central difference",
               "agreement": "the spec (exact)"}[check]
    what = f"claimed {claim.name}" if check == "finite_difference" else f"implementation's {claim.name}"
    other = "numeric" if check == "finite_difference" else "spec"
    entries = worst_text(worst_entries(detail.claimed, detail.reference, detail.tolerance), other)
    return (f"{what} vs {against}, {entries} "
            f"(at the counterexample below: error {detail.worst_ratio:.3g}× its tolerance, max relative error "
            f"{detail.max_rel_err:.3g})")


def evaluate_point(derivation: Derivation, point: Point, tol: Tolerance, seed: int = 0, only=None,
                   log: numeric.CallLog | None = None, early=None) -> dict:
    """Finite-difference and agreement comparisons of every claim at one point
    (``only``: just this (claim name, check), as when hypothesis shrinks it).

    Returns {(claim name, check): Comparison or a one-line failure message}.

    ``early(key, comparison) -> bool``: the comparisons are made first with the rounding measured by
    `EARLY_NOISE_RUNS` of the Monte Carlo runs (`numeric.Rounding`, a lower bound of the whole
    measurement's). When every one of them passes at its default step with no entry set aside, and
    ``early`` accepts its figures, they stand: each tolerance only grows with the measured noise, so
    each would pass with the whole measurement too (the point's verdicts are the same), and its
    error over the tolerance only shrinks (``early`` accepts figures that decide nothing: see
    `numeric_checks`). Otherwise, and without ``early``, they are made with the whole measurement.
    """
    value_name = derivation.implementation.returns[0]
    log = log if log is not None else numeric.CallLog()
    base = numeric.call_twice(derivation, point, log)  # bitwise the same twice, or not deterministic
    rounding = numeric.Rounding(derivation, point, base, tol, np.random.default_rng(seed))
    if tol.noise_samples > EARLY_NOISE_RUNS and early is not None:
        rounding.take(EARLY_NOISE_RUNS)
        so_far = rounding.so_far()
    else:
        so_far = None
    wanted = [(c, check) for c in derivation.claims for check in ("agreement", "finite_difference")
              if only is None or only == (c.name, check)]
    spec: dict = {}  # the spec at 50 digits, evaluated once (`_compare_all`)
    memo: dict = {}  # the code's values at the stencils' moves (`numeric._values_at_moves`)
    if so_far is not None:
        out = _compare_all(derivation, point, tol, wanted, base, so_far, True, log, spec, memo)
        if all(_stands(c) and early(key, c) for key, c in out.items()):
            return out
    noise, watched = rounding.finish()
    return _compare_all(derivation, point, tol, wanted, base, noise, watched, log, spec, memo)


#: Monte Carlo runs whose rounding measurement is tried first (`evaluate_point` with ``early``): a point
#: whose comparisons all pass with it, deciding no figure, needs no more; each other point takes all
#: of ``Tolerance.noise_samples`` (the seed's points pass at a tenth of their tolerance or fail by far more)
EARLY_NOISE_RUNS = 2


def _stands(comparison) -> bool:
    """Whether an early comparison stands (`evaluate_point`): a pass at the default step, nothing set aside."""
    return isinstance(comparison, numeric.Comparison) and comparison.ok and not comparison.set_aside \
        and not comparison.unresolved and not comparison.refined


def _compare_all(derivation: Derivation, point: Point, tol: Tolerance, wanted: list, base: dict, noise: dict,
                 watched: bool, log: numeric.CallLog, spec: dict, memo: dict) -> dict:
    """`evaluate_point`'s comparisons with the rounding ``noise`` measured (``watched``: whether Monte
    Carlo arithmetic saw the code's operations). ``spec``: the spec's values at 50 digits, kept once
    evaluated; ``memo``: the code's values at moves (`numeric._values_at_moves`)."""
    value_name = derivation.implementation.returns[0]
    # nothing below the smallest normal number of the code's dtype is resolved (float32 code flushes
    # 1e-85 to 0): that is the least rounding error any output can have
    noise = {k: np.maximum(v, log.smallest.get(k, 0.0)) for k, v in noise.items()}
    if log.epsilon > 2 * tol.unit_roundoff:  # code that computes in float32: its differences need float32's step
        tol = dataclasses.replace(tol, fd_step=max(tol.fd_step, log.epsilon ** (1 / 3)))
    f = base[value_name]
    if (not watched or any(check == "agreement" for _, check in wanted)) and "exact" not in spec:
        spec["exact"] = evaluate_spec(derivation, point, ("digits", SYMBOLIC_DIGITS), f.shape)  # the spec at 50 digits
    if not watched:
        exact_value, exact_claims = spec["exact"]
        # the code hid its arithmetic from Monte Carlo arithmetic (it converted its inputs):
        # take the rounding of the spec's own formula in float64 (53-bit) as the estimate instead
        f64_value, f64_claims = evaluate_spec(derivation, point, ("bits", FLOAT64_BITS), f.shape)
        noise = dict(noise)
        noise[value_name] = np.maximum(noise[value_name], np.abs(f64_value - exact_value))
        for claim in derivation.claims:
            if not isinstance(exact_claims[claim.name], str) and not isinstance(f64_claims[claim.name], str):
                _raise_noise(noise, claim, point, f, np.abs(f64_claims[claim.name] - exact_claims[claim.name]))
    err_f = noise[value_name] + tol.unit_roundoff * np.abs(f)
    agreement = None
    if any(check == "agreement" for _, check in wanted):
        exact_value, exact_claims = spec["exact"]
        agreement = exact_claims, numeric.compare(f, exact_value, tol.safety * err_f)
    out = {}
    for claim, check in wanted:
        s = point.namespace()
        claim.shape(s, f.shape, np.shape(point.values.get(claim.wrt)))  # a bad index is the derivation's error
        index, full = claim.select(s), claim.full_index(s, f.ndim)
        a = np.asarray(base[claim.output][full])
        err_a = np.asarray(noise[claim.output][full]) + tol.unit_roundoff * np.abs(a)
        if check == "agreement":
            out[(claim.name, check)] = _agreement(derivation, point, claim, a, err_a, *agreement, value_name, tol)
        else:
            of = differentiated_output(derivation, claim)  # the value, or the gradient for a second derivative
            out[(claim.name, check)] = finite_difference(derivation, point, claim, index, a, err_a, base[of], noise,
                                                         tol, memo)
    return out


def finite_difference(derivation: Derivation, point: Point, claim: Claim, index, claimed: np.ndarray,
                      err_claimed: np.ndarray, f: np.ndarray, noise: dict, tol: Tolerance, memo: dict | None = None):
    """``claimed`` against central differences of the implementation's value (for an
    identity: against the value itself; for a second derivative: of its gradient, ``f`` then the
    gradient at the point), with the tolerance the error model gives."""
    value_name = differentiated_output(derivation, claim)
    if claim.order == 2 and np.shape(f) != np.shape(point.values[claim.wrt]):  # given the value: the gradient
        f = numeric.call(derivation, point)[value_name]
    if claim.identity:
        return numeric.compare(claimed, f, tol.safety * (err_claimed + noise[value_name] + tol.unit_roundoff * np.abs(f)))
    positions = numeric.selected_positions(point.values[claim.wrt].shape, index)
    upstream = None if claim.upstream is None else np.asarray(point.values[claim.upstream])
    if claim.reading == "symmetric-perturbation":
        # a central difference along the free entry θ_ij moves X_ij and X_ji: it reads 2 G_ij off the
        # diagonal; the claim is compared as 2 G_ij there and reported as the user wrote it
        n = point.values[claim.wrt].shape[0]
        two = np.where(positions // n != positions % n, 2.0, 1.0)
        c = numeric.fd_comparison(derivation, point, claim.wrt, positions, claimed * two, err_claimed * two, f,
                                  noise[value_name], tol, upstream, memo=memo)
        c.claimed, c.reference = c.claimed / two, c.reference / two
        c.worst_claimed, c.worst_reference = (float(v[c.worst_index]) for v in (c.claimed, c.reference))
        return c
    c = numeric.fd_comparison(derivation, point, claim.wrt, positions, claimed, err_claimed, f,
                              noise[value_name], tol, upstream, of=value_name, memo=memo)
    if claim.reading and getattr(derivation.variables[claim.wrt], "structure", None) == "diagonal":
        return _diagonal_reading(claim, positions, point.values[claim.wrt].shape[0], c, err_claimed, tol)
    return c


def _diagonal_reading(claim: Claim, positions: np.ndarray, n: int, c, err_claimed, tol: Tolerance):
    """The comparison ``c`` (central differences along every entry) in the claim's reading of a
    diagonal matrix: by its free entries the truth off the diagonal is 0 (nothing moves those entries;
    the claim is compared with 0 to its own rounding); along diagonal perturbations the entries off
    the diagonal are not read (compared with themselves)."""
    off = np.broadcast_to(np.asarray(positions) // n != np.asarray(positions) % n, np.shape(c.claimed))
    free = claim.reading == "free-entries"
    reference = np.where(off, 0.0 if free else c.claimed, c.reference)
    tolerance = np.where(off, tol.safety * np.broadcast_to(err_claimed, off.shape), c.tolerance)
    skipped = None if c.skipped is None else np.broadcast_to(c.skipped, off.shape) & ~off
    out = numeric.compare(c.claimed, reference, tolerance, skip=skipped)
    out.unresolved = min(c.unresolved, out.set_aside)
    out.set_aside -= out.unresolved
    out.refined = c.refined
    return out


def _raise_noise(noise: dict, claim: Claim, point: Point, f: np.ndarray, extra: np.ndarray) -> None:
    """noise[claim.output] at the claim's entries raised to at least ``extra``."""
    out = np.array(noise[claim.output], copy=True)
    full = claim.full_index(point.namespace(), f.ndim)
    out[full] = np.maximum(out[full], extra)
    noise[claim.output] = out


class _ValueDisagrees(str):
    """The agreement failure "the code's value is not the spec's", said in words (no claimed
    entries to show) but with its figures, so that the table's column shows the error."""

    def __new__(cls, text: str, comparison):
        self = super().__new__(cls, text)
        self.worst_ratio, self.max_rel_err = comparison.worst_ratio, comparison.max_rel_err
        return self

    def __reduce__(self):  # it travels from a worker as the text it is
        return (str, (str(self),))


def _agreement(derivation, point, claim, a, err_a, exact_claims, value_agrees, value_name, tol):
    spec_exact = exact_claims[claim.name]
    if isinstance(spec_exact, SpecFailed):
        return SpecFailed(f"the spec's claim could not be evaluated: {spec_exact}")
    if isinstance(spec_exact, str):
        return f"spec and implementation differ in shape: {spec_exact}"
    if spec_exact.shape != a.shape:
        return f"implementation's {claim.name} has shape {a.shape}, the spec's {spec_exact.shape}"
    if not value_agrees.ok:
        code, spec = pair_text(value_agrees.worst_claimed, value_agrees.worst_reference)
        return _ValueDisagrees(f"the implementation's value {value_name} = {code} vs the spec's {spec} "
                               f"(error {value_agrees.worst_ratio:.3g}× the tolerance)", value_agrees)
    # the spec at 50 digits is exact to ~1e-50 of its own magnitude, not to 0: an exact 0 in the
    # code against a 1e-50 residual of the spec is agreement
    floor = SYMBOLIC_ZERO * max(float(np.max(np.abs(spec_exact), initial=0.0)),
                                float(np.max(np.abs(value_agrees.reference), initial=0.0)), point.scale)
    # (exactly at a kink, relu at 0 or a tie in a max, the one-ulp moves of Monte Carlo
    # arithmetic cross it, so the noise already covers any subgradient the code picks)
    return numeric.compare(a, spec_exact, tol.safety * err_a + floor)
