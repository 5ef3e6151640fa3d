"""Saying *how* a refuted claim is wrong, in one line, when a simple relation holds.

Given the claimed array C and the true one T at one point (sympy's derivative,
or central differences), try in order: wrong shape / transposed, sign flipped,
off by a constant factor, one term extra, missing or of the wrong sign, wrong
only at one index (named after the index variable that has that value), wrong
only where indices repeat. (A term is named at the matrix level where it is one:
`gradverify.matrix_terms`.) Each relation must hold to DIAGNOSIS_RTOL of the
size of T; a relation that holds that closely at a random point is not chance.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

import numpy as np

from .tolerances import DIAGNOSIS_RTOL

__all__ = ["diagnose", "worst_entries", "worst_text", "agreed", "same_diagnosis", "pair_text", "positional_confirmed", "Observation",
           "decide", "size_factor", "numeric_rtol", "EXACT_RTOL"]



#: how closely a relation must hold, relative to the size of the truth, at the point it is read;
#: `diagnose`'s ``rtol``: 50-digit values (the symbolic check) are exact, central differences are
#: good to their own tolerance (the numeric checks pass ``numeric_rtol`` of it)
_RTOL = [DIAGNOSIS_RTOL]


def _close(a, b, scale) -> bool:
    return bool(np.max(np.abs(a - b), initial=0.0) <= _RTOL[-1] * scale)


def numeric_rtol(tolerance, claimed, reference) -> float:
    """The ``rtol`` a relation is read to against a numeric reference: ten times the comparison's
    own tolerance relative to the size of the numbers (a factor 1 − 1e-6 is seen against central
    differences good to 1e-9), never looser than `DIAGNOSIS_RTOL` nor tighter than exact."""
    scale = max(float(np.max(np.abs(claimed), initial=0.0)), float(np.max(np.abs(reference), initial=0.0)))
    if scale == 0 or tolerance is None:
        return DIAGNOSIS_RTOL
    return float(min(DIAGNOSIS_RTOL, max(EXACT_RTOL, 10 * float(np.max(tolerance)) / scale)))


#: the ``rtol`` for values computed with 50 digits
EXACT_RTOL = 1e-12


def _factor_text(k: float) -> str:
    f = Fraction(k).limit_denominator(12)
    if abs(float(f) - k) <= 1e-9 * abs(k):
        return str(f)
    # as many digits as it takes to tell k from the nearest simple number (0.999999, not 1)
    gap = abs(float(f) - k) / abs(k)
    digits = min(17, max(4, int(np.ceil(-np.log10(gap))) + 1)) if gap > 0 else 4
    return f"{k:.{digits}g}"


def diagnose(claimed, true, *, indices: dict | None = None, terms: Sequence[tuple[str, np.ndarray]] = (),
             true_terms: Sequence[tuple[str, np.ndarray]] = (), parts: Sequence[tuple[str, np.ndarray]] = (),
             rtol: float = DIAGNOSIS_RTOL) -> str:
    """One line on how ``claimed`` relates to ``true``, or "" when no simple relation holds.

    ``indices``: the index variables at the point ({"o": 2, "samples": [1, 1]}),
    to name the index where a claim is wrong. ``terms`` / ``true_terms``: the
    additive terms of the claim / the truth, each as (label, array at the point); ``parts``:
    the derivatives of the function's own additive terms (label "∂/∂w of …"). ``rtol``: how
    closely a relation must hold (`EXACT_RTOL` for 50-digit values, `numeric_rtol` else).
    """
    _RTOL.append(rtol)
    try:
        return _diagnose(claimed, true, indices, terms, true_terms, parts)
    finally:
        _RTOL.pop()


def _diagnose(claimed, true, indices, terms, true_terms, parts) -> str:
    C, T = np.asarray(claimed, float), np.asarray(true, float)
    if C.shape != T.shape:
        return _shape_relation(C, T)
    scale = max(float(np.max(np.abs(T), initial=0.0)), float(np.max(np.abs(C), initial=0.0)))
    if scale == 0.0 or _close(C, T, scale):
        return ""
    indices = indices or {}
    repeat = _repeat_note(C - T, scale, indices)
    for relation in (_sign, _transposed):
        found = relation(C, T, scale)
        if found:
            return found + ("" if found == "transposed" else repeat)
    # a term of the claim's, the truth's or the function's own that accounts for the whole
    # difference says more than a factor (which any two vectors of one entry, or two vectors of a
    # plane where softmax gradients live, always have)
    term = _term_relation(C - T, scale, terms, true_terms, parts)
    if term:
        return term
    found = _factor(C, T, scale)
    if found:
        return found + repeat
    found = _part_of_term(C - T, scale, terms, list(parts) + list(true_terms))
    if found:
        return found
    if not np.any(T) and np.any(C):
        return "claimed nonzero where the truth is 0"
    return _where_wrong(C - T, scale, indices)


def _shape_relation(C, T) -> str:
    if C.ndim == 2 and C.shape == T.shape[::-1]:
        return f"transposed: shape {C.shape[0]}×{C.shape[1]} where {T.shape[0]}×{T.shape[1]} belongs"
    return f"wrong shape: {C.shape} where {T.shape} belongs"


def _sign(C, T, scale) -> str:
    return "sign flipped" if _close(C, -T, scale) else ""


def _transposed(C, T, scale) -> str:
    return "transposed" if C.ndim == 2 and C.shape[0] == C.shape[1] and _close(C, T.T, scale) else ""


def _factor(C, T, scale) -> str:
    tt = float(np.sum(T * T))
    if tt <= 0:
        return ""
    k = float(np.sum(C * T)) / tt
    if abs(k) > DIAGNOSIS_RTOL and _close(C, k * T, scale):
        return f"off by a constant factor: claimed = {_factor_text(k)} × true"
    return ""


def _term_relation(diff, scale, terms, true_terms, parts=()) -> str:
    """One term of the claim extra or of the wrong sign, one term of the truth missing, or the
    derivative of one of the function's own terms missing or extra."""
    for label, t in parts:
        t = np.asarray(t, float)
        if t.shape == diff.shape and np.any(t):
            if _close(-diff, t, scale):
                return f"missing term: {label}"
            if _close(diff, t, scale):
                return f"extra term: {label}"
    for label, t in terms:
        t = np.asarray(t, float)
        if t.shape == diff.shape and np.any(t):
            if _close(diff, t, scale):
                return f"extra term: {label}"
            if _close(diff, 2 * t, scale):
                return f"sign of one term flipped: {label}"
    for label, t in true_terms:
        t = np.asarray(t, float)
        if t.shape == diff.shape and np.any(t) and _close(-diff, t, scale):
            return f"missing term: {label}"
    return ""


def _part_of_term(diff, scale, terms, true_terms) -> str:
    """A simple fraction k (0 < k < 1, denominator at most 12) of one term accounting for the whole
    difference: "missing term: 1/2 of λ·W" (the claim has half of a term of the truth's, or of the
    derivative of one of the function's terms), "extra term: 1/3 of …" (one term of the claim's is
    that much too large)."""
    for kind, sign, group in (("missing term", -1.0, true_terms), ("extra term", 1.0, terms)):
        for label, t in group:
            t = np.asarray(t, float)
            tt = float(np.sum(t * t)) if t.shape == diff.shape else 0.0
            if tt <= 0:
                continue
            k = sign * float(np.sum(diff * t)) / tt
            f = Fraction(k).limit_denominator(12)
            if 0 < f < 1 and abs(float(f) - k) <= _RTOL[-1] * abs(k) and _close(sign * diff, float(f) * t, scale):
                return f"{kind}: {f} of {label}"
    return ""


def _repeat_note(diff: np.ndarray, scale: float, indices: dict) -> str:
    """"; where indices repeat: samples=[1, 1]" when every wrong entry sits where an index list repeats."""
    wrong = np.abs(diff) > DIAGNOSIS_RTOL * scale
    if not wrong.any():
        return ""
    at = sorted(set(np.nonzero(wrong)[-1].tolist())) if diff.ndim else []
    for name, value in indices.items():
        if isinstance(value, list) and at and set(at) <= _repeated(value):
            return f", only where indices repeat: {name}={value}"
    return ""


def _where_wrong(diff: np.ndarray, scale: float, indices: dict) -> str:
    wrong = np.abs(diff) > DIAGNOSIS_RTOL * scale
    if not wrong.any() or wrong.all():
        return ""
    if diff.ndim == 2:
        cols = sorted(set(np.nonzero(wrong)[1].tolist()))
        rows = sorted(set(np.nonzero(wrong)[0].tolist()))
        axis, at = ("column", cols) if len(cols) < diff.shape[1] else ("row", rows)
        if len(at) == diff.shape[0 if axis == "row" else 1]:
            return ""
    else:
        axis, at = "entry", sorted(np.nonzero(wrong.ravel())[0].tolist())
    lists = {n: v for n, v in indices.items() if isinstance(v, list)}
    for reading in (_repeated_words, _repeated_positions):  # word indices first: U[:, w] is word w
        for name, value in lists.items():
            if at and set(at) <= reading(value):
                return f"wrong only where indices repeat: {name}={value}"
    for name, value in indices.items():
        if not isinstance(value, list) and at == [value]:
            return f"wrong only at {axis} {name}={value}"
    if len(at) == 1:
        return f"wrong only at {axis} {at[0]}"
    return ""


def _rows(value: list) -> list:
    return value if value and isinstance(value[0], list) else [value]


def _repeated_words(value: list) -> set:
    """The words repeated within a row of ``value`` (a list, or a list of rows)."""
    return {w for row in _rows(value) for w in row if row.count(w) > 1}


def _repeated_positions(value: list) -> set:
    """For a flat list, the positions holding a repeat: a claim on ``U[:, samples]``
    has one column per position."""
    if _rows(value)[0] is not value:
        return set()
    return {p for p, w in enumerate(value) if value.count(w) > 1}


def _repeated(value: list) -> set:
    return _repeated_words(value) | _repeated_positions(value)


def _shape_of(text: str) -> str:
    """A diagnosis with the values of index variables and the indices of terms left out:
    "wrong only at column o=2" and "... o=3" say the same thing about the claim."""
    text = re.sub(r"(\w+)=(\[[\[\]\d, ]*\]|\d+)", r"\1=…", text)
    text = re.sub(r"[₀-₉][₀-₉,]*", "…", text)  # A₀,₁ and A₀,₃: one term at two sizes
    return re.sub(r"\[[\d, ]*\]", "[…]", text)


_REPEAT = ", only where indices repeat: "


def _coarse(text: str) -> str:
    """"off by a constant factor: claimed = 1/2 × true, only where indices repeat: samples=[1, 1]"
    as what it says at any number of repeats: "wrong only where indices repeat: samples=[1, 1]"."""
    if _REPEAT in text:
        return "wrong only where indices repeat: " + text.split(_REPEAT, 1)[1]
    return text


def agreed(diagnoses: Sequence[str], at_least: int = 2) -> str:
    """The diagnosis made at several non-degenerate failing points: the one that at least two
    of them and two thirds of them make (up to index values), else "". One point can mislead:
    at N = 2 a dropped batch-norm term is proportional to the kept one and reads as "1.025 × true".
    Where they differ only in the factor of a claim wrong only where indices repeat (½ for a
    word drawn twice, ⅓ thrice), what they agree on is said."""
    for texts in (list(diagnoses), [_coarse(d) for d in diagnoses]):
        shapes = Counter(_shape_of(d) for d in texts if d)
        if not shapes:
            return ""
        shape, count = shapes.most_common(1)[0]
        if count >= max(at_least, -(-2 * len(texts) // 3)):
            return next(d for d in texts if d and _shape_of(d) == shape)
    return ""


_POSITIONAL = re.compile(r"^wrong only at (entry|row|column) \d+$")


def positional_confirmed(diagnosis: str, fresh: Sequence[str], held: int = 0) -> str:
    """``diagnosis``, unless it is "wrong only at entry k" (a bare position, no index variable named)
    and the points drawn afresh, with other values, do not all say so: a claim wrong in a band of
    values is wrong at whichever entry falls in the band, and the search's points (a band's midpoint,
    its shrunk neighbour) all put the same entry there. A wrong position is wrong at every point;
    ``held`` fresh points where the claim holds, or a fresh point wrong elsewhere, show that the
    error follows the values, not the position."""
    if not _POSITIONAL.match(diagnosis or ""):
        return diagnosis
    return diagnosis if fresh and not held and all(t == diagnosis for t in fresh) else ""


@dataclass
class Observation:
    """A diagnosis made at one failing, non-degenerate point: its text, the sizes there, and whether
    the point was drawn afresh (not found by the search)."""

    text: str
    sizes: dict = field(default_factory=dict)
    fresh: bool = True


def decide(observations: Sequence[Observation], held: int = 0) -> str:
    """The one diagnosis policy, for the symbolic and the numeric checks alike: the diagnosis that
    most of the failing points make (`agreed`); a constant factor only where it is the same at every
    size, else the dimension it follows ("off by a factor N"); a bare position ("wrong only at entry
    2") only where every fresh point says so and none held (``held``: fresh points where the claim
    holds)."""
    texts = [o.text for o in observations]
    text = _agreed_terms(observations) or agreed(texts)
    factors = [(o.sizes, _factor_of(o.text)) for o in observations if _factor_of(o.text) is not None]
    if text.startswith(_FACTOR) or (not text and factors and len(factors) == len([t for t in texts if t])):
        varying = len({round(k, 12) for _, k in factors}) > 1
        if varying:
            text = size_factor(factors)
    return positional_confirmed(text, [o.text for o in observations if o.fresh], held)


_FACTOR = "off by a constant factor"
_TERM_KINDS = ("missing term", "extra term", "sign of one term flipped")


def _agreed_terms(observations: Sequence[Observation]) -> str:
    """A term relation that most points make, of the same kind (its label names the entries of its
    size tuple: the same term reads longer at d = 3 than at d = 2), said as read at the smallest
    sizes: the shortest mathematics that shows it."""
    kinds = Counter(o.text.partition(":")[0] for o in observations if o.text.partition(":")[0] in _TERM_KINDS)
    if not kinds:
        return ""
    kind, count = kinds.most_common(1)[0]
    if count < max(2, -(-2 * len(observations) // 3)):
        return ""
    mine = [o for o in observations if o.text.partition(":")[0] == kind]
    return min(mine, key=lambda o: (sum(o.sizes.values()), len(o.text))).text


def _factor_of(text: str) -> float | None:
    m = re.match(r"off by a constant factor: claimed = (\S+) × true", text or "")
    if not m or _REPEAT in text:
        return None
    try:
        return float(Fraction(m.group(1)))
    except (ValueError, ZeroDivisionError):
        return None


#: the powers of a dimension a size-dependent factor is read as: N, 1/N, √N, 1/√N, N², 1/N²
_POWERS = ((1, "{}"), (-1, "1/{}"), (0.5, "√{}"), (-0.5, "1/√{}"), (2, "{}²"), (-2, "1/{}²"))


def size_factor(factors: Sequence[tuple[dict, float]]) -> str:
    """"off by a factor N: claimed = N × true" when every factor, at its sizes, is one dimension to
    one power (a forgotten 1/N of a mean, 1/√d of attention), the dimension taking two values at
    least; else ""."""
    names = set.intersection(*(set(sizes) for sizes, _ in factors)) if factors else set()
    for name in sorted(names):
        if len({sizes[name] for sizes, _ in factors}) < 2:
            continue
        for power, form in _POWERS:
            if all(abs(k - sizes[name] ** power) <= 1e-6 * abs(k) for sizes, k in factors):
                label = form.format(name)
                return f"off by a factor {label}: claimed = {label} × true"
    return ""


def same_diagnosis(a: str, b: str) -> bool:
    """Whether two diagnoses, made at two size tuples, say the same about the claim: the same
    factor, or the same kind of relation (a term's label names the entries of its size tuple:
    "missing term: -U[0,1]·…" at V = 2 is "missing term: -U[0,3]·…" at V = 4)."""
    a, b = _coarse(a), _coarse(b)
    if a.startswith("off by a constant factor") or b.startswith("off by a constant factor"):
        return _shape_of(a) == _shape_of(b)
    return a.partition(":")[0] == b.partition(":")[0]


def degenerate(claimed, true) -> bool:
    """A point where the truth or the claim is all zero tells little about how the claim is wrong
    ("claimed nonzero where the truth is 0" at U = 0 is a missing term seen at the wrong place)."""
    return not np.any(np.asarray(true, float)) or not np.any(np.asarray(claimed, float))


def pair_text(c: float, r: float) -> tuple[str, str]:
    """Two numbers with the significant digits it takes to see that they differ
    (an off-by-1e-7 claim is not "claimed -0.5, numeric -0.5")."""
    digits = 6
    if c != r and np.isfinite(c) and np.isfinite(r):
        rel = abs(c - r) / max(abs(c), abs(r))
        digits = min(17, max(6, int(np.ceil(-np.log10(rel))) + 2))
    return f"{c:.{digits}g}", f"{r:.{digits}g}"


def worst_text(worst: list[tuple[list[int], float, float]], other: str) -> str:
    """`worst_entries` as a failure message reads them: ``worst entries [2, 4]: claimed 0.31, numeric
    -0.12; ...``, or for a scalar (no index) ``claimed 0.31, numeric -0.12``."""
    parts = []
    for idx, c, r in worst:
        claimed, reference = pair_text(c, r)
        parts.append((f"{idx}: " if idx else "") + f"claimed {claimed}, {other} {reference}")
    return ("worst entries " if any(idx for idx, _, _ in worst) else "") + "; ".join(parts)


def worst_entries(claimed, reference, tolerance=None, n: int = 3) -> list[tuple[list[int], float, float]]:
    """The ``n`` entries with the largest error (relative to ``tolerance`` when given)."""
    C, R = np.asarray(claimed, float), np.asarray(reference, float)
    err = np.abs(C - R)
    if tolerance is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            err = np.where(err == 0, 0.0, err / np.broadcast_to(tolerance, err.shape))
    order = np.argsort(err.ravel())[::-1][:n]
    out = []
    for flat in order:
        # nothing equal; and with a tolerance, nothing within it (but always the worst entry)
        if err.ravel()[flat] == 0 or (tolerance is not None and out and err.ravel()[flat] <= 1.0):
            break
        idx = np.unravel_index(int(flat), err.shape) if err.ndim else ()
        out.append(([int(i) for i in idx], float(C[idx]), float(R[idx])))
    return out
