"""The README's promises, checked: its commands, its worked example, its JSON fields."""

import json
import re

from conftest import ROOT
from gradverify.cli import main

README = (ROOT / "README.md").read_text(encoding="utf-8")


def example_source() -> str:
    block = re.search(r"```python\n(# my_losses/least_squares.py\n.*?)```", README, re.S)
    assert block, "README keeps its worked example in a python block"
    return block.group(1)


def test_readme_opens_with_the_report_command_and_the_test_command():
    commands = re.findall(r"```sh\n(.*?)\n```", README, re.S)[:2]
    assert commands[0].endswith("pip install -e . && python -m gradverify report")
    assert commands[1].endswith("pip install -e '.[test]' && python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci, ".ci/run runs the README's test command as written"


def test_worked_example_holds(tmp_path, capsys):
    path = tmp_path / "least_squares.py"
    path.write_text(example_source(), encoding="utf-8")
    code = main(["report", "--derivations", str(path), "--out", str(tmp_path / "out"), "--examples", "15"])
    assert code == 0, capsys.readouterr().out
    assert "2 claims: 2 hold" in capsys.readouterr().out


def test_worked_example_transposed_claim_is_refuted_as_the_readme_says(tmp_path, capsys):
    src = example_source().replace("return (s.W * s.x - s.t) * s.x.T", "return s.x * (s.W * s.x - s.t).T")
    (tmp_path / "t.py").write_text(src, encoding="utf-8")
    assert main(["report", "--derivations", str(tmp_path / "t.py"), "--no-write", "--examples", "10"]) == 1
    assert "claimed ∂J/∂W has shape 3×2; expected 2×3" in capsys.readouterr().out


def test_worked_example_transposed_code_is_an_error_naming_the_shape(tmp_path, capsys):
    src = example_source().replace("np.outer(r, x)", "np.outer(x, r)")
    (tmp_path / "t.py").write_text(src, encoding="utf-8")
    assert main(["report", "--derivations", str(tmp_path / "t.py"), "--no-write", "--examples", "10"]) == 2
    out = capsys.readouterr().out
    assert "implementation returned grad_W with shape" in out and "expected" in out


def test_every_json_field_the_readme_documents_is_in_the_report():
    data = json.loads((ROOT / "reports" / "report.json").read_text())
    section = README.split("## The JSON report")[1].split("\n## ")[0]
    documented = set(re.findall(r"`([a-z_]+)`", "\n".join(line.split("|")[1] for line in section.splitlines()
                                                           if line.startswith("| `") and "[]" not in line)))
    assert {"seed", "summary", "rows", "reproduce"} <= documented
    for name in documented:
        assert name in data, name
    row = data["rows"][0]
    for name in ["derivation", "title", "claim", "as_written", "verdict", "holds_if", "message", "reproduce",
                 "assumptions", "checks"]:
        assert name in row, name
    for name in ["status", "sizes", "points", "detail", "counterexample"]:
        assert name in row["checks"]["symbolic"], name
    for check in ("finite_difference", "agreement"):
        for name in ["status", "examples", "max_rel_err", "error_over_tolerance", "detail", "counterexample"]:
            assert name in row["checks"][check], name
    for name in ["claims", "holds", "conditional", "refuted", "error", "exit_code"]:
        assert name in data["summary"], name
