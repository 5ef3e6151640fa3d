"""The report: the rows of one run, with what the run was (seed, examples, paths, command).

Data only: nothing here computes a verdict, lays out a format or writes a file. `Report` holds
the run's state and the row model (`rows.Row`); each format is a renderer function over it,
named in the registry `formats.RENDERERS` (`formats.render`, `formats.write`).
"""

from __future__ import annotations

from collections import Counter

from ..results import ClaimResult, Verdict
from .rows import Outcome, Row, build_rows
from .steprows import counts

__all__ = ["Report", "counted", "exit_code", "environment"]


def exit_code(rows: list[ClaimResult], costs=()) -> int:
    """0: every claim holds or gets the verdict it is marked to expect; 1: a claim is refuted
    (conditional counts) or an expected verdict changed (strict); 2: a derivation could not run."""
    outcomes = {r.outcome for r in build_rows(list(rows))}
    cost_verdicts = {c.verdict for c in costs}
    if Outcome.ERROR in outcomes or "error" in cost_verdicts:
        return 2
    if any(o.fails_run for o in outcomes) or cost_verdicts & {"refuted", "conditional"}:
        return 1
    return 0


def environment() -> dict:
    """The versions a run depends on: hypothesis draws other examples in other
    versions, so a seed reproduces a report exactly only with the same ones."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("hypothesis", "numpy", "sympy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``1 error``, ``2 errors``."""
    return f"{n} {word if n == 1 else (plural or word + 's')}"


class Report:
    def __init__(self, rows: list[ClaimResult], *, seed: int, examples: int, paths: list[str], command: str,
                 costs=(), assumptions_checked: bool = False, show_tracebacks: bool = False):
        """``command``: the command that reproduces this report, its seed included.
        ``show_tracebacks``: the terminal text shows each error's traceback after the table (``--traceback``)."""
        self.results, self.seed, self.examples, self.paths, self.command = list(rows), seed, examples, paths, command
        self.costs, self.assumptions_checked = list(costs), assumptions_checked
        self.show_tracebacks = show_tracebacks
        self.table: list[Row] = build_rows(self.results)
        #: ``report --steps``: the links of the derivations written in LaTeX (`gradverify.steps.Link`,
        #: read as data: its fields and its ``mathml`` text), and the repairs made to each one's text;
        #: None without --steps (the report is as before)
        self.steps = None
        self.step_repairs: dict = {}

    # the ClaimResults, under the name callers have always used
    @property
    def rows(self) -> list[ClaimResult]:
        return self.results

    @property
    def exit_code(self) -> int:
        code = exit_code(self.results, self.costs)
        if self.steps and code == 0 and any(s.verdict in ("refuted", "unparsed", "error") for s in self.steps):
            return 1
        return code

    def summary(self) -> dict:
        counts = Counter(str(r.verdict) for r in self.results)
        outcomes = Counter(row.outcome for row in self.table)
        cost_counts = Counter(c.verdict for c in self.costs)
        return {"claims": len(self.results), **{v.value: counts.get(v.value, 0) for v in Verdict},
                "expected": outcomes[Outcome.EXPECTED], "unexpected_pass": outcomes[Outcome.UNEXPECTED_PASS],
                "cost_claims": len(self.costs), "cost_holds": cost_counts.get("holds", 0),
                "exit_code": self.exit_code}

    def summary_sentence(self) -> str:
        """The counts in words; rows marked ``expect=`` that got their verdict are counted apart."""
        out = Counter(row.outcome for row in self.table)
        unexpected = Counter(str(row.result.verdict) for row in self.table if row.outcome != Outcome.EXPECTED)
        s = self.summary()
        words = [f"{counted(s['claims'], 'claim')}: {unexpected['holds']} {'holds' if unexpected['holds'] == 1 else 'hold'}",
                 f"{unexpected['conditional']} {'holds' if unexpected['conditional'] == 1 else 'hold'} only "
                 "under an unstated assumption", f"{unexpected['refuted']} refuted", counted(unexpected['error'], 'error')]
        if out[Outcome.EXPECTED] or out[Outcome.UNEXPECTED_PASS]:
            words.append(f"{out[Outcome.EXPECTED]} as expected (marked expect=)")
        if out[Outcome.UNEXPECTED_PASS]:
            words.append(f"{counted(out[Outcome.UNEXPECTED_PASS], 'unexpected pass', 'unexpected passes')}")
        costs = f"; {s['cost_holds']} of {s['cost_claims']} cost claims hold" if self.costs else ""
        if self.steps is not None:
            c = counts(self.steps)
            costs += (f"; {len(self.steps)} written steps: {c['holds']} hold, {c['conditional']} only under a named "
                      f"assumption, {c['refuted']} refuted, {c['unparsed']} unparsed, {c['error']} errors")
        return ", ".join(words) + f"{costs} (exit {s['exit_code']})."

    def summary_line(self) -> str:
        return f"{self.summary_sentence()} Reproduce: {self.reproduce()}"

    def reproduce(self) -> str:
        return self.command

    def header(self) -> str:
        from .. import __version__

        versions = ", ".join(f"{k} {v}" for k, v in environment().items() if k != "python")
        return (f"gradverify {__version__} · seed {self.seed} · {self.examples} hypothesis examples per derivation "
                f"· derivations: {', '.join(self.paths)} · {versions}")

    def assumptions(self) -> list[str]:
        lines, done = [], set()
        for r in self.results:
            if r.derivation in done or not r.assumptions:
                continue
            done.add(r.derivation)
            for a in r.assumptions:
                note = "stated by the source" if a["source"] == "stated" else f"implicit, not in the source: {a['why']}"
                lines.append(f"{r.derivation}: {a['text']} ({note})")
        return lines

    def necessity_rows(self) -> list[list[str]]:
        """report --assumptions: each (claim, assumption) with the verdict of dropping it."""
        out = []
        for r in self.results:
            for a in r.assumptions:
                if "necessary" not in a:
                    continue
                found = "not needed"
                if a["necessary"]:
                    found = f"necessary: {a['check']} fails" + (f" ({a['diagnosis']})" if a["diagnosis"] else "")
                out.append([r.derivation, r.claim, a["text"], a["source"], found, a.get("counterexample") or ""])
        return out

    def cost_lines(self) -> list[str]:
        return [f"{c.derivation} · {c.name} · {c.verdict.upper() if c.verdict != 'holds' else 'holds'}: {c.summary()}"
                for c in self.costs]

    def methods(self) -> list[str]:
        """Which estimator and mode each numeric check used."""
        from ..results import NumericFigures

        seen = {}
        for r in self.results:
            for name, c in r.checks.items():
                if isinstance(c.figures, NumericFigures):
                    seen.setdefault(name, f"{c.figures.estimator}; {c.figures.mode}")
        return [f"{name.replace('_', ' ')}: {how}" for name, how in seen.items()]

    def details(self) -> list[str]:
        return [line for row in self.table for line in row.details]

    def tracebacks(self) -> list[tuple[str, str]]:
        """Each error's ("derivation · claims", traceback in the user's frames or why there is none):
        one per derivation when its claims share it, else one per claim (``report --traceback``)."""
        from ..tracebacks import NO_TRACEBACK

        groups: dict[tuple[str, str, str], list[str]] = {}
        for r in self.results:
            if Verdict(r.verdict) == Verdict.ERROR:
                groups.setdefault((r.derivation, r.message, r.traceback or NO_TRACEBACK), []).append(r.claim)
        return [(f"{derivation} · {', '.join(claims)}", text) for (derivation, _, text), claims in groups.items()]
