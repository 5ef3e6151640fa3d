"""One entry through gradcheck, and whether what it got is what the entry expects (shared by
tests/test_gradcheck_catalogue.py and benchmarks/gradcheck_catalogue.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from gradverify import gradcheck


@dataclass
class Outcome:
    got: str                 # pass, fail, inconclusive or error
    message: str
    result: object = None    # the GradcheckResult (None for an error)
    seconds: float = 0.0

    def located(self) -> list:
        return [(e.argument, tuple(e.index)) for e in self.result.located] if self.result is not None else []


def run(entry, n) -> Outcome:
    fn, args, wrt = entry.make(n)
    t0 = time.perf_counter()
    try:
        result = gradcheck(fn, args, wrt, **entry.options)
    except Exception as exc:  # an entry expected to be refused (wrong shapes, …) raises
        return Outcome("error", f"{type(exc).__name__}: {exc}", None, time.perf_counter() - t0)
    seconds = time.perf_counter() - t0
    got = "pass" if result.ok else ("inconclusive" if result.inconclusive else "fail")
    return Outcome(got, result.message, result, seconds)


def problems(entry, outcome: Outcome, size: str = "small") -> list[str]:
    """What is wrong with ``outcome`` for ``entry`` (empty: the right verdict)."""
    out = []
    expected = entry.expected_for(size)
    if outcome.got != expected:
        out.append(f"expected {expected}, got {outcome.got}: {outcome.message[:300]}")
        return out
    if entry.message and expected == entry.expected and entry.message not in outcome.message:
        out.append(f"message lacks {entry.message!r}: {outcome.message[:300]}")
    if entry.located is not None and (entry.located[0], tuple(entry.located[1])) not in outcome.located():
        out.append(f"not located at {entry.located}: located {outcome.located()}, {outcome.message[:200]}")
    if outcome.got == "pass" and not outcome.result.resolution < entry.resolution:
        out.append(f"vacuous pass: resolution {outcome.result.resolution:.3g} ≥ {entry.resolution:g}")
    return out
