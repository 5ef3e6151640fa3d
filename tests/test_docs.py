"""Every code example in README.md and docs/ is run, and every output they show is what the code
prints (conventions: tests/docs_examples.py); the site builds with warnings as errors."""

import importlib.util
import re
import subprocess
import sys

import pytest

from docs_examples import ROOT, Block, blocks, excerpt, pages, run, runnable, same, shown_outputs

EXAMPLES = [b for page in pages() for b in runnable(page)]
#: the optional libraries an example may need: without them it is skipped, saying so
OPTIONAL = ("torch", "jax", "scipy", "matplotlib")


def _needs(b: Block) -> list[str]:
    return [name for name in OPTIONAL
            if re.search(rf"^\s*(import|from) {name}\b", b.code, re.M) and importlib.util.find_spec(name) is None]


@pytest.mark.parametrize("block", EXAMPLES, ids=[b.id for b in EXAMPLES])
def test_example_runs_and_prints_what_the_page_shows(block, tmp_path):
    if block.marker == "skip":
        pytest.skip(f"illustrative only: {block.marker_arg.lstrip(':').strip()}")
    missing = _needs(block)
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (an optional extra)")
    output = run(block, tmp_path)
    for shown in shown_outputs(block):
        actual = excerpt(output, shown.marker_arg)
        assert same(shown.code, actual), (
            f"{shown.id} shows an output the code no longer prints; rewrite it with "
            f"`python tests/docs_examples.py --write`. The code prints:\n{actual}")


def test_every_python_block_is_run_or_says_why_not():
    for page in pages():
        for b in blocks(page):
            if b.lang == "python":
                assert b in runnable(page) or b.marker == "skip", b.id
            if b.marker == "skip":
                assert b.marker_arg.lstrip(":").strip(), f"{b.id}: a skipped block says why"


def test_every_output_block_follows_a_block_that_makes_it():
    for page in pages():
        bs = blocks(page)
        for i, b in enumerate(bs):
            if b.marker == "output":
                j = i - 1
                while j >= 0 and bs[j].marker == "output":
                    j -= 1
                assert j >= 0 and bs[j] in runnable(page), f"{b.id}: an output with no example before it"


def test_a_changed_output_is_caught(tmp_path):
    """The comparison is not vacuous: a shown output that differs beyond its numbers' 3 digits fails."""
    page = tmp_path / "page.md"
    page.write_text('```python\nprint("claimed 1.2345, estimate 2.5")\n```\n\n<!-- output -->\n```text\n'
                    'claimed 1.23451, estimate 2.5\n```\n', encoding="utf-8")
    b, shown = blocks(page)
    output = run(b, tmp_path)
    assert same(shown.code, excerpt(output, shown.marker_arg))
    assert not same("claimed 1.3, estimate 2.5", output)
    assert not same("claimed 1.2345, estimate 2.5 (central)", output)


def test_excerpt_takes_the_lines_between_start_and_stop():
    out = "header\n\nderivation  claim\n----\nrow\n\nEstimators:\n  x\n"
    assert excerpt(out, 'start="derivation" stop="Estimators"') == "derivation  claim\n----\nrow\n"
    assert excerpt(out, 'start="Estimators"') == "Estimators:\n  x\n"


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs extra: pip install -e '.[docs]'")
    pytest.importorskip("mkdocstrings_handlers.python", reason="the docs extra: pip install -e '.[docs]'")
    pytest.importorskip("material", reason="the docs extra: pip install -e '.[docs]'")
    p = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"})
    assert p.returncode == 0, p.stderr[-3000:]
    api = (tmp_path / "site" / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    assert "raise_exception" in api and "GradcheckResult" in api, "the API page is generated from the docstrings"


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in sorted((ROOT / "docs").rglob("*.md")):
        assert str(page.relative_to(ROOT / "docs")) in nav, f"{page} is not in mkdocs.yml's nav"


def test_the_tolerances_page_names_constants_that_exist():
    import gradverify.tolerances as tolerances

    text = (ROOT / "docs" / "reference" / "tolerances.md").read_text(encoding="utf-8")
    names = set(re.findall(r"^\| `([A-Za-z_]+)`", text, re.M))
    assert len(names) >= 10
    for name in names:
        assert hasattr(tolerances, name) or hasattr(tolerances.DEFAULT_TOLERANCE, name), name
    # gradcheck's table gives plain values: each is the constant's
    section = text.split("gradcheck's own constants")[1]
    for name, value in re.findall(r"^\| `([A-Z_]+)` \| ([0-9.e-]+) \|", section, re.M):
        assert float(getattr(tolerances, name)) == float(value), (name, value, getattr(tolerances, name))


def test_benchmark_regions_are_written_by_the_scripts_and_only_their_own(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from _page import write_region
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    page = tmp_path / "bench.md"
    write_region(page, "a", "first")
    write_region(page, "b", "other")
    write_region(page, "a", "second")
    text = page.read_text(encoding="utf-8")
    assert "second" in text and "first" not in text and "other" in text
    assert text.count("<!-- BEGIN a -->") == 1
    for script in ("catalogue", "false_alarms", "gradcheck_catalogue", "gradcheck_peers", "gradcheck_scale", "startup"):
        assert f"<!-- BEGIN {script} -->" in (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
        assert "recorded(__file__)" in (ROOT / "benchmarks" / f"{script}.py").read_text(encoding="utf-8")


def test_write_option_writes_the_scripts_output_into_its_region(tmp_path):
    script = tmp_path / "benchmarks" / "tiny.py"
    script.parent.mkdir()
    (script.parent / "_page.py").write_text((ROOT / "benchmarks" / "_page.py").read_text(encoding="utf-8"))
    script.write_text("import sys\nfrom _page import recorded\n\ndef main():\n    print('3 entries, 0 wrong')\n"
                      "    return 0\n\nif __name__ == '__main__':\n    with recorded(__file__):\n"
                      "        sys.exit(main())\n", encoding="utf-8")
    page = tmp_path / "page.md"
    p = subprocess.run([sys.executable, str(script), "--write", str(page)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    text = page.read_text(encoding="utf-8")
    assert "3 entries, 0 wrong" in text and "`python benchmarks/tiny.py`" in text and "<!-- END tiny -->" in text


def test_the_command_line_page_lists_every_option_of_every_command():
    import argparse

    from gradverify.cli import parser

    synopsis = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8").split("```")[1]
    limits = re.search(r"LIMITS: (.*)", synopsis).group(1)
    commands = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name, sub in commands.items():
        line = " ".join(re.findall(rf"python -m gradverify {name}\b.*(?:\n {{20,}}.*)*", synopsis))
        shown = set(re.findall(r"--[a-z-]+", line.replace("[LIMITS]", limits)))
        options = {o for a in sub._actions for o in a.option_strings if o.startswith("--")} - {"--help"}
        assert shown == options, (name, sorted(shown - options), sorted(options - shown))
