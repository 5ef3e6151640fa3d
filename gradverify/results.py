"""What a check returns: verdicts and statuses as enums, results as typed records.

The checks (`checks`, `symbolic`) produce these; every renderer (terminal,
Markdown, JSON, JUnit, HTML) reads them and nothing else, so no renderer parses
text another module formatted. The enums are ``str`` enums: their values are
the words the JSON report has always used ("holds", "proved", "pass").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum

__all__ = ["Verdict", "Status", "CHECKS", "READ_AS", "SymbolicFigures", "NumericFigures", "Evidence", "CheckResult",
           "ClaimResult", "Necessity", "error_rows", "expected_verdict"]


class Verdict(StrEnum):
    """A claim's verdict over its three checks."""

    HOLDS = "holds"
    #: refuted as stated; holds once the assumptions the source left implicit are added
    CONDITIONAL = "conditional"
    REFUTED = "refuted"
    #: the derivation could not be checked (its code raised, returned NaN, ...)
    ERROR = "error"


class Status(StrEnum):
    """One check's outcome. Symbolic: proved / sampled / refuted; numeric: pass / fail; any: error."""

    PROVED = "proved"
    SAMPLED = "sampled"
    REFUTED = "refuted"
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"

    @property
    def failed(self) -> bool:
        return self in (Status.REFUTED, Status.FAIL)


#: the three checks, in the order the table shows them
CHECKS = ("symbolic", "finite_difference", "agreement")

#: how a claim by a structured matrix marks, in its ``as_written`` text, which derivative it was checked as
#: (the report's details repeat that text for a claim that fails)
READ_AS = "[read as "


@dataclass
class SymbolicFigures:
    #: the size tuples checked ({"d": 2, "V": 5}, ...)
    sizes: list[dict[str, int]] = field(default_factory=list)
    #: random 50-digit points evaluated
    points: int = 0
    seconds: float = 0.0
    #: what the sizes could not avoid and may hide a mistake ("K=1", "d=V=3")
    degenerate: list[str] = field(default_factory=list)

    def sizes_text(self) -> str:
        return "; ".join(", ".join(f"{k}={v}" for k, v in s.items()) for s in self.sizes)

    def as_dict(self) -> dict:
        return {"sizes": self.sizes_text(), "points": self.points, "seconds": round(self.seconds, 3),
                "degenerate": self.degenerate}


@dataclass
class NumericFigures:
    examples: int = 0
    #: the largest max-relative-error over the examples
    max_rel_err: float = 0.0
    #: the largest error over its tolerance over the examples (≤ 1 passes)
    error_over_tolerance: float = 0.0
    estimator: str = ""
    mode: str = ""
    #: examples not compared, and why ("3 near a kink"): counted, never silently dropped
    set_aside: dict[str, int] = field(default_factory=dict)
    #: the code drew from the global np.random / random state, which was seeded identically
    #: (`numeric.PINNED_SEED`) before every call so that reruns compare like with like
    rng_pinned: bool = False
    #: the best resolution of the examples compared (tolerance relative to the size of the reference):
    #: an error smaller than this fraction of the gradient could pass unseen everywhere (a weak pass says so)
    resolution: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Evidence:
    """What report.html draws for a failed check: plain lists and floats (it pickles between
    processes and is JSON as it stands). Not part of the JSON report."""

    #: what the claim was compared with: "central difference", "sympy's derivative", "the spec at 50 digits"
    reference: str
    #: the point, as the counterexample is written
    point: str
    #: the gradient's shape (the claim's selection) as checked
    shape: list[int]
    #: claimed − reference, as rows of a 2-D table (a vector is one row; rank ≥ 3 is flattened to
    #: (all but the last axis) × last axis), at most `MAX_SIDE` rows and columns of it
    difference: list[list[float]]
    #: the finite-difference error against the step: the worst entry (its index in the gradient) ...
    entry: list[int] = field(default_factory=list)
    #: ... the steps h, largest first ...
    steps: list[float] = field(default_factory=list)
    #: ... |D_h − claimed| ...
    claim_gap: list[float] = field(default_factory=list)
    #: ... |D_h − D_{h_best}| (the truncation/rounding V of a right gradient) ...
    spread: list[float] = field(default_factory=list)
    #: ... and |claimed − reference| at that entry: the gap no step closes
    claim_error: float = 0.0

    #: the most rows and columns of the difference kept (and drawn)
    MAX_SIDE = 50

    @classmethod
    def of(cls, reference: str, point: str, claimed, truth) -> "Evidence":
        import numpy as np

        diff = np.asarray(claimed, dtype=float) - np.asarray(truth, dtype=float)
        table = diff.reshape(1, -1) if diff.ndim < 2 else diff.reshape(-1, diff.shape[-1])
        table = table[:cls.MAX_SIDE, :cls.MAX_SIDE]
        return cls(reference, point, list(diff.shape), table.tolist())

    @property
    def flattened(self) -> bool:
        """The gradient has rank ≥ 3: the table is (all but the last axis) × the last axis."""
        return len(self.shape) >= 3

    @property
    def clipped(self) -> bool:
        """Only the first `MAX_SIDE` rows or columns are kept."""
        rows = 1 if len(self.shape) < 2 else math.prod(self.shape[:-1])
        cols = math.prod(self.shape[-1:])
        return rows > self.MAX_SIDE or cols > self.MAX_SIDE


@dataclass
class CheckResult:
    status: Status
    figures: SymbolicFigures | NumericFigures | None = None
    detail: str = ""
    counterexample: str | None = None
    #: for a failure: how the claim relates to the reference, when a simple relation holds
    diagnosis: str = ""
    #: for a failure: what report.html draws (None for a pass, or a failure not at a point)
    evidence: Evidence | None = None
    #: for an error raised in the user's code: ``report --traceback``'s text (not in the JSON)
    traceback: str = ""

    @property
    def failed(self) -> bool:
        return Status(self.status).failed

    def as_dict(self) -> dict:
        figures = self.figures.as_dict() if self.figures is not None else {}
        return {"status": str(self.status), **figures, "detail": self.detail, "diagnosis": self.diagnosis,
                "counterexample": self.counterexample}


@dataclass
class Necessity:
    """report --assumptions: what dropping one assumption does to one claim."""

    necessary: bool
    #: the check that then fails, with its counterexample and diagnosis
    check: str | None = None
    counterexample: str | None = None
    diagnosis: str = ""


@dataclass
class ClaimResult:
    derivation: str
    title: str
    claim: str
    as_written: str
    verdict: Verdict
    checks: dict[str, CheckResult]
    #: the derivation's assumptions: {"text", "source", "why"} and, with --assumptions, the Necessity fields
    assumptions: list[dict]
    #: for a conditional verdict: the implicit assumptions under which the claim holds
    holds_if: list[str] = field(default_factory=list)
    message: str = ""
    reproduce: str = ""
    #: the verdict the derivation says this claim gets (``Claim(expect=, reason=)``), if any
    expect: Verdict | None = None
    reason: str = ""
    #: (function, claimed derivative) as MathML, made where the derivation was loaded (report.html)
    math: tuple[str, str] | None = None
    #: the as-written text (or the claim's name) as MathML when the steps grammar reads it, else
    #: escaped text, made where the derivation was loaded (report.html; `gradverify.mathml`)
    written_math: str = ""
    #: for an error: the traceback in the user's frames, or why there is none (``report --traceback``;
    #: not in the JSON report)
    traceback: str = ""

    @property
    def as_expected(self) -> bool | None:
        """None without an expectation; else whether the verdict is the expected one (strict,
        as pytest's ``xfail(strict=True)``: an expected failure that now holds is unexpected)."""
        return None if self.expect is None else self.verdict == self.expect

    @property
    def diagnosis(self) -> str:
        """The first diagnosis among the failing checks (symbolic first: it compares with the exact truth)."""
        return next((c.diagnosis for c in self.checks.values() if c.failed and c.diagnosis), "")

    def as_dict(self) -> dict:
        return {"derivation": self.derivation, "title": self.title, "claim": self.claim,
                "as_written": self.as_written, "verdict": str(self.verdict), "diagnosis": self.diagnosis,
                "checks": {k: v.as_dict() for k, v in self.checks.items()},
                "assumptions": self.assumptions, "holds_if": self.holds_if, "message": self.message,
                "reproduce": self.reproduce, "expect": None if self.expect is None else str(self.expect),
                "reason": self.reason, "as_expected": self.as_expected}


def error_rows(derivation_id: str, title: str, message: str, claims=(), reproduce: str = "",
               traceback: str = "") -> list[ClaimResult]:
    """One ERROR row per claim (one "(all)" row when the claims are unknown: the module did not load).
    ``traceback``: what ``report --traceback`` shows (`gradverify.tracebacks.describe`)."""
    rows = [ClaimResult(derivation_id, title, c.name, c.as_written, Verdict.ERROR,
                        {k: CheckResult(Status.ERROR) for k in CHECKS}, [], message=message, reproduce=reproduce,
                        expect=expected_verdict(c), reason=c.reason, traceback=traceback) for c in claims]
    return rows or [ClaimResult(derivation_id, title, "(all)", "", Verdict.ERROR,
                                {k: CheckResult(Status.ERROR) for k in CHECKS}, [], message=message,
                                reproduce=reproduce, traceback=traceback)]


def expected_verdict(claim) -> Verdict | None:
    """The verdict a claim is marked to get (``expect=``), or None."""
    return None if claim.expect is None else Verdict(claim.expect)
