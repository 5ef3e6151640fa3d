"""The catalogue of real-world losses (tests/catalogue/, and tests/catalogue_frameworks/ for torch
and jax when installed): expected against got verdicts.

    python benchmarks/catalogue.py [--examples N] [--seed S] [--only PREFIX]

One row per derivation: the loss, the planted mistake ("none" for the right version), the
expected verdict, the verdict got (for an error: its message), the examples run, the examples
set aside (near a kink) and the false alarms (a right version that did not hold). Entries whose
right verdict needs a feature gradverify lacks are marked "pending" and not counted as wrong.
"""

import argparse
import sys
import time
from pathlib import Path

from tabulate import tabulate
from _page import add_write_option, recorded  # benchmarks/_page.py: --write

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "catalogue"))

from _registry import entries, framework_entries  # noqa: E402
from gradverify.checks import Options, check_derivation  # noqa: E402


def _row(entry, options):
    t0 = time.perf_counter()
    rows = check_derivation(entry.derivation, options)
    seconds = time.perf_counter() - t0
    got = ", ".join(f"{r.claim}: {r.verdict}" for r in rows) if not isinstance(entry.expected, str) \
        else "/".join(sorted({str(r.verdict) for r in rows}))
    right = all(r.verdict == entry.expect(r.claim) and entry.message in r.message for r in rows)
    numeric = [c for r in rows for k, c in r.checks.items() if k != "symbolic" and c.figures is not None]
    examples = max((c.figures.examples for c in numeric), default=0)
    aside = sum(sum(c.figures.set_aside.values()) for c in numeric)
    alarms = sum(1 for r in rows for c in r.checks.values() if c.failed and entry.expect(r.claim) == "holds")
    note = rows[0].message[:70] if got == "error" else ""
    status = "ok" if right else ("pending: " + entry.pending if entry.pending else "WRONG")
    return [entry.derivation.id, entry.mistake, entry.describe(), got, examples, aside, alarms, status, note,
            f"{seconds:.1f}"], right, bool(entry.pending)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", default=None)
    add_write_option(p)
    args = p.parse_args()
    options = Options(seed=args.seed, examples=args.examples)
    table, wrong = [], 0
    for entry in entries() + framework_entries():
        if args.only and not entry.derivation.id.startswith(args.only):
            continue
        row, right, pending = _row(entry, options)
        table.append(row)
        wrong += not right and not pending
    print(tabulate(table, headers=["loss", "planted mistake", "expected", "got", "examples", "set aside",
                                   "false alarms", "", "message", "s"], disable_numparse=True))
    print(f"\n{len(table)} entries, {wrong} wrong verdicts (pending ones not counted); "
          f"python benchmarks/catalogue.py --examples {args.examples} --seed {args.seed}")
    return 1 if wrong else 0


if __name__ == "__main__":
    with recorded(__file__):  # --write PATH: the output into its region of that page
        sys.exit(main())
