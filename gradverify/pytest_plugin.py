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
    group = parser.getgroup("gradverify", "gradverify: check hand-derived gradients")
    group.addoption("--gradverify", action="store_true",
                    help="collect each claim of the derivation files among the given paths as a test")
    group.addoption("--gradverify-seed", type=int, default=0, metavar="N",
                    help="seed of every random choice (default 0; the header prints it)")
    group.addoption("--gradverify-examples", type=int, default=None, metavar="N",
                    help="hypothesis examples per derivation (default 25)")
    group.addoption("--gradverify-baseline", default=None, metavar="PATH",
                    help="a committed report.json: fail only the claims whose verdict changed")
    parser.addini("gradverify_paths", type="paths", default=[],
                  help="derivation files or folders collected as gradverify claims")


class _Run:
    """One pytest run's gradverify state: options, the roots, the checked derivations."""

    def __init__(self, config):
        from .checks import Options

        self.seed = config.getoption("gradverify_seed")
        self.examples = config.getoption("gradverify_examples") or Options.examples
        ini = [Path(p).resolve() for p in config.getini("gradverify_paths")]
        given = [Path(str(a).split("::")[0]).resolve() for a in config.args] if config.getoption("gradverify") else []
        self.ini_paths = ini
        self.roots = ini + given
        self.baseline_path = config.getoption("gradverify_baseline")
        self._baseline = None
        self._checked: dict[str, object] = {}
        #: (derivation id, claim) of the items collected here
        self.collected: set[tuple[str, str]] = set()

    @property
    def enabled(self) -> bool:
        return bool(self.roots)

    def owns(self, path: Path) -> bool:
        name = path.name
        if path.suffix != ".py" or name.startswith(("_", "test_", "conftest")) or name.endswith("_test.py"):
            return False
        path = path.resolve()
        return any(path == root or root in path.parents for root in self.roots)

    def result(self, derivation):
        if derivation.id not in self._checked:
            from .testing import check

            self._checked[derivation.id] = check(derivation, seed=self.seed, examples=self.examples)
        return self._checked[derivation.id]

    def baseline_rows(self) -> dict | None:
        if self.baseline_path is None:
            return None
        if self._baseline is None:
            from .baseline import claim_key, load_baseline

            self._baseline = {claim_key(r): r for r in load_baseline(Path(self.baseline_path))["rows"]}
        return self._baseline


def pytest_configure(config):
    run = _Run(config)
    config.stash[_STATE] = run
    known = {Path(str(a).split("::")[0]).resolve() for a in config.args}
    for path in run.ini_paths:  # the ini's paths are collected without naming them
        if path not in known:
            config.args.append(str(path))


def pytest_report_header(config):
    run = config.stash[_STATE]
    if run.enabled:
        return (f"gradverify: seed {run.seed}, {run.examples} hypothesis examples per derivation "
                f"(--gradverify-seed {run.seed} reproduces)")
    return None


def pytest_collect_file(file_path, parent):
    run = parent.config.stash[_STATE]
    if run.enabled and run.owns(file_path):
        return DerivationFile.from_parent(parent, path=file_path)
    return None


class DerivationFile(pytest.File):
    def collect(self):
        from .testing import load_derivations

        derivations, failures = load_derivations([self.path])
        for failure in failures:
            yield LoadFailureItem.from_parent(self, name=Path(failure.path).stem, message=failure.message,
                                              traceback=failure.traceback)
        for d in derivations:
            yield DerivationNode.from_parent(self, name=d.id, derivation=d)


class DerivationNode(pytest.Collector):
    """One derivation: its claims are the items (node id ``file.py::e::∂J/∂u_k``)."""

    def __init__(self, *, derivation, **kw):
        super().__init__(**kw)
        self.derivation = derivation

    def collect(self):
        for claim in self.derivation.claims:
            yield ClaimItem.from_parent(self, name=claim.name, derivation=self.derivation, claim=claim.name)


class _Item(pytest.Item):
    def repr_failure(self, excinfo, style=None):
        failure = excinfo.value
        if isinstance(failure, ClaimFailure):
            style = style or self.config.getoption("tbstyle", "auto")
            if failure.traceback and style in LONG_STYLES:
                return f"{failure}\n\n{failure.traceback}"
            return str(failure)
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
    def __init__(self, *, derivation, claim: str, **kw):
        super().__init__(**kw)
        self.derivation, self.claim = derivation, claim
        self.extra_keyword_matches.add(ascii_id(f"{derivation.id}::{claim}"))

    def runtest(self):
        run = self.config.stash[_STATE]
        row = run.result(self.derivation).claim(self.claim)
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
    from .report.jsondoc import _clean
    from .report.rows import failure_text, outcome

    before, after = verdict_fields(old), verdict_fields(_clean(row.as_dict()))
    changed = [f"{k} changed from {before.get(k) or '(none)'} to {after.get(k) or '(none)'}"
               for k in dict.fromkeys([*before, *after]) if before.get(k, "") != after.get(k, "")]
    if changed:
        raise ClaimFailure(f"changed since the baseline {path}:\n  " + "\n  ".join(changed) + "\n"
                           + failure_text(row), _error_traceback(row))
    if outcome(row).fails_run:
        pytest.xfail(f"unchanged since the baseline {path}: {row.verdict}")
    _on_its_own(row)  # an expected verdict is still an xfail with its reason


def pytest_collection_modifyitems(session, config, items):
    config.stash[_STATE].collected = {(i.derivation.id, i.claim) for i in items if isinstance(i, ClaimItem)}


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
