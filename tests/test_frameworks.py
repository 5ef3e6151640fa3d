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


# ---------------------------------------------------------------- gradcheck on torch and jax functions
def _least_squares_torch(W, v, t):
    import torch

    r = W @ v - t
    return 0.5 * torch.sum(r * r), torch.outer(r, v)


@pytest.mark.parametrize("shape", [(4, 5), (300, 500)], ids=["entries", "directional"])
def test_gradcheck_takes_torch_tensors_and_passes_a_right_gradient(shape):
    torch = _torch()
    g = torch.Generator().manual_seed(0)
    W, v, t = (torch.randn(*s, generator=g, dtype=torch.float64) for s in (shape, shape[1:], shape[:1]))
    result = gradcheck(_least_squares_torch, (W, v, t), wrt=(0,))
    assert result.ok, result.message
    assert result.estimator == "central"


@pytest.mark.parametrize("shape", [(4, 5), (300, 500)], ids=["entries", "directional"])
def test_gradcheck_on_torch_code_fails_a_transposed_residual_and_locates_it(shape):
    torch = _torch()
    g = torch.Generator().manual_seed(0)
    W, v, t = (torch.randn(*s, generator=g, dtype=torch.float64) for s in (shape, shape[1:], shape[:1]))

    def wrong(W, v, t):
        J, grad = _least_squares_torch(W, v, t)
        grad = grad.clone()
        grad[1, 2] += 0.1 * float(grad.abs().max())
        return J, grad

    result = gradcheck(wrong, (W, v, t), wrt=(0,))
    assert not result.ok
    assert [(e.argument, e.index) for e in result.located] == [(0, (1, 2))]


def test_gradcheck_takes_jax_code_on_numpy_arrays_and_keeps_float64():
    jnp = _jnp()
    x = np.linspace(-1.0, 1.0, 50)
    right = gradcheck(lambda x: (jnp.sum(jnp.tanh(x)), 1 - jnp.tanh(x) ** 2), (x,))
    wrong = gradcheck(lambda x: (jnp.sum(jnp.tanh(x)), 1 + jnp.tanh(x) ** 2), (x,))
    assert right.ok, right.message
    assert not wrong.ok


def test_gradcheck_refuses_the_complex_step_for_torch_code():
    torch = _torch()
    with pytest.raises(InvalidArgument, match="estimator 'central' or 'auto' for code written in torch"):
        gradcheck(lambda x: (torch.sum(x * x), 2 * x), (torch.ones(3, dtype=torch.float64),),
                  estimator="complex-step")


def test_gradcheck_refuses_an_unknown_framework():
    with pytest.raises(InvalidArgument, match="framework='mxnet'"):
        gradcheck(lambda x: (np.sum(x * x), 2 * x), (np.ones(3),), framework="mxnet")
