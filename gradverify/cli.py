"""The command line: ``python -m gradverify report`` and ``python -m gradverify list``."""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

from . import __version__
from .checks import Options, check_derivation, error_rows
from .cost import check_cost
from .errors import GradverifyError, InvalidArgument
from .plugin import DEFAULT_FOLDER, load, select
from . import scaffold
from .report import Report
from .report.options import add_report_arguments, finish, prepare

__all__ = ["main", "parser"]

DEFAULT_SEED = 0


def _seed(text: str) -> int:
    if text == "random":
        return random.SystemRandom().randrange(2**31)
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'random' but got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected a seed in 0..{2**32 - 1} but got {value}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer but got {text!r}")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gradverify",
                                description="Check hand-derived gradients: sympy, finite differences, code vs math.")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--derivations", action="append", metavar="PATH",
                        help=f"a derivation file or folder (repeatable; default: ./{DEFAULT_FOLDER})")
        sp.add_argument("--only", metavar="ID", help="only this derivation id (or its ID-* variants)")

    r = sub.add_parser("report", help="check every claim and print the pass/fail table")
    common(r)
    r.add_argument("--seed", type=_seed, default=DEFAULT_SEED,
                   help=f"seed of every random choice (default {DEFAULT_SEED}; 'random' for a fresh one)")
    r.add_argument("--examples", type=_positive, default=Options.examples,
                   help=f"hypothesis examples per derivation (default {Options.examples})")
    r.add_argument("--out", type=Path, default=Path("reports"), help="folder for report.md and report.json")
    r.add_argument("--no-write", action="store_true", help="print only; do not write report files")
    r.add_argument("--assumptions", action="store_true",
                   help="also re-check every claim with each assumption dropped in turn")
    r.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1,
                   help="derivations checked at once, in separate processes (default: the number of cores)")
    add_report_arguments(r)
    scaffold.add_command(sub)
    m = sub.add_parser("mutants", help="mutation self-test: make wrong variants of every claim and check them")
    common(m)
    m.add_argument("--seed", type=_seed, default=DEFAULT_SEED, help=f"seed (default {DEFAULT_SEED})")
    m.add_argument("--examples", type=_positive, default=10,
                   help="hypothesis examples per mutant for the numeric checks (default 10)")
    lst = sub.add_parser("list", help="list the registered derivations and their claims")
    common(lst)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return {"report": _report, "list": _list, "mutants": _mutants, "new": scaffold.run}[args.command](args)
    except InvalidArgument as exc:
        print(f"gradverify: error: {exc}", file=sys.stderr)
        return 2


def _paths(args) -> list[str]:
    if args.derivations:
        return args.derivations
    if not DEFAULT_FOLDER.is_dir():
        raise InvalidArgument(f"a ./{DEFAULT_FOLDER} folder or --derivations PATH",
                              f"no ./{DEFAULT_FOLDER} in {Path.cwd()}",
                              "Run from the gradverify checkout, or pass --derivations PATH.")
    return [str(DEFAULT_FOLDER)]


def _report(args) -> int:
    paths = _paths(args)
    prepare(args)  # the output folder checked before the work, not after it: say so at once
    derivations, failures = load(paths)
    # a module that failed to load may be the one --only asks for: show every load failure
    derivations = select(derivations, args.only, allow_none=bool(failures))
    options = Options(seed=args.seed, examples=args.examples, assumptions=args.assumptions)
    extra = "" if not args.derivations else "".join(f" --derivations {p}" for p in args.derivations)
    rows, costs = [], []
    for f in failures:
        rows += error_rows(f.id, f.path, f.message)
    examples = f" --examples {args.examples}" if args.examples != Options.examples else ""
    jobs = [(d, options, f"python -m gradverify report --only {d.id} --seed {args.seed}{examples}{extra} --no-write")
            for d in derivations]
    for claim_rows, cost_rows in _in_parallel(_check_one, jobs, args.jobs):
        rows += claim_rows
        costs += cost_rows
    command = (f"python -m gradverify report --seed {args.seed}"
               + (f" --examples {args.examples}" if args.examples != Options.examples else "")
               + (f" --only {args.only}" if args.only else "")
               + (" --assumptions" if args.assumptions else "") + extra)
    report = Report(rows, seed=args.seed, examples=args.examples, paths=paths, command=command, costs=costs,
                    assumptions_checked=args.assumptions, derivations=derivations)
    return finish(report, args)


def _mutants(args) -> int:
    from tabulate import tabulate

    from .mutation import run_mutants

    derivations, failures = load(_paths(args))
    derivations = select(derivations, args.only)
    options = Options(seed=args.seed, examples=args.examples)
    print(f"gradverify {__version__} mutation self-test · seed {args.seed} · {args.examples} hypothesis examples "
          "per mutant · mutants run under every assumption, implicit ones included")
    totals = {"made": 0, "equivalent": 0, "refuted": 0, "survived": 0, "claim refuted": 0, "errors": len(failures)}
    for f in failures:
        print(f"\nERROR {f.path}: {f.message}")
    for d in derivations:
        try:
            results = run_mutants(d, options)
        except GradverifyError as exc:
            print(f"\n{d.id}: ERROR {exc}")
            totals["errors"] += 1
            continue
        rows = [[r.mutant.claim, r.mutant.operator, r.mutant.description[:48],
                 "equivalent" if r.status == "equivalent" else
                 ("refuted by " + ", ".join(r.refuted_by) if r.refuted_by else "SURVIVED")] for r in results]
        counts = {s: sum(r.status == s for r in results) for s in ("equivalent", "refuted", "survived",
                                                                    "claim refuted")}
        totals["errors"] += counts["claim refuted"]
        totals["made"] += len(results)
        for s, n in counts.items():
            totals[s] += n
        print(f"\n{d.id}: {d.title}: {len(results)} mutants, {counts['refuted']} refuted, "
              f"{counts['equivalent']} equivalent, {counts['survived']} survived")
        print(tabulate(rows, headers=["claim", "operator", "mutant", "result"], tablefmt="simple"))
        for r in results:
            if r.status == "claim refuted":
                print(f"  CLAIM REFUTED {r.mutant.claim}: its mutants prove nothing ({r.detail[:120]})")
            if r.status == "survived":
                print(f"  SURVIVED {r.mutant.claim} / {r.mutant.description}: {r.expression}")
    print(f"\n{totals['made']} mutants: {totals['refuted']} refuted, {totals['equivalent']} equivalent "
          f"(equal to the claim), {totals['survived']} survived, {totals['errors']} errors. "
          f"Reproduce: python -m gradverify mutants --seed {args.seed}")
    return 2 if totals["errors"] else (1 if totals["survived"] else 0)


def _check_one(job):
    """Everything about one derivation: its claim rows and its cost claims. Never raises."""
    d, options, reproduce = job
    t0 = time.perf_counter()
    try:
        rows = check_derivation(d, options, reproduce)
    except GradverifyError as exc:
        rows = error_rows(d.id, d.title, str(exc), d.claims, reproduce)
    except Exception as exc:  # a bug of ours must not stop the other derivations either
        rows = error_rows(d.id, d.title, f"gradverify failed on this derivation: {type(exc).__name__}: {exc}",
                          d.claims, reproduce)
    costs = []
    for claim in d.costs:
        result = check_cost(claim, options.seed)
        result.derivation = d.id
        costs.append(result)
    if sys.stderr.isatty():
        print(f"  checked {d.id} in {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    return rows, costs


_JOBS: list = []


def _run_job(i):
    return _check_one(_JOBS[i])


def _in_parallel(fn, jobs: list, workers: int) -> list:
    """``fn`` on every job, in order; on ``workers`` forked processes where the
    platform can fork (the derivations are inherited, not re-imported: the same
    modules are loaded, so hypothesis draws the same examples as a serial run)."""
    import multiprocessing

    workers = min(workers, len(jobs))
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [fn(job) for job in jobs]
    from concurrent.futures import ProcessPoolExecutor

    _JOBS[:] = jobs
    # the costliest first (claims times assumptions: each assumption can mean a rerun), so that
    # the last job to start is a short one
    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][0].claims) * (1 + len(jobs[i][0].assumptions)))
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            done = dict(zip(order, pool.map(_run_job, order)))
        return [done[i] for i in range(len(jobs))]
    finally:
        _JOBS.clear()


def _list(args) -> int:
    derivations, failures = load(_paths(args))
    derivations = select(derivations, args.only)
    for d in derivations:
        print(f"{d.id}: {d.title}   [{d.citation}; {d.origin}]")
        print("  variables: " + ", ".join(f"{n} ({k.describe()})" for n, k in d.variables.items()))
        for a in d.assumptions:
            print(f"  assumes: {a.text}" + (" (implicit, not in the source)" if a.source == "implicit" else ""))
        for c in d.claims:
            print(f"  claim {c.name} = {c.as_written}")
    for f in failures:
        print(f"ERROR {f.path}: {f.message}")
    return 2 if failures else 0
