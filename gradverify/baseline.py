"""A verdict baseline: compare a run with a committed report.json, verdicts not figures.

For every claim (derivation id, claim name) the verdict, the diagnosis and the
status of each check are compared; figures (errors, ratios, counterexamples)
are not, so a baseline does not change when a CPU rounds differently. New and
removed claims are changes too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InvalidArgument

__all__ = ["Change", "Comparison", "compare", "load_baseline", "claim_key", "verdict_fields"]


def claim_key(row: dict) -> tuple[str, str]:
    return row["derivation"], row["claim"]


def verdict_fields(row: dict) -> dict[str, str]:
    """What a baseline compares for one claim (a JSON row): verdict, diagnosis, each check's status."""
    out = {"verdict": row.get("verdict", ""), "diagnosis": row.get("diagnosis", "")}
    for name, check in (row.get("checks") or {}).items():
        out[f"{name} status"] = check.get("status", "")
    return out


@dataclass(frozen=True)
class Change:
    derivation: str
    claim: str
    #: "verdict", "diagnosis", "<check> status"; or "new" / "removed" for a whole claim
    field: str
    old: str = ""
    new: str = ""

    def describe(self) -> str:
        where = f"{self.derivation} · {self.claim}"
        if self.field == "new":
            return f"{where}: new claim (not in the baseline), verdict {self.new}"
        if self.field == "removed":
            return f"{where}: removed (in the baseline with verdict {self.old})"
        return f"{where}: {self.field} changed from {self.old or '(none)'!s} to {self.new or '(none)'!s}"


@dataclass
class Comparison:
    baseline: str
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def of(self, derivation: str, claim: str) -> list[Change]:
        return [c for c in self.changes if (c.derivation, c.claim) == (derivation, claim)]

    def text(self) -> str:
        if not self.changes:
            return f"No verdict changed since the baseline {self.baseline}."
        lines = [f"{len(self.changes)} change{'s' if len(self.changes) != 1 else ''} since the baseline "
                 f"{self.baseline}:"]
        return "\n".join(lines + ["  " + c.describe() for c in self.changes])


def compare(current: dict, baseline: dict, name: str = "baseline") -> Comparison:
    """Every change from ``baseline`` to ``current`` (both report JSON documents)."""
    old = {claim_key(r): r for r in baseline.get("rows", [])}
    new = {claim_key(r): r for r in current.get("rows", [])}
    changes = []
    for key, row in new.items():
        if key not in old:
            changes.append(Change(*key, "new", new=row.get("verdict", "")))
            continue
        before, after = verdict_fields(old[key]), verdict_fields(row)
        for what in dict.fromkeys([*before, *after]):
            if before.get(what, "") != after.get(what, ""):
                changes.append(Change(*key, what, before.get(what, ""), after.get(what, "")))
    changes += [Change(*key, "removed", old=row.get("verdict", "")) for key, row in old.items() if key not in new]
    return Comparison(name, changes)


def load_baseline(path: Path) -> dict:
    """A committed report.json; a clear `InvalidArgument` when it is missing or not a report."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidArgument("an existing report.json as --baseline", f"--baseline {path} (no such file)",
                              "Create it with --update-baseline.") from None
    except (OSError, ValueError) as exc:
        raise InvalidArgument("a report.json written by gradverify as --baseline", f"--baseline {path} ({exc})",
                              "Rewrite it with --update-baseline.") from None
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise InvalidArgument("a report.json written by gradverify as --baseline", f"--baseline {path} (no rows)",
                              "Rewrite it with --update-baseline.")
    return data
