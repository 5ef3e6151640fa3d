"""What a new user met trying the README, each fixed: a jitted jax helper read as numpy, a spec's
np.exp with no traceback, a missing torch with no install hint, an int subscripted, a reproduce
line without its file, reports only their owner could read, a backward pass's expected shape,
outputs returned out of order, and ``--format html`` printing nothing."""

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from conftest import FAST, ROOT, by_claim
from gradverify import Verdict, check, check_derivation
from gradverify.cli import main
from gradverify.frameworks import detect, framework
from gradverify.loading import load_file
from gradverify.report.files import write_atomically

pytest_plugins = ["pytester"]


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _report(capsys, path, *flags):
    code = main(["report", "--derivations", str(path), "--no-write", "--examples", "8", *flags])
    return code, capsys.readouterr().out


HALF_SQUARE = '''
import numpy as np
from gradverify import Claim, Derivation, Implementation, Real, Index

{code}

derivation = Derivation(
    id="half-square", title="half square", citation="test", dims={{"n": (1, 3)}},
    variables={{"x": Real("n"){variables}}},
    function=lambda s: (s.x.T * s.x)[0, 0] / 2,
    claims=[Claim("dJ/dx", {claim}, output="g", wrt="x")],
    implementation=Implementation(loss_and_grad, args=("x"{args}), returns=("J", "g")),
)
'''


def _half_square(code="def loss_and_grad(x):\n    return 0.5 * x @ x, x", claim="lambda s: s.x", variables="",
                 args=""):
    return HALF_SQUARE.format(code=code, claim=claim, variables=variables, args=args)


# ---------------------------------------------------------------- 1. a module-level @jax.jit helper
JITTED = '''
import jax
import jax.numpy as jnp
import sympy as sp
from gradverify import Claim, Derivation, Implementation, Real


@jax.jit
def _core(x, W):
    h = jnp.tanh(W @ x)
    return 0.5 * jnp.sum(h ** 2), jnp.outer(h * (1 - h ** 2), x)


def net(x, W):
    return _core(x, W)


def J(s):
    h = (s.W * s.x).applyfunc(sp.tanh)
    return sum(v ** 2 for v in h) / 2


def dJ_dW(s):
    h = (s.W * s.x).applyfunc(sp.tanh)
    return sp.Matrix(s.H, 1, lambda i, _: h[i] * (1 - h[i] ** 2)) * s.x.T


derivation = Derivation(
    id="jitted", title="tanh layer under jit", citation="test", dims={"D": (1, 3), "H": (2, 4)},
    variables={"x": Real("D"), "W": Real("H", "D")}, function=J,
    claims=[Claim("dJ/dW", dJ_dW, output="dW", wrt="W")],
    implementation=Implementation(net, args=("x", "W"), returns=("J", "dW")),
)
'''


def _jax():
    return pytest.importorskip("jax", reason="jax is an optional extra: pip install 'gradverify[jax]'")


def test_a_plain_function_calling_a_module_level_jitted_helper_is_jax_code_and_holds(tmp_path):
    _jax()
    found, failures = load_file(_write(tmp_path, "jitted.py", JITTED))
    assert failures == []
    (derivation,) = found
    assert type(derivation.implementation.fn.__globals__["_core"]).__module__.startswith("jaxlib")  # a PjitFunction
    assert detect(derivation.implementation.fn) == "jax"
    rows = by_claim(check_derivation(derivation, FAST))
    assert rows["dJ/dW"].verdict == Verdict.HOLDS, rows["dJ/dW"].message or rows["dJ/dW"].checks


def test_code_read_as_numpy_that_returns_jax_arrays_is_an_error_that_says_framework(tmp_path):
    _jax()
    # a callable object's code is not read by detection: the code is taken for numpy code
    text = JITTED.replace("def net(x, W):\n    return _core(x, W)",
                          "class Net:\n    def __call__(self, x, W):\n        return _core(x, W)\n\n\n"
                          "_net = Net()\n\n\ndef net(x, W):\n    return _net(x, W)")
    (derivation,), _ = load_file(_write(tmp_path, "hidden_jax.py", text))
    assert detect(derivation.implementation.fn) == "numpy"
    row = by_claim(check_derivation(derivation, FAST))["dJ/dW"]
    assert row.verdict == Verdict.ERROR
    assert "returned jax arrays but was read as numpy code" in row.message
    assert "framework='jax'" in row.message and "float32" in row.message


def test_code_read_as_numpy_that_returns_torch_tensors_is_an_error_that_says_framework(tmp_path):
    pytest.importorskip("torch", reason="torch is an optional extra: pip install 'gradverify[torch]'")
    code = ("import torch\n\ndef loss_and_grad(x):\n    t = torch.from_numpy(x)\n"
            "    return 0.5 * t @ t, t\n")
    (derivation,), _ = load_file(_write(tmp_path, "declared_numpy.py", _half_square(code)))
    import dataclasses

    derivation = dataclasses.replace(derivation, implementation=dataclasses.replace(
        derivation.implementation, framework="numpy"))
    row = by_claim(check_derivation(derivation, FAST))["dJ/dx"]
    assert row.verdict == Verdict.ERROR and "returned torch tensors" in row.message
    assert "framework='torch'" in row.message


# ---------------------------------------------------------------- 2. np.exp in a spec: the traceback
def test_np_exp_in_a_spec_shows_the_traceback_from_the_users_frame(tmp_path, capsys):
    path = _write(tmp_path, "np_in_spec.py", _half_square(claim="lambda s: np.exp(s.x)"))
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "np.exp(s.x)" in t)
    code, out = _report(capsys, path, "--traceback")
    assert code == 2
    shown = out.split("Tracebacks (--traceback):\n", 1)[1]
    assert f'File "{path}", line {line}, in <lambda>' in shown
    assert "np.exp(s.x)" in shown and "TypeError: loop of ufunc does not support argument 0" in shown
    assert "AttributeError:" in shown  # what numpy raised it from, as its cause
    assert "gradverify/" not in shown


def test_tb_long_shows_the_traceback_of_np_exp_in_a_spec(pytester):
    pytester.makepyfile(**{"derivations/np_in_spec": _half_square(claim="lambda s: np.exp(s.x)")})
    result = pytester.runpytest("--gradverify", "derivations", "--gradverify-examples", "5", "-p", "no:randomly",
                                "--tb=long")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert 'np_in_spec.py", line ' in out and "np.exp(s.x)" in out and "Traceback (most recent call last)" in out


# ---------------------------------------------------------------- 3. torch imported at the top, not installed
@pytest.mark.parametrize("module, extra", [("torch", "torch"), ("jax.numpy", "jax"), ("jaxlib", "jax")])
def test_a_derivation_importing_a_missing_framework_at_the_top_says_what_to_install(tmp_path, monkeypatch,
                                                                                     module, extra):
    monkeypatch.setitem(sys.modules, module.partition(".")[0], None)  # import now raises ModuleNotFoundError
    path = _write(tmp_path, "needs_framework.py", f"import numpy as np\nimport {module}\n")
    _, (failure,) = load_file(path)
    assert "failed to import: ModuleNotFoundError" in failure.message and "(line 2)" in failure.message
    assert f"Install it: pip install 'gradverify[{extra}]'" in failure.message
    if extra == "torch":
        assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in failure.message


def test_a_missing_module_that_is_no_framework_gets_no_install_hint(tmp_path):
    _, (failure,) = load_file(_write(tmp_path, "needs_other.py", "import torchvision_not_installed_xyz\n"))
    assert "ModuleNotFoundError" in failure.message and "Install it" not in failure.message


def test_a_missing_torch_in_a_subprocess_via_the_import_system_says_the_cpu_build(tmp_path):
    """torch made unimportable the way an environment without it is: a finder that finds nothing."""
    path = _write(tmp_path, "torch_at_top.py", "import torch\n")
    script = textwrap.dedent(f'''
        import sys
        class NoTorch:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] == "torch":
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        sys.meta_path.insert(0, NoTorch())
        sys.modules.pop("torch", None)
        from gradverify.loading import load_file
        print(load_file({str(path)!r})[1][0].message)
    ''')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout
    assert "No module named 'torch' (line 1)" in out
    assert "pip install 'gradverify[torch]'" in out and "--index-url https://download.pytorch.org/whl/cpu" in out


def test_the_lazy_import_hint_names_the_cpu_build_too(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(Exception, match=r"pip install torch --index-url https://download.pytorch.org/whl/cpu"):
        framework("torch")


# ---------------------------------------------------------------- 4. an int subscripted
INDEXED = dict(variables=', "o": Index("n")', args=', "o"')


def test_an_int_subscripted_in_the_code_names_the_int_arguments(tmp_path, capsys):
    path = _write(tmp_path, "int_code.py", _half_square("def loss_and_grad(x, o):\n    return 0.5 * x @ x, x + o[0]",
                                                        **INDEXED))
    code, out = _report(capsys, path)
    assert code == 2 and "'int' object is not subscriptable" in out
    text = " ".join(out.split())
    assert "`o` arrives as an int" in text and "Indices variable as a list of ints" in text


def test_an_int_subscripted_in_a_spec_names_the_ints_of_the_namespace(tmp_path, capsys):
    path = _write(tmp_path, "int_spec.py", _half_square("def loss_and_grad(x, o):\n    return 0.5 * x @ x, x",
                                                        claim="lambda s: s.x * s.o[0]", **INDEXED))
    code, out = _report(capsys, path)
    assert code == 2
    text = " ".join(out.split())
    assert "s.n, s.o are ints here" in text and "in a spec an Index variable (s.o) is an int" in text


@pytest.mark.parametrize("claim, near", [("lambda s: s.xx", "did you mean s.x?"), ("lambda s: s.weights", "")])
def test_a_misspelled_name_in_a_spec_lists_the_derivations_names_and_the_nearest(tmp_path, capsys, claim, near):
    path = _write(tmp_path, "typo.py", _half_square(claim=claim))
    code, out = _report(capsys, path)
    assert code == 2
    text = " ".join(out.split())
    assert "this derivation has no variable or dimension" in text and "(it has n, x)" in text
    assert near in text and ("did you mean" in text) == bool(near)


# ---------------------------------------------------------------- 5. check()'s reproduce line names the file
def test_check_on_an_ordinarily_imported_derivation_reproduces_with_its_file(tmp_path):
    import importlib.util

    path = _write(tmp_path, "wrong_sign.py", _half_square(claim="lambda s: -s.x"))
    spec = importlib.util.spec_from_file_location("wrong_sign_mine", path)  # as a user's test imports it
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.derivation.origin == ""
    result = check(module.derivation, examples=5)
    assert not result.ok
    assert f"--derivations {path} --no-write" in result.text()
    assert all(r.reproduce.endswith(f"--derivations {path} --no-write") for r in result.rows)


# ---------------------------------------------------------------- 6. report files get an ordinary mode
def test_report_files_get_the_mode_a_plain_write_gives(tmp_path):
    old = os.umask(0o022)
    try:
        written = write_atomically({tmp_path / "report.md": "x\n", tmp_path / "report.json": "{}\n"})
        assert {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o644}
        os.chmod(tmp_path / "report.md", 0o640)  # a file already there keeps its mode, as open("w") keeps it
        write_atomically({tmp_path / "report.md": "y\n"})
        assert stat.S_IMODE((tmp_path / "report.md").stat().st_mode) == 0o640
        os.umask(0o077)
        (p,) = write_atomically({tmp_path / "report.html": "z\n"})
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_the_command_line_writes_reports_with_mode_0644_under_umask_022(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        path = _write(tmp_path, "half.py", _half_square())
        assert main(["report", "--derivations", str(path), "--examples", "5", "--out", str(tmp_path / "out")]) == 0
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "out").iterdir()}
    assert modes == {"report.md": 0o644, "report.json": 0o644}


# ---------------------------------------------------------------- 7. a backward pass's expected shape
def test_a_vector_jacobian_product_of_the_wrong_shape_says_it_has_the_inputs_shape(tmp_path, capsys):
    text = '''
    import numpy as np
    from gradverify import Claim, Derivation, Implementation, Real

    def layer(x, dout):
        return 2 * x, (2 * dout)[None]          # dx with an extra leading axis

    derivation = Derivation(
        id="double", title="y = 2x", citation="test", dims={"n": (2, 3)},
        variables={"x": Real("n"), "dout": Real("n")},
        function=lambda s: 2 * s.x,
        claims=[Claim("dx", lambda s: 2 * s.dout, output="dx", wrt="x", upstream="dout")],
        implementation=Implementation(layer, args=("x", "dout"), returns=("y", "dx")),
    )
    '''
    code, out = _report(capsys, _write(tmp_path, "vjp.py", text))
    assert code == 2
    text = " ".join(out.split())
    assert "implementation returned dx with shape (1, 2); expected (2,) (x's shape alone" in text
    assert "y's shape (2,) + x's shape" not in text


# ---------------------------------------------------------------- 8. outputs returned out of order
SWAPPED = '''
import numpy as np
import sympy as sp
from gradverify import Claim, Derivation, Implementation, Real


def fwd(s):
    h = (s.W1 * s.x + s.b1).applyfunc(sp.tanh)
    return h, (s.w2.T * h)[0, 0]


def J(s):
    return (fwd(s)[1] - s.t) ** 2 / 2


def dJ_dw2(s):
    h, out = fwd(s)
    return (out - s.t) * h


def dJ_db1(s):
    h, out = fwd(s)
    return sp.Matrix(s.H, 1, lambda i, _: (out - s.t) * s.w2[i] * (1 - h[i] ** 2))


def net(x, W1, b1, w2, t):
    h = np.tanh(W1 @ x + b1)
    e = w2 @ h - t
    return 0.5 * e ** 2, {first}, {second}


derivation = Derivation(
    id="two-layer", title="two-layer tanh net", citation="test", dims={{"D": (1, 3), "H": (2, 4)}},
    variables={{"x": Real("D"), "W1": Real("H", "D"), "b1": Real("H"), "w2": Real("H"), "t": Real()}},
    function=J,
    claims=[Claim("dJ/db1", dJ_db1, output="db1", wrt="b1"), Claim("dJ/dw2", dJ_dw2, output="dw2", wrt="w2")],
    implementation=Implementation(net, args=("x", "W1", "b1", "w2", "t"), returns=("J", "db1", "dw2")),
)
'''


def test_outputs_returned_in_the_wrong_order_are_diagnosed_as_swapped(tmp_path):
    (derivation,), _ = load_file(_write(tmp_path, "swapped.py", SWAPPED.format(
        first="e * h", second="e * w2 * (1 - h ** 2)")))
    rows = by_claim(check_derivation(derivation, FAST))
    assert rows["dJ/db1"].verdict == rows["dJ/dw2"].verdict == Verdict.REFUTED
    assert rows["dJ/db1"].diagnosis == "equals the true dJ/dw2: outputs swapped? check returns="
    assert rows["dJ/dw2"].diagnosis == "equals the true dJ/db1: outputs swapped? check returns="


def test_a_wrong_output_that_is_no_other_claims_truth_is_not_called_swapped(tmp_path):
    (derivation,), _ = load_file(_write(tmp_path, "wrong.py", SWAPPED.format(
        first="e * w2 * (1 - h ** 2)", second="2 * e * h")))
    rows = by_claim(check_derivation(derivation, FAST))
    assert rows["dJ/db1"].verdict == Verdict.HOLDS
    assert rows["dJ/dw2"].verdict == Verdict.REFUTED and "swapped" not in rows["dJ/dw2"].diagnosis


# ---------------------------------------------------------------- 9. --format html alone
def test_format_html_alone_prints_the_summary_and_the_reproduce_line_not_the_table(tmp_path, capsys):
    path = _write(tmp_path, "half.py", _half_square())
    out_dir = tmp_path / "out"
    assert main(["report", "--derivations", str(path), "--examples", "5", "--format", "html",
                 "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in out_dir.iterdir()) == ["report.html"]
    assert "derivation  claim" not in out  # no table
    lines = out.splitlines()
    assert lines[-2].startswith("1 claim: 1 holds") and lines[-1].startswith("Reproduce: python -m gradverify report")


def test_format_terminal_among_others_prints_the_table(tmp_path, capsys):
    path = _write(tmp_path, "half.py", _half_square())
    assert main(["report", "--derivations", str(path), "--examples", "5", "--format", "html", "--format",
                 "terminal", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "derivation   claim" in out or "derivation  claim" in out
    assert out.count("Reproduce: ") == 1


# ---------------------------------------------------------------- 10. Verdict is exported
def test_verdict_is_exported_and_is_what_result_verdicts_returns(tmp_path):
    import gradverify

    assert "Verdict" in gradverify.__all__
    (derivation,), _ = load_file(_write(tmp_path, "half.py", _half_square()))
    assert check(derivation, examples=5).verdicts == {"dJ/dx": gradverify.Verdict.HOLDS}


# ---------------------------------------------------------------- gradients returned as one list
GRADS_LIST = '''
import numpy as np
from gradverify import Claim, Derivation, Implementation, Real


def linreg(W, b, x, t):
    r = W @ x + b - t
    return 0.5 * r @ r, [np.outer(r, x), r]


derivation = Derivation(
    id="grads-list", title="linear regression, gradients as one list", dims={"m": (2, 3), "k": (2, 3)},
    variables={"W": Real("m", "k"), "b": Real("m"), "x": Real("k"), "t": Real("m")},
    function=lambda s: ((s.W * s.x + s.b - s.t).T * (s.W * s.x + s.b - s.t))[0, 0] / 2,
    claims=[Claim("dJ/dW", lambda s: (s.W * s.x + s.b - s.t) * s.x.T, output="grads", wrt="W")],
    implementation=Implementation(linreg, args=("W", "b", "x", "t"), returns=("J", "grads")),
)
'''


def test_gradients_returned_as_one_list_say_to_return_them_separately(tmp_path, capsys):
    """(loss, [dW, db]) was "gradverify failed on this derivation: ValueError: setting an array
    element with a sequence", all of it gradverify's own frames."""
    code, out = _report(capsys, _write(tmp_path, "grads_list.py", GRADS_LIST))
    text = " ".join(out.split())
    assert code == 2 and "gradverify failed" not in text, text
    assert "returned grads as a list of 2 arrays" in text and "return loss, dW, db" in text, text


def test_a_missing_dependency_is_one_line_with_what_to_do_not_a_traceback(tmp_path):
    import subprocess
    import sys as _sys

    hide = "import sys, runpy; sys.modules['tabulate'] = None; sys.argv = ['gradverify', 'report']; " \
           "runpy.run_module('gradverify', run_name='__main__')"
    out = subprocess.run([_sys.executable, "-c", hide], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 2, out
    assert out.stderr.startswith("gradverify: error: Expected gradverify's dependencies (numpy, sympy, hypothesis, "
                                 "tabulate, lark) installed but got tabulate missing in "), out.stderr
    assert "pip install -e ." in out.stderr and "Traceback" not in out.stderr


def test_a_refuted_scalar_claim_shows_its_values_with_no_empty_index(tmp_path, capsys):
    path = _write(tmp_path, "scalar.py", '''
        import numpy as np
        from gradverify import Claim, Derivation, Implementation, Real


        def code(x):
            return 0.5 * x * x, -x


        derivation = Derivation(
            id="scalar", title="half square of a scalar", citation="test", dims={},
            variables={"x": Real()}, function=lambda s: s.x ** 2 / 2,
            claims=[Claim("dJ/dx", lambda s: -s.x, output="g", wrt="x")],
            implementation=Implementation(code, args=("x",), returns=("J", "g")),
        )
        ''')
    code, out = _report(capsys, path)
    text = " ".join(out.split())
    assert code == 1 and "REFUTED" in text
    assert "vs sympy's derivative, claimed " in text and "vs central difference, claimed " in text
    assert "worst entries" not in text and "[]" not in text
