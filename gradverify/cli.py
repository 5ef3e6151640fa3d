"""The command line: ``python -m gradverify report``, ``mutants`` and ``list``.

This module parses arguments, builds the reproduce commands (one place:
`_command`) and prints; the derivations themselves are imported and checked in
worker processes by `gradverify.runner`.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .options import Options
from .results import error_rows
from .errors import InvalidArgument
from .isolation import Limits, describe_bytes
from .limits import parse_memory, parse_seconds, wrong
from .loading import DEFAULT_FOLDER, select
from . import scaffold
from .report import Report
from .report.escape import terminal_text
from .report.model import counted
from .report.options import add_report_arguments, finish, formats_of, prepare
from .runner import DEFAULT_LIMITS, Interrupted, Progress, Runner, check_all, find_derivations, mutants_all

__all__ = ["main", "parser", "MAX_EXAMPLES", "MAX_JOBS"]

DEFAULT_SEED = 0
#: more examples than this cannot be checked in reasonable time (the default is 25)
MAX_EXAMPLES = 100_000
MAX_JOBS = 256
_DEFAULT_EXAMPLES = {"report": Options.examples, "mutants": 10}


def _seed(text: str) -> int:
    if text == "random":
        return random.SystemRandom().randrange(2**31)
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:
        raise wrong(f"an integer in 0..{2**32 - 1} or 'random'", "--seed", text, "The default is 0.")
    return value


def _count(flag: str, maximum: int, hint: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if not 1 <= value <= maximum:
            raise wrong(f"a positive integer up to {maximum:,}", flag, text, hint)
        return value
    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gradverify",
                                description="Check hand-derived gradients: sympy, finite differences, code vs math.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("report", help="check every claim and print the pass/fail table")
    _common(r)
    r.add_argument("--seed", type=_seed, default=DEFAULT_SEED,
                   help=f"seed of every random choice (default {DEFAULT_SEED}; 'random' for a fresh one)")
    r.add_argument("--examples", default=Options.examples,
                   type=_count("--examples", MAX_EXAMPLES, f"The default is {Options.examples}; hypothesis finds "
                                                          "most mistakes in the first dozen."),
                   help=f"hypothesis examples per derivation (default {Options.examples}, at most {MAX_EXAMPLES:,})")
    r.add_argument("--out", type=Path, default=Path("reports"), help="folder for report.md and report.json")
    r.add_argument("--no-write", action="store_true", help="print only; do not write report files")
    r.add_argument("--assumptions", action="store_true",
                   help="also re-check every claim with each assumption dropped in turn")
    r.add_argument("--traceback", action="store_true",
                   help="after the table, the whole traceback of each error in a spec or the code (in your "
                        "files' frames); without it an error is one line naming your file, line and function")
    r.add_argument("--steps", action="store_true",
                   help="also check every step of the derivations written in LaTeX (Steps in _steps_*.py helpers, "
                        "see docs/how-to/latex-steps.md): their table, and steps[] in report.json")
    r.add_argument("--profile", action="store_true",
                   help="after the report, on stderr: each derivation's time in its worker, importing your file "
                        "and the checks split by whose code ran (sympy, hypothesis, numpy, gradverify, your code)")
    add_report_arguments(r)
    scaffold.add_command(sub)
    _steps_parser(sub)
    m = sub.add_parser("mutants", help="mutation self-test: make wrong variants of every claim and check them")
    _common(m)
    m.add_argument("--seed", type=_seed, default=DEFAULT_SEED, help=f"seed (default {DEFAULT_SEED})")
    m.add_argument("--examples", default=_DEFAULT_EXAMPLES["mutants"],
                   type=_count("--examples", MAX_EXAMPLES, "The default is 10."),
                   help="hypothesis examples per mutant for the numeric checks (default 10)")
    _common(sub.add_parser("list", help="list the registered derivations and their claims"))
    return p


def _common(sp) -> None:
    sp.add_argument("--derivations", action="append", metavar="PATH",
                    help=f"a derivation file or folder (repeatable; default: ./{DEFAULT_FOLDER})")
    sp.add_argument("--only", metavar="ID", help="only this derivation id (or its ID-* variants)")
    sp.add_argument("--jobs", default=os.cpu_count() or 1,
                    type=_count("--jobs", MAX_JOBS, "The default is the number of cores."),
                    help="derivations checked at once, each in its own process (default: the number of cores)")
    sp.add_argument("--timeout", type=parse_seconds, default=DEFAULT_LIMITS.timeout, metavar="SECONDS",
                    help=f"wall-clock limit per derivation (default {DEFAULT_LIMITS.timeout:g})")
    sp.add_argument("--max-memory", type=parse_memory, default=DEFAULT_LIMITS.max_memory, metavar="SIZE",
                    help=f"memory limit per derivation, e.g. 512M, 8G or none "
                         f"(default {describe_bytes(DEFAULT_LIMITS.max_memory).replace(' ', '')})")
    sp.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    sp.add_argument("--in-process", action="store_true",
                    help="import and check the derivations in this process, one by one, with no limits and no "
                         "isolation (for a debugger)")


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        with _sigterm_interrupts():
            try:
                return {"report": _report, "list": _list, "mutants": _mutants, "new": scaffold.run,
                        "steps": _steps}[args.command](args)
            finally:  # a runner keeps its workers between tasks
                for runner in vars(args).pop("runners", []):
                    runner.close()
    except InvalidArgument as exc:
        print(terminal_text(f"gradverify: error: {exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return _interrupted(signal.SIGINT)
    except Interrupted as exc:
        return _interrupted(exc.signum)


def _interrupted(signum: int) -> int:
    name = signal.Signals(signum).name
    print(f"\ngradverify: interrupted by {name}; the workers are stopped and no report was written",
          file=sys.stderr)
    return 128 + signum


@contextmanager
def _sigterm_interrupts():
    """SIGTERM stops a run the way Ctrl-C does (main thread only: elsewhere signals are not ours to set)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return

    def stop(signum, frame):
        raise Interrupted(signum)

    old = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _paths(args) -> list[str]:
    if args.derivations:
        return args.derivations
    if not DEFAULT_FOLDER.is_dir():
        raise InvalidArgument(f"a ./{DEFAULT_FOLDER} folder or --derivations PATH",
                              f"no ./{DEFAULT_FOLDER} in {Path.cwd()}",
                              "Run from the gradverify checkout, or pass --derivations PATH.")
    return [str(DEFAULT_FOLDER)]


def _runner(args) -> Runner:
    examples = getattr(args, "examples", None)
    progress = Progress(sys.stderr, enabled=sys.stderr.isatty() and not args.quiet,
                        detail=f"{examples} hypothesis examples each" if examples else "")
    runner = Runner(Limits(args.timeout, args.max_memory), args.jobs, progress, in_process=args.in_process)
    vars(args).setdefault("runners", []).append(runner)  # main stops its workers when the command ends
    return runner


def _command(args, only: str | None = None, *, one: bool = False) -> str:
    """The shell command that reproduces this run (``one``: one derivation's rows, printed only)."""
    argv = ["python", "-m", "gradverify", args.command]
    only = only or args.only
    argv += ["--only", only] if only else []
    argv += ["--seed", str(args.seed)]
    argv += ["--examples", str(args.examples)] if args.examples != _DEFAULT_EXAMPLES[args.command] else []
    argv += ["--assumptions"] if getattr(args, "assumptions", False) and not one else []
    argv += ["--steps"] if getattr(args, "steps", False) and not one else []
    argv += ["--timeout", f"{args.timeout:g}"] if args.timeout != DEFAULT_LIMITS.timeout else []
    if args.max_memory != DEFAULT_LIMITS.max_memory:
        size = args.max_memory
        argv += ["--max-memory", "none" if size is None else f"{size // 2**30}G" if size % 2**30 == 0
                 else f"{size // 2**20}M"]
    for p in args.derivations or []:
        argv += ["--derivations", p]
    argv += ["--no-write"] if one else []
    return shlex.join(argv)


def _report(args) -> int:
    paths = _paths(args)
    prepare(args)  # an unwritable --out or a missing baseline: said at once, before the work
    args.out = args.out.resolve()  # where the user asked, whatever a derivation does to its own folder
    runner = _runner(args)
    summaries, failures = find_derivations(paths, runner)
    # a module that failed to load may be the one --only asks for: show every load failure
    summaries = select(summaries, args.only, allow_none=bool(failures))
    # MathML (a sympy printer's work in each worker) only for a report.html that will be written
    options = Options(seed=args.seed, examples=args.examples, assumptions=args.assumptions,
                      mathml=not args.no_write and "html" in formats_of(args))
    rows = []
    for f in failures:
        rows += error_rows(f.id, f.path, f.message, traceback=f.traceback)
    runner.profile = args.profile
    claim_rows, costs = check_all(summaries, options, runner, lambda i: _command(args, i, one=True))
    _notes(runner)
    _profiles(runner)
    report = Report(rows + claim_rows, seed=args.seed, examples=args.examples, paths=paths, command=_command(args),
                    costs=costs, assumptions_checked=args.assumptions, show_tracebacks=args.traceback)
    if args.steps:
        report.steps, report.step_repairs = _check_steps(args, paths)
    return finish(report, args)


# ---------------------------------------------------------------- steps (derivations written in LaTeX)
def _steps_parser(sub) -> None:
    s = sub.add_parser("steps", help="check every link of the derivations written in LaTeX (A &= B \\\\ &= C) "
                                     "and print a table of their verdicts")
    s.add_argument("--derivations", action="append", metavar="PATH",
                   help="a folder whose _steps_*.py helpers (or derivation modules) define Steps, or one such "
                        f"file (repeatable; default: ./{DEFAULT_FOLDER})")
    s.add_argument("--only", metavar="ID", help="only the Steps with this id")
    s.add_argument("--seed", type=_seed, default=DEFAULT_SEED, help=f"seed of the random points (default {DEFAULT_SEED})")
    s.add_argument("--timeout", type=parse_seconds, default=DEFAULT_LIMITS.timeout, metavar="SECONDS",
                   help=f"wall-clock limit for the whole check (default {DEFAULT_LIMITS.timeout:g})")
    s.add_argument("--in-process", action="store_true",
                   help="import the modules and check in this process, with no limits (for a debugger)")


def _check_steps(args, paths, strict: bool = False):
    """The links and repairs of every Steps under ``paths``, checked in a worker process (the modules
    are user code) unless --in-process."""
    from .isolation import Worker, call_here
    from .steps.run import check_paths, links_from

    if getattr(args, "in_process", False):
        outcome = call_here(check_paths, paths, args.only, args.seed, strict)
    else:
        with Worker(Limits(args.timeout, DEFAULT_LIMITS.max_memory)) as worker:
            outcome = worker.call(check_paths, paths, args.only, args.seed, strict, True, timeout=args.timeout)
    if not outcome.ok:
        if outcome.error_type == "InvalidArgument":
            raise _Failed(outcome.message.split("InvalidArgument: ", 1)[-1])
        raise _Failed(f"checking the steps {outcome.message}")
    return links_from(outcome.value["links"]), outcome.value["repairs"]


class _Failed(InvalidArgument):
    """The steps could not be checked: the message as the worker gave it."""

    def __init__(self, message: str):
        Exception.__init__(self, message)


def _steps(args) -> int:
    from .steps.run import counts, detail_lines, render_table

    links, repairs = _check_steps(args, _paths(args), strict=True)
    _say(render_table(links))
    details = detail_lines(links)
    if details:
        _say("\nDetails:")
        _say("\n".join("  " + line for line in details))
    for derivation, made in repairs.items():
        if made:
            _say(f"\n{derivation}: {len(made)} repairs made to the text before reading it:")
            for r in made:
                _say(f"  {r}")
    c = counts(links)
    _say(f"\n{len(links)} links: {c['holds']} hold, {c['conditional']} hold only under a named assumption, "
          f"{c['refuted']} refuted, {c['unparsed']} unparsed, {counted(c['error'], 'error')}.")
    argv = ["python", "-m", "gradverify", "steps"] + (["--only", args.only] if args.only else [])
    argv += ["--seed", str(args.seed)] + [a for p in args.derivations or [] for a in ("--derivations", p)]
    _say(f"Reproduce: {shlex.join(argv)}")
    return 1 if c["refuted"] or c["unparsed"] or c["error"] else 0


def _say(*parts, **kw) -> None:
    """print, with every control or escape character a user wrote shown escaped."""
    print(*(terminal_text(str(p)) for p in parts), **kw)


def _profiles(runner: Runner) -> None:
    if runner.profiles:
        _say("gradverify: profile (each derivation in its worker, under cProfile, which slows it):", file=sys.stderr)
    for derivation, profile in runner.profiles.items():
        _say(f"  {derivation}: {profile.text()}", file=sys.stderr)


def _notes(runner: Runner) -> None:
    for note in runner.notes:
        _say(f"gradverify: note: {note}", file=sys.stderr)


def _mutants(args) -> int:
    runner = _runner(args)
    summaries, failures = find_derivations(_paths(args), runner)
    summaries = select(summaries, args.only, allow_none=bool(failures))
    options = Options(seed=args.seed, examples=args.examples)
    _say(f"gradverify {__version__} mutation self-test · seed {args.seed} · {args.examples} hypothesis examples "
          "per mutant · mutants run under every assumption, implicit ones included")
    for f in failures:
        _say(f"\nERROR {f.path}: {f.message}")
    totals = {"made": 0, "equivalent": 0, "refuted": 0, "survived": 0, "claim refuted": 0, "errors": len(failures)}
    for summary, results in mutants_all(summaries, options, runner):
        _print_mutants(summary, results, totals)
    _notes(runner)
    _say(f"\n{totals['made']} mutants: {totals['refuted']} refuted, {totals['equivalent']} equivalent "
          f"(equal to the claim), {totals['survived']} survived, {counted(totals['errors'], 'error')}. "
          f"Reproduce: {_command(args)}")
    return 2 if totals["errors"] else (1 if totals["survived"] else 0)


def _print_mutants(summary, results, totals: dict) -> None:
    """One derivation's mutants table (or its ERROR line); adds to ``totals``."""
    from tabulate import tabulate

    if isinstance(results, str):
        _say(f"\n{summary.id}: ERROR {results}")
        totals["errors"] += 1
        return
    def result(r) -> str:
        if r.status in ("equivalent", "claim refuted"):
            return r.status.upper() if r.status == "claim refuted" else r.status
        return "refuted by " + ", ".join(r.refuted_by) if r.refuted_by else "SURVIVED"

    rows = [[r.claim, r.operator, r.description[:48], result(r)] for r in results]
    counts = {s: sum(r.status == s for r in results) for s in ("equivalent", "refuted", "survived", "claim refuted")}
    made = len(results) - counts["claim refuted"]  # a refuted claim's row is no mutant
    totals["made"] += made
    for s, n in counts.items():
        totals[s] += n
    totals["errors"] += counts["claim refuted"]  # its mutants prove nothing: the self-test cannot pass
    refuted_claims = f", {counts['claim refuted']} claim(s) refuted as written" if counts["claim refuted"] else ""
    _say(f"\n{summary.id}: {summary.title}: {made} mutants, {counts['refuted']} refuted, "
          f"{counts['equivalent']} equivalent, {counts['survived']} survived{refuted_claims}")
    _say(tabulate(rows, headers=["claim", "operator", "mutant", "result"], tablefmt="simple"))
    for r in results:
        if r.status == "claim refuted":
            _say(f"  CLAIM REFUTED {r.claim}: the claim itself is wrong, so its mutants prove nothing: {r.detail}")
        if r.status == "survived":
            _say(f"  SURVIVED {r.claim} / {r.description}: {r.expression}")


def _list(args) -> int:
    summaries, failures = find_derivations(_paths(args), _runner(args))
    for d in select(summaries, args.only, allow_none=bool(failures)):
        where = "; ".join(part for part in (d.citation, d.origin) if part)
        code = f"   (code in {d.written_in})" if d.written_in != "numpy" else ""
        _say(f"{d.id}: {d.title}" + (f"   [{where}]" if where else "") + code)
        _say("  variables: " + ", ".join(f"{n} ({kind})" for n, kind in d.variables))
        for text, source in d.assumptions:
            _say(f"  assumes: {text}" + (" (implicit, not in the source)" if source == "implicit" else ""))
        for c in d.claims:
            _say(f"  claim {c.name} = {c.as_written}")
    for f in failures:
        _say(f"ERROR {f.path}: {f.message}")
    return 2 if failures else 0
