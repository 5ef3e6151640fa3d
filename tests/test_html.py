"""report.html: self-contained, escaped, every row there; loaded in a real headless Chromium."""

import dataclasses
import re
import shutil

import numpy as np
import pytest
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real, numeric
from gradverify.checks import Options, check_derivation
from gradverify.mathml import attach_math
from gradverify.report import pictures, render
from gradverify.report.htmlpage import pictures_note
from gradverify.results import Evidence, Verdict
from gradverify.spec import Point
from test_report import NASTY, claim_row, report


def page():
    return report(claim_row("holds"), claim_row("wrong", Verdict.REFUTED),
                  claim_row("marked", Verdict.CONDITIONAL, expect=Verdict.CONDITIONAL, reason="r", holds_if=["d"]),
                  claim_row(NASTY, Verdict.REFUTED, derivation="<b>x</b>"))


def test_the_page_needs_no_network_and_escapes_user_text():
    html = render(page(), "html")
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", html), "nothing is fetched at view time"
    assert "<script" not in html and "<img" not in html and "<b>x</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<tr class='claim") == 4


def test_the_page_shows_the_claims_math_made_from_the_derivation(seed):
    row = claim_row("dσ/dx", derivation="d-scalar")
    attach_math([row], seed["d-scalar"])  # on the derivation's side; the report gets the text
    html = render(report(row), "html")
    assert "<math display='block'><mrow><mfrac>" in html


def test_the_command_line_page_shows_math_made_where_the_derivation_was_loaded(tmp_path):
    """The report's parent process never imports user code: the MathML is made in the worker."""
    from conftest import DERIVATIONS
    from gradverify.cli import main

    assert main(["report", "--only", "b", "--format", "html", "--examples", "5", "--out", str(tmp_path),
                 "--derivations", str(DERIVATIONS)]) == 0
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<msup><mi>&ExponentialE;</mi>" in html  # the softmax's exponentials, printed by sympy


@pytest.mark.parametrize("mathml", [True, False])
def test_rows_carry_mathml_only_when_a_page_will_show_it(mathml):
    """MathML is a sympy printer's work in each worker: made when report.html is written (the
    command line asks for it then), not for a terminal table or a JSON file."""
    from conftest import DERIVATIONS
    from gradverify.runner import Runner, check_all, find_derivations

    summaries = [s for s in find_derivations([DERIVATIONS], Runner(in_process=True))[0] if s.id == "d-scalar"]
    rows, _ = check_all(summaries, Options(examples=3, mathml=mathml), Runner(in_process=True), lambda i: "")
    assert rows and all((row.math is not None) is mathml for row in rows)


def test_without_matplotlib_the_page_says_so_in_one_line_and_draws_nothing(monkeypatch):
    monkeypatch.setattr(pictures, "available", lambda: False)
    html = render(report(refuted_row()), "html")
    assert "need matplotlib, which is not installed" in pictures_note() and "\n" not in pictures_note()
    assert "<svg" not in html and "gradverify[html]" in html


# ---- pictures of refuted claims (they need matplotlib: the html extra) ---------------------------
def _x_sin_x(offset=0.0):
    """Σ x sin x with its right gradient, or the gradient off by ``offset`` (a planted error that is
    the same at every point, so the curve must flatten exactly there)."""
    def fn(x):
        return np.sum(x * np.sin(x)), np.sin(x) + x * np.cos(x) + offset

    return Derivation(
        id="x-sin-x", title="Σ x sin x", citation="test", dims={"n": (2, 3)}, variables={"x": Real("n")},
        function=lambda s: sum(xi * sp.sin(xi) for xi in s.x),
        claims=[Claim("∂f/∂x", lambda s: s.x.applyfunc(lambda xi: sp.sin(xi) + xi * sp.cos(xi) + offset),
                      output="g", wrt="x")],
        implementation=Implementation(fn, args=("x",), returns=("f", "g")))


TINY = Options(seed=0, examples=5)
OFFSET = 0.5


@pytest.fixture(scope="module")
def refuted():
    return check_derivation(_x_sin_x(OFFSET), TINY)[0]


@pytest.fixture(scope="module")
def holding():
    return check_derivation(_x_sin_x(), TINY)[0]


def refuted_row():
    return check_derivation(_x_sin_x(OFFSET), TINY)[0]


def test_a_refuted_claim_has_both_pictures_inline_and_a_holding_one_none(refuted, holding):
    pytest.importorskip("matplotlib", reason="pictures need matplotlib (pip install -e '.[html]')")
    assert refuted.verdict == "refuted" and holding.verdict == "holds"
    assert all(c.evidence is None for c in holding.checks.values())
    html = render(report(refuted, holding), "html")
    sections = re.findall(r"<section class='pictures'.*?</section>", html, re.S)
    assert len(sections) == 1 and "data-claim='∂f/∂x'" in sections[0]
    (section,) = sections
    # one heatmap per failed check (code and spec agree, both wrong: sympy and central differences refute), one curve
    assert {k for k, c in refuted.checks.items() if c.failed} == {"symbolic", "finite_difference"}
    assert section.count("<figure class='heatmap'") == 2 and section.count("<figure class='fd-curve'") == 1
    assert section.count("<svg") == 3 and "<?xml" not in html and "<!DOCTYPE svg" not in html
    assert "claimed − sympy&#x27;s derivative at" in section and "claimed − central difference at" in section
    assert render(report(holding), "html").count("<svg") == 0


def test_the_heatmap_is_claimed_minus_reference_at_the_counterexample(refuted):
    fd = refuted.checks["finite_difference"].evidence
    assert fd.reference == "central difference" and fd.point == refuted.checks["finite_difference"].counterexample
    assert len(fd.difference) == 1 and len(fd.difference[0]) == fd.shape[0]  # a vector: one row
    assert np.allclose(fd.difference, OFFSET, rtol=1e-6)
    assert np.allclose(refuted.checks["symbolic"].evidence.difference, OFFSET)


def test_a_wide_or_high_rank_gradient_is_flattened_and_capped():
    big = Evidence.of("central difference", "x=…", np.ones((3, 4, 60)), np.zeros((3, 4, 60)))
    assert big.flattened and big.clipped and len(big.difference) == 12 and len(big.difference[0]) == 50
    assert not Evidence.of("c", "p", np.ones(3), np.zeros(3)).flattened
    scalar = Evidence.of("c", "p", 2.0, 1.5)
    assert scalar.difference == [[0.5]] and scalar.shape == [] and not scalar.clipped


def test_the_curve_of_a_wrong_gradient_flattens_at_its_error_and_a_right_one_dips_below_it(refuted):
    fd = refuted.checks["finite_difference"].evidence
    gap = np.array(fd.claim_gap)
    assert len(fd.steps) == 12 and fd.steps[0] > fd.steps[-1] and fd.entry
    assert fd.claim_error == pytest.approx(OFFSET, rel=1e-6)
    # wrong: no step closes the gap; from h = 1e-3 down it sits at the planted error
    assert gap.min() > 0.9 * OFFSET and np.allclose(gap[2:], OFFSET, rtol=1e-3)
    # right: the same curve, against the right value, dips to rounding level (the V of the spread)
    point = _point(fd.point)
    # (at x = 0, where hypothesis may shrink to, x sin x is even: every D_h is exactly 0, no V to see)
    point.values["x"][point.values["x"] == 0] = 0.7
    h, d_h = numeric.step_curve(_x_sin_x(), point, "x", fd.entry[-1], ())
    x = point.values["x"][fd.entry[-1]]
    right = np.abs(d_h - (np.sin(x) + x * np.cos(x)))
    assert right.min() < 1e-8 * OFFSET
    assert right[0] > 10 * right.min() and right[-1] > 10 * right.min()  # truncation left, rounding right
    spread = np.array(fd.spread)
    if not spread.any():  # the counterexample at x = 0, where every D_h of the even x sin x is 0: read at 0.7
        best = d_h[int(np.argmin(np.abs(np.log(h / (np.cbrt(np.finfo(float).eps) * max(1.0, abs(x)))))))]
        spread = np.abs(d_h - best)
    assert spread.min() < 1e-8 and spread[0] > 1e-6  # |D_h − D_h*|: the V a right claim would follow


def _point(text):
    """The counterexample "n=2, x=[a, b]" back as a Point."""
    n = int(re.search(r"n=(\d+)", text).group(1))
    x = np.array([float(v) for v in re.search(r"x=\[(.*)\]", text).group(1).split(",")])
    assert len(x) == n
    return Point({"n": n}, {"x": x}, 1.0)


def test_the_same_evidence_gives_the_same_svg_bytes(refuted):
    pytest.importorskip("matplotlib", reason="pictures need matplotlib (pip install -e '.[html]')")
    fd = refuted.checks["finite_difference"].evidence
    assert pictures.heatmap_svg(fd, "s") == pictures.heatmap_svg(fd, "s")
    assert pictures.curve_svg(fd, "s") == pictures.curve_svg(fd, "s")
    assert render(report(refuted), "html") == render(report(refuted), "html")
    assert "Date" not in pictures.curve_svg(fd, "s")


def test_pictures_keep_user_text_escaped():
    pytest.importorskip("matplotlib", reason="pictures need matplotlib (pip install -e '.[html]')")
    row = dataclasses.replace(refuted_row(), derivation="<b>x</b>", claim=NASTY)
    html = render(report(row), "html")
    assert "<b>x</b>" not in html and "<img" not in html and "<script" not in html


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_a_real_browser_finds_every_row(tmp_path):
    """Loads report.html in headless Chromium; the screenshots are kept in artifacts/ (git-ignored)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed "
                                   "(pip install -e '.[browser]')")
    browser_path = _chromium()
    if browser_path is None:
        pytest.skip("no Chromium installed (apt-get install -y chromium)")
    rep = report(*page().rows, refuted_row())
    drawn = pictures.available()
    path = tmp_path / "report.html"
    path.write_text(render(rep, "html"), encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            tab.goto(path.as_uri())
            claims = tab.locator("tr.claim").evaluate_all("rows => rows.map(r => r.dataset.claim)")
            assert claims == [r.claim for r in rep.rows]
            assert tab.locator("tr.failed").count() == 3 and tab.locator("tr.expected").count() == 1
            assert "5 claims" in tab.locator("#summary").inner_text()
            # the pictures of the refuted x-sin-x claim: drawn, with a size, for the one claim that has evidence
            sections = tab.locator("section.pictures")
            assert sections.count() == (1 if drawn else 0)
            if drawn:
                assert sections.first.get_attribute("data-claim") == "∂f/∂x"
                for kind, n in (("heatmap", 2), ("fd-curve", 1)):
                    svgs = tab.locator(f"figure.{kind} svg")
                    assert svgs.count() == n
                    for i in range(n):
                        box = svgs.nth(i).bounding_box()
                        assert box and box["width"] > 100 and box["height"] > 50
                sections.first.screenshot(path=str(tmp_path / "pictures.png"))
            tab.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 0
    # kept where CI (and a person) can find them: artifacts/ at the repository's root, git-ignored
    from conftest import ROOT

    keep = ROOT / "artifacts"
    keep.mkdir(exist_ok=True)
    for shot in tmp_path.glob("*.png"):
        shutil.copy(shot, keep / shot.name)
