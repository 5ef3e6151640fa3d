"""Code written in torch or jax: detected, converted at the boundary, checked like numpy code.

The torch and jax tests need the optional extras; without them they are skipped with the reason
(`.ci/run` installs both, so CI runs them)."""

import sys

import numpy as np
import pytest
import sympy as sp

from conftest import FAST, by_claim
from gradverify import Claim, Derivation, Implementation, InvalidArgument, Real, check_derivation, gradcheck
from gradverify.frameworks import detect, framework

def _torch():
    return pytest.importorskip("torch", reason="torch is an optional extra: pip install 'gradverify[torch]'")


def _jnp():
    pytest.importorskip("jax", reason="jax is an optional extra: pip install 'gradverify[jax]'")
    import jax.numpy as jnp

    return jnp


# ---------------------------------------------------------------- the loss: logistic loss of a linear model
def _spec(s):
    return sum(sp.log(1 + sp.exp(-s.t[i] * s.w[i] * s.x[i])) for i in range(s.d))


def _claimed(s):
    return sp.Matrix([-s.t[i] * s.x[i] / (1 + sp.exp(s.t[i] * s.w[i] * s.x[i])) for i in range(s.d)])


def _derivation(code, framework=None):
    return Derivation(
        id="logistic", title="logistic loss", dims={"d": (2, 6)},
        variables={"x": Real("d"), "w": Real("d"), "t": Real("d")}, function=_spec,
        claims=[Claim("dJ/dw", _claimed, output="g", wrt="w")],
        implementation=Implementation(code, args=("x", "w", "t"), returns=("J", "g"), framework=framework))


def _verdicts(derivation):
    return {name: (r.verdict.value, r.message) for name, r in by_claim(check_derivation(derivation, FAST)).items()}


def torch_logistic(x, w, t):
    import torch

    z = t * w * x
    return torch.sum(torch.log1p(torch.exp(-z))), -t * x * torch.sigmoid(-z)


def torch_logistic_flipped(x, w, t):
    J, g = torch_logistic(x, w, t)
    return J, -g


def jax_logistic(x, w, t):
    import jax.numpy as jnp

    z = t * w * x
    return jnp.sum(jnp.log1p(jnp.exp(-z))), -t * x / (1 + jnp.exp(z))


def jax_logistic_dropped_t(x, w, t):
    import jax.numpy as jnp

    z = t * w * x
    return jnp.sum(jnp.log1p(jnp.exp(-z))), -x / (1 + jnp.exp(z))


# ---------------------------------------------------------------- detection, without importing anything
def test_numpy_code_is_detected_as_numpy():
    assert detect(lambda x: (np.sum(x**2), 2 * x)) == "numpy"


def test_torch_code_is_detected_from_the_names_it_uses_and_from_the_helpers_it_calls():
    torch = _torch()
    namespace = {"torch": torch}
    exec("def f(x):\n    return torch.sum(x * x), 2 * x\n\ndef g(x):\n    return f(x)\n", namespace)
    assert detect(namespace["f"]) == "torch"
    assert detect(namespace["g"]) == "torch"


def test_jax_code_is_detected_through_jax_numpy():
    jnp = _jnp()
    namespace = {"jnp": jnp}
    exec("def f(x):\n    return jnp.sum(x * x), 2 * x\n", namespace)
    assert detect(namespace["f"]) == "jax"


def test_an_unknown_framework_is_refused_at_registration():
    with pytest.raises(InvalidArgument, match=r"framework 'numpy', 'torch' or 'jax'.*framework='tensorflow'"):
        _derivation(lambda x, w, t: (0.0, w), framework="tensorflow")


def test_a_missing_extra_is_an_invalid_argument_with_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(InvalidArgument, match=r"pip install 'gradverify\[torch\]'"):
        framework("torch")


def test_a_missing_extra_in_a_derivation_is_an_error_row_that_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    rows = by_claim(check_derivation(_derivation(torch_logistic, framework="torch"), FAST))
    assert rows["dJ/dw"].verdict.value == "error"
    assert "pip install 'gradverify[torch]'" in rows["dJ/dw"].message


# ---------------------------------------------------------------- derivations written in torch and jax
def test_a_right_torch_implementation_holds():
    _torch()
    assert _verdicts(_derivation(torch_logistic))["dJ/dw"][0] == "holds"


def test_a_flipped_sign_in_torch_code_is_refuted():
    _torch()
    assert _verdicts(_derivation(torch_logistic_flipped))["dJ/dw"][0] == "refuted"


def test_a_right_jax_implementation_holds_in_float64():
    _jnp()
    assert _verdicts(_derivation(jax_logistic))["dJ/dw"][0] == "holds"


def test_a_dropped_factor_in_jax_code_is_refuted():
    _jnp()
    assert _verdicts(_derivation(jax_logistic_dropped_t))["dJ/dw"][0] == "refuted"


def test_torch_code_that_writes_into_its_input_is_an_error_naming_the_argument():
    _torch()

    def scales_w_in_place(x, w, t):
        w.mul_(2.0)
        return torch_logistic(x, w / 2.0, t)

    verdict, message = _verdicts(_derivation(scales_w_in_place))["dJ/dw"]
    assert verdict == "error"
    assert "modifies its argument `w` in place" in message


def test_torch_code_declared_as_numpy_gets_a_hint_to_say_framework():
    _torch()
    verdict, message = _verdicts(_derivation(torch_logistic, framework="numpy"))["dJ/dw"]
    assert verdict == "error"
    assert "framework='torch'" in message
    assert "test_frameworks.py" in message  # the line in the user's file


# ---------------------------------------------------------------- rounding seen through the framework's hooks
@pytest.mark.parametrize("written_in", ["torch", "jax"])
def test_monte_carlo_arithmetic_sees_the_operations_of_torch_and_jax_code(written_in):
    from gradverify.mca import MonteCarloArithmetic

    code = {"torch": torch_logistic, "jax": jax_logistic}[written_in]
    (_torch if written_in == "torch" else _jnp)()
    x, w, t = (np.linspace(-1.0, 1.0, 4) + k for k in range(3))
    plain = framework(written_in).call(code, [x, w, t])
    mca = MonteCarloArithmetic(np.random.default_rng(0), 2.0**-53, 16.0)  # the default spread
    moved = framework(written_in).call(code, [mca.watch(x), mca.watch(w), mca.watch(t)])
    assert mca.seen > 3  # every multiply, exp, log1p, sum was perturbed
    assert 0 < abs(float(moved[0]) - float(plain[0])) < 1e-13 * abs(float(plain[0])) + 1e-15


# ---------------------------------------------------------------- gradcheck on torch and jax functions
def _least_squares_torch(W, v, t):
    import torch

    r = W @ v - t
    return 0.5 * torch.sum(r * r), torch.outer(r, v)


def _least_squares_jax(W, v, t):
    import jax.numpy as jnp

    r = W @ v - t
    return 0.5 * jnp.sum(r * r), jnp.outer(r, v)


def _problem(shape, written_in):
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s) for s in (shape, shape[1:], shape[:1])]
    if written_in == "torch":
        torch = _torch()
        return [torch.from_numpy(a) for a in arrays]
    _jnp()
    return arrays  # jax code on numpy arrays: detected from the code


@pytest.mark.parametrize("written_in", ["torch", "jax"])
@pytest.mark.parametrize("shape", [(4, 5), (300, 500)], ids=["entries", "directional"])
def test_gradcheck_on_torch_and_jax_code_passes_a_right_gradient_by_the_complex_step(shape, written_in):
    code = {"torch": _least_squares_torch, "jax": _least_squares_jax}[written_in]
    result = gradcheck(code, _problem(shape, written_in), wrt=(0,))
    assert result.ok, result.message
    assert (result.estimator, result.fallback) == ("complex-step", "")


@pytest.mark.parametrize("written_in", ["torch", "jax"])
@pytest.mark.parametrize("shape", [(4, 5), (300, 500)], ids=["entries", "directional"])
def test_gradcheck_on_torch_and_jax_code_finds_a_one_in_a_million_error_and_locates_it(shape, written_in):
    code = {"torch": _least_squares_torch, "jax": _least_squares_jax}[written_in]
    args = _problem(shape, written_in)
    bump = np.zeros(shape)
    bump[1, 2] = 1e-6 * float(abs(code(*args)[1]).max())  # (abs inside fn would stop the complex step)
    if written_in == "torch":
        bump = _torch().from_numpy(bump)

    def wrong(W, v, t):
        J, grad = code(W, v, t)
        return J, grad + bump

    result = gradcheck(wrong, args, wrt=(0,), framework=written_in)
    assert not result.ok
    assert [(e.argument, e.index) for e in result.located] == [(0, (1, 2))]


def _torch_softmax_loss(v_c, o, U):
    import torch

    s = U.T @ v_c
    e = torch.exp(s - torch.max(s))  # torch refuses max on complex numbers: central differences
    y = e / e.sum()
    d = y.clone()
    d[o] = d[o] - 1
    return -torch.log(y[o]), U @ d, torch.outer(v_c, d)


@pytest.mark.parametrize("mode", ["entries", "directional"])
def test_no_false_alarm_on_torch_code_when_the_model_is_sure(mode):
    """ŷ_o ≈ 1: the gradient is all cancellation, seen only by Monte Carlo arithmetic on torch's operations."""
    torch = _torch()
    rng, passes = np.random.default_rng(1), 0
    for trial in range(24):
        d, V, scale = int(rng.integers(1, 6)), int(rng.integers(2, 8)), (0.1, 1.0, 3.0, 10.0)[trial % 4]
        U, v_c = rng.normal(size=(d, V)) * scale, rng.normal(size=d) * scale
        o = int(np.argmax(U.T @ v_c))
        result = gradcheck(_torch_softmax_loss, (torch.from_numpy(v_c), o, torch.from_numpy(U)), wrt=(0, 2),
                           mode=mode)
        # no false alarm: a pass, or, where p_o rounds to 1 and the whole gradient is below rounding,
        # inconclusive (resolution ≥ 1: a sign flip there would pass too), never a wrong entry
        assert result.ok or result.inconclusive and not result.located, (trial, result.message)
        passes += result.ok
        assert "torch max refused a complex tensor" in result.fallback
    assert passes >= 10, passes


def test_a_flipped_sign_in_torch_softmax_code_is_found_with_central_differences():
    torch = _torch()
    rng = np.random.default_rng(2)
    U, v_c = rng.normal(size=(3, 5)), rng.normal(size=3)

    def flipped(v_c, o, U):
        J, g_v, g_U = _torch_softmax_loss(v_c, o, U)
        return J, -g_v, g_U

    result = gradcheck(flipped, (torch.from_numpy(v_c), 1, torch.from_numpy(U)), wrt=(0, 2))
    assert not result.ok and result.estimator == "central"
    assert result.located[0].argument == 0


@pytest.mark.parametrize("written_in, body, refused", [
    pytest.param("torch", "torch.sum(torch.abs(x) * x)", "torch abs", id="torch-abs"),
    pytest.param("torch", "torch.sum(x.real * x)", "torch real", id="torch-real"),
    pytest.param("torch", "torch.sum(x.conj() * x)", "torch conj", id="torch-conj"),
    pytest.param("torch", "torch.sum(torch.where(x > 0, x, -x) * x)", "torch gt", id="torch-comparison"),
    pytest.param("torch", "torch.linalg.vecdot(x, x)", "torch linalg_vecdot", id="torch-vecdot"),
    pytest.param("torch", "torch.sum(x.conj_physical() * x)", "torch conj_physical", id="torch-conj-physical"),
    pytest.param("torch", "(lambda y: (y.__setitem__(slice(None), x * x), torch.sum(y))[1])"
                          "(torch.zeros(x.shape[0], dtype=torch.float64))", "torch __setitem__",
                 id="torch-write-into-a-real-tensor"),
    pytest.param("torch", "torch.sum(torch.from_numpy(x.numpy()) * x)", "torch numpy", id="torch-numpy"),
    pytest.param("torch", "torch.sum(torch.tensor(x.tolist(), dtype=x.dtype) * x)", "torch tolist",
                 id="torch-tolist"),
    pytest.param("jax", "jnp.sum(jnp.abs(x) * x)", "jax abs", id="jax-abs"),
    pytest.param("jax", "jnp.vdot(x, x)", "jax conj", id="jax-vdot"),
    pytest.param("jax", "jnp.sum(jnp.sort(x) * x)", "jax sort", id="jax-sort"),
])
def test_the_complex_step_guard_refuses_what_is_not_analytic_and_central_differences_decide(written_in, body,
                                                                                              refused):
    module = _torch() if written_in == "torch" else _jnp()
    name = "torch" if written_in == "torch" else "jnp"
    namespace = {name: module}
    # the claimed gradient of x ↦ Σ |x|·x is 2|x|; of Σ x·x (real part, conj, vdot, sort of sorted x) 2x
    exec(f"def f(x):\n    return {body}, 2 * x\n", namespace)
    x = np.linspace(0.5, 2.0, 6)  # positive: every body is Σ x² here, and its gradient is 2x
    args = (module.from_numpy(x),) if written_in == "torch" else (x,)
    right = gradcheck(namespace["f"], args)
    assert right.ok, right.message
    assert right.estimator == "central" and refused in right.fallback
    exec(f"def g(x):\n    return {body}, 2 * x + 1e-3\n", namespace)
    assert not gradcheck(namespace["g"], args).ok


def test_forcing_the_complex_step_on_torch_code_it_cannot_run_is_a_clear_error():
    torch = _torch()
    with pytest.raises(InvalidArgument, match="torch abs"):
        gradcheck(lambda x: (torch.sum(torch.abs(x)), torch.sign(x)), (torch.ones(3, dtype=torch.float64),),
                  estimator="complex-step")


def test_gradcheck_refuses_an_unknown_framework():
    with pytest.raises(InvalidArgument, match="framework='mxnet'"):
        gradcheck(lambda x: (np.sum(x * x), 2 * x), (np.ones(3),), framework="mxnet")


def test_gradverify_imports_neither_torch_nor_jax_until_code_written_in_them_is_checked():
    import subprocess

    probe = ("import sys, numpy as np, gradverify; "
             "gradverify.gradcheck(lambda x: (np.sum(x * x), 2 * x), (np.ones(3),)); "
             "print(sorted(m for m in ('torch', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- code whose arithmetic no hook sees
def _tanh_sum_in_python_floats(shift):
    import math

    def tanh_sum(x):
        xs = [float(v) for v in np.asarray(x, dtype=float)]  # Python floats: no operation to watch
        return sum(math.tanh(v) for v in xs), np.array([1 - math.tanh(v) ** 2 + shift for v in xs])
    return tanh_sum


def test_hidden_arithmetic_gets_its_rounding_from_one_ulp_input_moves_so_no_false_alarm():
    """Σ tanh over a symmetric x is ≈ 0, so a rounding bound from |f| is ≈ 0; the central
    differences' real rounding (3600× that) is seen by moving the inputs one ulp."""
    result = gradcheck(_tanh_sum_in_python_floats(0.0), (np.linspace(-1.0, 1.0, 50),))
    assert result.ok, result.message
    assert result.estimator == "central"


def test_hidden_arithmetic_with_a_wrong_gradient_still_fails():
    result = gradcheck(_tanh_sum_in_python_floats(1e-6), (np.linspace(-1.0, 1.0, 50),))
    assert not result.ok


# ---------------------------------------------------------------- a library function that is not the math
def _softplus_derivation(code):
    return Derivation(
        id="softplus", title="Σ softplus(z)", dims={"n": (1, 3)}, variables={"z": Real("n", domain=(20.5, 30.0))},
        function=lambda s: sum(sp.log(1 + sp.exp(s.z[i])) for i in range(s.n)),
        claims=[Claim("dJ/dz", lambda s: s.z.applyfunc(lambda v: 1 / (1 + sp.exp(-v))), output="g", wrt="z")],
        implementation=Implementation(code, args=("z",), returns=("J", "g")))


def test_torch_softplus_above_its_threshold_is_not_the_function_and_agreement_says_so():
    """torch.nn.functional.softplus(z) returns z itself for z > 20 (its threshold): off
    log(1 + e^z) by up to 2e-9, far beyond float64's rounding. The gradient is right (the
    finite differences of the code pass); the code's value is not the spec's."""
    torch = _torch()

    def torch_softplus(z):
        return torch.nn.functional.softplus(z).sum(), torch.sigmoid(z)

    def exact_softplus(z):
        return torch.logaddexp(torch.zeros_like(z), z).sum(), torch.sigmoid(z)

    row = by_claim(check_derivation(_softplus_derivation(torch_softplus), FAST))["dJ/dz"]
    assert row.verdict.value == "refuted"
    assert row.checks["finite_difference"].status.value == "pass"
    assert "the implementation's value J" in row.checks["agreement"].detail
    assert _verdicts(_softplus_derivation(exact_softplus))["dJ/dz"][0] == "holds"


def test_a_sparse_tensor_argument_is_refused_with_the_fix_and_a_sparse_gradient_is_read_densely():
    torch = _torch()
    dense = torch.tensor([[0.0, 2.0], [3.0, 0.0]], dtype=torch.float64)
    with pytest.raises(InvalidArgument, match=r"dense tensors in args.*to_dense"):
        gradcheck(lambda W: (torch.sum(W * W), 2 * W), (dense.to_sparse(),))
    result = gradcheck(lambda W: (torch.sum(W * W), (2 * W).to_sparse()), (dense,))
    assert result.ok, result.message


def test_jax_code_taking_a_list_of_indices_is_still_watched_by_monte_carlo_arithmetic():
    """Indices arrive as a Python list: they stay Python values while the program is traced."""
    jnp = _jnp()
    from gradverify.mca import MonteCarloArithmetic

    def code(U, v, idx):
        return jnp.sum(jnp.exp(U[:, idx].T @ v)), None

    U, v = np.linspace(0.1, 1.5, 15).reshape(3, 5), np.linspace(-1.0, 1.0, 3)
    mca = MonteCarloArithmetic(np.random.default_rng(0), 2.0**-53, 16.0)
    framework("jax").call(code, [mca.watch(U), mca.watch(v), [0, 2, 2]])
    assert mca.seen >= 3


# ---------------------------------------------------------------- found in review: what the boundary must not do
def _square(code):
    return Derivation(
        id="square", title="½‖x‖²", dims={"d": (2, 4)}, variables={"x": Real("d")},
        function=lambda s: sum(s.x[i] ** 2 for i in range(s.d)) / 2,
        claims=[Claim("dJ/dx", lambda s: s.x, output="g", wrt="x")],
        implementation=Implementation(code, args=("x",), returns=("J", "g")))


@pytest.mark.parametrize("conversion", ["double", "contiguous", "cpu", "to", "requires_grad"])
def test_torch_methods_that_return_their_input_are_no_write_into_it(conversion):
    """x.double() on a float64 tensor is x itself: Monte Carlo arithmetic must not perturb it in
    place (the caller's array would change: "modifies its argument"), nor a leaf autograd owns."""
    torch = _torch()

    def code(x):
        if conversion == "requires_grad":  # the user's own autograd inside fn
            x = x.clone().requires_grad_()
            J = 0.5 * torch.sum(x * x)
            J.backward()
            return J.detach(), x.grad
        x = {"double": x.double, "contiguous": x.contiguous, "cpu": x.cpu,
             "to": lambda: x.to(torch.float64)}[conversion]()
        return 0.5 * torch.sum(x * x), x

    assert _verdicts(_square(code))["dJ/dx"] == ("holds", "")

    def wrong(x):
        J, g = code(x)
        return J, 2 * g

    assert _verdicts(_square(wrong))["dJ/dx"][0] == "refuted"


def test_torch_in_place_arithmetic_is_still_perturbed_in_place():
    torch = _torch()
    from gradverify.mca import MonteCarloArithmetic

    def code(x):
        y = x * 3.0
        y.mul_(1.0 / 3.0)  # y is x again, up to rounding
        return torch.sum(y), y

    mca = MonteCarloArithmetic(np.random.default_rng(0), 2.0**-53, 16.0)
    x = np.linspace(0.5, 1.5, 6)
    framework("torch").call(code, [mca.watch(x)])
    assert mca.seen >= 3  # the multiply, the in-place multiply and the sum


def test_numpy_code_returning_a_namedtuple_is_read_as_its_outputs():
    from collections import namedtuple

    Out = namedtuple("Out", "J g")
    assert _verdicts(_square(lambda x: Out(0.5 * x @ x, x)))["dJ/dx"] == ("holds", "")
    assert _verdicts(_square(lambda x: Out(0.5 * x @ x, -x)))["dJ/dx"][0] == "refuted"


def test_jax_loops_are_perturbed_at_the_size_of_their_inputs():
    """A fori_loop runs its body natively: 1 − σ(z) inside it cancels as outside, and the rounding
    measured must show it (else agreement would be a false alarm)."""
    jnp = _jnp()
    import jax
    from gradverify.mca import MonteCarloArithmetic

    def looped(z):
        return jax.lax.fori_loop(0, 1, lambda i, acc: acc + (1.0 - 1.0 / (1.0 + jnp.exp(-z))), jnp.zeros_like(z))

    z = np.array([20.0, 25.0])
    outs = []
    for seed in range(6):
        mca = MonteCarloArithmetic(np.random.default_rng(seed), 2.0**-53, 16.0)
        outs.append(np.asarray(framework("jax").call(looped, [mca.watch(z.copy())])))
    outs = np.array(outs)
    spread = (outs.max(0) - outs.min(0)) / np.abs(outs.mean(0))
    assert np.all(spread > 1e-7)  # numpy's own code of it spreads 1.6e-6 and 1.7e-4


def test_jax_code_is_run_as_it_was_traced_so_a_pinned_random_mask_is_one_mask():
    """Tracing calls fn; calling it again would draw another mask from np.random than the one
    checked. A right gradient passes by the complex step; fn runs once per evaluation."""
    jnp = _jnp()
    calls = []

    def masked(x):
        calls.append(1)
        m = jnp.asarray(np.random.rand(x.shape[0]) < 0.5, dtype=x.dtype)
        return jnp.sum(m * x ** 2), 2 * m * x

    x = np.linspace(0.5, 1.5, 2000)  # float64 (a jnp array made here, outside 64-bit mode, is float32)
    result = gradcheck(masked, [x])
    assert result.ok and result.estimator == "complex-step", result.message or result.fallback
    assert len(calls) == result.evaluations

    def wrong(x):
        J, g = masked(x)
        return J, g + 1e-4

    assert not gradcheck(wrong, [x]).ok
