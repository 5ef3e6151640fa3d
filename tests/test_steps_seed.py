"""The seed's written answers read as they stand (derivations/seed/, a verbatim copy) and every link
checked with the symbol tables in derivations/_steps_word2vec.py; the command line and report.json."""

import json
from pathlib import Path

import pytest

from conftest import DERIVATIONS
from gradverify.cli import main
from gradverify.report import Report, render
from gradverify.report.jsondoc import document
from gradverify.steps import check_steps, load_steps
from gradverify.steps.chain import Link

SEED_TEXT = DERIVATIONS / "seed" / "000_a6544ced7a39c042.txt"

#: each derivation's verdicts, chain by chain, as the seed is written
EXPECTED = {
    "a": [["conditional"], ["holds", "conditional"]],
    "b": [["holds"], ["holds"] * 7 + ["conditional"]],
    "c": [["holds"] * 3, ["conditional", "holds", "holds", "holds"], ["conditional", "unparsed", "holds", "holds"],
          ["conditional"], ["conditional"]],
    "d": [["holds", "holds"], ["holds"] * 4, ["error", "unparsed"]],
    "e": [["holds"], ["holds"] * 5, ["holds"] * 3, ["holds", "refuted", "refuted"]],
    "f": [["error"], ["holds"], ["holds"], ["conditional"]],
}


@pytest.fixture(scope="module")
def written():
    return {s.id: s for s in load_steps([DERIVATIONS])}


@pytest.fixture(scope="module")
def checked(written):
    """Each derivation's links, checked once for the module's tests."""
    cache = {}

    def links(derivation):
        if derivation not in cache:
            cache[derivation] = check_steps(written[derivation])
        return cache[derivation]

    return links


def by_chain(links):
    chains = {}
    for link in links:
        chains.setdefault(link.chain, []).append(link.verdict)
    return [chains[k] for k in sorted(chains)]


def test_the_seed_text_is_the_seed_as_it_stands():
    text = SEED_TEXT.read_text(encoding="utf-8")
    assert "egin{aligned} rac{\\partial J}{\\partial u_w}" in text  # the mangled escapes are kept
    assert "\\frac{exp(u_w^T v_c v_c}" not in text and "rac{exp(u_w^T v_c v_c}" in text


@pytest.mark.parametrize("derivation", sorted(EXPECTED))
def test_every_chain_of_the_seed_gets_its_verdicts(checked, derivation):
    links = checked(derivation)
    assert by_chain(links) == EXPECTED[derivation]
    assert [link.link for link in links if link.chain == 1] == list(range(1, len(EXPECTED[derivation][0]) + 1))


def test_links_that_need_one_hot_y_or_w_not_o_say_so(checked):
    links = checked("c")
    conditions = [(link.chain, link.link, link.condition) for link in links if link.verdict == "conditional"]
    assert conditions == [(2, 1, r"w \neq o"), (3, 1, "w = o"), (4, 1, "y one-hot at o"), (5, 1, "y one-hot at o")]


def test_the_unbalanced_exp_in_c_is_reported_with_its_position_and_the_chain_goes_on(checked):
    links = [link for link in checked("c") if link.chain == 3]
    bad = links[1]
    assert bad.verdict == "unparsed"
    assert bad.position == "000_a6544ced7a39c042.txt line 63, column 136"
    line = SEED_TEXT.read_text(encoding="utf-8").splitlines()[62]
    assert line[122:136] == "u_w^T v_c v_c}"  # column 136: the brace that closes before the parenthesis
    assert "expected" in bad.diagnosis and ")" in bad.diagnosis
    assert links[2].verdict == "holds" and "since side 3 does not parse" in links[2].diagnosis
    assert any("rac" in r for r in bad.repairs)  # the repairs inside this step are listed with it


def test_a_sum_reusing_the_free_index_is_explained(checked):
    refuted = [link for link in checked("e") if link.verdict == "refuted"]
    assert refuted and all("k is a free index of this step and also the index of a sum" in link.diagnosis
                           for link in refuted)


def test_the_steps_command_prints_the_table_and_the_repairs(capsys):
    assert main(["steps", "--only", "d", "--in-process", "--derivations", str(DERIVATIONS)]) == 1
    out = capsys.readouterr().out
    assert "derivation      chain    link" in out and "UNPARSED" in out and "ERROR" in out
    assert "“rac” read as “\\frac” (\\f was lost as a form feed)" in out
    assert "8 links: 6 hold, 0 hold only under a named assumption, 0 refuted, 1 unparsed, 1 error." in out
    assert f"Reproduce: python -m gradverify steps --only d --seed 0 --derivations {DERIVATIONS}" in out


def test_the_steps_command_refuses_an_unknown_id(capsys):
    assert main(["steps", "--only", "zz", "--in-process", "--derivations", str(DERIVATIONS)]) == 2
    assert "Expected --only naming a derivation written in LaTeX but got --only zz" in capsys.readouterr().err


def report_with(steps):
    r = Report([], seed=0, examples=1, paths=["derivations"], command="python -m gradverify report")
    if steps is not None:
        r.steps, r.step_repairs = steps, {"c": ["line 1, column 1: “rac” read as “\\frac”"]}
    return r


def test_report_json_has_steps_only_with_the_flag():
    assert "steps" not in document(report_with(None))
    assert "Steps as written" not in render(report_with(None), "md")
    link = Link("c", 3, 2, "a = b", "unparsed", None, "side 3 does not parse", ["r"], position="line 63, column 136")
    data = document(report_with([link]))
    assert json.loads(json.dumps(data))["steps"] == [{
        "derivation": "c", "chain": 3, "link": 2, "latex": "a = b", "verdict": "unparsed", "counterexample": None,
        "diagnosis": "side 3 does not parse", "repairs": ["r"], "condition": "", "proof": "",
        "position": "line 63, column 136"}]
    md = render(report_with([link]), "md")
    assert "## Steps as written" in md and "UNPARSED" in md and "“rac” read as" in md
    assert report_with([link]).exit_code == 1
    assert "1 written steps: 0 hold" in render(report_with([link]), "terminal", columns=120)


def test_a_condition_written_after_a_side_is_taken_off_it_and_shown(checked):
    last = checked("f")[-1]
    assert last.verdict == "conditional" and last.condition == r"w \neq c"
    assert last.diagnosis.startswith(r"stated with it: when w\neq c.")


def test_an_ellipsis_is_an_error_that_says_so_never_a_guess(checked):
    first = checked("f")[0]
    assert first.verdict == "error" and r"\dots stands for entries not written" in first.diagnosis


INLINE = '''
import sympy as sp
from gradverify.steps import Function, Real, Steps, SymbolTable

TABLE = SymbolTable(sizes=[{}], names=[Real("x"), Function(r"\\sigma", lambda t: 1 / (1 + sp.exp(-t)))])
mine = Steps("mine", text=r"""
$$\\begin{aligned} \\frac{\\partial \\sigma(x)}{\\partial x} &= \\sigma(x)(1 - \\sigma(x)) \\\\
  &= \\sigma(x) - \\sigma(x)^2 \\\\ &= \\sigma(x) + \\sigma(x)^2 \\end{aligned}$$""", table=TABLE)
'''


def test_a_derivation_module_may_hold_its_latex_inline(tmp_path, capsys):
    (tmp_path / "mine.py").write_text(INLINE, encoding="utf-8")
    (tmp_path / "broken.py").write_text("raise ValueError('not steps')\n", encoding="utf-8")
    assert main(["steps", "--derivations", str(tmp_path), "--in-process"]) == 1
    out = capsys.readouterr().out
    assert "3 links: 2 hold, 0 hold only under a named assumption, 1 refuted" in out
    assert "a term's sign flipped" in out
    (mine,) = load_steps([tmp_path / "mine.py"])
    assert check_steps(mine)[-1].diagnosis == ("a term's sign flipped: the right side's +\\sigma(x)^2 is "
                                               "−\\sigma(x)^2 on the left")


def test_the_first_wrong_link_is_named_whole_with_a_simple_counterexample(checked):
    from gradverify.report.steprows import detail_lines

    lines = detail_lines(checked("e"))
    assert lines[0] == "e · chain 4 · link 2: REFUTED (the first wrong link of this chain)"
    assert lines[1].startswith(r"  step: \frac{\partial}{\partial u_k} (-log(\sigma(u_o^T v_c))")
    assert lines[2] == "  counterexample: d=2, K=2, V=3, k=1; v_c=[[0], [1]], U=[[0, 0, 0], [0, 0, 0]]"
    assert lines[3] == "  left side = [[0], [0.5]]; right side = [[0], [1]]"
    assert lines[5] == "e · chain 4 · link 3: REFUTED"


def test_the_table_shows_a_condition_as_a_person_reads_it(checked):
    from gradverify.report.steprows import table_rows

    rows = table_rows([link for link in checked("c") if link.verdict == "conditional"])
    assert [r[5] for r in rows] == ["only if w ≠ o", "only if w = o", "only if y one-hot at o", "only if y one-hot at o"]


def test_report_steps_writes_the_records_into_report_json(tmp_path, capsys):
    """The whole path: the claims in their workers, the steps in theirs, one report.json."""
    code = main(["report", "--only", "a", "--steps", "--examples", "2", "--out", str(tmp_path), "--quiet",
                 "--derivations", str(DERIVATIONS), "--format", "json", "--format", "md"])
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert code == 0 and " --steps " in data["command"]
    assert [(s["chain"], s["link"], s["verdict"]) for s in data["steps"]] == [
        (1, 1, "conditional"), (2, 1, "holds"), (2, 2, "conditional")]
    assert all(set(s) >= {"derivation", "chain", "link", "latex", "verdict", "counterexample", "diagnosis", "repairs"}
               for s in data["steps"])
    assert "## Steps as written" in (tmp_path / "report.md").read_text(encoding="utf-8")
