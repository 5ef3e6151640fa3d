"""Unit tests of issue 23's pieces outside the fault corpus: baselines validated before any
work, user text made safe for each place it goes, processes user code starts ended with its
worker, every proof step inside the term budget, sizes refused up front, helpers of two folders
kept apart, and the pytest plugin's limits and refusals."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest
import sympy as sp

from conftest import HALF_SQUARE
from gradverify.baseline import load_baseline
from gradverify.errors import InvalidArgument
from gradverify.isolation import Limits, Worker
from gradverify.report.escape import encodable, md_code, md_fence, md_text, terminal_text

pytest_plugins = ["pytester"]

RIGHT = HALF_SQUARE.replace("{claim}", "s.x")


# ------------------------------------------------------------------ baselines
def _report(rows):
    return {"tool": "gradverify", "schema": 1, "rows": rows}


GOOD_ROW = {"derivation": "a", "claim": "dJ/dx", "verdict": "holds", "diagnosis": "",
            "checks": {"symbolic": {"status": "proved"}}}


@pytest.mark.parametrize("data, says", [
    ([1, 2], "a list, not a report object"),
    ({"schema": 1}, "no rows"),
    ({"schema": 1, "rows": {"a": 1}}, "rows is an object, not a list"),
    (_report([1]), r"rows\[0\] is a number, not an object"),
    (_report([{"claim": "c", "verdict": "holds"}]), r"rows\[0\] has no derivation"),
    (_report([dict(GOOD_ROW, claim=["x"])]), r"rows\[0\].claim is a list, not a string"),
    (_report([dict(GOOD_ROW, checks=["symbolic"])]), r"rows\[0\].checks is a list, not an object"),
    (_report([dict(GOOD_ROW, checks={"symbolic": "proved"})]), r"checks.symbolic is not an object"),
    (_report([dict(GOOD_ROW, diagnosis=3)]), r"diagnosis is a number"),
    (_report([GOOD_ROW, GOOD_ROW]), r"rows\[1\] repeats the claim a · dJ/dx"),
    ({"schema": 2, "rows": []}, r"schema 2; this gradverify reads schema 1 .* refused"),
    ({"rows": []}, r"no schema field"),
])
def test_a_baseline_of_the_wrong_shape_is_refused_naming_the_file_and_what(tmp_path, data, says):
    path = tmp_path / "base.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidArgument, match=says) as info:
        load_baseline(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_baseline_of_the_right_shape_is_read(tmp_path):
    path = tmp_path / "base.json"
    path.write_text(json.dumps(_report([GOOD_ROW])))
    assert load_baseline(path)["rows"] == [GOOD_ROW]


def _cli(*argv, cwd):
    return subprocess.run([sys.executable, "-m", "gradverify", *argv], capture_output=True, text=True, cwd=cwd)


def test_the_report_refuses_a_bad_baseline_before_the_work_with_exit_2(tmp_path):
    (tmp_path / "d.py").write_text(RIGHT)
    (tmp_path / "base.json").write_text(json.dumps(_report([{"derivation": "a"}])))
    done = _cli("report", "--derivations", "d.py", "--baseline", "base.json", "--no-write", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "base.json" in done.stderr and "rows[0] has no claim" in done.stderr


def test_update_baseline_below_a_file_is_refused_before_the_work(tmp_path):
    (tmp_path / "d.py").write_text(RIGHT)
    (tmp_path / "afile").write_text("")
    done = _cli("report", "--derivations", "d.py", "--baseline", "afile/base.json", "--update-baseline",
                "--no-write", cwd=tmp_path)
    assert done.returncode == 2 and "afile is a file" in done.stderr and "Traceback" not in done.stderr


def test_the_plugin_refuses_a_bad_baseline_once_with_exit_2(pytester):
    pytester.makepyfile(**{"derivations/half": RIGHT})
    (pytester.path / "base.json").write_text(json.dumps({"schema": 1, "rows": "none"}))
    result = pytester.runpytest_subprocess("--gradverify", "derivations", "--gradverify-baseline", "base.json",
                                           "-p", "no:randomly")
    assert result.ret == 2
    out = result.stdout.str() + result.stderr.str()
    assert out.count("rows is a string, not a list") == 1 and "Traceback" not in out


# ------------------------------------------------------------------ the plugin's limits
def test_the_plugin_refuses_a_bad_timeout_naming_the_option(pytester):
    pytester.makepyfile(**{"derivations/half": RIGHT})
    result = pytester.runpytest_subprocess("--gradverify", "derivations", "--gradverify-timeout", "soon")
    assert result.ret == 2 and "--gradverify-timeout=soon" in result.stdout.str() + result.stderr.str()


SLOW = RIGHT.replace("def loss_and_grad(x):", "def loss_and_grad(x):\n    import time; time.sleep(600)")


def test_the_ini_timeout_bounds_each_derivation(pytester):
    pytester.makepyfile(**{"derivations/slow": SLOW,
                           "derivations/fine": RIGHT.replace("half-square", "fine")})
    pytester.makeini("[pytest]\ngradverify_timeout = 3\n")
    result = pytester.runpytest_subprocess("--gradverify", "derivations", "--gradverify-examples", "3",
                                           "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*did not return within 3 s (raise --gradverify-timeout if it needs longer)*"])


# ------------------------------------------------------------------ text
def test_terminal_text_shows_escapes_and_surrogates_escaped_and_keeps_the_rest():
    assert terminal_text("∂J/∂x\x1b]0;t\x07\x1b[2J\r\u202e\udcff") == "∂J/∂x\\x1b]0;t\\x07\\x1b[2J\\r\\u202e\\udcff"
    assert terminal_text("two\nlines\tand a tab") == "two\nlines\tand a tab"


def test_markdown_links_and_images_are_inert_and_brackets_alone_stay():
    assert md_text("[x](javascript:alert(1))") == "[x\\](javascript:alert(1))"
    assert md_text("![p](http://e.com/p.png)") == "![p\\](http://e.com/p.png)"
    assert md_text("[r]: http://e.com") == "[r\\]: http://e.com"
    assert md_text("samples=[0, 0, 4]") == "samples=[0, 0, 4]"
    assert "\x1b" not in md_text("a\x1b[2J") + md_code("a\x1b[2J") + "".join(md_fence(["a\x1b[2J"]))


def test_lone_surrogates_are_replaced_and_counted():
    assert encodable("a\udcffb\ud800") == ("a\ufffdb\ufffd", 2)
    assert encodable("∂J") == ("∂J", 0)


def test_report_files_with_a_surrogate_are_written_and_it_is_said(tmp_path, capsys):
    from gradverify.report import write
    from test_report import claim_row, report

    rep = report(claim_row("dJ/dx \udcff"))
    write(rep, tmp_path, ("md", "json", "junit"))
    assert "\ufffd" in (tmp_path / "report.json").read_text(encoding="utf-8")
    assert "replaced by U+FFFD in report.json" in capsys.readouterr().err


# ------------------------------------------------------------------ processes
def _spawn_and_return():
    return subprocess.Popen(["sleep", "617"]).pid


def _spawn_and_hang():
    subprocess.Popen(["sleep", "618"])
    time.sleep(600)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_what_user_code_starts_ends_with_its_worker():
    with Worker(Limits(timeout=30)) as w:
        pid = w.call(_spawn_and_return).value
        assert _alive(pid)
    time.sleep(0.3)
    assert not _alive(pid)
    with Worker(Limits(timeout=2)) as w:
        assert not w.call(_spawn_and_hang).ok
    time.sleep(0.3)
    assert subprocess.run(["pgrep", "-f", "sleep 618"], capture_output=True).stdout == b""


# ------------------------------------------------------------------ the term budget
def test_a_proof_step_beyond_the_budget_is_not_attempted():
    from gradverify.symbolic import _is_zero, within_budget

    xs = sp.symbols("x0:10")
    many = sp.Add(*[sp.exp(x) / (1 + sp.exp(x)) / (2 + x) for x in xs])  # ten denominators: expand_mul's branch
    product = sp.Mul(*[many + k for k in range(6)])  # 10**6 terms once multiplied out
    assert not within_budget(product)
    start = time.monotonic()
    assert _is_zero(product - 1) is False
    assert time.monotonic() - start < 30  # unbounded, expand_mul runs for many minutes


def test_a_proof_within_the_budget_still_proves():
    from gradverify.symbolic import _is_zero

    xs = sp.symbols("x0:5")
    e = sp.Add(*[sp.exp(x) / (1 + sp.exp(x)) for x in xs])
    assert _is_zero(e - sp.Add(*[1 - 1 / (1 + sp.exp(x)) for x in xs]))
    assert not _is_zero(e - sp.Add(*[1 / (1 + sp.exp(x)) for x in xs]))


# ------------------------------------------------------------------ sizes
def _derivation(dims, variables):
    from gradverify import Claim, Derivation, Implementation, Real

    return Derivation(id="big", title="t", citation="c", dims=dims, variables={k: Real(*v) for k, v in variables.items()},
                      function=lambda s: (s.x.T * s.x)[0, 0] / 2, symbolic_sizes=[{k: 1 for k in dims}],
                      claims=[Claim("g", lambda s: s.x, output="g", wrt="x", as_written="x")],
                      implementation=Implementation(lambda x: (0.5 * x @ x, x), args=("x",), returns=("J", "g")))


def test_sizes_beyond_the_time_limit_are_refused_with_the_numbers():
    from gradverify.runner import too_big

    d = _derivation({"n": (1, 1000), "m": (1, 1000)}, {"x": ("n",), "W": ("n", "m")})
    why = too_big(d, examples=25, timeout=300)
    assert "1,001,000 entries" in why and "n=1,000, m=1,000" in why and "300 s" in why and "--timeout" in why


def test_sizes_within_the_time_limit_are_accepted():
    from gradverify.runner import too_big

    assert too_big(_derivation({"n": (1, 400)}, {"x": ("n",)}), examples=25, timeout=300) == ""


# ------------------------------------------------------------------ helpers of two folders
COMMON_USER = '''
from gradverify import Claim, Derivation, Implementation, Real
from _common import SIGN

derivation = Derivation(
    id="{id}", title="t", citation="c", dims={{"n": (1, 2)}}, variables={{"x": Real("n")}},
    function=lambda s: SIGN * (s.x.T * s.x)[0, 0] / 2,
    claims=[Claim("g", lambda s: SIGN * s.x, output="g", wrt="x", as_written="x")],
    implementation=Implementation(lambda x: (SIGN * 0.5 * x @ x, SIGN * x), args=("x",), returns=("J", "g")),
)
'''


def test_loading_leaves_no_module_of_the_folder_and_helpers_never_mix(tmp_path):
    from gradverify.loading import load

    for folder, sign in (("one", 1), ("two", -1)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "_common.py").write_text(f"SIGN = {sign}\n")
        (tmp_path / folder / f"d_{folder}.py").write_text(COMMON_USER.format(id=folder))
    before = set(sys.modules)
    found, failures = load([tmp_path / "one", tmp_path / "two"])
    assert failures == [] and set(sys.modules) - before == set()
    signs = {d.id: d.implementation.fn(__import__("numpy").ones(1))[1][0] for d in found}
    assert signs == {"one": 1.0, "two": -1.0}


def test_the_plugin_keeps_apart_two_folders_defining_the_same_id(pytester):
    """One right and one wrong derivation with the same id in two folders: each item gets its own verdict."""
    pytester.makepyfile(**{"one/twin": RIGHT.replace("half-square", "twin"),
                           "two/twin": RIGHT.replace("half-square", "twin").replace('lambda s: s.x', 'lambda s: -s.x')})
    result = pytester.runpytest_subprocess("--gradverify", "one", "two", "--gradverify-examples", "3",
                                           "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED two/twin.py::twin::dJ/dx*"])


# ------------------------------------------------------------------ start-up
def test_from_gradverify_import_gradcheck_loads_no_sympy_or_hypothesis():
    script = ("import sys; from gradverify import gradcheck; import gradverify; "
              "print('sympy' in sys.modules, 'hypothesis' in sys.modules, callable(gradcheck)); "
              "print(gradverify.Derivation.__module__, gradverify.Options.__module__)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          env={**__import__("os").environ, "PYTHONPATH": str(__import__("conftest").ROOT)})
    assert done.stdout.split("\n")[:2] == ["False False True", "gradverify.spec gradverify.options"]


def test_an_unknown_name_of_the_package_is_an_attribute_error():
    import gradverify

    with pytest.raises(AttributeError, match="no attribute 'Derivative'"):
        gradverify.Derivative  # noqa: B018
    assert "Derivation" in dir(gradverify)


def test_report_profile_says_where_each_derivations_time_went(tmp_path, capsys):
    from gradverify.cli import main

    (tmp_path / "d.py").write_text(RIGHT)
    assert main(["report", "--derivations", str(tmp_path / "d.py"), "--no-write", "--examples", "3",
                 "--profile", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "gradverify: profile" in err and "half-square: " in err and "importing your file" in err
    assert "sympy" in err and "hypothesis" in err
