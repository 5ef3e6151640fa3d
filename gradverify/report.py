"""The report: one row per (derivation, claim), as a terminal table, Markdown and JSON.

The JSON field names are stable and documented in README.md ("The JSON report").
Nothing here computes a verdict; it only lays out `results.ClaimResult`s.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tabulate import tabulate

from . import __version__
from .results import ClaimResult, NumericFigures, Status, SymbolicFigures, Verdict

__all__ = ["Report", "exit_code", "environment", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
COLUMNS = ["derivation", "claim", "symbolic", "finite difference", "agreement", "verdict", "diagnosis"]
NECESSITY_COLUMNS = ["derivation", "claim", "assumption", "source", "dropped", "counterexample"]


def exit_code(rows: list[ClaimResult], costs=()) -> int:
    """0: every claim holds; 1: a claim is refuted (conditional counts); 2: a derivation could not run."""
    verdicts = {r.verdict for r in rows} | {c.verdict for c in costs}
    if "error" in verdicts:
        return 2
    if verdicts & {"refuted", "conditional"}:
        return 1
    return 0


def _num(x: float) -> str:
    return f"{x:.1e}" if x else "0"


def _ratio(x: float) -> str:
    """The largest error as a fraction of its tolerance: what decides pass (≤ 1) or fail."""
    if x == float("inf") or x >= 1000:
        return ">999×"
    return f"{x:.2g}×"


def _verb(n: int, verb: str) -> str:
    return verb + ("s" if n == 1 else "")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


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


def _symbolic_cell(c) -> str:
    if c.status == "error":
        return "ERROR"
    if c.status == "refuted":
        return "REFUTED"
    if c.status == "proved":
        n = len(c.figures.sizes)
        return f"proved ({n} size{'s' if n > 1 else ''})"
    return f"sampled ({c.figures.points} pts)"


def _numeric_cell(c) -> str:
    if c.status == "error":
        return "ERROR"
    word = "pass" if c.status == "pass" else "FAIL"
    return (f"{word} · {c.figures.examples} ex · rel {_num(c.figures.max_rel_err)} · "
            f"{_ratio(c.figures.error_over_tolerance)} tol")


def _verdict_cell(r: ClaimResult) -> str:
    if r.verdict == "conditional":
        return "REFUTED as stated; holds if " + "; ".join(r.holds_if)
    return {"holds": "holds", "refuted": "REFUTED", "error": "ERROR"}[r.verdict]


class Report:
    def __init__(self, rows: list[ClaimResult], *, seed: int, examples: int, paths: list[str], command: str,
                 costs=(), assumptions_checked: bool = False):
        """``command``: the command that reproduces this report, its seed included."""
        self.rows, self.seed, self.examples, self.paths, self.command = rows, seed, examples, paths, command
        self.costs, self.assumptions_checked = list(costs), assumptions_checked

    @property
    def exit_code(self) -> int:
        return exit_code(self.rows, self.costs)

    def summary(self) -> dict:
        counts = Counter(r.verdict for r in self.rows)
        cost_counts = Counter(c.verdict for c in self.costs)
        return {"claims": len(self.rows), **{v: counts.get(v, 0) for v in ("holds", "conditional", "refuted", "error")},
                "cost_claims": len(self.costs), "cost_holds": cost_counts.get("holds", 0),
                "exit_code": self.exit_code}

    def summary_line(self) -> str:
        s = self.summary()
        costs = f"; {s['cost_holds']} of {s['cost_claims']} cost claims hold" if self.costs else ""
        return (f"{_count(s['claims'], 'claim')}: {s['holds']} {_verb(s['holds'], 'hold')}, {s['conditional']} "
                f"{_verb(s['conditional'], 'hold')} only under an unstated assumption, {s['refuted']} refuted, "
                f"{_count(s['error'], 'error')}{costs} "
                f"(exit {s['exit_code']}). Reproduce: {self.reproduce()}")

    def reproduce(self) -> str:
        return self.command

    def header(self) -> str:
        versions = ", ".join(f"{k} {v}" for k, v in environment().items() if k != "python")
        return (f"gradverify {__version__} · seed {self.seed} · {self.examples} hypothesis examples per derivation "
                f"· derivations: {', '.join(self.paths)} · {versions}")

    def table_rows(self) -> list[list[str]]:
        """One row per claim. An ERROR row keeps the symbolic result when only the code failed."""
        out = []
        for r in self.rows:
            c = r.checks
            out.append([r.derivation, r.claim, _symbolic_cell(c["symbolic"]), _numeric_cell(c["finite_difference"]),
                        _numeric_cell(c["agreement"]), _verdict_cell(r), r.diagnosis])
        return out

    def details(self) -> list[str]:
        """One paragraph per claim that does not simply hold: what failed, where, how to reproduce."""
        lines = []
        for r in self.rows:
            if r.verdict == "holds":
                continue
            lines.append(f"{r.derivation} · {r.claim} · {_verdict_cell(r)}")
            if r.verdict == "error":
                lines.append(f"  error: {r.message}")
            for name, c in r.checks.items():
                if c.failed:
                    lines.append(f"  {name}: {c.detail}")
                    if c.diagnosis:
                        lines.append(f"    diagnosis: {c.diagnosis}")
                    if c.counterexample:
                        lines.append(f"    at: {c.counterexample}")
            if r.reproduce:
                lines.append(f"  reproduce: {r.reproduce}")
        return lines

    def assumptions(self) -> list[str]:
        lines, done = [], set()
        for r in self.rows:
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
        for r in self.rows:
            for a in r.assumptions:
                if "necessary" not in a:
                    continue
                if a["necessary"]:
                    found = f"necessary: {a['check']} fails" + (f" ({a['diagnosis']})" if a["diagnosis"] else "")
                    out.append([r.derivation, r.claim, a["text"], a["source"], found, a["counterexample"] or ""])
                else:
                    out.append([r.derivation, r.claim, a["text"], a["source"], "not needed", ""])
        return out

    def cost_lines(self) -> list[str]:
        return [f"{c.derivation} · {c.name} · {c.verdict.upper() if c.verdict != 'holds' else 'holds'}: {c.summary()}"
                for c in self.costs]

    # ------------------------------------------------------------ outputs
    def methods(self) -> list[str]:
        """Which estimator and mode each numeric check used."""
        seen = {}
        for r in self.rows:
            for name, c in r.checks.items():
                if isinstance(c.figures, NumericFigures):
                    seen.setdefault(name, f"{c.figures.estimator}; {c.figures.mode}")
        return [f"{name.replace('_', ' ')}: {how}" for name, how in seen.items()]

    def text(self) -> str:
        parts = [self.header(), "", tabulate(self.table_rows(), headers=COLUMNS, tablefmt="simple"), ""]
        if self.methods():
            parts += ["Estimators:"] + ["  " + m for m in self.methods()] + [""]
        if self.cost_lines():
            parts += ["Cost claims (element operations counted, fitted over a range of sizes):"]
            parts += ["  " + c for c in self.cost_lines()] + [""]
        if self.assumptions():
            parts += ["Assumptions (inputs are drawn within them):"] + ["  " + a for a in self.assumptions()] + [""]
        if self.necessity_rows():
            parts += ["Each assumption dropped in turn:",
                      tabulate(self.necessity_rows(), headers=NECESSITY_COLUMNS, tablefmt="simple"), ""]
        if self.details():
            parts += ["Details:"] + ["  " + d for d in self.details()] + [""]
        parts.append(self.summary_line())
        return "\n".join(parts)

    def markdown(self) -> str:
        parts = ["# gradverify report", "", f"`{self.header()}`", "",
                 tabulate(self.table_rows(), headers=COLUMNS, tablefmt="github"), ""]
        if self.methods():
            parts += ["Estimators: " + "; ".join(self.methods()), ""]
        if self.cost_lines():
            parts += ["## Cost claims", ""] + [f"- {c}" for c in self.cost_lines()] + [""]
        if self.assumptions():
            parts += ["## Assumptions", ""] + [f"- {a}" for a in self.assumptions()] + [""]
        if self.necessity_rows():
            parts += ["## Each assumption dropped in turn", "",
                      tabulate(self.necessity_rows(), headers=NECESSITY_COLUMNS, tablefmt="github"), ""]
        if self.details():
            parts += ["## Details", "", "```"] + self.details() + ["```", ""]
        parts += ["## Summary", "", self.summary_line(), ""]
        return "\n".join(parts)

    def as_dict(self) -> dict:
        return {"tool": "gradverify", "version": __version__, "schema": SCHEMA_VERSION, "seed": self.seed,
                "environment": environment(),
                "examples": self.examples, "derivation_paths": self.paths, "command": self.command,
                "reproduce": self.reproduce(), "summary": self.summary(),
                "assumptions_checked": self.assumptions_checked,
                "rows": [_clean(r.as_dict()) for r in self.rows],
                "costs": [_clean(c.as_dict()) for c in self.costs]}

    def write(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        md, js = folder / "report.md", folder / "report.json"
        md.write_text(self.markdown(), encoding="utf-8")
        js.write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return [md, js]


def _clean(obj):
    """JSON-safe: inf/nan as strings, timings dropped (files stay the same run to run)."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items() if k != "seconds"}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return str(obj)
    return obj
