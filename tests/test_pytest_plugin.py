"""The pytest plugin, run by pytest itself (pytester): collection, outcomes, -k, -x, --lf,
--junitxml, -n 2, the seed, the ini option, expected verdicts and the baseline."""

import json
import textwrap
import xml.etree.ElementTree as ET

import pytest

from gradverify.cli import main
from gradverify.pytest_plugin import ascii_id

pytest_plugins = ["pytester"]

DERIVATIONS = '''
from gradverify import Claim, Derivation, Implementation, Real

def half_square(x):
    return 0.5 * x @ x, x

def one(id, claim, **mark):
    return Derivation(
        id=id, title="½‖x‖²", citation="test", dims={"n": (1, 3)}, variables={"x": Real("n")},
        function=lambda s: (s.x.T * s.x)[0, 0] / 2,
        claims=[Claim("∂J/∂x", claim, output="g", wrt="x", as_written="x", **mark)],
        implementation=Implementation(half_square, args=("x",), returns=("J", "g")),
    )

good = one("good", lambda s: s.x)
wrong = one("wrong", lambda s: -s.x)
marked = one("marked", lambda s: -s.x, expect="refuted", reason="planted sign error")
stale = one("stale", lambda s: s.x, expect="refuted", reason="fixed long ago")
'''

FAST = ("--gradverify-examples", "5", "-p", "no:randomly")


@pytest.fixture
def project(pytester):
    pytester.makepyfile(**{"derivations/losses": textwrap.dedent(DERIVATIONS)})
    return pytester


def run(project, *args):
    return project.runpytest("--gradverify", "derivations", *FAST, *args)


def test_each_claim_is_an_item_named_id_and_claim(project):
    result = run(project, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["derivations/losses.py::good::∂J/∂x", "derivations/losses.py::stale::∂J/∂x"])


def test_outcomes_failure_text_and_expected_verdicts(project):
    result = run(project, "-rxX")
    result.assert_outcomes(passed=1, failed=2, xfailed=1)
    out = result.stdout.str()
    assert "wrong · ∂J/∂x · REFUTED" in out and "diagnosis: sign flipped" in out and "at: n=" in out
    assert "reproduce: python -m gradverify report --only wrong --seed 0 --examples 5 --derivations" in out
    assert "stale · ∂J/∂x · holds (UNEXPECTED: marked expect=refuted: fixed long ago)" in out
    assert "XFAIL derivations/losses.py::marked::∂J/∂x - expected refuted: planted sign error" in out
    assert "Traceback" not in out and "gradverify/checks.py" not in out


def test_the_plugin_does_nothing_without_being_asked(project):
    project.runpytest("derivations", *FAST).assert_outcomes()


def test_k_matches_the_ascii_form(project):
    assert ascii_id("e::∂J/∂u_k") == "e::dJ/du_k"
    run(project, "-k", "good::dJ/dx").assert_outcomes(passed=1)


def test_x_stops_at_the_first_failure(project):
    run(project, "-x").assert_outcomes(passed=1, failed=1)


def test_last_failed_reruns_only_the_failures(project):
    run(project)
    run(project, "--lf").assert_outcomes(failed=2)


def test_junitxml_has_one_testcase_per_claim(project):
    run(project, "--junitxml=out.xml")
    cases = ET.parse(project.path / "out.xml").getroot().iter("testcase")
    assert sorted((c.get("classname"), c.get("name")) for c in cases) == [
        (f"derivations.losses.{d}", "∂J/∂x") for d in ("good", "marked", "stale", "wrong")]


def test_header_prints_the_seed_and_the_option_sets_it(project):
    run(project, "--gradverify-seed", "3", "-k", "good").stdout.fnmatch_lines(
        ["gradverify: seed 3, 5 hypothesis examples per derivation (--gradverify-seed 3 reproduces)"])


def test_ini_paths_are_collected_without_naming_them(project):
    project.makeini("[pytest]\ngradverify_paths = derivations\n")
    project.runpytest(*FAST).assert_outcomes(passed=1, failed=2, xfailed=1)


def test_xdist_runs_the_claims_on_two_workers(project):
    pytest.importorskip("xdist", reason="pytest-xdist (pip install -e '.[test]')")
    result = project.runpytest_subprocess("--gradverify", "derivations", *FAST, "-n", "2")
    result.assert_outcomes(passed=1, failed=2, xfailed=1)


def test_baseline_fails_only_what_changed_and_names_the_change(project, capsys):
    main(["report", "--derivations", str(project.path / "derivations"), "--examples", "5",
          "--out", str(project.path / "base")])
    capsys.readouterr()
    base = project.path / "base" / "report.json"
    result = run(project, "--gradverify-baseline", str(base))
    result.assert_outcomes(passed=1, xfailed=3)
    data = json.loads(base.read_text())
    for row in data["rows"]:
        if row["derivation"] == "good":
            row["verdict"] = "refuted"
    data["rows"].append(dict(data["rows"][0], derivation="gone"))
    base.write_text(json.dumps(data))
    result = run(project, "--gradverify-baseline", str(base))
    result.assert_outcomes(failed=1, xfailed=3)
    result.stdout.fnmatch_lines(["*changed since the baseline*", "*verdict changed from refuted to holds*",
                                 "*gone · ∂J/∂x: removed*"])


# ------------------------------------------------------------------ check / assert_holds
@pytest.fixture(scope="module")
def losses(tmp_path_factory):
    from gradverify.testing import load_derivations

    path = tmp_path_factory.mktemp("api") / "api_losses.py"
    path.write_text(textwrap.dedent(DERIVATIONS), encoding="utf-8")
    derivations, failures = load_derivations([path])
    assert failures == []
    return {d.id: d for d in derivations}


def test_assert_holds_passes_a_holding_derivation_and_returns_its_result(losses):
    from gradverify.testing import assert_holds

    result = assert_holds(losses["good"], examples=5)
    assert result.ok and result.verdicts == {"∂J/∂x": "holds"}
    assert assert_holds(losses["marked"], examples=5).claim("∂J/∂x").as_expected is True


def test_assert_holds_raises_with_the_reports_text(losses):
    from gradverify.report import failure_text
    from gradverify.testing import assert_holds, check

    with pytest.raises(AssertionError) as info:
        assert_holds(losses["wrong"], examples=5)
    result = check(losses["wrong"], examples=5)
    assert str(info.value) == failure_text(result.claim("∂J/∂x")) == result.text()
    assert "diagnosis: sign flipped" in str(info.value) and "reproduce: python -m gradverify" in str(info.value)


def test_check_refuses_what_it_cannot_use(losses):
    from gradverify.errors import InvalidArgument
    from gradverify.testing import check

    with pytest.raises(InvalidArgument, match="examples_per_claim"):
        check(losses["good"], examples_per_claim=3)
    with pytest.raises(InvalidArgument, match="a gradverify.Derivation"):
        check("derivations/losses.py")


RAISES = '''
from gradverify import Claim, Derivation, Implementation, Real

def half_square(x):
    return 0.5 * x @ x, x[7]

raises = Derivation(
    id="raises", title="½‖x‖²", citation="test", dims={"n": (1, 3)}, variables={"x": Real("n")},
    function=lambda s: (s.x.T * s.x)[0, 0] / 2,
    claims=[Claim("∂J/∂x", lambda s: s.x, output="g", wrt="x", as_written="x")],
    implementation=Implementation(half_square, args=("x",), returns=("J", "g")),
)
'''


@pytest.mark.parametrize("tb, shown", [("auto", False), ("short", False), ("long", True), ("native", True)])
def test_tb_long_adds_the_traceback_of_an_error_in_the_users_code(pytester, tb, shown):
    pytester.makepyfile(**{"derivations/raising": textwrap.dedent(RAISES)})
    result = pytester.runpytest("--gradverify", "derivations", *FAST, f"--tb={tb}")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "implementation half_square raised IndexError" in out and "raising.py:4 in half_square" in out
    assert ("Traceback (most recent call last)" in out) == shown
    if shown:
        assert 'raising.py", line 4, in half_square' in out and "return 0.5 * x @ x, x[7]" in out


def test_tb_long_shows_where_a_derivation_file_failed_to_import(pytester):
    pytester.makepyfile(**{"derivations/broken": "import numpy\n\nvalue = numpy.zeros(2)[5]\n"})
    result = pytester.runpytest("--gradverify", "derivations", *FAST, "--tb=long")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "broken.py failed to import: IndexError" in out and 'broken.py", line 3, in <module>' in out
