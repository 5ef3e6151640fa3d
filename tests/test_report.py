"""The report's row model and its renderers, from hand-made results (no check runs here: fast)."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradverify.errors import InvalidArgument
from gradverify.report import Report, check_writable, exit_code, render, write
from gradverify.report.jsondoc import document
from gradverify.report.figures import decade_bound
from gradverify.report.rows import Outcome
from gradverify.report.terminal import fit_widths
from gradverify.results import CheckResult, ClaimResult, NumericFigures, Status, SymbolicFigures, Verdict

NASTY = "x|y\n<img src=x onerror=alert(1)>```<script>&"


def numeric(status=Status.PASS, rel=1.7e-06, ratio=0.068, **kw):
    return CheckResult(status, NumericFigures(25, rel, ratio, "central", "every entry"), **kw)


def claim_row(claim="∂J/∂x", verdict=Verdict.HOLDS, derivation="half", expect=None, reason="", agreement=None,
              fd=None, **kw):
    checks = {"symbolic": CheckResult(Status.PROVED, SymbolicFigures([{"n": 2}], 2)),
              "finite_difference": fd or numeric(),
              "agreement": agreement or numeric(rel=5.342060940847514e-15, ratio=0.003875260197714355)}
    if verdict in (Verdict.REFUTED, Verdict.CONDITIONAL):
        checks["symbolic"] = CheckResult(Status.REFUTED, SymbolicFigures([{"n": 2}], 2), detail="claimed vs sympy",
                                         counterexample="n=2, x=[1, 2]", diagnosis="off by a factor 2")
    if verdict == Verdict.ERROR:
        checks = {k: CheckResult(Status.ERROR) for k in checks}
    return ClaimResult(derivation, "a title", claim, "x", verdict, checks, [], expect=expect, reason=reason,
                       reproduce=f"python -m gradverify report --only {derivation} --seed 0 --no-write", **kw)


def report(*rows, **kw):
    return Report(list(rows), seed=0, examples=25, paths=["derivations"], command="python -m gradverify report", **kw)


# ------------------------------------------------------------------ reproducible figures
def test_rounding_level_figures_do_not_depend_on_their_last_digits():
    one = report(claim_row(agreement=numeric(rel=5.342060940847514e-15, ratio=0.003875260197714355)))
    two = report(claim_row(agreement=numeric(rel=4.440892098500626e-15, ratio=0.0032210)))
    assert render(one, "md") == render(two, "md") and render(one, "terminal") == render(two, "terminal")
    assert json.dumps(document(one)) == json.dumps(document(two))
    agreement = document(one)["rows"][0]["checks"]["agreement"]
    assert agreement["max_rel_err"] == 1e-14 and agreement["error_over_tolerance"] == 0.1
    assert agreement["rounding_level"] is True
    assert "rel ≤ 1e-14 · ≤ 0.1× tol" in render(one, "md")


def test_figures_that_decide_a_verdict_stay_exact():
    failing = numeric(Status.FAIL, rel=0.5, ratio=64812.25)
    data = document(report(claim_row(verdict=Verdict.REFUTED, agreement=failing)))
    agreement = data["rows"][0]["checks"]["agreement"]
    assert agreement["max_rel_err"] == 0.5 and agreement["error_over_tolerance"] == 64812.25
    assert agreement["rounding_level"] is False
    fd = data["rows"][0]["checks"]["finite_difference"]  # a passing central difference: its own rounding
    assert fd["max_rel_err"] == 1e-05 and fd["error_over_tolerance"] == 0.1 and fd["rounding_level"] is True


@pytest.mark.parametrize("x, bound", [(5.3e-15, 1e-14), (1e-14, 1e-14), (1.0000001e-14, 1e-13), (0.0, 0.0),
                                      (9.9e-07, 1e-06), (0.5, 1.0)])
def test_decade_bound(x, bound):
    assert decade_bound(x) == bound


# ------------------------------------------------------------------ expected verdicts
def test_an_expected_verdict_is_shown_with_its_reason_counted_apart_and_exits_0():
    r = report(claim_row("a"), claim_row("b", Verdict.CONDITIONAL, expect=Verdict.CONDITIONAL,
                                         reason="samples may repeat", holds_if=["samples distinct"]))
    assert r.exit_code == 0
    assert r.table[1].outcome == Outcome.EXPECTED
    assert "expected: REFUTED as stated; holds if samples distinct: samples may repeat" in render(r, "md")
    assert "1 as expected (marked expect=)" in r.summary_sentence() and "0 hold only under an unstated assumption" in r.summary_sentence()
    assert r.summary()["expected"] == 1 and r.summary()["conditional"] == 1
    assert document(r)["rows"][1]["outcome"] == "expected"


def test_an_unmarked_conditional_claim_fails_the_run():
    r = report(claim_row("a"), claim_row("b", Verdict.CONDITIONAL, holds_if=["samples distinct"]))
    assert r.exit_code == 1 and r.table[1].outcome == Outcome.FAILED


def test_an_expected_failure_that_now_holds_is_an_unexpected_pass_and_fails_the_run():
    r = report(claim_row("b", Verdict.HOLDS, expect=Verdict.CONDITIONAL, reason="samples may repeat"))
    assert r.exit_code == 1 and r.table[0].outcome == Outcome.UNEXPECTED_PASS
    assert "holds (UNEXPECTED: marked expect=conditional: samples may repeat)" in render(r, "md")
    assert "1 unexpected pass" in r.summary_sentence() and r.summary()["unexpected_pass"] == 1


def test_an_expected_verdict_that_changed_to_another_failure_fails_the_run():
    r = report(claim_row("b", Verdict.REFUTED, expect=Verdict.CONDITIONAL))
    assert r.exit_code == 1 and r.table[0].outcome == Outcome.FAILED


def test_an_error_exits_2():
    assert exit_code([claim_row("a"), claim_row("b", Verdict.ERROR, message="boom")]) == 2


# ------------------------------------------------------------------ escaping
def test_user_text_cannot_add_a_markdown_cell_split_a_row_or_run_html():
    r = report(claim_row(NASTY, Verdict.REFUTED, derivation="d|<b>"))
    md = render(r, "md")
    table = [line for line in md.splitlines() if line.startswith("| d\\|")]
    assert len(table) == 1, "the row stays on one line"
    assert len(re.findall(r"(?<!\\)\|", table[0])) == 8, "7 cells: 8 unescaped pipes"
    fences = re.findall(r"^(`{3,})$", md, re.M)
    assert len(fences) == 2 and len(fences[0]) > 3, "the Details fence is longer than the ``` in the name"
    outside = md.split(fences[0])[0] + md.split(fences[0])[2]
    assert "<img" not in outside and "<script>" not in outside and "<b>" not in outside
    assert "&lt;img src=x" in outside


def test_json_keeps_user_text_exactly():
    data = document(report(claim_row(NASTY)))
    assert data["rows"][0]["claim"] == NASTY


# ------------------------------------------------------------------ terminal width
@pytest.mark.parametrize("columns", [60, 100, 160])
def test_the_terminal_table_fits_columns(columns):
    rows = [claim_row("∂J/∂u_k " * 4, Verdict.CONDITIONAL, holds_if=["the K negative samples are distinct"] * 3,
                      derivation="f-negsample")] * 3
    text = render(report(*rows), "terminal", columns=columns)
    table = text.split("\n\n")[1]
    assert max(len(line) for line in table.splitlines()) <= columns
    assert "f-negsample" in table or columns < 100


def test_fit_widths_keeps_what_fits():
    assert fit_widths([10, 20, 30], 100) == [10, 20, 30]
    assert fit_widths([12, 20, 80], 60, floors=[12, 10, 10]) == [12, 20, 24]
    assert sum(fit_widths([10, 20, 80], 60)) + 4 <= 60


# ------------------------------------------------------------------ files
def test_write_then_read_is_whole(tmp_path):
    written = write(report(claim_row()), tmp_path / "out")
    assert [p.name for p in written] == ["report.md", "report.json"]
    assert json.loads((tmp_path / "out" / "report.json").read_text())["rows"][0]["claim"] == "∂J/∂x"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.json", "report.md"], "no temp left"


def test_report_json_being_a_folder_is_an_error_before_anything_is_written(tmp_path):
    (tmp_path / "report.json").mkdir()
    (tmp_path / "report.md").write_text("old")
    with pytest.raises(InvalidArgument, match="report.json to be a file"):
        write(report(claim_row()), tmp_path)
    assert (tmp_path / "report.md").read_text() == "old"
    with pytest.raises(InvalidArgument, match="report.json to be a file"):
        check_writable(tmp_path)


def test_check_writable_refuses_a_file_and_leaves_nothing(tmp_path):
    check_writable(tmp_path / "new")
    assert list((tmp_path / "new").iterdir()) == []
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidArgument, match="a folder the report can be written to"):
        check_writable(tmp_path / "file")


def test_a_failed_render_leaves_the_previous_report_whole(tmp_path, monkeypatch):
    old = report(claim_row("old"))
    write(old, tmp_path)
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    new = report(claim_row("new"))
    from gradverify.report import formats

    monkeypatch.setitem(formats.RENDERERS, "json", lambda report: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        write(new, tmp_path)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before


def test_an_interrupted_write_removes_its_temporary_files(tmp_path, monkeypatch):
    from gradverify.report import files

    write(report(claim_row("old")), tmp_path)
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    real, calls = files._temporary, []

    def second_fails(target, text):
        calls.append(target)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(target, text)

    monkeypatch.setattr(files, "_temporary", second_fails)
    with pytest.raises(KeyboardInterrupt):
        write(report(claim_row("new")), tmp_path)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before


WRITER = """
import sys
from gradverify.report import Report, write
from gradverify.results import CHECKS, CheckResult, ClaimResult, Status, Verdict
seed = int(sys.argv[2])
rows = [ClaimResult("d", "t", f"claim {i} " + "x" * 2000, "", Verdict.ERROR,
                    {k: CheckResult(Status.ERROR) for k in CHECKS}, []) for i in range(50)]
for _ in range(8):
    write(Report(rows, seed=seed, examples=1, paths=[], command=f"seed {seed}"), __import__("pathlib").Path(sys.argv[1]))
"""


def test_runs_writing_into_one_folder_at_once_never_mix_their_files(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(seed)], env=env)
             for seed in range(4)]
    seen = set()
    while any(p.poll() is None for p in procs):
        from gradverify.report.files import folder_lock

        with folder_lock(tmp_path):  # a reader that takes the lock sees one run's pair
            if (tmp_path / "report.json").exists():
                seed = json.loads((tmp_path / "report.json").read_text())["seed"]
                assert f"· seed {seed} ·" in (tmp_path / "report.md").read_text()
                seen.add(seed)
        time.sleep(0.005)  # pacing, not timing: flock is not fair, a reader in a tight loop starves the writers
    assert all(p.returncode == 0 for p in procs)
    assert len(seen) >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md"]


def test_the_report_package_imports_no_sympy_and_nothing_of_the_steps_or_the_checks():
    """MathML and everything else the report shows arrive as text: rendering every format needs
    neither sympy nor the derivation machinery (a fresh process, so nothing else loaded them)."""
    code = ("import sys, gradverify.report.formats, gradverify.report.options\n"
            "bad = [m for m in sys.modules if m == 'sympy' or m.startswith(('gradverify.steps', 'gradverify.checks',"
            " 'gradverify.symbolic', 'gradverify.sampling', 'gradverify.sympy_eval', 'gradverify.mathml'))]\n"
            "print(bad)")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_format_is_a_renderer_in_the_registry_and_every_file_format_has_a_file():
    from gradverify.report import formats
    from gradverify.report.options import FORMATS

    assert FORMATS == tuple(formats.RENDERERS) == ("terminal", "md", "json", "junit", "html")
    assert set(formats.FILENAMES) == set(FORMATS) - {"terminal"}
    rep = report(claim_row())
    assert json.loads(render(rep, "json")) == document(rep)
