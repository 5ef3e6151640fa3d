"""Checking derivations from your own tests: ``check(derivation, **options) -> Result`` and
``assert_holds(derivation, **options)``, which raises an `AssertionError` with the same text
the report and the pytest plugin show (verdict, diagnosis, counterexample, reproduce command).

    from gradverify.testing import assert_holds
    from my_losses.least_squares import derivation

    def test_least_squares_gradient():
        assert_holds(derivation, examples=10)
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass

from .checks import Options, check_derivation
from .errors import InvalidArgument
from .loading import load as load_derivations
from .report.rows import Outcome, failure_text, outcome
from .results import ClaimResult, Verdict
from .spec import Derivation, by_name

__all__ = ["Result", "check", "assert_holds", "load_derivations", "reproduce_command"]


@dataclass
class Result:
    """Every claim of one derivation, checked: ``rows`` in the derivation's order."""

    derivation: str
    rows: list[ClaimResult]
    seed: int
    examples: int

    @property
    def verdicts(self) -> dict[str, Verdict]:
        return {r.claim: Verdict(r.verdict) for r in self.rows}

    def claim(self, name: str) -> ClaimResult:
        return by_name(self.rows, name, lambda r: r.claim)

    @property
    def failures(self) -> list[ClaimResult]:
        """The claims that fail a run: not holding (unless marked ``expect=`` and got it), or
        marked and now holding (strict)."""
        return [r for r in self.rows if outcome(r).fails_run]

    @property
    def ok(self) -> bool:
        return not self.failures

    def text(self) -> str:
        if self.ok:
            expected = sum(outcome(r) == Outcome.EXPECTED for r in self.rows)
            extra = f" ({expected} as marked expect=)" if expected else ""
            return f"{self.derivation}: every claim holds{extra} (seed {self.seed}, {self.examples} examples)"
        return "\n".join(failure_text(r) for r in self.failures)


def reproduce_command(derivation: Derivation, seed: int, examples: int) -> str:
    """The command that re-checks ``derivation`` alone, shell-quoted."""
    argv = ["python", "-m", "gradverify", "report", "--only", derivation.id, "--seed", str(seed)]
    if examples != Options.examples:
        argv += ["--examples", str(examples)]
    if derivation.origin:
        argv += ["--derivations", derivation.origin]
    return shlex.join(argv + ["--no-write"])


def with_expectations(rows: list[ClaimResult], derivation: Derivation) -> list[ClaimResult]:
    """Each row with its claim's ``expect``/``reason`` (when the checks did not carry them over)."""
    claims = {c.name: c for c in derivation.claims}
    out = []
    for r in rows:
        claim = claims.get(r.claim)
        if r.expect is None and claim is not None and getattr(claim, "expect", None):
            r = dataclasses.replace(r, expect=Verdict(claim.expect), reason=claim.reason)
        out.append(r)
    return out


def check(derivation: Derivation, **options) -> Result:
    """Check every claim of ``derivation`` three ways. ``options``: ``seed`` (0), ``examples`` (25),
    ``symbolic_configs``, ``tolerance``, ``assumptions`` (as `gradverify.checks.Options`)."""
    if not isinstance(derivation, Derivation):
        raise InvalidArgument("a gradverify.Derivation", f"{type(derivation).__name__}",
                              "Pass the Derivation object your derivation module defines.")
    known = {f.name for f in dataclasses.fields(Options)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise InvalidArgument(f"options among {', '.join(sorted(known))}", ", ".join(unknown))
    opts = Options(**options)
    rows = check_derivation(derivation, opts, reproduce_command(derivation, opts.seed, opts.examples))
    return Result(derivation.id, with_expectations(rows, derivation), opts.seed, opts.examples)


def assert_holds(derivation: Derivation, **options) -> Result:
    """`check`, raising `AssertionError` with the report's text unless every claim holds (or gets
    the verdict it is marked to expect)."""
    result = check(derivation, **options)
    if not result.ok:
        raise AssertionError(result.text())
    return result
