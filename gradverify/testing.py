"""Checking derivations from your own tests: ``check(derivation, **options) -> Result`` and
``assert_holds(derivation, **options)``, which raises an `AssertionError` with the same text
the report and the pytest plugin show (verdict, diagnosis, counterexample, reproduce command).

A derivation defined at the top level of a file is checked as the report checks it: in a worker
process that imports that file, under a time and a memory limit, so that nothing the check does
(hypothesis and the pinned calls seed ``np.random`` and ``random`` for each example) reaches the
caller's process. The worker checks it only if it finds there the very derivation passed (the
same `gradverify.fingerprint.digest`: a test may have changed a constant or built a variant);
otherwise, or with ``in_process=True`` (a debugger), it is checked in the caller's process and
`Result.notes` says so.

    from gradverify.testing import assert_holds
    from my_losses.least_squares import derivation

    def test_least_squares_gradient():
        assert_holds(derivation, examples=10)
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
from dataclasses import dataclass

from .checks import check_derivation
from .options import Options
from .errors import InvalidArgument
from .isolation import DEFAULT_LIMITS, Limits
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
    #: where it was checked, and why there ("in a worker process", or why in this one)
    notes: list[str] = dataclasses.field(default_factory=list)

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


#: what a `check` in the caller's process says of it
IN_PROCESS = ("checked in this process ({why}): hypothesis and the pinned calls seed np.random and random for "
              "each example and give them back, so a thread drawing from them meanwhile sees other numbers")


def check(derivation: Derivation, *, in_process: bool = False, timeout: float = DEFAULT_LIMITS.timeout,
          max_memory: int | None = DEFAULT_LIMITS.max_memory, **options) -> Result:
    """Check every claim of ``derivation`` three ways. ``options``: ``seed`` (0), ``examples`` (25),
    ``symbolic_configs``, ``tolerance``, ``assumptions`` (as `gradverify.options.Options`).

    Where: in a worker process that imports the derivation's file (as the report does), under
    ``timeout`` seconds and ``max_memory`` bytes (None: no limit); in this process with
    ``in_process=True``, or when the derivation is not at the top level of a file as passed."""
    if not isinstance(derivation, Derivation):
        raise InvalidArgument("a gradverify.Derivation", f"{type(derivation).__name__}",
                              "Pass the Derivation object your derivation module defines.")
    known = {f.name for f in dataclasses.fields(Options)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise InvalidArgument(f"options among {', '.join(sorted(known))}", ", ".join(unknown))
    limits = _limits(timeout, max_memory)
    if _importing_main_in_a_worker():
        raise SystemExit(MAIN_GUARD)
    opts = Options(**{"mathml": False, **options})  # (a Result shows no MathML)
    reproduce = reproduce_command(derivation, opts.seed, opts.examples)
    why = "in_process=True" if in_process else ""
    if not why:
        rows, why = _in_a_worker(derivation, opts, reproduce, limits)
        if rows is not None:
            return Result(derivation.id, with_expectations(rows, derivation), opts.seed, opts.examples,
                          ["checked in a worker process"])
    rows = check_derivation(derivation, opts, reproduce)
    return Result(derivation.id, with_expectations(rows, derivation), opts.seed, opts.examples,
                  [IN_PROCESS.format(why=why)])


#: what a worker says when it re-runs a script that calls `check` at its top level
MAIN_GUARD = ("gradverify.check() was called while a worker process imported your script (multiprocessing runs the "
              "main script again in each new process): put the calls under `if __name__ == \"__main__\":`")


#: why a worker started from a script may fail at once
MAIN_GUARD_HINT = ("multiprocessing runs your main script again in each new process: if it calls check() at its top "
                   "level, put the call under `if __name__ == \"__main__\":`")


def _main_is_a_script() -> bool:
    main = sys.modules.get("__main__")
    return getattr(main, "__spec__", None) is None and bool(getattr(main, "__file__", None))


def _importing_main_in_a_worker() -> bool:
    import multiprocessing

    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))  # (multiprocessing's own flag)


def _limits(timeout, max_memory) -> Limits:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
        raise InvalidArgument("a positive number of seconds", f"timeout={timeout!r}",
                              f"The default is {DEFAULT_LIMITS.timeout:g} s per derivation.")
    if max_memory is not None and (isinstance(max_memory, bool) or not isinstance(max_memory, int) or max_memory <= 0):
        raise InvalidArgument("a positive number of bytes, or None for no limit", f"max_memory={max_memory!r}",
                              "For example max_memory=2 * 2**30 (2 GB).")
    return Limits(float(timeout), max_memory)


def _in_a_worker(derivation: Derivation, opts: Options, reproduce: str, limits: Limits):
    """The rows of ``derivation`` checked in a worker that imports its file, and "" — or None and
    why it was not (no file, or the file's derivation is not the one passed)."""
    from .fingerprint import digest
    from .runner import Runner, check_all, fingerprint_task, summary_of, why_it_ended

    path = derivation.origin or defined_in(derivation)
    if not path:
        return None, "defined inside a function, not at the top level of a file a worker can import"
    expected = digest(derivation)
    if expected is None:
        return None, "it holds values whose state cannot be compared with a worker's (a C object)"
    runner = Runner(limits, jobs=1, flags=("check(timeout=…)", "check(max_memory=…)"))
    try:
        found = runner.map("fingerprint", [fingerprint_task(path, derivation.id)])[0]
        if not found.ok:
            hint = f"; {MAIN_GUARD_HINT}" if _main_is_a_script() else ""
            return None, f"a worker process could not import {path}: {why_it_ended(found, limits, runner.flags)}{hint}"
        if found.value != expected:
            return None, f"it differs from the derivation {derivation.id!r} that {path} defines when imported"
        rows, _ = check_all([summary_of(derivation, path)], opts, runner, lambda _id: reproduce)
    finally:
        runner.close()
    return rows, ""


def assert_holds(derivation: Derivation, **options) -> Result:
    """`check`, raising `AssertionError` with the report's text unless every claim holds (or gets
    the verdict it is marked to expect)."""
    result = check(derivation, **options)
    if not result.ok:
        raise AssertionError(result.text())
    return result
