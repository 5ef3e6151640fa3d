"""No false alarms: many hypothesis examples of the right seed claims, every check.

    python benchmarks/false_alarms.py [--examples N] [--seed S]

N examples per seed derivation (8 of them), drawn within all assumptions, at
tiny, unit and large scales (scores of +-50). Prints, per derivation, the
examples run, the false alarms (a right claim failing), and the largest error
seen as a fraction of its tolerance: the margin the documented tolerances leave.
The test suite runs the same with 1,250 per derivation (10,000 in all).
"""

import argparse
import sys
import time
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "derivations"))

from gradverify.checks import Options, _numeric  # noqa: E402
from gradverify.loading import load  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=12_500, help="examples per derivation (default 12,500)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    derivations, failures = load([ROOT / "derivations"])
    rows, total, alarms = [], 0, 0
    for d in derivations:
        t0 = time.perf_counter()
        results = _numeric(d, tuple(d.assumptions), Options(seed=args.seed, examples=args.examples))
        seconds = time.perf_counter() - t0
        checks = [c for claim in results.values() for c in claim.values()]
        failed = [c for c in checks if c.status != "pass"]
        worst = max(c.figures.error_over_tolerance for c in checks)
        n = checks[0].figures.examples
        total += n
        alarms += len(failed)
        rows.append([d.id, n, len(failed), f"{worst:.3f}", f"{seconds:.1f}"])
        for c in failed:
            print(f"FALSE ALARM {d.id}: {c.detail} at {c.counterexample}", file=sys.stderr)
    print(tabulate(rows, headers=["derivation", "examples", "false alarms", "max error / tolerance", "seconds"],
                   disable_numparse=True))
    print(f"\n{total} examples, {alarms} false alarms (seed {args.seed}; "
          f"python benchmarks/false_alarms.py --examples {args.examples} --seed {args.seed})")
    return 1 if alarms else 0


if __name__ == "__main__":
    sys.exit(main())
