"""The checks' own work made smaller without changing a verdict or a figure (issue 24): the rounding
measured in two steps, the code's values at a moved entry computed once per point, the comparisons at
a point met again reused, and ``from gradverify import gradcheck`` importing the scalar check on its
first call."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradverify import checks, numeric
from gradverify.checks import Options, check_derivation, evaluate_point
from gradverify.isolation import PRELOAD
from gradverify.sampling import RandomSource, draw_point
from gradverify.spec import Point
from gradverify.tolerances import DEFAULT_TOLERANCE

ROOT = Path(__file__).resolve().parent.parent


def points(derivation, n, seed=0):
    rng = np.random.default_rng(seed)
    return [draw_point(derivation, RandomSource(rng), (), scale=1.0) for _ in range(n)]


def point_e(samples):
    rng = np.random.default_rng(1)
    return Point({"d": 2, "K": len(samples), "V": 5},
                 {"v_c": rng.uniform(-1, 1, 2), "o": 0, "samples": list(samples), "U": rng.uniform(-1, 1, (2, 5))}, 1.0)


def test_the_rounding_taken_in_two_steps_is_the_noise_measurement_and_its_first_step_a_lower_bound(seed):
    d = seed["e"]
    p = point_e([1, 2])
    base = numeric.call(d, p)
    whole, watched = numeric.noise(d, p, base, DEFAULT_TOLERANCE, np.random.default_rng(7))
    rounding = numeric.Rounding(d, p, base, DEFAULT_TOLERANCE, np.random.default_rng(7))
    rounding.take(2)
    so_far = rounding.so_far()
    assert so_far is not None and len(rounding.measurement.runs) == 2
    finished, watched_too = rounding.finish()
    assert watched and watched_too
    for name in whole:
        assert np.array_equal(finished[name], whole[name])  # the same random stream: the same measurement
        assert np.all(so_far[name] <= whole[name])
    assert any(np.any(so_far[n] < whole[n]) for n in whole)  # (the later runs did measure more)


def test_code_hiding_its_arithmetic_gets_no_early_measurement(seed):
    from conftest import replace_impl

    d = seed["d-scalar"]

    def opaque(x):  # Python floats: Monte Carlo arithmetic sees none of its operations
        import math

        s = 1.0 / (1.0 + math.exp(-float(x)))
        return s, s * (1.0 - s)

    d = replace_impl(d, opaque)
    p = points(d, 1)[0]
    rounding = numeric.Rounding(d, p, numeric.call(d, p), DEFAULT_TOLERANCE, np.random.default_rng(0))
    rounding.take(2)
    assert rounding.so_far() is None  # (no lower bound to decide with: the whole measurement is taken)


@pytest.mark.parametrize("samples", [[1, 1, 3], [1, 2, 3]])
def test_early_comparisons_keep_every_verdict_and_every_failure_exactly(seed, samples):
    """A planted wrong claim (∂J/∂u_k with a sample drawn twice) fails, with the same figures, with the
    early measurement allowed or not; the right claims pass either way, their early error over the
    tolerance never below the whole measurement's."""
    d = seed["e"]
    p = point_e(samples)
    full = evaluate_point(d, p, DEFAULT_TOLERANCE, 0)
    early = evaluate_point(d, p, DEFAULT_TOLERANCE, 0, early=lambda key, c: True)
    assert set(full) == set(early)
    failing = {k for k, c in full.items() if isinstance(c, str) or not c.ok}
    assert failing == {k for k, c in early.items() if isinstance(c, str) or not c.ok}
    assert bool(failing) == (samples == [1, 1, 3])
    for key in full:
        if key in failing:  # the whole measurement, as ever
            assert early[key].worst_ratio == full[key].worst_ratio
            assert np.array_equal(early[key].tolerance, full[key].tolerance)
        else:
            assert early[key].worst_ratio >= full[key].worst_ratio


def test_an_early_pass_that_would_move_a_figure_is_measured_whole(seed):
    d = seed["e"]
    p = point_e([1, 2, 3])
    asked = []

    def never(key, comparison):
        asked.append(key)
        return False

    full = evaluate_point(d, p, DEFAULT_TOLERANCE, 0)
    refused = evaluate_point(d, p, DEFAULT_TOLERANCE, 0, early=never)
    assert asked
    for key in full:
        assert refused[key].worst_ratio == full[key].worst_ratio
        assert np.array_equal(refused[key].tolerance, full[key].tolerance)


@pytest.mark.parametrize("did", ["b", "e"])
def test_a_check_gives_the_same_results_with_and_without_the_shortcuts(seed, did, monkeypatch):
    d = seed[did]
    options = Options(seed=0, examples=8)
    fast = check_derivation(d, options)
    original = checks.evaluate_point

    def whole(*args, early=None, **kwargs):  # every point measured whole, as before
        return original(*args, **kwargs)

    monkeypatch.setattr(checks, "evaluate_point", whole)
    monkeypatch.setattr(checks, "_point_key", lambda point, log: None)  # no point reused
    slow = check_derivation(d, options)
    assert [r.verdict for r in fast] == [r.verdict for r in slow]
    for a, b in zip(fast, slow):
        for name in ("finite_difference", "agreement"):  # (the symbolic check is untouched: it times itself)
            assert a.checks[name].figures == b.checks[name].figures, (a.claim, name)
            assert a.checks[name].detail == b.checks[name].detail
            assert a.checks[name].counterexample == b.checks[name].counterexample


def test_an_entry_selected_twice_calls_the_code_once(seed, monkeypatch):
    d = seed["e"]
    p = point_e([1, 1])
    calls = []
    original = numeric.call
    monkeypatch.setattr(numeric, "call", lambda *a, **k: calls.append(1) or original(*a, **k))
    moves = np.array([[1e-6, 1e-6], [-1e-6, -1e-6]])
    values = numeric._values_at_moves(d, p, "U", np.array([3, 3]), moves)
    assert len(calls) == 2  # two moves of one entry, not four calls
    assert np.array_equal(values[:, 0], values[:, 1])
    memo: dict = {}
    numeric._values_at_moves(d, p, "U", np.array([3]), moves[:, :1], memo=memo)
    numeric._values_at_moves(d, p, "U", np.array([3, 4]), moves, memo=memo)
    assert len(calls) == 2 + 2 + 2  # the second read of entry 3 at the same point came from the memo


def test_from_gradverify_import_gradcheck_loads_neither_the_scalar_check_nor_sympy():
    code = ("import sys; from gradverify import gradcheck; "
            "print('gradverify.checking.scalar' in sys.modules, 'sympy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_gradcheck_still_checks_after_its_lazy_import_and_the_workers_preload_it():
    from gradverify import gradcheck

    x = np.array([0.3, -1.2, 2.0])
    assert gradcheck(lambda v: (0.5 * float(v @ v), v.copy()), (x,))
    assert not gradcheck(lambda v: (0.5 * float(v @ v), 2 * v), (x,))
    # the workers keep the modules they loaded before the import was lazy (hypothesis's constants)
    assert "gradverify.checking.scalar" in PRELOAD


@pytest.mark.parametrize("argv, grammar", [
    (["report"], False),
    (["report", "--no-write", "--quiet", "--jobs", "2"], False),
    (["report", "--format", "html"], True),
    (["report", "--format=html"], True),
    (["report", "--steps"], True),
    (["steps", "derivations"], True),
    (["mutants"], False),
])
def test_the_steps_grammar_is_preloaded_only_for_a_command_that_may_show_formulas(argv, grammar, monkeypatch):
    from gradverify import entry, isolation

    asked = []
    monkeypatch.setattr(isolation, "start_early", lambda preload: asked.append(tuple(preload)) or True)
    assert entry.start_workers_early(argv)
    assert asked and asked[0][:len(PRELOAD)] == PRELOAD
    assert (set(isolation.MATHML_PRELOAD) <= set(asked[0])) is grammar


@pytest.mark.parametrize("argv", [[], ["new", "my_loss"], ["report", "--in-process"], ["report", "--help"]])
def test_no_forkserver_starts_for_a_command_that_runs_nothing_in_workers(argv, monkeypatch):
    from gradverify import entry, isolation

    monkeypatch.setattr(isolation, "start_early", lambda preload: pytest.fail("a forkserver was started"))
    assert not entry.start_workers_early(argv)


def test_a_default_report_imports_no_steps_grammar_in_its_tasks():
    """(Why the forkserver of a default report need not build it.)"""
    code = ("import sys; from gradverify import cli; "
            "cli.main(['report', '--no-write', '--quiet', '--in-process', '--only', 'd-scalar']); "
            "print('gradverify.steps.mathml' in sys.modules, 'lark' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.split()[-2:] == ["False", "False"], done.stderr


def _modules_after(code: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", code + "; print(' '.join(sorted(sys.modules)))"], capture_output=True,
                          text=True, cwd=ROOT)
    return set(done.stdout.split())


def test_a_pytest_session_without_gradverify_imports_none_of_its_checks(tmp_path):
    loaded = _modules_after(f"import sys, pytest; pytest.main(['-q', '-p', 'no:cacheprovider', '-o', 'addopts=', "
                            f"{str(tmp_path)!r}])")
    assert "gradverify.pytest_plugin" in loaded  # (the plugin is installed and was loaded)
    assert not {"sympy", "numpy", "gradverify.options", "gradverify.checks"} & loaded


@pytest.mark.parametrize("code", [
    "import sys; from gradverify import cli",
    "import sys, pytest; pytest.main(['-q', '-p', 'no:cacheprovider', '-o', 'addopts=', '--gradverify', "
    "'--co', 'derivations'])",
], ids=["report", "pytest-plugin"])
def test_the_process_that_sends_work_to_workers_imports_no_sympy(code):
    loaded = _modules_after(code)
    assert "gradverify.options" in loaded and "sympy" not in loaded


@pytest.mark.parametrize("argv, early", [(None, [["report", "--no-write"]]), (["report", "--no-write"], [])],
                         ids=["command-line", "called-with-argv"])
def test_the_command_line_starts_its_workers_before_importing_the_rest(argv, early, monkeypatch):
    """``python -m gradverify`` and the ``gradverify`` script (argv None: ``sys.argv``) start the
    forkserver first; a caller passing its own argv (a test, a script) is left to start it on first use."""
    from gradverify import cli, entry

    asked = []
    monkeypatch.setattr(sys, "argv", ["gradverify", "report", "--no-write"])
    monkeypatch.setattr(entry, "start_workers_early", lambda a: asked.append(list(a)) or True)
    monkeypatch.setattr(cli, "main", lambda a: 0)
    assert entry.main(argv) == 0
    assert asked == early
