"""The fault corpus (tests/faults/corpus.py) through every door that runs user code: the report
command, the pytest plugin, and the plugin under ``-n 2``. One run of each door covers many
derivations; each case is then one test of what that run made of it. The cases marked ``smoke``
run by default; the rest are ``@pytest.mark.slow`` (``-m slow``, as .ci/run runs them, or ``--run-slow``).

Every door must: give each faulty derivation one failing item (or ERROR row) whose line names the
cause, give every other derivation its own verdict (the folders' same-named helpers never mix),
end with a non-zero exit status, write its files (junit, report.json), and leave no process that
user code started behind."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from faults.corpus import CASES, MAX_MEMORY, TIMEOUT, Case, write_corpus
from once import once

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = "3"
#: the import faults and the helpers: what -n 2's collection must survive
XDIST_SMOKE = {"os_exit0_import", "keyboard_import", "segfault_import", "helper_g1", "helper_g2"}


def _slow(request) -> bool:
    """Whether the slow cases run too: --run-slow, or a marker expression that selects them (-m slow)."""
    marks = request.config.getoption("-m") or ""
    return bool(request.config.getoption("--run-slow", default=False)) or \
        (re.search(r"\bslow\b", marks) is not None and "not slow" not in marks)


def _cases(door: str, everything: bool) -> list[Case]:
    if everything:
        return CASES
    if door == "xdist":
        return [c for c in CASES if c.id in XDIST_SMOKE or (c.smoke and c.where == "import")]
    return [c for c in CASES if c.smoke]


def _params(door: str):
    return [pytest.param(c, id=c.id, marks=() if c in _cases(door, False) else pytest.mark.slow) for c in CASES]


def _leftover_sleeps() -> str:
    """The `sleep 613` processes the spawn case started, if any outlived their worker."""
    found = subprocess.run(["pgrep", "-f", "sleep 613"], capture_output=True, text=True)
    return found.stdout.strip()


# ------------------------------------------------------------------ running each door once
class DoorRun:
    def __init__(self, outcomes: dict[str, tuple[str, str]], code: int, out: str, folder: Path):
        self.outcomes, self.code, self.out, self.folder = outcomes, code, out, folder


def _run_report(tmp: Path, cases: list[Case]) -> DoorRun:
    folders = write_corpus(tmp / "corpus", cases)
    argv = [sys.executable, "-m", "gradverify", "report", *[a for f in folders for a in ("--derivations", str(f))],
            "--timeout", str(TIMEOUT), "--max-memory", MAX_MEMORY, "--examples", EXAMPLES, "--jobs", "2", "--quiet",
            "--out", str(tmp / "out"), "--format", "terminal", "--format", "json", "--format", "md"]
    done = subprocess.run(argv, capture_output=True, cwd=tmp, env=_env(), timeout=600)
    data = json.loads((tmp / "out" / "report.json").read_text(encoding="utf-8"))
    outcomes = {}
    for row in data["rows"]:
        status = "error" if row["verdict"] == "error" else "passed" if row["verdict"] == "holds" else row["verdict"]
        outcomes[row["derivation"]] = (status, row["message"])
    return DoorRun(outcomes, done.returncode, done.stdout.decode("utf-8", "replace") +
                   done.stderr.decode("utf-8", "replace"), tmp)


def _env() -> dict:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _run_pytest(tmp: Path, cases: list[Case], *extra: str) -> DoorRun:
    folders = write_corpus(tmp / "corpus", cases)
    junit = tmp / "out.xml"
    argv = [sys.executable, "-m", "pytest", "--gradverify", *map(str, folders), "-p", "no:cacheprovider",
            "-p", "no:randomly", "--rootdir", str(tmp), "-o", "addopts=", "--gradverify-examples", EXAMPLES,
            "--gradverify-timeout", str(TIMEOUT), "--gradverify-max-memory", MAX_MEMORY, f"--junitxml={junit}", *extra]
    done = subprocess.run(argv, capture_output=True, cwd=tmp, env=_env(), timeout=900)
    out = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
    assert junit.exists(), out[-3000:]
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        parts = case.get("classname").split(".")
        stem = next(parts[i + 1] for i, p in enumerate(parts) if p in ("g1", "g2"))
        failed = [e for e in case if e.tag in ("failure", "error")]
        text = "\n".join((e.get("message") or "") + "\n" + (e.text or "") for e in failed)
        outcomes[stem] = ("error" if failed else "skipped" if case.find("skipped") is not None else "passed", text)
    return DoorRun(outcomes, done.returncode, out, tmp)


_RUNS: dict = {}


def _door(door: str, request, tmp_path_factory) -> DoorRun:
    """The door's one run in this test run (`once`: a worker whose tests of it come after another
    worker ran it reads what that run left, instead of running it again)."""
    everything = _slow(request)
    key = (door, everything)
    if key in _RUNS:
        return _RUNS[key]
    if door == "xdist":
        pytest.importorskip("xdist", reason="pytest-xdist (pip install -e '.[test]')")
    name = f"faults-{door}-{'all' if everything else 'smoke'}"

    def make() -> dict:
        tmp = tmp_path_factory.mktemp(name)
        cases = _cases(door, everything)
        if door == "report":
            run = _run_report(tmp, cases)
        elif door == "plugin":
            run = _run_pytest(tmp, cases)
        else:
            run = _run_pytest(tmp, cases, "-n", "2")
        return {"outcomes": run.outcomes, "code": run.code, "out": run.out, "folder": str(run.folder),
                "leftover": _leftover_sleeps()}

    run = once(tmp_path_factory, name, make)
    _RUNS[key] = DoorRun({k: tuple(v) for k, v in run["outcomes"].items()}, run["code"], run["out"],
                         Path(run["folder"]))
    _RUNS[key].leftover = run["leftover"]
    return _RUNS[key]


def _check_case(run: DoorRun, case: Case) -> None:
    assert case.id in run.outcomes, f"{case.id} has no item or row; the run said:\n{run.out[-3000:]}"
    status, text = run.outcomes[case.id]
    assert status == case.expect, f"{case.id}: {status}, expected {case.expect}: {text[:2000]}"
    if case.expect == "error":
        assert re.search(case.says, text, re.S), f"{case.id}: {text[:2000]!r} does not say {case.says!r}"
        assert "Traceback (most recent call last)" not in text, f"{case.id}: a traceback instead of one line"


# ------------------------------------------------------------------ one test per case and door
@pytest.mark.parametrize("case", _params("report"))
def test_report_door(case, request, tmp_path_factory):
    _check_case(_door("report", request, tmp_path_factory), case)


@pytest.mark.parametrize("case", _params("plugin"))
def test_pytest_plugin_door(case, request, tmp_path_factory):
    _check_case(_door("plugin", request, tmp_path_factory), case)


@pytest.mark.parametrize("case", [p for p in _params("xdist")])
def test_pytest_plugin_under_xdist(case, request, tmp_path_factory):
    if case not in _cases("xdist", _slow(request)):
        pytest.skip("in the full corpus only (--run-slow)")
    _check_case(_door("xdist", request, tmp_path_factory), case)


# ------------------------------------------------------------------ what each whole run must show
@pytest.mark.parametrize("door", ["report", "plugin", "xdist"])
def test_each_run_fails_writes_its_files_and_leaves_no_process(door, request, tmp_path_factory):
    run = _door(door, request, tmp_path_factory)
    assert run.code not in (0, 5), run.out[-3000:]  # 5: pytest collected nothing
    assert run.leftover == "", f"processes user code started outlived the run: {run.leftover}"
    assert "\x1b[2J" not in run.out and "\x1b]0;pwned" not in run.out  # claim names and messages, escaped
    assert "Traceback (most recent call last)" not in run.out


def test_the_report_files_are_written_and_user_text_made_safe(request, tmp_path_factory):
    run = _door("report", request, tmp_path_factory)
    markdown = (run.folder / "out" / "report.md").read_text(encoding="utf-8")
    assert "\x1b" not in markdown
    if _slow(request):  # the cases with links and surrogates are in the full corpus
        assert "[x\\](javascript:alert(1))" in markdown and "![p\\](http://example.com/p.png)" in markdown
        assert "\ufffd" in (run.folder / "out" / "report.json").read_text(encoding="utf-8")
        assert "replaced by U+FFFD in report.json" in run.out


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
