"""The one row model every renderer reads: one `Row` per (derivation, claim).

A row holds the `ClaimResult` it was made from, its outcome (does it fail the
run?), the text of each cell in full and abbreviated, and the lines that say
what failed and how to reproduce it. Renderers only lay these out and escape
them for their format; none formats a figure or a verdict itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..results import CHECKS, READ_AS, CheckResult, ClaimResult, Status, Verdict
from ..tolerances import WEAK_PASS_RESOLUTION
from .figures import rel_text, ratio_text

#: (`gradverify.numeric.OUTSIDE`, repeated so that the report needs no numeric import)
OUTSIDE = "outside the function's domain, redrawn"

__all__ = ["Outcome", "Row", "build_rows", "outcome", "verdict_text", "detail_lines", "failure_text", "COLUMNS"]

#: the table's columns, in order; each is a field of `Row.cells`
COLUMNS = ["derivation", "claim", "symbolic", "finite difference", "agreement", "verdict", "diagnosis"]


class Outcome(StrEnum):
    """What a row means for the run (its exit code), like pytest's outcomes."""

    PASSED = "passed"
    #: a claim marked ``expect=`` that got that verdict (pytest: xfailed)
    EXPECTED = "expected"
    FAILED = "failed"
    #: a claim marked ``expect=`` (not "holds") that now holds (pytest: xpassed, strict)
    UNEXPECTED_PASS = "unexpected_pass"
    ERROR = "error"

    @property
    def fails_run(self) -> bool:
        return self in (Outcome.FAILED, Outcome.UNEXPECTED_PASS, Outcome.ERROR)


def outcome(r: ClaimResult) -> Outcome:
    verdict = Verdict(r.verdict)
    if r.expect is not None and r.as_expected:
        return Outcome.PASSED if verdict == Verdict.HOLDS else Outcome.EXPECTED
    if verdict == Verdict.ERROR:
        return Outcome.ERROR
    if verdict == Verdict.HOLDS:
        return Outcome.PASSED if r.expect is None else Outcome.UNEXPECTED_PASS
    return Outcome.FAILED


def _symbolic_cell(c: CheckResult, short: bool) -> str:
    status = Status(c.status)
    if status in (Status.ERROR, Status.REFUTED):
        return status.value.upper()
    if short:
        return status.value
    sizes = c.figures.sizes_text() or "no sizes"
    degenerate = f"; degenerate: {', '.join(c.figures.degenerate)}" if c.figures.degenerate else ""
    if status == Status.PROVED:
        return f"proved at {sizes}{degenerate}"
    return f"sampled ({c.figures.points} pts) at {sizes}{degenerate}"


def _numeric_cell(name: str, c: CheckResult, short: bool) -> str:
    status = Status(c.status)
    if status == Status.ERROR:
        return "ERROR"
    word = "pass" if status == Status.PASS else "FAIL"
    weak = status == Status.PASS and getattr(c.figures, "resolution", 0.0) >= WEAK_PASS_RESOLUTION
    if weak:  # a pass that could not have seen an error of this fraction of the gradient says so
        word = "weak pass"
    if short:  # the points drawn again outside the function's domain are counted in the table too
        redrawn = c.figures.set_aside.get(OUTSIDE, 0)
        return f"{word} {ratio_text(name, c)}" + (f" ({redrawn} redrawn)" if redrawn else "")
    if weak:
        word += f" (resolves {c.figures.resolution:.1g} of the gradient)"
    aside = "".join(f" ({n} points {why})" if why == OUTSIDE else f" ({n} {why}, not compared)"
                    for why, n in c.figures.set_aside.items())
    pinned = " · RNG pinned" if c.figures.rng_pinned else ""
    return (f"{word} · {c.figures.examples} ex{aside} · worst over them: rel {rel_text(name, c)} · "
            f"{ratio_text(name, c)} tol{pinned}")


def verdict_text(r: ClaimResult) -> str:
    """The verdict in words, with the expectation when the claim has one."""
    verdict = Verdict(r.verdict)
    if verdict == Verdict.CONDITIONAL:
        words = "REFUTED as stated; holds if " + "; ".join(r.holds_if)
    else:
        words = "holds" if verdict == Verdict.HOLDS else verdict.value.upper()
    kind = outcome(r)
    reason = f": {r.reason}" if r.reason else ""
    if kind == Outcome.EXPECTED:
        return f"expected: {words}{reason}"
    if r.expect is not None and not r.as_expected:
        return f"{words} (UNEXPECTED: marked expect={r.expect}{reason})"
    return words


def _short_verdict(r: ClaimResult) -> str:
    words = {Verdict.CONDITIONAL: "conditional", Verdict.HOLDS: "holds"}.get(Verdict(r.verdict),
                                                                             Verdict(r.verdict).value.upper())
    kind = outcome(r)
    if kind == Outcome.EXPECTED:
        return f"expected {words}"
    if kind == Outcome.UNEXPECTED_PASS:
        return "UNEXPECTED pass"
    return words


def detail_lines(r: ClaimResult) -> list[str]:
    """What failed, where, and how to reproduce it (empty for a claim that simply holds)."""
    if Verdict(r.verdict) == Verdict.HOLDS and outcome(r) == Outcome.PASSED:
        return []
    lines = [f"{r.derivation} · {r.claim} · {verdict_text(r)}"]
    if READ_AS in r.as_written:  # a claim by a structured matrix: which derivative it was checked as
        lines.append(f"  checked as: {r.as_written}")
    if r.verdict == Verdict.ERROR:
        lines.append(f"  error: {r.message}")
    for name, c in r.checks.items():
        if c.failed or (Status(c.status) == Status.ERROR and c.detail):
            lines.append(f"  {name}: {c.detail}")
            if c.diagnosis:
                lines.append(f"    diagnosis: {c.diagnosis}")
            if c.counterexample:
                lines.append(f"    at: {c.counterexample}")
    if r.reproduce:
        lines.append(f"  reproduce: {r.reproduce}")
    return lines


def failure_text(r: ClaimResult) -> str:
    """The text a failing claim is reported with (pytest item, ``assert_holds``, JUnit)."""
    return "\n".join(detail_lines(r) or [f"{r.derivation} · {r.claim} · {verdict_text(r)}"])


@dataclass(frozen=True)
class Row:
    result: ClaimResult
    outcome: Outcome
    #: full text of each column (Markdown, HTML, JUnit)
    cells: tuple[str, ...]
    #: abbreviated cells (the terminal table)
    short: tuple[str, ...]
    details: tuple[str, ...]

    @property
    def verdict(self) -> str:
        return self.cells[COLUMNS.index("verdict")]


def build_row(r: ClaimResult) -> Row:
    def cells(short: bool) -> tuple[str, ...]:
        c = r.checks
        numeric = [_numeric_cell(name, c[name], short) for name in CHECKS[1:]]
        return (r.derivation, r.claim, _symbolic_cell(c["symbolic"], short), *numeric,
                _short_verdict(r) if short else verdict_text(r), r.diagnosis)

    return Row(r, outcome(r), cells(False), cells(True), tuple(detail_lines(r)))


def build_rows(results: list[ClaimResult]) -> list[Row]:
    return [build_row(r) for r in results]
