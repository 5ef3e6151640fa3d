"""report.html with the written steps: summary first, the steps as MathML with a mark per link, each
claim folded in <details>, and nothing wider than a 1,400-px window (checked in headless Chromium)."""

import dataclasses
import re
import shutil

import pytest

from gradverify.mathml import attach_math
from gradverify.report import render
from gradverify.results import Verdict
from gradverify.steps.chain import Link
from gradverify.steps.mathml import link_mathml
from test_report import NASTY, claim_row, report

LONG = r"\frac{\partial}{\partial v_c} (-\log(\frac{exp(u_o^T v_c)}{\sum_{w \in Vocab} exp(u_w^T v_c)}))"


def links():
    return [Link("b", 1, 1, r"\frac{\partial J}{\partial v_c} = " + LONG, "holds", proof="symbolic"),
            Link("b", 1, 2, LONG + " = " + LONG + " + " + LONG, "refuted", {"values": {"v_c": [["1"], ["0"]]}},
                 "a term added: the right side's +" + LONG + " is not on the left"),
            Link("b", 1, 3, r"-u_o + \sum_{w} \hat{y}_w u_w = U(\hat{y} - y)^T", "conditional",
                 condition="y one-hot at o"),
            Link("c", 3, 2, r"-v_c + \frac{exp(u_w^T v_c v_c}{\sum_w exp(u_w^T v_c)} = x", "unparsed",
                 diagnosis="side 2 does not parse: line 1, column 31", position="seed line 63, column 136"),
            Link("c", 3, 3, r"<b>" + NASTY + " = y", "error", diagnosis=NASTY)]


def page():
    rep = report(claim_row("holds"), claim_row("wrong " * 30, Verdict.REFUTED),
                 claim_row(NASTY, Verdict.REFUTED, derivation="<b>x</b>"))
    rep.steps, rep.step_repairs = links(), {"c": ["line 63, column 3: “egin” read as “\\begin”"]}
    return rep


def test_the_steps_are_shown_as_mathml_with_a_mark_each_and_user_text_escaped():
    html = render(page(), "html")
    assert html.count("<tr class='step ") == 5
    assert [m for m in re.findall(r"<td class='mark'>(.*?)</td>", html)] == ["✓", "✗", "◐", "?", "!"]
    assert "<mfrac><mrow><mo>∂</mo><mi>J</mi></mrow>" in html  # ∂J/∂v_c, drawn from the parsed tree
    assert "<b>" not in html.replace("<b>x</b>", "") and "<script" not in html and "<img" not in html
    assert "<mtext>-v_c + \\frac{exp(u_w^T v_c v_c}" in html  # the unparsed side shown as its text
    assert "“egin” read as “\\begin”" in html


def test_the_summary_comes_first_and_links_to_what_fails():
    html = render(page(), "html")
    assert html.index("id='summary'") < html.index('id="claims"') < html.index('id="steps"')
    assert "<a href='#claim-1'>" in html and "<a href='#step-1'>" in html and "<a href='#step-3'>" in html
    assert "<a href='#step-0'>" not in html and "<a href='#step-2'>" not in html  # holds, conditional


def test_each_claim_is_folded_and_open_when_it_fails():
    html = render(page(), "html")
    details = re.findall(r"<details class='claim-details (\w+)' id='details-\d+'( open)?>", html)
    assert details == [("passed", ""), ("failed", " open"), ("failed", " open")]


def test_a_claim_written_in_latex_is_shown_as_mathml_and_any_other_text_as_text():
    rows = [dataclasses.replace(claim_row("latex"), as_written=r"U(\hat{y} - y)^T"),
            dataclasses.replace(claim_row("text"), as_written="v_c (ŷ − y)")]
    attach_math(rows)  # made where the derivation is loaded; the report shows the text it is given
    html = render(report(*rows), "html")
    assert "<td><math display='inline'><mrow><mrow><mi>U</mi>" in html
    assert "<td>v_c (ŷ − y)</td>" in html


def test_without_steps_the_page_has_no_steps_table():
    assert 'id="steps"' not in render(report(claim_row("holds")), "html")


def test_a_link_that_is_not_one_equation_is_shown_as_its_text():
    assert link_mathml("a = b = c") == "<math display='block'><mtext>a = b = c</mtext></math>"


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_at_1400_px_nothing_overflows_and_the_summary_is_above_the_table(tmp_path):
    """In headless Chromium; the screenshot is kept in artifacts/steps-report.png (git-ignored)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed "
                                   "(pip install -e '.[browser]')")
    browser_path = _chromium()
    if browser_path is None:
        pytest.skip("no Chromium installed (apt-get install -y chromium)")
    path = tmp_path / "report.html"
    path.write_text(render(page(), "html"), encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            tab.goto(path.as_uri())
            width = tab.evaluate("document.documentElement.scrollWidth")
            assert width <= 1400, f"the page is {width} px wide at a 1400-px window"
            summary, claims, steps = (tab.locator(s).bounding_box() for s in ("#summary", "#claims", "#steps"))
            assert summary["y"] < claims["y"] < steps["y"]
            for table in ("#claims", "#steps"):
                box = tab.locator(table).bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= 1400
            assert tab.locator("#steps math").count() == 5
            assert tab.locator("tr.step").count() == 5 and tab.locator("tr.step.refuted").count() == 1
            assert tab.locator("details.claim-details[open]").count() == 2
            tab.screenshot(path=str(tmp_path / "steps-report.png"), full_page=True)
        finally:
            browser.close()
    from conftest import ROOT

    keep = ROOT / "artifacts"
    keep.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "steps-report.png", keep / "steps-report.png")
