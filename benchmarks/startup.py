"""Start-up in proportion: what gradverify costs beyond importing the libraries it runs on.

    python benchmarks/startup.py [--repeat N] [--write docs/benchmarks.md] [--profile]

Three ratios, each the median wall-clock time of a command over the median of its baseline,
measured side by side (alternating, so a machine that gets busier slows both):

* the seed's default report (``python -m gradverify report --no-write --quiet``) over a bare
  ``import numpy, sympy, hypothesis, tabulate`` (target: at most 4×);
* ``pytest --gradverify derivations`` over a bare ``import pytest, numpy, sympy, hypothesis,
  tabulate`` (target: at most 4×);
* ``from gradverify import gradcheck`` over ``import numpy`` (target: at most 1.5×);
* what isolation costs apart from the checks' own work: the seed report in workers over the same
  report ``--in-process`` (both ``--jobs 1``; target: at most 1.2×).

The first two depend on the machine: the checks' own work (sympy's proofs, hypothesis's examples)
is most of a report's time, and ``--jobs`` (default: the number of cores) spreads it; on a machine
busy with other work a short import suffers less than a long run, and the ratios grow.

``--profile`` adds where the time goes: the modules slowest to import (``python -X importtime``)
for ``from gradverify import gradcheck``, and the report's time per derivation split by where it
was spent (``python -m gradverify report --profile``: sympy, hypothesis, numpy, gradverify, your
code). Run from the repository's root (the seed's ``derivations/`` folder).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tabulate import tabulate

from _page import add_write_option, recorded  # benchmarks/_page.py: --write

ROOT = Path(__file__).resolve().parent.parent

TARGETS = {"report": 4.0, "pytest": 4.0, "gradcheck": 1.5, "isolation": 1.2}

#: a command faster than SHORT seconds is run SHORT_RUNS times as often
SHORT, SHORT_RUNS = 1.0, 7

PY = sys.executable
PYTEST_FLAGS = ["-p", "no:cacheprovider", "-p", "no:randomly", "-q", "-o", "addopts=", "--no-header"]

#: (name, what is measured, its command, the baseline's label, the baseline's command)
MEASURES = [
    ("report", "seed report (python -m gradverify report --no-write --quiet)",
     [PY, "-m", "gradverify", "report", "--no-write", "--quiet"],
     "import numpy, sympy, hypothesis, tabulate", [PY, "-c", "import numpy, sympy, hypothesis, tabulate"]),
    ("pytest", "pytest --gradverify derivations",
     [PY, "-m", "pytest", "--gradverify", "derivations", *PYTEST_FLAGS],
     "import pytest, numpy, sympy, hypothesis, tabulate",
     [PY, "-c", "import pytest, numpy, sympy, hypothesis, tabulate"]),
    ("gradcheck", "from gradverify import gradcheck", [PY, "-c", "from gradverify import gradcheck"],
     "import numpy", [PY, "-c", "import numpy"]),
    # what the isolation costs, apart from the checks' own work: the same report, one derivation at a
    # time, in workers and in this process (no limits, no isolation)
    ("isolation", "seed report in workers, --jobs 1",
     [PY, "-m", "gradverify", "report", "--no-write", "--quiet", "--jobs", "1"],
     "the same --in-process (no isolation)",
     [PY, "-m", "gradverify", "report", "--no-write", "--quiet", "--jobs", "1", "--in-process"]),
]


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: a report or a test run with a failure still measures
        sys.exit(f"{' '.join(argv)} failed with status {done.returncode}:\n{done.stderr.decode()[-2000:]}")
    return elapsed


def measure(repeat: int, names=None) -> list[dict]:
    rows = []
    for name, what, argv, base_label, base_argv in MEASURES:
        if names and name not in names:
            continue
        _seconds(base_argv)  # warm the file cache for both
        warm = _seconds(argv)
        times, bases = [], []
        # a command of a tenth of a second moves by half of itself from run to run on a busy VM:
        # more runs of it (they cost little) keep its median steady
        for _ in range(repeat * SHORT_RUNS if warm < SHORT else repeat):
            bases.append(_seconds(base_argv))
            times.append(_seconds(argv))
        t, b = statistics.median(times), statistics.median(bases)
        rows.append({"name": name, "what": what, "seconds": t, "baseline": base_label, "base_seconds": b,
                     "ratio": t / b, "target": TARGETS[name]})
    return rows


def table(rows: list[dict], fmt: str = "simple") -> str:
    return tabulate([[r["what"], f"{r['seconds']:.2f} s", r["baseline"], f"{r['base_seconds']:.2f} s",
                      f"{r['ratio']:.2f}×", f"≤ {r['target']:g}×", "yes" if r["ratio"] <= r["target"] else "NO"]
                     for r in rows],
                    headers=["measured", "time", "baseline (bare import)", "time", "ratio", "target", "met"],
                    tablefmt=fmt, disable_numparse=True)


def importtime(statement: str, top: int = 12) -> list[tuple[str, float]]:
    """The modules slowest to import for ``statement`` (their own time, ``python -X importtime``)."""
    done = subprocess.run([PY, "-X", "importtime", "-c", statement], cwd=ROOT, env=_env(), capture_output=True,
                          text=True)
    found = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3 or "self [us]" in line:
            continue
        found.append((parts[2].strip(), int(parts[0].split(":")[1]) / 1e6))
    return sorted(found, key=lambda m: -m[1])[:top]


def profile_report() -> str:
    done = subprocess.run([PY, "-m", "gradverify", "report", "--no-write", "--quiet", "--profile",
                           "--format", "json"], cwd=ROOT, env=_env(), capture_output=True, text=True)
    return "\n".join(line for line in done.stderr.splitlines() if line.strip())


def floor(bare: float, alone: float, cores: int, target: float) -> str:
    """What the seed report would take were starting workers free and its checks spread perfectly over
    ``cores``: the bare imports, then the checks' own work (``alone``, the report in one process, less
    its imports) over the cores; and how much smaller that work would have to be to meet ``target``."""
    work = max(alone - bare, 0.0)
    best = bare + work / cores
    room = (target - 1) * bare * cores  # the CPU seconds of checks that fit in the target on these cores
    need = f"{work / room:.1f}× less work (at most {room:.1f} s of CPU, not {work:.1f} s)" if work > room else "no less work"
    return (f"Were starting workers free and the checks spread perfectly over the {cores} cores, the seed report "
            f"would still take at least {best:.2f} s, {best / bare:.1f}× the bare imports: the {target:g}× target "
            f"needs checks doing {need}.")


def reading(rows: list[dict]) -> str:
    """What the numbers say about where a report's time goes, when the isolation row was measured."""
    by = {r["name"]: r for r in rows}
    lines = [f"Median of the runs of each command ({SHORT_RUNS}× as many for one under {SHORT:g} s), measured side "
             f"by side on {os.cpu_count()} cores "
             "(a busy machine slows a long run more than a short import: compare ratios of one run)."]
    if "isolation" in by:
        alone = by["isolation"]["base_seconds"]
        lines.append(f"The seed's report in one process with no isolation takes {alone:.1f} s: the imports, then the "
                     f"checks themselves (sympy's proofs, hypothesis's examples, the code's runs); the workers add "
                     f"{by['isolation']['ratio'] - 1:.0%} to that. A report's ratio to the bare imports is bounded "
                     "below by that work spread over the cores (--jobs), not by start-up.")
    if "isolation" in by and "report" in by:
        lines.append(floor(by["report"]["base_seconds"], alone, os.cpu_count() or 1, TARGETS["report"]))
    lines.append("Where the time goes: python benchmarks/startup.py --profile, or for a report of your own "
                 "python -m gradverify report --profile (each derivation's time split into sympy, hypothesis, "
                 "numpy, gradverify and your code), and python -X importtime -c \"from gradverify import "
                 "gradcheck\" for imports.")
    return "\n\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3, help="runs of each command (the median is taken; default 3)")
    p.add_argument("--only", action="append", choices=[m[0] for m in MEASURES], help="measure only these")
    p.add_argument("--skip", action="append", choices=[m[0] for m in MEASURES], default=[], help="do not measure these")
    add_write_option(p)
    p.add_argument("--profile", action="store_true", help="also show where the time goes")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error(f"--repeat must be at least 1 (got {args.repeat})")
    rows = measure(args.repeat, [m[0] for m in MEASURES if (not args.only or m[0] in args.only)
                                 and m[0] not in args.skip])
    print(table(rows))
    print()
    print("\n\n".join(textwrap.fill(part, 100, break_on_hyphens=False) for part in reading(rows).split("\n\n")))
    if args.profile:
        print("\nSlowest imports of `from gradverify import gradcheck` (own time, python -X importtime):")
        print(tabulate([[m, f"{s * 1000:.1f} ms"] for m, s in importtime("from gradverify import gradcheck")],
                       headers=["module", "own time"], tablefmt="simple"))
        print("\nThe seed report, per derivation (python -m gradverify report --profile):")
        print(profile_report())
    return 0 if all(r["ratio"] <= r["target"] for r in rows) else 1


if __name__ == "__main__":
    with recorded(__file__):  # --write PATH: the output into its region of that page
        sys.exit(main())
