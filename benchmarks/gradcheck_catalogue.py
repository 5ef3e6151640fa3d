"""The gradcheck catalogue (tests/gradcheck_catalogue/): expected against got verdicts, with costs.

    python benchmarks/gradcheck_catalogue.py [--size small|large] [--only PREFIX] [--timeout S]

Each entry runs in a fresh process (as benchmarks/gradcheck_scale.py runs its cost part), with a
timeout: its code is built at the size asked, evaluated 3 times (one evaluation: the median), then
checked by `gradverify.gradcheck(fn, args, wrt)` with the default arguments, the first check of the
process. One row per entry: the entry, the mistake planted ("none": the right version), the verdict
expected and got, the estimator, result.resolution, fn's evaluations, the check's seconds and their
multiple of one evaluation, the process's peak memory (with, in brackets, how much the check raised
it over the evaluations'), and "ok" where the verdict (message, located entry, resolution) is the
entry's, else what is wrong. The last line counts the wrong verdicts and gives the command.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from tabulate import tabulate
from _page import add_write_option, recorded  # benchmarks/_page.py: --write

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from gradcheck_catalogue import entries, entries_of  # noqa: E402
from gradcheck_catalogue._judge import problems, run  # noqa: E402


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(name: str, size: str) -> dict:
    """In a fresh process: one entry, its evaluation's time, the check, the verdict's problems."""
    warnings.simplefilter("ignore")
    entry = next(e for e in entries() if e.name == name)
    if entry.missing():
        return {"name": name, "skipped": entry.missing()}
    n = entry.sizes[size]
    fn, args, wrt = entry.make(n)
    count = entries_of((fn, args, wrt))
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        try:
            fn(*args)
        except Exception:   # an entry gradcheck must refuse may still run; one that raises is timed to it
            pass
        times.append(time.perf_counter() - t0)
    evaluation = sorted(times)[1]
    before = _peak_mb()
    outcome = run(entry, n)
    r = outcome.result
    return {"name": name, "entries": count, "got": outcome.got, "message": outcome.message[:200],
            "estimator": r.estimator if r is not None else "-",
            "resolution": r.resolution if r is not None else None,
            "evaluations": r.evaluations if r is not None else None,
            "seconds": outcome.seconds, "evaluation": evaluation,
            "peak MB": _peak_mb(), "check MB": _peak_mb() - before, "problems": problems(entry, outcome, size)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", choices=("small", "large"), default="small")
    p.add_argument("--only", default=None, help="entries whose name starts so")
    p.add_argument("--timeout", type=float, default=None, help="seconds an entry may take (120 small, 900 large)")
    p.add_argument("--one", help=argparse.SUPPRESS)
    add_write_option(p)
    a = p.parse_args()
    if a.one:
        print(json.dumps(one(a.one, a.size)))
        return 0
    timeout = a.timeout or (120 if a.size == "small" else 900)
    print(f"{time.strftime('%Y-%m-%d %H:%M')} · {platform.machine()} · {os.cpu_count()} cores · Python "
          f"{platform.python_version()} · numpy {np.__version__} · load {os.getloadavg()[0]:.1f}", flush=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    table, wrong, t_all = [], [], time.perf_counter()
    for entry in entries():
        if a.only and not entry.name.startswith(a.only):
            continue
        head = [entry.name, entry.planted, entry.expected_for(a.size)]
        try:
            out = subprocess.run([sys.executable, __file__, "--one", entry.name, "--size", a.size], env=env,
                                 capture_output=True, text=True, timeout=timeout)
            row = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else \
                {"crashed": (out.stderr.strip().splitlines() or ["?"])[-1][:120]}
        except subprocess.TimeoutExpired:
            row = {"crashed": f"timeout after {timeout:.0f} s"}
        if "skipped" in row:
            table.append(head + ["skipped: " + row["skipped"]] + [""] * 8)
        elif "crashed" in row:
            table.append(head + ["-"] + [""] * 7 + ["WRONG: " + row["crashed"]])
            wrong.append(entry.name)
        else:
            res = row["resolution"]
            table.append(head + [row["got"], row["estimator"], "" if res is None else f"{res:.2g}",
                                 row["evaluations"] or "", f"{row['seconds']:.3f}",
                                 f"{row['seconds'] / row['evaluation']:.1f}×" if row["evaluation"] > 0 else "",
                                 f"{row['peak MB']:.0f} (+{row['check MB']:.0f})", f"{row['entries']:,}",
                                 "ok" if not row["problems"] else "WRONG: " + row["problems"][0][:90]])
            if row["problems"]:
                wrong.append(entry.name)
        print(" | ".join(str(c) for c in table[-1]), file=sys.stderr, flush=True)
    print(tabulate(table, headers=["entry", "planted", "expected", "got", "estimator", "resolution", "evaluations",
                                   "seconds", "× one evaluation", "peak MB (check +)", "entries checked", "ok"],
                   disable_numparse=True))
    command = "python benchmarks/gradcheck_catalogue.py --size " + a.size + (f" --only {a.only}" if a.only else "")
    print(f"\n{len(table)} entries in {time.perf_counter() - t_all:.0f} s, {len(wrong)} wrong verdicts"
          f"{': ' + ', '.join(wrong) if wrong else ''}; {command}")
    return 1 if wrong else 0


if __name__ == "__main__":
    with recorded(__file__):  # --write PATH: the output into its region of that page
        sys.exit(main())
