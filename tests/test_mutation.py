"""The mutation self-test: every non-equivalent mutant of the seed claims is refuted."""

import pytest

from conftest import ROOT
from gradverify.checks import Options
from gradverify.cli import main
from gradverify.mutation import make_mutants, run_mutants
from gradverify.sympy_eval import build_namespace
from gradverify.sampling import RandomSource, draw_point

import numpy as np

MUTANT_OPTIONS = Options(seed=0, examples=8)


#: the default run's smoke version: the mutants of one derivation (the command-line test below runs
#: those of d too); every derivation's are marked slow (python -m pytest -m slow)
MUTANTS_SMOKE = ("d-scalar",)


@pytest.mark.parametrize("did", [did if did in MUTANTS_SMOKE else pytest.param(did, marks=pytest.mark.slow)
                                 for did in ["a", "b", "c", "d-scalar", "d-vector", "e", "f-softmax", "f-negsample"]])
def test_every_non_equivalent_mutant_of_the_seed_is_refuted_by_every_check(seed, did):
    results = run_mutants(seed[did], MUTANT_OPTIONS)
    assert results, "mutants were made"
    for r in results:
        if r.status == "equivalent":
            continue
        assert r.status == "refuted", (r.mutant.description, r.expression)
        assert r.refuted_by == ["symbolic", "finite_difference", "agreement"], (r.mutant.description, r.refuted_by)


def test_operators_cover_sign_scale_transpose_terms_exp_index_and_swap(seed):
    d = seed["f-softmax"]
    point = draw_point(d, RandomSource(np.random.default_rng(0)), d.assumptions,
                       sizes={"d": 2, "m": 1, "W": 2, "V": 3}, scale=1.0)
    s, _ = build_namespace(d, point)
    ops = {m.operator for m in make_mutants(d, d.claim("∂J_sg/∂U"), s)}
    assert {"flip sign", "scale by 2", "add a constant", "transpose", "drop a term", "flip a term",
            "exp(a) → exp(−a)", "shift an index", "swap variables"} <= ops


def test_a_mutant_equal_to_the_claim_is_recognised_as_equivalent(seed):
    results = run_mutants(seed["d-vector"], MUTANT_OPTIONS)
    equivalent = {r.mutant.operator for r in results if r.status == "equivalent"}
    # the Jacobian is diagonal, so its transpose is itself; σ'(x) is even, so σ(x) ↔ σ(−x) changes nothing
    assert equivalent == {"transpose", "exp(a) → exp(−a)"}


def _blind(monkeypatch):
    """Every check switched off: symbolic proves anything, every numeric comparison passes."""
    import gradverify.mutation as mutation

    monkeypatch.setattr(mutation, "check_symbolic",
                        lambda d, *a, **k: {c.name: type("R", (), {"status": "proved"})() for c in d.claims})
    monkeypatch.setattr(mutation.numeric, "compare", lambda *a, **k: type("C", (), {"ok": True})())
    return MUTANT_OPTIONS


def test_with_the_checks_switched_off_mutants_survive_and_are_shown(seed, monkeypatch):
    """The self-test can fail: blind checks let every non-equivalent mutant through."""
    results = run_mutants(seed["b"], _blind(monkeypatch))
    survived = [r for r in results if r.status == "survived"]
    assert len(survived) == sum(r.status != "equivalent" for r in results) > 0
    assert all(r.refuted_by == [] and r.expression for r in survived)


def test_mutants_command_exits_1_on_a_survivor(monkeypatch, capsys):
    import gradverify.mutation as mutation

    blind = _blind(monkeypatch)
    real = mutation.run_mutants
    monkeypatch.setattr(mutation, "run_mutants", lambda d, options: real(d, blind))
    code = main(["mutants", "--only", "b", "--in-process", "--derivations", str(ROOT / "derivations")])
    out = capsys.readouterr().out
    assert code == 1 and "SURVIVED ∂J/∂v_c / −(claim)" in out


def test_mutants_command_exits_0_without_survivors_and_prints_a_table(capsys):
    code = main(["mutants", "--only", "d", "--derivations", str(ROOT / "derivations")])
    out = capsys.readouterr().out
    assert code == 0
    assert "d-scalar: sigmoid: dσ/dx, scalar x: 8 mutants, 7 refuted, 1 equivalent, 0 survived" in out
    assert "refuted by symbolic, finite_difference, agreement" in out


def test_a_refuted_claim_is_reported_as_such_and_its_mutants_are_not_counted(seed, capsys, tmp_path):
    from conftest import replace_claim
    import planted
    from gradverify.mutation import run_mutants

    wrong = replace_claim(seed["b"], "∂J/∂v_c", expr=planted.b_flipped_sign)
    results = run_mutants(wrong, Options(seed=0, examples=3))
    assert [r.status for r in results] == ["claim refuted"]
    assert "worst entries" in results[0].detail


def test_every_operator_changes_the_claim_it_mutates(seed):
    """An operator that returned the claim unchanged would make only 'equivalent' mutants and
    leave every other test green: here each one must move the value at a random point."""
    from gradverify.sympy_eval import evaluate_by_substitution

    d, claim = seed["c"], seed["c"].claim("∂J/∂U")
    point = draw_point(d, RandomSource(np.random.default_rng(0)), d.assumptions, sizes={"d": 2, "V": 3}, scale=1.0)
    s, _ = build_namespace(d, point)
    original = evaluate_by_substitution(d, point, claim.expr, (2, 3))
    for mutant in make_mutants(d, claim, s):
        expected = (3, 2) if mutant.operator == "transpose" else (2, 3)
        value = evaluate_by_substitution(d, point, mutant.build, expected)
        if mutant.operator == "transpose":
            assert np.allclose(value, original.T), mutant.description
        else:
            assert value.shape != original.shape or not np.allclose(value, original), mutant.description
