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
    origin = derivation.origin or defined_in(derivation)
    if origin:
        argv += ["--derivations", origin]
    return shlex.join(argv + ["--no-write"])


def defined_in(derivation: Derivation) -> str:
    """The file of the module that holds ``derivation`` at top level (what ``--derivations``
    loads), when it was imported the ordinary way and not by gradverify's loader; "" when none
    is known (a derivation built inside a function)."""
    import sys

    functions = [derivation.function, derivation.implementation.fn, *(c.expr for c in derivation.claims)]
    spaces = [getattr(getattr(f, "__wrapped__", f), "__globals__", None) for f in functions]
    spaces += [vars(m) for m in list(sys.modules.values()) if m is not None and hasattr(m, "__dict__")]
    for space in spaces:
        if not isinstance(space, dict):
            continue
        file = space.get("__file__")
        if isinstance(file, str) and file.endswith(".py") and any(v is derivation for v in list(space.values())):
            return file
    return ""


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
