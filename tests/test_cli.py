"""The command line, end to end: exit codes, files, errors a user can read."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import HALF_SQUARE, ROOT
from gradverify.cli import main
from once import once

GOOD = HALF_SQUARE


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run_cli(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "gradverify", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_report_on_a_holding_claim_exits_0_and_writes_md_and_json(tmp_path, capsys):
    path = write(tmp_path, "good.py", GOOD.replace("{claim}", "s.x"))
    code = main(["report", "--derivations", str(path), "--out", str(tmp_path / "out"), "--examples", "10"])
    out = capsys.readouterr().out
    assert code == 0
    assert "seed 0" in out.splitlines()[0] and "1 claim: 1 holds" in out
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["seed"] == 0 and data["summary"]["exit_code"] == 0
    assert (tmp_path / "out" / "report.md").read_text().startswith("# gradverify report")


def test_report_on_a_wrong_claim_exits_1_with_the_failure_spelled_out(tmp_path, capsys):
    path = write(tmp_path, "wrong.py", GOOD.replace("{claim}", "-s.x"))
    code = main(["report", "--derivations", str(path), "--no-write", "--examples", "10"])
    out = capsys.readouterr().out
    assert code == 1
    assert "REFUTED" in out and "vs sympy's derivative, worst entries" in out and "vs the spec (exact)" in out
    assert f"reproduce: python -m gradverify report --only half-square --seed 0 --examples 10 --derivations {path}" \
        in out
    assert f"Reproduce: python -m gradverify report --seed 0 --examples 10 --derivations {path}" in out


def test_a_module_that_fails_to_import_is_an_error_row_and_the_others_still_run(tmp_path):
    write(tmp_path, "broken.py", "import numpy\nimport no_such_module_here\n")
    write(tmp_path, "good.py", GOOD.replace("{claim}", "s.x"))
    result = run_cli("report", "--derivations", str(tmp_path), "--no-write", "--examples", "10")
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert "broken.py failed to import: ModuleNotFoundError: No module named 'no_such_module_here' (line 2)" \
        in result.stdout
    assert "half-square" in result.stdout and "holds" in result.stdout


def test_an_implementation_error_is_one_line_and_exit_2(tmp_path, capsys):
    text = GOOD.replace("{claim}", "s.x").replace("return 0.5 * x @ x, x", "return 0.5 * x @ x, x[:1]")
    path = write(tmp_path, "shape.py", text)
    code = main(["report", "--derivations", str(path), "--no-write", "--examples", "10"])
    out = capsys.readouterr().out
    assert code == 2
    assert "implementation returned g with shape (1,); expected (2,)" in out or "expected (3,)" in out


def test_an_implementation_error_keeps_the_symbolic_result(tmp_path, capsys):
    text = GOOD.replace("{claim}", "s.x").replace("return 0.5 * x @ x, x", "return 0.5 * x @ x, x[:1]")
    path = write(tmp_path, "shape.py", text)
    main(["report", "--derivations", str(path), "--out", str(tmp_path / "out"), "--examples", "10"])
    row = json.loads((tmp_path / "out" / "report.json").read_text())["rows"][0]
    assert row["verdict"] == "error" and row["checks"]["symbolic"]["status"] == "proved"
    assert row["checks"]["finite_difference"]["status"] == "error"


@pytest.mark.parametrize("args, words", [
    pytest.param(["report", "--only", "zz"], ["Expected one of the derivation ids", "--only zz",
                                              "gradverify list"], id="unknown-only"),
    pytest.param(["report", "--derivations", "nowhere/x.py"], ["Expected an existing file or folder",
                                                                "nowhere/x.py"], id="missing-path"),
    pytest.param(["report", "--seed", "abc"], ["Expected an integer in 0..4294967295 or 'random' but got --seed=abc"],
                 id="bad-seed"),
    pytest.param(["report", "--examples", "0"], ["Expected a positive integer up to 100,000 but got --examples=0"],
                 id="zero-examples"),
    pytest.param(["report", "--only", "b", "--out", "README.md"], ["Expected a folder the report can be written to",
                                                                    "--out README.md"], id="out-is-a-file"),
    pytest.param(["report", "--derivations", "gradverify/__pycache__/../../tests/__init__missing"],
                 ["Expected an existing file or folder"], id="missing-folder"),
])
def test_user_mistakes_get_a_message_and_exit_2_never_a_traceback(args, words, monkeypatch, capfd):
    # the command line's door in this process (`python -m gradverify` calls it; a fresh process for
    # each mistake cost seconds): an exception it let out would fail this test, and capfd sees what
    # any worker process writes too
    from gradverify.entry import main as door

    monkeypatch.chdir(ROOT)
    try:
        code = door(list(args))
    except SystemExit as stop:  # argparse's way of refusing
        code = stop.code
    err = capfd.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    for w in words:
        assert w in err


def test_no_derivations_folder_says_where_it_looked(tmp_path):
    result = run_cli("report", cwd=tmp_path)
    assert result.returncode == 2 and "no ./derivations in" in result.stderr and "--derivations PATH" in result.stderr


def test_list_shows_every_seed_derivation_with_its_claims():
    result = run_cli("list")
    assert result.returncode == 0
    for did in ["a:", "b:", "c:", "d-scalar:", "d-vector:", "e:", "f-softmax:", "f-negsample:"]:
        assert did in result.stdout
    assert "claim ∂J/∂v_c = −u_o + Σ_w ŷ_w u_w = U (ŷ − y)ᵀ" in result.stdout
    assert "assumes: the K negative samples are distinct (implicit, not in the source)" in result.stdout


def test_same_seed_reproduces_the_json_exactly(tmp_path):
    for name in ("one", "two"):
        assert main(["report", "--only", "e", "--seed", "7", "--examples", "10",
                     "--derivations", str(ROOT / "derivations"), "--out", str(tmp_path / name)]) == 0
    one = (tmp_path / "one" / "report.json").read_text()
    assert one == (tmp_path / "two" / "report.json").read_text()
    assert json.loads(one)["seed"] == 7


def test_console_script_runs_the_same_cli():
    import shutil

    exe = shutil.which("gradverify")
    assert exe, "pip install -e . installs the gradverify console script"
    result = subprocess.run([exe, "list", "--only", "b"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "b: naive softmax" in result.stdout


def _seed_report(tmp_path_factory) -> dict:
    """`python -m gradverify report` on the seed, run once for the tests below (a fresh process, as
    users run it): its exit status and the files it wrote."""
    def make():
        out = tmp_path_factory.mktemp("seed-report")
        done = run_cli("report", "--out", str(out))
        return {"code": done.returncode, **{name: (out / name).read_text() for name in ("report.md", "report.json")}}
    return once(tmp_path_factory, "seed-report", make)


def test_the_seed_report_gives_each_claim_its_honest_verdict(tmp_path_factory):
    run = _seed_report(tmp_path_factory)
    code, data = run["code"], json.loads(run["report.json"])
    verdicts = {(r["derivation"], r["claim"]): r["verdict"] for r in data["rows"]}
    conditional = {k for k, v in verdicts.items() if v == "conditional"}
    assert conditional == {("e", "∂J/∂u_k"), ("f-negsample", "∂J_sg/∂U")}
    assert all(v == "holds" for k, v in verdicts.items() if k not in conditional)
    # the two conditional claims are marked expect="conditional": the run is as expected, exit 0
    assert len(verdicts) == 16 and code == 0
    expected = {(r["derivation"], r["claim"]) for r in data["rows"] if r["expect"] == "conditional"}
    assert expected == conditional and all(r["as_expected"] is not False for r in data["rows"])


def _verdicts(report):
    return [(r["derivation"], r["claim"], r["verdict"], r["diagnosis"],
             {k: c["status"] for k, c in r["checks"].items()}) for r in report["rows"]]


def test_the_committed_report_is_current(tmp_path_factory):
    """reports/ holds what `python -m gradverify report` writes today: byte for
    byte with the versions it was made with (hypothesis draws other examples in
    other versions), and every verdict, status and diagnosis with any versions.
    (In a fresh process: hypothesis also draws constants it finds in the modules
    loaded, so a run is reproduced by the same command, not inside a test run.)"""
    run = _seed_report(tmp_path_factory)
    new = json.loads(run["report.json"])
    committed = json.loads((ROOT / "reports" / "report.json").read_text())
    assert _verdicts(new) == _verdicts(committed)
    assert new["summary"] == committed["summary"]
    if new["environment"] == committed["environment"]:
        for name in ("report.md", "report.json"):
            assert run[name] == (ROOT / "reports" / name).read_text(), name


def test_assumptions_flag_shows_which_assumption_each_claim_needs(tmp_path, capsys):
    code = main(["report", "--only", "e", "--assumptions", "--examples", "12", "--out", str(tmp_path),
                 "--derivations", str(ROOT / "derivations")])
    assert code == 0  # ∂J/∂u_k is conditional, as its expect= says
    data = json.loads((tmp_path / "report.json").read_text())
    need = {(r["claim"], a["text"]): a["necessary"] for r in data["rows"] for a in r["assumptions"]}
    assert need == {
        ("∂J/∂v_c", "o ∉ {w_1, …, w_K}"): False,
        ("∂J/∂v_c", "the K negative samples are distinct"): False,
        ("∂J/∂u_o", "o ∉ {w_1, …, w_K}"): True,
        ("∂J/∂u_o", "the K negative samples are distinct"): False,
        ("∂J/∂u_k", "o ∉ {w_1, …, w_K}"): True,
        ("∂J/∂u_k", "the K negative samples are distinct"): True,
    }
    out = capsys.readouterr().out
    assert "Each assumption dropped in turn:" in out and "not needed" in out
    row = next(r for r in data["rows"] if r["claim"] == "∂J/∂u_o")
    dropped = next(a for a in row["assumptions"] if a["text"] == "o ∉ {w_1, …, w_K}")
    assert "samples=[0]" in dropped["counterexample"] and "o=0" in dropped["counterexample"]


def test_one_hot_is_necessary_for_the_identity(tmp_path):
    main(["report", "--only", "a", "--assumptions", "--examples", "12", "--out", str(tmp_path),
          "--derivations", str(ROOT / "derivations")])
    row = json.loads((tmp_path / "report.json").read_text())["rows"][0]
    assert row["assumptions"][0]["necessary"] is True


def test_the_report_shows_the_cost_claim(capsys):
    main(["report", "--only", "e", "--no-write", "--examples", "8", "--derivations", str(ROOT / "derivations")])
    out = capsys.readouterr().out
    assert "e · cost grows with K·d, not V·d · holds: naive softmax: work ∝ V^1.00" in out


def test_no_write_leaves_the_folder_it_runs_in_untouched(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    write(work, "good.py", GOOD.replace("{claim}", "s.x"))
    result = run_cli("report", "--derivations", "good.py", "--no-write", "--examples", "5", cwd=work)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in work.iterdir()) == ["good.py"]  # no .hypothesis/, no reports/


def test_a_missing_dependency_is_one_line_with_the_install_command(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tabulate" else real(name, *a))
    from gradverify.entry import main as door  # python -m gradverify and the gradverify script

    assert door(["list", "--only", "b", "--derivations", str(ROOT / "derivations")]) == 2
    err = capsys.readouterr().err
    assert "tabulate missing" in err and "pip install -e ." in err and "Traceback" not in err


# ---------------------------------------------------------------- --traceback
SPEC_MISTAKE = "s.x * (3)[0]"  # an int subscripted: TypeError in the claim's own lambda
IMPL_MISTAKE = "return 0.5 * x @ x, x['a']"  # a string index into a numpy array: IndexError in the code


def _mistake(tmp_path, where):
    good = GOOD.replace("{claim}", "s.x")
    text = (GOOD.replace("{claim}", SPEC_MISTAKE) if where == "spec"
            else good.replace("return 0.5 * x @ x, x", IMPL_MISTAKE))
    path = write(tmp_path, f"{where}_mistake.py", text)
    mistake = SPEC_MISTAKE if where == "spec" else IMPL_MISTAKE
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if mistake in text)
    return path, line, mistake


def _report(capsys, path, *flags):
    code = main(["report", "--derivations", str(path), "--no-write", "--examples", "5", *flags])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("where, function", [("spec", "<lambda>"), ("implementation", "loss_and_grad")])
def test_an_error_is_one_line_by_default_and_its_traceback_with_the_flag(tmp_path, capsys, where, function):
    path, line, mistake = _mistake(tmp_path, where)
    code, out, err = _report(capsys, path)
    assert code == 2
    assert "Traceback (most recent call last)" not in out + err
    assert f"(at {path}:{line} in {function})" in out  # the one line names the user's file, line and function
    assert "(--traceback shows the whole traceback of each error" in out

    code, out, err = _report(capsys, path, "--traceback")
    assert code == 2 and "Traceback (most recent call last)" not in err
    shown = out.split("Tracebacks (--traceback):\n", 1)[1]
    assert shown.startswith("  half-square · dJ/dx\n    Traceback (most recent call last):\n"
                            f'      File "{path}", line {line}, in {function}\n')
    assert mistake in shown and ("TypeError: 'int' object is not subscriptable" in shown if where == "spec"
                                 else "IndexError: only integers" in shown)
    assert "gradverify/" not in shown  # the user's frames, not gradverify's above them


def test_an_error_that_is_no_exception_says_it_has_no_traceback_and_names_the_code(tmp_path, capsys):
    text = GOOD.replace("{claim}", "s.x").replace("return 0.5 * x @ x, x", "x *= 2\n    return 2 * x @ x, x.copy()")
    path = write(tmp_path, "in_place.py", text)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "def loss_and_grad" in text)
    code, out, _ = _report(capsys, path, "--traceback", "--quiet")
    assert code == 2 and "modifies its argument `x` in place" in out
    shown = " ".join(out.split("Tracebacks (--traceback):\n", 1)[1].split())
    assert f"no traceback: loss_and_grad (at {path}:{line}) raised no exception" in shown
    assert "Traceback (most recent call last)" not in out


def test_an_import_error_shows_the_modules_line_with_the_flag(tmp_path, capsys):
    path = write(tmp_path, "broken.py", "import numpy\n\nvalue = numpy.zeros(2)[5]\n")
    code, out, _ = _report(capsys, path, "--traceback")
    assert code == 2 and "broken.py failed to import: IndexError" in out
    shown = out.split("Tracebacks (--traceback):\n", 1)[1]
    assert f'File "{path}", line 3, in <module>\n' in shown and "importlib" not in shown


def test_the_traceback_hint_is_shown_only_when_there_is_a_traceback_to_show(tmp_path, capsys):
    text = GOOD.replace("{claim}", "s.x").replace("return 0.5 * x @ x, x", "x *= 2\n    return 2 * x @ x, x.copy()")
    code, out, _ = _report(capsys, write(tmp_path, "in_place.py", text), "--quiet")
    assert code == 2 and "modifies its argument `x` in place" in out
    assert "--traceback shows" not in out


def test_mutants_of_a_claim_that_is_itself_wrong_say_so_and_count_no_mutant(tmp_path, capsys):
    path = write(tmp_path, "wrong.py", GOOD.replace("{claim}", "-s.x"))
    code = main(["mutants", "--derivations", str(path), "--examples", "5"])
    out = capsys.readouterr().out
    assert code == 2
    assert "0 mutants, 0 refuted, 0 equivalent, 0 survived, 1 claim(s) refuted as written" in out
    assert "SURVIVED" not in out and "CLAIM REFUTED" in out.split("result", 1)[1].splitlines()[2]
