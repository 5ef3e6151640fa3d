"""report.html: self-contained, escaped, every row there; loaded in a real headless Chromium."""

import re
import shutil

import pytest

from gradverify.report.htmlpage import pictures_note
from gradverify.results import Verdict
from test_report import NASTY, claim_row, report


def page():
    return report(claim_row("holds"), claim_row("wrong", Verdict.REFUTED),
                  claim_row("marked", Verdict.CONDITIONAL, expect=Verdict.CONDITIONAL, reason="r", holds_if=["d"]),
                  claim_row(NASTY, Verdict.REFUTED, derivation="<b>x</b>"))


def test_the_page_needs_no_network_and_escapes_user_text():
    html = page().html()
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", html), "nothing is fetched at view time"
    assert "<script" not in html and "<img" not in html and "<b>x</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<tr class='claim") == 4


def test_the_page_shows_the_claims_math_when_it_has_the_derivations(seed):
    html = report(claim_row("dσ/dx", derivation="d-scalar"), derivations=[seed["d-scalar"]]).html()
    assert "<math display='block'><mrow><mfrac>" in html


def test_the_page_says_why_there_are_no_pictures():
    assert "matplotlib" in pictures_note() or "not drawn yet" in pictures_note()


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_a_real_browser_finds_every_row(tmp_path):
    """The screenshot stays in the pytest tmp path (CI can keep tmp_path's report.png as an artifact)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed "
                                   "(pip install -e '.[browser]')")
    browser_path = _chromium()
    if browser_path is None:
        pytest.skip("no Chromium installed (apt-get install -y chromium)")
    rep = page()
    path = tmp_path / "report.html"
    path.write_text(rep.html(), encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            tab.goto(path.as_uri())
            claims = tab.locator("tr.claim").evaluate_all("rows => rows.map(r => r.dataset.claim)")
            assert claims == [r.claim for r in rep.rows]
            assert tab.locator("tr.failed").count() == 2 and tab.locator("tr.expected").count() == 1
            assert "4 claims" in tab.locator("#summary").inner_text()
            tab.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 0
