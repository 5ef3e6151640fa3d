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
    e = torch.exp(s - torch.max(s))  # torch refuses max on complex numbers; the guard takes it by real part
    y = e / e.sum()
    d = y.clone()
    d[o] = d[o] - 1
    return -torch.log(y[o]), U @ d, torch.outer(v_c, d)


@pytest.mark.parametrize("estimator", ["auto", "central"])
@pytest.mark.parametrize("mode", ["entries", "directional"])
def test_no_false_alarm_on_torch_code_when_the_model_is_sure(mode, estimator):
    """ŷ_o ≈ 1: the gradient is all cancellation, seen only by Monte Carlo arithmetic on torch's operations
    (central differences, forced). auto takes the complex step through torch.max (by real part), but where
    the model is surest the claimed gradient is cancellation (y_o − 1) and the complex step, more exact
    than the claim, fails its tolerance: it is then compared with central differences, and where the two
    disagree (1e-57 against 0) central differences decide (15 of these 24 go by the complex step)."""
    torch = _torch()
    rng, passes, estimators = np.random.default_rng(1), 0, []
    for trial in range(24):
        d, V, scale = int(rng.integers(1, 6)), int(rng.integers(2, 8)), (0.1, 1.0, 3.0, 10.0)[trial % 4]
        U, v_c = rng.normal(size=(d, V)) * scale, rng.normal(size=d) * scale
        o = int(np.argmax(U.T @ v_c))
        result = gradcheck(_torch_softmax_loss, (torch.from_numpy(v_c), o, torch.from_numpy(U)), wrt=(0, 2),
                           mode=mode, estimator=estimator)
        # no false alarm: a pass, or, where p_o rounds to 1 and the whole gradient is below rounding,
        # inconclusive (resolution ≥ 1: a sign flip there would pass too), never a wrong entry
        assert result.ok or result.inconclusive and not result.located, (trial, result.message)
        passes += result.ok
        assert "torch max" not in result.fallback
        estimators.append(result.estimator)
    assert passes >= 10, passes
    assert set(estimators) == {"central"} if estimator == "central" else estimators.count("complex-step") >= 12


@pytest.mark.parametrize("estimator", ["auto", "central"])
def test_a_flipped_sign_in_torch_softmax_code_is_found_by_either_estimator(estimator):
    torch = _torch()
    rng = np.random.default_rng(2)
    U, v_c = rng.normal(size=(3, 5)), rng.normal(size=3)

    def flipped(v_c, o, U):
        J, g_v, g_U = _torch_softmax_loss(v_c, o, U)
        return J, -g_v, g_U

    result = gradcheck(flipped, (torch.from_numpy(v_c), 1, torch.from_numpy(U)), wrt=(0, 2), estimator=estimator)
    assert not result.ok and result.estimator == ("central" if estimator == "central" else "complex-step")
    assert result.located[0].argument == 0


@pytest.mark.parametrize("written_in, body, refused", [
    # |z| of the code's own complex numbers (1j·x) is the modulus (|x| by the real part runs: test_gradcheck_kinks)
    pytest.param("torch", "torch.sum(torch.abs(x * 1j) * x)", "torch abs", id="torch-abs-of-its-own-complex"),
    pytest.param("torch", "torch.sum(x.real * x)", "torch real", id="torch-real"),
    pytest.param("torch", "torch.sum(x.conj() * x)", "torch conj", id="torch-conj"),
    # torch.where(x > 0, x, -x) is |x| too, but it is piecewise analytic (non-analytic at 0 only): on these
    # positive x the guard now takes its comparison by real part, so the case that must be refused is a
    # the angle (arg z: no real number of the code's appears; the sign runs by the real part)
    pytest.param("torch", "torch.sum(torch.angle(x) + x * x)", "torch angle", id="torch-angle"),
    pytest.param("torch", "torch.linalg.vecdot(x, x)", "torch linalg_vecdot", id="torch-vecdot"),
    pytest.param("torch", "torch.sum(x.conj_physical() * x)", "torch conj_physical", id="torch-conj-physical"),
    # (a write into a real tensor: torch drops the imaginary part with a warning, and no warnings filter is set,
    # it being process-wide; the value comes back real, which says it)
    pytest.param("torch", "(lambda y: (y.__setitem__(slice(None), x * x), torch.sum(y))[1])"
                          "(torch.zeros(x.shape[0], dtype=torch.float64))", "the imaginary part was dropped",
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
    # the claimed gradient of x ↦ Σ |x|·x is 2|x|; of Σ x·x (real part, conj, vdot, sort of sorted x) 2x; of
    # Σ sign(x)·x² on positive x, 2x
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
    with pytest.raises(InvalidArgument, match="torch angle"):
        gradcheck(lambda x: (torch.sum(torch.angle(x) + x), torch.ones_like(x)), (torch.ones(3, dtype=torch.float64),),
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
    result = gradcheck(masked, [x], pin_rng=True)  # (it draws from np.random: seeded only when asked)
    assert result.ok and result.estimator == "complex-step", result.message or result.fallback
    assert len(calls) == result.evaluations

    def wrong(x):
        J, g = masked(x)
        return J, g + 1e-4

    assert not gradcheck(wrong, [x], pin_rng=True).ok


# ---------------------------------------------------------------- piecewise code (ReLU, max, clamp) by the complex step
def _relu_mlp(written_in, X, t, mistake=""):
    """A two-layer ReLU net's ½‖W2 relu(X W1ᵀ + b1) + b2 − t‖², its gradients for W1, b1, W2, b2 by hand;
    ``mistake``: "sign" (the hidden layer's gradient flipped), "mask" (as if the ReLU were linear)."""
    if written_in == "torch":
        torch = _torch()
        X, t = torch.from_numpy(X), torch.from_numpy(t)  # data the code holds: real tensors in a closure
        relu, mask = torch.relu, lambda d, a: d * (a > 0)
    else:
        _jnp()
        import jax
        import jax.numpy as jnp

        relu, mask = jax.nn.relu, lambda d, a: jnp.where(a > 0, d, 0.0)

    def mlp(W1, b1, W2, b2):
        a = X @ W1.T + b1
        hidden = relu(a)
        r = hidden @ W2.T + b2 - t
        d = r @ W2 if mistake == "mask" else mask(r @ W2, a)
        if mistake == "sign":
            d = -d
        return 0.5 * (r * r).sum(), d.T @ X, d.sum(0), r.T @ hidden, r.sum(0)
    return mlp


def _mlp_problem(written_in, n=20, inputs=50, hidden=100, outputs=50):
    """10 150 weights (W1 100 × 50, b1, W2 50 × 100, b2) in float64, and the data."""
    rng = np.random.default_rng(0)
    X, t = rng.normal(size=(n, inputs)), rng.normal(size=(n, outputs))
    params = [rng.normal(size=(hidden, inputs)) / np.sqrt(inputs), 0.1 * rng.normal(size=hidden),
              rng.normal(size=(outputs, hidden)) / np.sqrt(hidden), 0.1 * rng.normal(size=outputs)]
    if written_in == "torch":
        params = [_torch().from_numpy(p) for p in params]
    return X, t, params


@pytest.mark.parametrize("written_in", ["torch", "jax"])
def test_a_relu_net_passes_by_the_complex_step_with_a_resolution_below_1e_8(written_in):
    """torch refuses relu and comparisons on complex tensors, jax's comparisons read the imaginary part:
    the guards take them by real part (exact away from a tie). Before, central differences: 3.4e-6."""
    X, t, params = _mlp_problem(written_in)
    result = gradcheck(_relu_mlp(written_in, X, t), params)
    assert result.ok, result.message
    assert (result.estimator, result.fallback) == ("complex-step", "")
    assert result.resolution < 1e-8


@pytest.mark.parametrize("written_in", ["torch", "jax"])
@pytest.mark.parametrize("mistake", ["sign", "mask", "bias"])
def test_a_wrong_relu_net_gradient_fails_by_the_complex_step_and_is_located(written_in, mistake):
    X, t, params = _mlp_problem(written_in)
    right = _relu_mlp(written_in, X, t, mistake if mistake != "bias" else "")
    if mistake == "bias":  # one entry of ∂/∂b1 off by a millionth of the largest gradient entry
        bump = np.zeros(params[1].shape)
        bump[7] = 1e-6 * max(float(abs(g).max()) for g in right(*params)[1:])
        bump = _torch().from_numpy(bump) if written_in == "torch" else bump

        def code(W1, b1, W2, b2):
            J, g1, gb1, g2, gb2 = right(W1, b1, W2, b2)
            return J, g1, gb1 + bump, g2, gb2
    else:
        code = right
    result = gradcheck(code, params)
    assert not result.ok
    assert (result.estimator, result.fallback) == ("complex-step", "")
    located = [(e.argument, e.index) for e in result.located]
    if mistake == "bias":
        assert located == [(1, (7,))]
    else:  # every entry of ∂/∂W1 and ∂/∂b1 is wrong (or those of the active units): one is named
        assert located and located[0][0] in (0, 1)


@pytest.mark.parametrize("written_in", ["torch", "jax"])
def test_a_relu_input_exactly_at_its_kink_is_a_tie_and_the_complex_step_gives_way(written_in):
    """A zero input row and a zero bias: a pre-activation exactly 0, its imaginary part h·u ≠ 0 (the step
    would decide which side of the kink it is on). Refused, so central differences decide."""
    X, t, params = _mlp_problem(written_in)
    X[0] = 0.0
    params[1][3] = 0.0
    result = gradcheck(_relu_mlp(written_in, X, t), params)
    assert result.estimator == "central"
    assert f"{written_in} {'relu' if written_in == 'torch' else 'max'} at a tie" in result.fallback
    assert "exactly at the kink 0" in result.fallback or "equal real part" in result.fallback


def _max_pool(written_in):
    """Σ over rows of max_j W_ij; its gradient the one-hot of each row's argmax."""
    if written_in == "torch":
        torch = _torch()

        def pooled(W):
            values, where = torch.max(W, dim=1)
            return values.sum(), torch.zeros_like(W).scatter_(1, where[:, None], 1.0)
    else:
        jnp = _jnp()

        def pooled(W):
            return jnp.max(W, axis=1).sum(), (jnp.arange(W.shape[1]) == jnp.argmax(W, axis=1)[:, None]) * 1.0
    return pooled


@pytest.mark.parametrize("written_in", ["torch", "jax"])
def test_max_by_real_part_passes_and_two_equal_maxima_are_a_tie(written_in):
    W = np.random.default_rng(3).normal(size=(30, 20))
    arg = (lambda a: _torch().from_numpy(a.copy())) if written_in == "torch" else (lambda a: a.copy())
    result = gradcheck(_max_pool(written_in), (arg(W),))
    assert result.ok and (result.estimator, result.fallback) == ("complex-step", ""), result.message
    W[4, [2, 9]] = W[4].max() + 1.0  # two equal maxima in row 4, moved differently by the step
    result = gradcheck(_max_pool(written_in), (arg(W),))
    assert result.estimator == "central"
    assert "at a tie: 1 largest real part shared by several entries" in result.fallback


@pytest.mark.parametrize("written_in, body, grad", [
    pytest.param("torch", "torch.sum(torch.where(x > 0, x, -x) * x)", "2 * torch.where(x > 0, x, -x)",
                 id="torch-where-comparison"),
    pytest.param("torch", "torch.nn.functional.relu(x).sum()", "(x > 0).to(x.dtype)", id="torch-F.relu"),
    pytest.param("torch", "torch.nn.functional.leaky_relu(x, 0.1).sum()",
                 "torch.where(x > 0, torch.ones_like(x), 0.1 * torch.ones_like(x))", id="torch-leaky-relu"),
    pytest.param("torch", "torch.clamp(x, -1.0, 1.0).sum()", "((x > -1) & (x < 1)).to(x.dtype)", id="torch-clamp"),
    pytest.param("torch", "torch.nn.functional.hardtanh(x).sum()", "((x > -1) & (x < 1)).to(x.dtype)",
                 id="torch-hardtanh"),
    pytest.param("torch", "torch.nn.functional.threshold(x, 0.5, 0.0).sum()", "(x > 0.5).to(x.dtype)",
                 id="torch-threshold"),
    pytest.param("torch", "torch.nn.functional.elu(x).sum()",
                 "torch.where(x > 0, torch.ones_like(x), torch.exp(x))", id="torch-elu"),
    pytest.param("torch", "torch.maximum(x, 0.5 * x).sum()",
                 "torch.where(x > 0, torch.ones_like(x), 0.5 * torch.ones_like(x))", id="torch-maximum"),
    pytest.param("torch", "torch.amax(x) * 3.0", "3.0 * (x == torch.max(x)).to(x.dtype)", id="torch-amax"),
    pytest.param("jax", "jnp.sum(jax.nn.relu(x))", "(x > 0) * 1.0", id="jax-relu"),
    pytest.param("jax", "jnp.sum(jax.nn.leaky_relu(x, 0.1))", "jnp.where(x > 0, 1.0, 0.1)", id="jax-leaky-relu"),
    pytest.param("jax", "jnp.sum(jax.nn.hard_tanh(x))", "((x > -1) & (x < 1)) * 1.0", id="jax-hard-tanh"),
    pytest.param("jax", "jnp.sum(jnp.minimum(x, 0.5 * x))", "jnp.where(x > 0, 0.5, 1.0)", id="jax-minimum"),
    # lax.clamp takes no bounds of another dtype (-1.0 with complex x: jax refuses it while tracing), nor does
    # jnp.clip any complex number: bounds of x's own dtype
    pytest.param("jax", "jnp.sum(jax.lax.clamp(jnp.asarray(-1.0, x.dtype), x, jnp.asarray(1.0, x.dtype)))",
                 "((x > -1) & (x < 1)) * 1.0", id="jax-lax-clamp"),
    pytest.param("jax", "3.0 * jnp.max(x)", "3.0 * (jnp.arange(x.size) == jnp.argmax(x))", id="jax-max-argmax"),
])
def test_piecewise_operations_go_by_the_complex_step_and_a_wrong_gradient_fails(written_in, body, grad):
    module = _torch() if written_in == "torch" else _jnp()
    namespace = {"torch": module} if written_in == "torch" else {"jnp": module, "jax": __import__("jax")}
    exec(f"def f(x):\n    return {body}, {grad}\n", namespace)
    exec(f"def g(x):\n    return {body}, {grad} + 1e-6\n", namespace)
    x = np.linspace(-2.0, 2.0, 6)  # no entry at a kink (0, ±1, 0.5) or a tie
    args = (module.from_numpy(x),) if written_in == "torch" else (x,)
    right = gradcheck(namespace["f"], args)
    assert right.ok, right.message
    assert (right.estimator, right.fallback) == ("complex-step", "")
    wrong = gradcheck(namespace["g"], args)
    assert not wrong.ok and wrong.estimator == "complex-step"


def test_piecewise_jax_code_inside_a_loop_is_refused_as_its_ties_are_not_watched():
    _jnp()
    import jax
    import jax.numpy as jnp

    def looped(x):
        return jnp.sum(jax.lax.fori_loop(0, 2, lambda i, a: jax.nn.relu(a), x)), (x > 0) * 1.0

    result = gradcheck(looped, (np.linspace(-2.0, 2.0, 6),))
    assert result.ok and result.estimator == "central"
    assert "inside a loop or a branch" in result.fallback


def test_integer_tensors_reach_torch_code_as_tensors():
    """Labels given to gradcheck as an integer tensor come back to the code as one (not as a read-only
    numpy array torch warns about)."""
    torch = _torch()
    seen = []

    def loss(s, y):
        seen.append(type(y))
        p = torch.softmax(s, dim=1)  # by the complex step: the guard shifts by the largest real part
        d = p.clone()
        d[torch.arange(len(y)), y] -= 1
        return -torch.log(p[torch.arange(len(y)), y]).sum(), d

    s, y = torch.randn(4, 3, dtype=torch.float64), torch.tensor([0, 2, 1, 1])
    result = gradcheck(loss, (s, y), wrt=(0,))
    assert result.ok and result.estimator == "complex-step", (result.message, result.fallback)
    assert set(seen) == {torch.Tensor}
