"""The complex step's guard: one vocabulary of names for numpy, torch and jax (`gradverify.guard`),
one tie test, one exception, and a framework registry without an import circle."""

import ast
import pathlib

import numpy as np
import pytest

from gradverify import gradcheck
from gradverify.guard import NotAnalytic, ties
from gradverify.guard.hints import (CONJUGATES, HERMITIAN, LEAVES_THE_WATCH, ORDERINGS, REFUSED_BY, canonical,
                                    refusal)

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "gradverify"


@pytest.mark.parametrize("spelling, name", [
    ("linalg_cholesky_ex", "cholesky"), ("cholesky", "cholesky"), ("linalg_vector_norm", "vector_norm"),
    ("relu_", "relu"), ("__gt__", "gt"), ("greater", "gt"), ("absolute", "abs"), ("__abs__", "abs"),
    ("pinverse", "pinv"), ("__float__", "__float__"), ("_threshold", "_threshold")])
def test_each_librarys_spelling_is_one_canonical_name(spelling, name):
    assert canonical(spelling) == name


@pytest.mark.parametrize("library, name", [("numpy", "cholesky"), ("torch", "linalg_cholesky_ex"),
                                           ("jax", "cholesky"), ("torch", "cholesky_solve")])
def test_one_hermitian_list_serves_the_three_guards(library, name):
    assert refusal(library, name) is HERMITIAN


def test_a_name_that_means_another_operation_in_one_library_is_told_apart():
    """np.linalg.cond (the condition number, by an SVD) is refused; jax's and torch's cond are branches."""
    assert refusal("numpy", "cond") is HERMITIAN and refusal("torch", "linalg_cond") is HERMITIAN
    assert refusal("jax", "cond") is None and refusal("torch", "cond") is None


def test_analytic_operations_are_refused_by_no_guard():
    for library in REFUSED_BY:
        for name in ("exp", "matmul", "det", "inv", "solve", "eigvals", "logdet", "tanh", "dot_general", "mul"):
            assert refusal(library, name) is None, (library, name)


def test_orderings_a_guard_computes_are_not_refused_and_the_others_are():
    assert refusal("jax", "sort") is ORDERINGS and refusal("jax", "max", computes=frozenset({"max"})) is None
    assert refusal("torch", "sort") is None  # torch refuses complex sorts itself, with its own message
    assert refusal("torch", "conj_physical_") is CONJUGATES and refusal("torch", "tolist") is LEAVES_THE_WATCH


def test_not_analytic_is_one_exception_and_no_type_error():
    assert not issubclass(NotAnalytic, TypeError)
    import gradverify.checking.calls as calls

    assert calls.NotAnalytic is NotAnalytic


def test_a_tie_is_found_on_numpy_arrays_and_torch_tensors_alike_and_said_one_way():
    a, b = np.array([1 + 1e-20j, 2.0]), np.array([1 - 1e-20j, 3.0])
    assert ties.between(a, b).tolist() == [True, False]
    with pytest.raises(NotAnalytic, match=r"^np.maximum at a tie: 1 pair of values of equal real part, where"):
        ties.refuse("np.maximum", ties.between(a, b), ties.pairs_of_values)
    ties.refuse("np.maximum", ties.between(a, a), ties.pairs_of_values)  # equal numbers: no tie
    torch = pytest.importorskip("torch")
    ta, tb = torch.tensor(a), torch.tensor(b)
    tie = ties.pairs(ta.real, ta.imag, tb.real, tb.imag)
    with pytest.raises(NotAnalytic, match=r"^torch maximum at a tie: 1 pair of values"):
        ties.refuse("torch maximum", tie, ties.pairs_of_values)


def test_extremes_tie_only_when_several_entries_share_the_largest_real_part():
    z = np.array([[3 + 1e-20j, 3 - 1e-20j, 1.0], [2.0, 5 + 1e-20j, 5 + 1e-20j]])
    assert ties.extremes(z, 1, larger=True).tolist() == [True, False]
    assert not ties.extremes(np.array([np.nan + 0j, 1.0]), 0, larger=True)


def test_a_forgotten_hermitian_term_still_fails_and_a_right_one_passes():
    """The hints only choose the estimator: a claim that forgets log det through eigvalsh fails,
    the right one passes."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    x = a @ a.T + 4 * np.eye(4)

    def logdet(x, forget=False):
        value = np.sum(np.log(np.linalg.eigvalsh(x))) + np.sum(x * x)
        grad = 2 * x + (0 if forget else np.linalg.inv(x))
        return value, grad

    right = gradcheck(lambda x: logdet((x + x.T) / 2), (x,))
    wrong = gradcheck(lambda x: logdet((x + x.T) / 2, forget=True), (x,))
    assert right.ok and right.estimator == "central" and "eigvalsh" in right.fallback, right
    assert not wrong.ok and not wrong.inconclusive, wrong


def _imports(path: pathlib.Path) -> set:
    """The gradverify modules a module imports, at any depth of its code (function-level too)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = (base + ("." + node.module if node.module else "")) if node.level else (node.module or "")
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("gradverify")}


def test_no_import_circle_through_the_frameworks_or_the_guard():
    modules = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py")}
    graph = {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}

    def reaches(start, goal, seen):
        for nxt in graph[start] - seen:
            seen.add(nxt)
            if nxt == goal or reaches(nxt, goal, seen):
                return True
        return False

    ours = [m for m in modules if m.startswith(("gradverify.frameworks.", "gradverify.guard"))]
    assert ours
    circles = [(m, i) for m in ours for i in graph[m] if i != m.rpartition(".")[0] and reaches(i, m, set())
               and not m.endswith("__init__")]
    assert circles == [], circles


def test_the_jax_guard_reads_no_name_list_from_the_torch_module():
    assert "torch_code" not in " ".join(_imports(PACKAGE / "frameworks" / "jax_code.py"))
    assert not any("torch_code" in i or "jax_code" in i for i in _imports(PACKAGE / "frameworks" / "base.py"))
