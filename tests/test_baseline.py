"""--baseline / --update-baseline: verdicts compared with a committed report, figures not."""

import argparse
import io
import json

import pytest

from gradverify.baseline import compare
from gradverify.errors import InvalidArgument
from gradverify.report.jsondoc import document
from gradverify.report.options import add_report_arguments, finish, prepare
from gradverify.results import Status, Verdict
from test_report import claim_row, numeric, report


def parse(*argv, out):
    p = argparse.ArgumentParser()
    p.add_argument("--out")
    p.add_argument("--no-write", action="store_true")
    add_report_arguments(p)
    return p.parse_args(["--out", str(out), *argv])


def run(rep, *argv, out):
    args = parse(*argv, out=out)
    prepare(args)
    printed = io.StringIO()
    return finish(rep, args, printed), printed.getvalue()


def seed_report(**changes):
    rows = {"a": claim_row("a"), "b": claim_row("b", Verdict.CONDITIONAL, holds_if=["distinct"])}
    rows.update(changes)
    return report(*[r for r in rows.values() if r is not None])


def test_unchanged_verdicts_exit_0_even_with_a_refuted_claim(tmp_path):
    base = tmp_path / "base.json"
    assert run(seed_report(), "--baseline", str(base), "--update-baseline", "--no-write", out=tmp_path)[0] == 0
    code, text = run(seed_report(), "--baseline", str(base), "--no-write", out=tmp_path)
    assert code == 0 and "No verdict changed since the baseline" in text


def test_figures_are_not_compared(tmp_path):
    base = tmp_path / "base.json"
    run(seed_report(), "--baseline", str(base), "--update-baseline", "--no-write", out=tmp_path)
    moved = seed_report(a=claim_row("a", fd=numeric(rel=3e-6, ratio=0.5)))
    assert run(moved, "--baseline", str(base), "--no-write", out=tmp_path)[0] == 0


def test_a_changed_verdict_exits_1_naming_it_and_new_and_removed_claims(tmp_path):
    base = tmp_path / "base.json"
    run(seed_report(), "--baseline", str(base), "--update-baseline", "--no-write", out=tmp_path)
    changed = seed_report(a=claim_row("a", Verdict.REFUTED), b=None, c=claim_row("c"))
    code, text = run(changed, "--baseline", str(base), "--no-write", out=tmp_path)
    assert code == 1
    assert "half · a: verdict changed from holds to refuted" in text
    assert "half · a: symbolic status changed from proved to refuted" in text
    assert "half · a: diagnosis changed from (none) to off by a factor 2" in text
    assert "half · c: new claim (not in the baseline), verdict holds" in text
    assert "half · b: removed (in the baseline with verdict conditional)" in text


def test_a_changed_check_status_alone_is_a_change():
    old = document(seed_report())
    new = document(seed_report(a=claim_row("a", agreement=numeric(Status.ERROR))))
    changes = compare(new, old).changes
    assert [(c.claim, c.field, c.old, c.new) for c in changes] == [("a", "agreement status", "pass", "error")]


def test_update_baseline_writes_the_report_json(tmp_path):
    base = tmp_path / "sub" / "base.json"
    code, text = run(seed_report(), "--baseline", str(base), "--update-baseline", "--no-write", out=tmp_path)
    assert code == 0 and f"baseline {base} updated" in text
    assert [r["claim"] for r in json.loads(base.read_text())["rows"]] == ["a", "b"]


@pytest.mark.parametrize("argv, words", [
    (["--update-baseline"], "--baseline PATH with --update-baseline"),
    (["--baseline", "missing.json"], "no such file"),
])
def test_baseline_mistakes_are_refused_before_the_work(tmp_path, argv, words):
    argv = [a if a != "missing.json" else str(tmp_path / a) for a in argv]
    with pytest.raises(InvalidArgument, match=words):
        prepare(parse(*argv, "--no-write", out=tmp_path))


def test_a_file_that_is_not_a_report_is_refused(tmp_path):
    (tmp_path / "x.json").write_text("[1, 2]")
    with pytest.raises(InvalidArgument, match="no rows"):
        prepare(parse("--baseline", str(tmp_path / "x.json"), "--no-write", out=tmp_path))


def test_formats_are_written_and_printed_as_asked(tmp_path):
    code, text = run(seed_report(), "--format", "json", "--format", "junit", out=tmp_path / "out")
    assert code == 1 and "derivation" not in text.split("wrote")[0]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.json", "report.junit.xml"]
    code, text = run(seed_report(), out=tmp_path / "default")
    assert text.startswith("gradverify") and sorted(p.name for p in (tmp_path / "default").iterdir()) == \
        ["report.json", "report.md"]
