"""No false alarms: many hypothesis examples of the right seed claims, every check.

    python benchmarks/false_alarms.py [--examples N] [--seed S] [--catalogue M] [--frameworks K]

N examples per seed derivation (8 of them), drawn within all assumptions, at
tiny, unit and large scales (scores of +-50). Prints, per derivation, the
examples run, the false alarms (a right claim failing), and the largest error
seen as a fraction of its tolerance: the margin the documented tolerances leave.
The test suite runs the same with 1,250 per derivation (10,000 in all).

With ``--catalogue M`` (default 10,000; 0 to skip) it also runs M examples of each right
version of the kinked, normalising and float32 losses of tests/catalogue/ (ReLU, a ReLU net, leaky
ReLU, max pooling, hinge, Huber, L1, layer norm and batch norm with ε), and prints the
examples set aside near a kink beside the false alarms. ``--frameworks K`` (default 1,000; 0 to
skip) does the same for the right versions of the torch and jax catalogue
(tests/catalogue_frameworks/), for each library that is installed.
"""

import argparse
import sys
import time
from pathlib import Path

from tabulate import tabulate
from _page import add_write_option, recorded  # benchmarks/_page.py: --write

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "derivations"))
sys.path.insert(0, str(ROOT / "tests" / "catalogue"))

#: the right versions of the catalogue's kinked and normalising code
CATALOGUE = ("relu-sum", "relu-net", "leaky-relu", "max-pool", "hinge", "huber", "l1", "layer-norm-eps",
             "batch-norm", "tanh-float32", "softmax-ce-float32")
#: the right versions of the torch and jax catalogue (when the library is installed)
FRAMEWORK_CATALOGUE = tuple(f"{lib}-{loss}" for lib in ("torch", "jax")
                            for loss in ("softmax-ce", "relu-net", "batch-norm", "logistic", "huber"))

from gradverify.checks import Options, numeric_checks  # noqa: E402
from gradverify.loading import load  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=12_500, help="examples per derivation (default 12,500)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--catalogue", type=int, default=10_000, help="examples per catalogue derivation (0: none)")
    p.add_argument("--frameworks", type=int, default=1_000,
                   help="examples per torch and jax catalogue derivation, when installed (0: none)")
    add_write_option(p)
    args = p.parse_args()
    derivations, failures = load([ROOT / "derivations"])
    runs = [(d, args.examples) for d in derivations if args.examples]
    from _registry import entries, framework_entries
    if args.catalogue:
        runs += [(e.derivation, args.catalogue) for e in entries() if e.derivation.id in CATALOGUE]
    if args.frameworks:
        runs += [(e.derivation, args.frameworks) for e in framework_entries() if e.derivation.id in FRAMEWORK_CATALOGUE]
    rows, total, alarms = [], 0, 0
    for d, examples in runs:
        row, failed = _run(d, examples, args.seed)
        rows.append(row)
        total += row[1]
        alarms += len(failed)
        for c in failed:
            print(f"FALSE ALARM {d.id}: {c.status} {c.detail} at {c.counterexample}", file=sys.stderr)
    print(tabulate(rows, headers=["derivation", "examples", "false alarms", "examples set aside (near a kink)",
                                  "max error / tolerance", "seconds"], disable_numparse=True))
    print(f"\n{total} examples, {alarms} false alarms (seed {args.seed}; python benchmarks/false_alarms.py "
          f"--examples {args.examples} --catalogue {args.catalogue} --frameworks {args.frameworks} --seed {args.seed})")
    return 1 if alarms else 0


def _run(d, examples, seed):
    t0 = time.perf_counter()
    results = numeric_checks(d, tuple(d.assumptions), Options(seed=seed, examples=examples))
    seconds = time.perf_counter() - t0
    checks = [c for claim in results.values() for c in claim.values()]
    failed = [c for c in checks if c.status != "pass"]
    worst = max(c.figures.error_over_tolerance for c in checks)
    aside = max(sum(c.figures.set_aside.values()) for c in checks)
    n = checks[0].figures.examples
    return [d.id, n, len(failed), aside, f"{worst:.3f}", f"{seconds:.1f}"], failed


if __name__ == "__main__":
    with recorded(__file__):  # --write PATH: the output into its region of that page
        sys.exit(main())
