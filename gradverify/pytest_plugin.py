"""The pytest plugin: each claim of each derivation is a test item.

    pytest --gradverify derivations/           # or gradverify_paths = derivations in the ini file

Items are named ``e::∂J/∂u_k`` (derivation id :: claim name) and also match ``-k`` by an
ASCII form (``e::dJ/du_k``). A failing item shows the verdict, the diagnosis, the shrunk
counterexample and the command that reproduces it, not a traceback into gradverify; an error in
a spec or the code is one line naming the user's file, line and function, and with ``--tb=long``
(or ``native``) also its whole traceback in the user's frames. A claim
marked ``expect=`` that gets that verdict is an xfail with its reason; one that now holds
fails (strict). ``--gradverify-seed`` reproduces a run (the header prints the seed);
``--gradverify-baseline report.json`` fails only the claims whose verdict, diagnosis or check
status changed. Registered with the ``pytest11`` entry point: installed with the package.

User code never runs in pytest's process: each derivation file is imported in a worker process
during collection, and each derivation is checked in one, as the report does (`gradverify.runner`),
under ``--gradverify-timeout`` and ``--gradverify-max-memory`` (ini ``gradverify_timeout``,
``gradverify_max_memory``; the report's defaults). An exit, crash, interrupt or hang in user code
is one failing item whose line names the cause; the other items still run. The first item checks
every derivation the run selected, ``--gradverify-jobs`` at a time (1 in an xdist worker). A bad
baseline or limit stops the session before any work with one line and exit status 2.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

__all__ = ["ClaimItem", "DerivationFile", "DerivationNode", "LoadFailureItem", "ClaimFailure", "ascii_id",
           "LONG_STYLES"]

_STATE = pytest.StashKey["_Run"]()
#: how a few symbols read in ASCII, for -k
_ASCII = {"∂": "d", "Σ": "sum", "σ": "sigma", "∇": "grad", "·": ".", "−": "-", "≠": "!=", "∈": "in", "ᵀ": "T"}


def ascii_id(text: str) -> str:
    """``e::∂J/∂u_k`` → ``e::dJ/du_k``: a form ``-k`` can match (letters, digits, ``_:/.-``)."""
    text = "".join(_ASCII.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^\w:/.\-]+", "_", text).strip("_")


#: pytest's ``--tb`` styles under which an error's traceback is shown (the default, auto, shows its line)
LONG_STYLES = ("long", "native")


class ClaimFailure(Exception):
    """A claim that fails the run; its text is the whole report of the item. ``traceback``: for an
    error, its traceback in the user's frames (or why there is none), shown under ``--tb=long``."""

    def __init__(self, text: str, traceback: str = ""):
        super().__init__(text)
        self.traceback = traceback


def _error_traceback(row) -> str:
    from .results import Verdict
    from .tracebacks import NO_TRACEBACK

    return (row.traceback or NO_TRACEBACK) if Verdict(row.verdict) == Verdict.ERROR else ""


def pytest_addoption(parser):
    from .isolation import DEFAULT_LIMITS, describe_bytes  # light: no sympy in a pytest run that does not use us

    group = parser.getgroup("gradverify", "gradverify: check hand-derived gradients")
    group.addoption("--gradverify", action="store_true",
                    help="collect each claim of the derivation files among the given paths as a test")
    group.addoption("--gradverify-seed", type=int, default=0, metavar="N",
                    help="seed of every random choice (default 0; the header prints it)")
    group.addoption("--gradverify-examples", type=int, default=None, metavar="N",
                    help="hypothesis examples per derivation (default 25)")
    group.addoption("--gradverify-baseline", default=None, metavar="PATH",
                    help="a committed report.json: fail only the claims whose verdict changed")
    group.addoption("--gradverify-timeout", default=None, metavar="SECONDS",
                    help="wall-clock limit per derivation, for importing it and for checking it (default "
                         f"{DEFAULT_LIMITS.timeout:g}, as the report's --timeout; ini: gradverify_timeout)")
    group.addoption("--gradverify-max-memory", default=None, metavar="SIZE",
                    help="memory limit per derivation, e.g. 512M, 8G or none (default "
                         f"{describe_bytes(DEFAULT_LIMITS.max_memory).replace(' ', '')}, as the report's "
                         "--max-memory; ini: gradverify_max_memory)")
    group.addoption("--gradverify-jobs", default=None, metavar="N",
                    help="derivations checked at once, each in a process of its own (default: the number of "
                         "cores; 1 under xdist's -n, which runs items in parallel itself)")
    parser.addini("gradverify_paths", type="paths", default=[],
                  help="derivation files or folders collected as gradverify claims")
    parser.addini("gradverify_timeout", default="", help="wall-clock limit per derivation in seconds")
    parser.addini("gradverify_max_memory", default="", help="memory limit per derivation (512M, 8G, none)")


def _limits(config):
    """The time and memory limits of each derivation's worker: the option, else the ini, else the
    report's defaults. A bad value stops the run at once with one line (exit 2)."""
    import argparse

    from .isolation import DEFAULT_LIMITS, Limits
    from .limits import parse_memory, parse_seconds

    def read(option, ini, parse, default, flag):
        text = config.getoption(option)
        where = flag
        if text is None:
            text, where = (config.getini(ini) or "").strip(), f"ini {ini}"
        if not text:
            return default
        try:
            return parse(str(text))
        except argparse.ArgumentTypeError as exc:
            _refuse(str(exc).replace("--timeout", where).replace("--max-memory", where))

    return Limits(read("gradverify_timeout", "gradverify_timeout", parse_seconds, DEFAULT_LIMITS.timeout,
                       "--gradverify-timeout"),
                  read("gradverify_max_memory", "gradverify_max_memory", parse_memory, DEFAULT_LIMITS.max_memory,
                       "--gradverify-max-memory"))


def _refuse(line: str):
    """Stop the session before any work: one line, exit status 2 (as the command line refuses)."""
    pytest.exit(f"gradverify: error: {line}", returncode=2)


class _Run:
    """One pytest run's gradverify state: options, limits, the roots, the checked derivations.

    User code never runs in pytest's process: each derivation file is imported in a worker to learn
    its derivations (collection), and each derivation is checked in a worker of its own, under the
    same limits as the report (`gradverify.runner`)."""

    def __init__(self, config):
        self.seed = config.getoption("gradverify_seed")
        ini = [Path(p).resolve() for p in config.getini("gradverify_paths")]
        given = [Path(str(a).split("::")[0]).resolve() for a in config.args] if config.getoption("gradverify") else []
        self.ini_paths = ini
        self.roots = ini + given
        #: hypothesis examples per derivation (a session without gradverify imports nothing of it)
        self.examples = config.getoption("gradverify_examples") or (_default_examples() if self.roots else None)
        self.baseline_path = config.getoption("gradverify_baseline")
        self._baseline = None
        self._checked: dict[tuple[str, str], dict] = {}
        self._runner = None
        self.limits = _limits(config) if self.enabled else None
        #: derivations checked at once; 1 in an xdist worker (xdist runs items in parallel itself)
        self.jobs = 1 if hasattr(config, "workerinput") else _jobs(config)
        #: the derivations whose items this process runs, in order (`pytest_collection_finish`)
        self.pending: list = []
        #: derivation files found and not described yet, and what each defines (`describe`)
        self.queued: list[Path] = []
        self._described: dict[Path, tuple[list, list]] = {}
        #: (derivation id, claim) of the items collected here
        self.collected: set[tuple[str, str]] = set()

    @property
    def enabled(self) -> bool:
        return bool(self.roots)

    @property
    def runner(self):
        if self._runner is None:
            from .runner import Runner

            self._runner = Runner(self.limits, 1, flags=("--gradverify-timeout", "--gradverify-max-memory"))
        return self._runner

    def owns(self, path: Path) -> bool:
        name = path.name
        if path.suffix != ".py" or name.startswith(("_", "test_", "conftest")) or name.endswith("_test.py"):
            return False
        path = path.resolve()
        return any(path == root or root in path.parents for root in self.roots)

    def reproduce(self, summary) -> str:
        import shlex

        from .options import Options

        argv = ["python", "-m", "gradverify", "report", "--only", summary.id, "--seed", str(self.seed)]
        if self.examples != Options.examples:
            argv += ["--examples", str(self.examples)]
        if self.limits.timeout != _default_limits().timeout:
            argv += ["--timeout", f"{self.limits.timeout:g}"]
        if self.limits.max_memory != _default_limits().max_memory:
            size = self.limits.max_memory
            argv += ["--max-memory", "none" if size is None else f"{max(1, size // 2**20)}M"]
        if summary.origin:
            argv += ["--derivations", summary.origin]
        return shlex.join(argv + ["--no-write"])

    def describe(self, path: Path):
        """The derivations ``path`` defines (`gradverify.runner.Summary`) and its load failures,
        the file imported in a worker. The files pytest has found and not described yet
        (`queued`: those of its folder, at least) are imported together, ``jobs`` at a time."""
        from .runner import find_derivations

        if path not in self._described:
            batch = [p for p in dict.fromkeys([*self.queued, path]) if p not in self._described]
            self.queued = []
            self.runner.jobs = max(1, min(self.jobs, len(batch)))
            neighbours = tuple(dict.fromkeys(n for p in batch for n in _neighbours(p)))
            for p in batch:
                self._described[p] = ([], [])
            summaries, failures = find_derivations([str(p) for p in batch], self.runner, neighbours=neighbours)
            for summary in summaries:
                self._described[Path(summary.path)][0].append(summary)
            for failure in failures:
                self._described[Path(failure.path)][1].append(failure)
        return self._described[path]

    def result(self, summary) -> dict:
        """Each claim's row of ``summary``'s derivation (checked once, in a worker). The first item
        to ask checks every derivation this process will run (`pending`), ``jobs`` at a time."""
        key = (summary.path, summary.id)  # two folders may each define an id: each is its own
        if key not in self._checked:
            from .options import Options
            from .runner import check_all

            batch = [s for s in self.pending if (s.path, s.id) not in self._checked] if self.jobs > 1 else []
            batch = list({s.id: s for s in reversed(batch)}.values())  # one per id: rows are told apart by id
            batch = batch if summary in batch else [summary]
            self.pending = [s for s in self.pending if s not in batch]
            by_id = {s.id: s for s in batch}
            options = Options(seed=self.seed, examples=self.examples, mathml=False)  # (no report.html here)
            self.runner.jobs = max(1, min(self.jobs, len(batch)))
            rows, _ = check_all(batch, options, self.runner, lambda i: self.reproduce(by_id[i]))
            for s in batch:
                self._checked[(s.path, s.id)] = {r.claim: r for r in rows if r.derivation == s.id}
        return self._checked[key]

    def baseline_rows(self) -> dict | None:
        if self.baseline_path is None:
            return None
        if self._baseline is None:
            from .baseline import claim_key, load_baseline

            self._baseline = {claim_key(r): r for r in load_baseline(Path(self.baseline_path), "--gradverify-baseline")["rows"]}
        return self._baseline

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()


def _jobs(config) -> int:
    import os

    text = config.getoption("gradverify_jobs")
    if text is None:
        return os.cpu_count() or 1
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 256:
        from .errors import InvalidArgument

        _refuse(str(InvalidArgument("a positive integer up to 256", f"--gradverify-jobs={text}",
                                    "The default is the number of cores.")))
    return value


def _default_examples() -> int:
    from .options import Options

    return Options.examples


def _default_limits():
    from .isolation import DEFAULT_LIMITS

    return DEFAULT_LIMITS


def _neighbours(path: Path) -> tuple[str, ...]:
    """The derivation files beside ``path``: a derivation one of them defines and ``path`` imports is theirs."""
    return tuple(str(p) for p in sorted(path.parent.glob("*.py")) if not p.name.startswith("_"))


def pytest_configure(config):
    if _starts_workers(config):  # its forkserver imports while this process collects (`_Run`)
        from .isolation import start_early

        start_early()
    run = _Run(config)
    config.stash[_STATE] = run
    if run.enabled and run.baseline_path is not None:  # a bad baseline: said once, before any work
        from .errors import InvalidArgument

        try:
            run.baseline_rows()
        except InvalidArgument as exc:
            _refuse(str(exc))
    known = {Path(str(a).split("::")[0]).resolve() for a in config.args}
    for path in run.ini_paths:  # the ini's paths are collected without naming them
        if path not in known:
            config.args.append(str(path))


def _starts_workers(config) -> bool:
    """Whether this process checks derivations in workers: gradverify is on, and this is not
    xdist's controller (its workers collect and run the items)."""
    if not (config.getoption("gradverify") or config.getini("gradverify_paths")):
        return False
    if hasattr(config, "workerinput"):
        return True
    return getattr(config.option, "dist", "no") == "no" and not getattr(config.option, "numprocesses", None)


def pytest_unconfigure(config):
    run = config.stash.get(_STATE, None)
    if run is not None:
        run.close()


def pytest_report_header(config):
    run = config.stash[_STATE]
    if run.enabled:
        return (f"gradverify: seed {run.seed}, {run.examples} hypothesis examples per derivation "
                f"(--gradverify-seed {run.seed} reproduces)")
    return None


def pytest_collect_file(file_path, parent):
    run = parent.config.stash[_STATE]
    if run.enabled and run.owns(file_path):
        run.queued.append(Path(file_path))
        return DerivationFile.from_parent(parent, path=file_path)
    return None


class DerivationFile(pytest.File):
    def collect(self):
        run = self.config.stash[_STATE]
        summaries, failures = run.describe(self.path)
        for failure in failures:
            yield LoadFailureItem.from_parent(self, name=_safe_name(Path(failure.path).stem),
                                              message=failure.message, traceback=failure.traceback)
        for s in summaries:
            yield DerivationNode.from_parent(self, name=_safe_name(s.id), summary=s)


class DerivationNode(pytest.Collector):
    """One derivation: its claims are the items (node id ``file.py::e::∂J/∂u_k``)."""

    def __init__(self, *, summary, **kw):
        super().__init__(**kw)
        self.summary = summary

    def collect(self):
        for claim in self.summary.claims:
            yield ClaimItem.from_parent(self, name=_safe_name(claim.name), summary=self.summary, claim=claim.name)


def _safe_name(text: str) -> str:
    """A node name pytest can print and write: control characters and lone surrogates escaped,
    and no ``::`` or newline to split a node id."""
    from .report.escape import terminal_text

    return terminal_text(text).replace("\n", "\\n")

class _Item(pytest.Item):
    def repr_failure(self, excinfo, style=None):
        from .report.escape import terminal_text

        failure = excinfo.value
        if isinstance(failure, ClaimFailure):
            style = style or self.config.getoption("tbstyle", "auto")
            if failure.traceback and style in LONG_STYLES:
                return terminal_text(f"{failure}\n\n{failure.traceback}")
            return terminal_text(str(failure))
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"gradverify: {self.parent.name}::{self.name}"


class LoadFailureItem(_Item):
    def __init__(self, *, message: str, traceback: str = "", **kw):
        super().__init__(**kw)
        self.message, self.error_traceback = message, traceback

    def runtest(self):
        from .tracebacks import NO_TRACEBACK

        raise ClaimFailure(f"ERROR: {self.message}", self.error_traceback or NO_TRACEBACK)


class ClaimItem(_Item):
    def __init__(self, *, summary, claim: str, **kw):
        super().__init__(**kw)
        self.summary, self.claim = summary, claim
        self.extra_keyword_matches.add(ascii_id(f"{summary.id}::{claim}"))

    def runtest(self):
        run = self.config.stash[_STATE]
        rows = run.result(self.summary)
        row = rows.get(self.claim) or rows.get("(all)") or next(iter(rows.values()))
        baseline = run.baseline_rows()
        if baseline is not None and (row.derivation, row.claim) in baseline:
            _against_baseline(row, baseline[(row.derivation, row.claim)], run.baseline_path)
        else:
            _on_its_own(row)


def _on_its_own(row) -> None:
    from .report.rows import Outcome, failure_text, outcome

    kind = outcome(row)
    if kind == Outcome.EXPECTED:
        pytest.xfail(f"expected {row.verdict}: {row.reason}" if row.reason else f"expected {row.verdict}")
    if kind.fails_run:
        raise ClaimFailure(failure_text(row), _error_traceback(row))


def _against_baseline(row, old: dict, path) -> None:
    from .baseline import verdict_fields
    from .report.jsondoc import clean
    from .report.rows import failure_text, outcome

    before, after = verdict_fields(old), verdict_fields(clean(row.as_dict()))
    changed = [f"{k} changed from {before.get(k) or '(none)'} to {after.get(k) or '(none)'}"
               for k in dict.fromkeys([*before, *after]) if before.get(k, "") != after.get(k, "")]
    if changed:
        raise ClaimFailure(f"changed since the baseline {path}:\n  " + "\n  ".join(changed) + "\n"
                           + failure_text(row), _error_traceback(row))
    if outcome(row).fails_run:
        pytest.xfail(f"unchanged since the baseline {path}: {row.verdict}")
    _on_its_own(row)  # an expected verdict is still an xfail with its reason


def pytest_collection_modifyitems(session, config, items):
    config.stash[_STATE].collected = {(i.summary.id, i.claim) for i in items if isinstance(i, ClaimItem)}


def pytest_collection_finish(session):
    """The derivations of the items this process will run (after -k, --lf, deselection): the first
    item checks them all at once (`_Run.result`)."""
    run = session.config.stash[_STATE]
    if run.enabled:
        run.pending = list({i.summary.id: i.summary for i in session.items if isinstance(i, ClaimItem)}.values())


def pytest_terminal_summary(terminalreporter, config):
    """With a baseline: the claims it has that this run did not collect (the controller of
    ``-n`` collects nothing itself, so it says nothing)."""
    run = config.stash[_STATE]
    baseline = run.baseline_rows() if run.enabled and run.collected else None
    removed = [k for k in baseline or () if k not in run.collected]
    if removed:
        terminalreporter.write_sep("-", "gradverify: claims in the baseline that were not collected")
        for derivation, claim in removed:
            terminalreporter.write_line(f"{derivation} · {claim}: removed (in the baseline {run.baseline_path})")
