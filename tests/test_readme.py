"""The README's promises, checked: its commands, its length and links; and the docs pages' promises
that need more than running their examples (tests/test_docs.py runs those): the tutorial's worked
example and its planted mistakes, the JSON fields, the report formats."""

import json
import re

from conftest import ROOT
from gradverify.cli import main

README = (ROOT / "README.md").read_text(encoding="utf-8")
TUTORIAL = (ROOT / "docs" / "tutorial" / "first-derivation.md").read_text(encoding="utf-8")
JSON_PAGE = (ROOT / "docs" / "reference" / "json-report.md").read_text(encoding="utf-8")
FORMATS_PAGE = (ROOT / "docs" / "how-to" / "report-in-ci.md").read_text(encoding="utf-8")
#: the issue's bound: a newcomer reads the README in one sitting, the rest is in docs/
README_LINES = 150


def example_source() -> str:
    block = re.search(r"```python\n(# my_losses/least_squares.py\n.*?)```", TUTORIAL, re.S)
    assert block, "the tutorial keeps its worked example in a python block"
    return block.group(1)


def test_readme_opens_with_the_report_command_and_the_test_command():
    commands = re.findall(r"```sh\n(.*?)\n```", README, re.S)[:2]
    assert commands[0].endswith("pip install -e . && python -m gradverify report")
    assert commands[1].endswith("pip install -e '.[test]' && python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci, ".ci/run runs the README's test command as written"
    assert "python -m pytest -m slow" in ci, ".ci/run runs the slow tests after the README's command"


def test_readme_is_short_and_says_what_the_test_command_skips_and_how_to_get_it():
    assert len(README.splitlines()) <= README_LINES
    said = " ".join(README.split("Run the tests:")[1].split("## ")[0].split())
    assert "`slow`" in said and "python -m pytest -m slow" in said
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in said
    assert "skipped" in said and "jax" in said and "Chromium" in said


def test_readme_links_lead_to_files_that_exist():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    assert len(links) >= 15
    for link in links:
        if not link.startswith("http"):
            assert (ROOT / link).exists(), link


def test_worked_example_holds(tmp_path, capsys):
    path = tmp_path / "least_squares.py"
    path.write_text(example_source(), encoding="utf-8")
    code = main(["report", "--derivations", str(path), "--out", str(tmp_path / "out"), "--examples", "15"])
    assert code == 0, capsys.readouterr().out
    assert "2 claims: 2 hold" in capsys.readouterr().out


def test_worked_example_transposed_claim_is_refuted_as_the_readme_says(tmp_path, capsys):
    src = example_source().replace("return (s.W * s.x - s.t) * s.x.T", "return s.x * (s.W * s.x - s.t).T")
    (tmp_path / "t.py").write_text(src, encoding="utf-8")
    assert main(["report", "--derivations", str(tmp_path / "t.py"), "--out", str(tmp_path / "out"),
                 "--examples", "10"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    said = " ".join(TUTORIAL.split("(transposed) and its row")[1].split("Change the numpy gradient")[0].split())
    symbolic, diagnosis, details = re.search(
        r"symbolic column says `([^`]+)`, the diagnosis column `([^`]+)`, and the details `([^`]+)`", said).groups()
    row = json.loads((tmp_path / "out" / "report.json").read_text())["rows"][0]
    assert row["claim"] == "∂J/∂W" and row["verdict"] == "refuted" and said.startswith("is REFUTED")
    assert row["checks"]["symbolic"]["status"] == symbolic.lower()
    assert row["diagnosis"] == diagnosis
    assert details in out
    assert row["checks"]["agreement"]["status"] == "fail" and row["checks"]["finite_difference"]["status"] == "pass"


def test_worked_example_transposed_code_is_an_error_naming_the_shape(tmp_path, capsys):
    src = example_source().replace("np.outer(r, x)", "np.outer(x, r)")
    (tmp_path / "t.py").write_text(src, encoding="utf-8")
    assert main(["report", "--derivations", str(tmp_path / "t.py"), "--no-write", "--examples", "10"]) == 2
    out = capsys.readouterr().out
    assert "implementation returned grad_W with shape" in out and "expected" in out


def _json_section_rows():
    section = JSON_PAGE
    return [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| `")]


def _names(text: str) -> set[str]:
    """The backticked field names in ``text``, leaving out parenthesised lists of values."""
    return set(re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", text)))


def test_every_json_field_the_readme_documents_is_in_the_report_the_code_writes(tmp_path, capsys):
    """Checks the report the code produces now (not a committed file): a documented field that
    the code stops writing fails here."""
    path = tmp_path / "least_squares.py"
    path.write_text(example_source(), encoding="utf-8")
    main(["report", "--derivations", str(path), "--out", str(tmp_path / "out"), "--examples", "5"])
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    rows = _json_section_rows()
    top = {n for first, _ in rows if "[]" not in first for n in _names(first)}
    assert {"seed", "summary", "rows", "reproduce", "environment"} <= top
    for name in top:
        assert name in data, name
    summary = next(meaning for first, meaning in rows if "`summary`" in first)
    for name in _names(summary):
        assert name in data["summary"], name
    row = data["rows"][0]
    row_fields = {n.split(".")[-1] for first, _ in rows if first.strip().startswith("`rows[]")
                  for n in re.findall(r"`(?:rows\[\]\.)?([a-z_.]+)(?:\[\])?`", first)} - {"symbolic"}
    assert {"derivation", "verdict", "expect", "reason", "as_expected", "outcome", "assumptions"} <= row_fields
    for name in row_fields - {"finite_difference", "agreement"}:
        assert name in row, name
    for first, meaning in rows:
        for check in re.findall(r"`rows\[\]\.checks\.([a-z_]+)`", first):
            for name in _names(meaning):
                assert name in row["checks"][check], (check, name)


def test_the_report_formats_section_says_the_default_and_that_naming_a_format_replaces_it(tmp_path, capsys):
    from gradverify.report.options import DEFAULT_FORMATS

    section = " ".join(FORMATS_PAGE.split("## Report formats")[1].split("\n## ")[0].split())
    default = re.search(r"Without it the formats are (.*?); naming any format replaces that default", section)
    assert default and re.findall(r"`([a-z]+)`", default.group(1)) == list(DEFAULT_FORMATS)
    assert "`--format html` writes `report.html` alone and prints no table, only the one-line summary and the " \
           "reproduce command" in section
    path = tmp_path / "least_squares.py"
    path.write_text(example_source(), encoding="utf-8")
    assert main(["report", "--derivations", str(path), "--out", str(tmp_path / "out"), "--examples", "5",
                 "--format", "html"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["report.html"]
    assert lines[0].startswith("wrote ") and lines[1].startswith("2 claims: 2 hold") and lines[2].startswith("Reproduce:")
