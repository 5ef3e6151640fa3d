"""A derivation's examples, verdicts and figures depend only on (derivation, seed, versions, options):
not on what else the process has loaded or checked before it (pytest's selection, -n, the report's
workers, check()). hypothesis mixes constants it finds in loaded modules into its draws; gradverify's
draws keep them out, and each derivation's hypothesis seed comes from (seed, derivation id)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import sympy as sp

from gradverify import Claim, Derivation, Implementation, Real
from gradverify.checks import Options, check_derivation
from gradverify.sampling import search_seed
from gradverify.testing import check

sys.path.insert(0, str(Path(__file__).resolve().parent / "catalogue"))


def _logging_derivation(log: list, did: str = "logged-squares"):
    def code(x):
        log.append(np.array(x, copy=True))
        return float(np.sum(x * x)), 2 * x
    return Derivation(id=did, title="Σ x²", dims={"n": (1, 3)}, variables={"x": Real("n")},
                      function=lambda s: sum(xi ** 2 for xi in s.x),
                      claims=[Claim("∂J/∂x", lambda s: 2 * s.x, output="g", wrt="x")],
                      implementation=Implementation(code, args=("x",), returns=("J", "g"), framework="numpy"))


def _inputs(did="logged-squares", seed=0):
    log: list = []
    rows = check(_logging_derivation(log, did), seed=seed, examples=15).rows
    return [tuple(np.round(x, 15).tolist()) for x in log], rows


def _figures(rows) -> list:
    """Each row as the report's JSON has it, without the seconds it took (a time, not a figure)."""
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != "seconds"}
        return [strip(v) for v in x] if isinstance(x, list) else x
    return [strip(r.as_dict()) for r in rows]


def _import_module_with_constants(folder: Path, name: str):
    """A module of the caller's own (not site-packages, not a test file) full of float and int
    constants, as a collected loss file is: hypothesis reads such modules for constants to draw."""
    constants = ", ".join(f"{k / 97:.17g}" for k in range(-90, 91)) + ", " + ", ".join(map(str, range(0, 300, 7)))
    path = folder / f"{name}.py"
    path.write_text(f"VALUES = [{constants}]\n")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_the_examples_are_the_same_whatever_else_the_process_has_loaded(tmp_path):
    before, rows_before = _inputs()
    try:
        _import_module_with_constants(tmp_path, "gradverify_constants_a")
        after, rows_after = _inputs()
    finally:
        sys.modules.pop("gradverify_constants_a", None)
    assert before == after
    assert _figures(rows_before) == _figures(rows_after)


def test_one_derivation_alone_and_after_others_gets_the_same_examples_verdicts_and_figures():
    import smooth_l1

    alone = check_derivation(smooth_l1.smooth_l1_switch_at_1, Options(seed=3, examples=10))
    for other in (smooth_l1.smooth_l1, _logging_derivation([], "another")):
        check_derivation(other, Options(seed=3, examples=10))
    among = check_derivation(smooth_l1.smooth_l1_switch_at_1, Options(seed=3, examples=10))
    assert _figures(alone) == _figures(among)


def test_each_derivation_has_its_own_search_seed_from_the_seed_and_its_id():
    assert search_seed(0, "a") == search_seed(0, "a")
    assert len({search_seed(0, "a"), search_seed(0, "b"), search_seed(1, "a")}) == 3
    a, _ = _inputs("one-id")
    b, _ = _inputs("another-id")
    assert a != b  # the same code under another id: other examples


# ---- the pytest plugin: any selection ----------------------------------------------------------
pytest_plugins = ["pytester"]

WRONG = '''
import os

from gradverify import Claim, Derivation, Implementation, Real

def code(x, t):
    with open(open(os.path.join(os.path.dirname(__file__), "log_path.txt")).read(), "a") as log:  # every input tried
        log.write(repr((x.tolist(), t.tolist())) + "\\n")
    r = x - t
    return float(0.5 * r @ r), 1.000001 * r

wrong = Derivation(
    id="wrong", title="½‖x − t‖²", citation="test", dims={"n": (1, 3)}, variables={"x": Real("n"), "t": Real("n")},
    function=lambda s: ((s.x - s.t).T * (s.x - s.t))[0, 0] / 2,
    claims=[Claim("∂J/∂x", lambda s: (s.x - s.t) * 1.000001, output="g", wrt="x")],
    implementation=Implementation(code, args=("x", "t"), returns=("J", "g")))
'''

OTHER = '''
from gradverify import Claim, Derivation, Implementation, Real

CONSTANTS = [0.123456, -0.654321, 0.9, 0.95, 0.05, 0.33, 0.77, 0.999, 1e-3, 2.5, 7, 11, 13]

other = Derivation(
    id="other", title="Σ x", citation="test", dims={"n": (1, 3)}, variables={"x": Real("n")},
    function=lambda s: sum(s.x), claims=[Claim("∂J/∂x", lambda s: s.x * 0 + 1, output="g", wrt="x")],
    implementation=Implementation(lambda x: (float(x.sum()), x * 0 + 1), args=("x",), returns=("J", "g")))
'''


def _reported(result) -> list[str]:
    return [line.strip() for line in result.stdout.lines if line.strip().startswith(("at:", "wrong ·"))]


def test_the_pytest_plugin_tries_the_same_inputs_alone_and_among_other_files(pytester, monkeypatch, tmp_path):
    """`pytest --gradverify losses/` and `pytest --gradverify losses/wrong_loss.py` (in one process, the
    other file's constants loaded in between) give the derivation the same inputs and the same report."""
    pytester.makepyfile(**{"losses/wrong_loss": WRONG, "losses/other_loss": OTHER})
    args = ("--gradverify-examples", "8", "-p", "no:randomly", "-p", "no:cacheprovider")
    seen = []
    for k, selection in enumerate(("losses/wrong_loss.py", "losses", "losses/wrong_loss.py")):
        # where the code logs, in a file beside it: user code runs in workers forked from a server that
        # may have started before this test, so an environment variable set here would not reach it
        (pytester.path / "losses" / "log_path.txt").write_text(str(tmp_path / f"log{k}"))
        result = pytester.runpytest("--gradverify", selection, *args)
        seen.append(((tmp_path / f"log{k}").read_text(), _reported(result)))
    assert seen[0][1] and any(line.startswith("at:") for line in seen[0][1]), seen[0][1]
    assert seen[0] == seen[1] == seen[2]
