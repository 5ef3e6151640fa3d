"""The five losses of the torch and jax catalogue, declared once: the specs are the numpy
catalogue's; each framework's file gives only its code (a factory per loss, called with the
planted mistake's switch) and gets the ten derivations, right and planted wrong, back by id."""

import batch_norm as bn
import huber
import logistic
import relu_two_layer as net
import softmax_ce as ce
from gradverify import Claim, Derivation, Implementation, Index, Real

__all__ = ["declare"]


def _softmax_ce(lib, code):
    return {f"{lib}-softmax-ce{suffix}": Derivation(
        id=f"{lib}-softmax-ce{suffix}", title=f"softmax classifier, cross-entropy ({lib})",
        citation="catalogue: softmax classifier", dims={"C": (2, 4), "D": (1, 3)},
        variables={"W": Real("C", "D"), "x": Real("D"), "y": Index("C")}, function=ce.L,
        claims=[Claim("∂L/∂W", lambda s, k=sign: ce.grad(s, k), output="grad_W", wrt="W")],
        implementation=Implementation(code(sign), args=("W", "x", "y"), returns=("L", "grad_W")),
        symbolic_sizes=[{"C": 3, "D": 2}, {"C": 2, "D": 4}])
        for suffix, sign in (("", 1), ("-sign-flipped", -1))}


def _relu_net(lib, code):
    return {f"{lib}-relu-net{suffix}": Derivation(
        id=f"{lib}-relu-net{suffix}", title=f"two-layer ReLU net ({lib})", citation="catalogue: two-layer net",
        dims={"n": (1, 3), "h": (1, 3), "m": (1, 2)},
        variables={"W1": Real("h", "n"), "b1": Real("h"), "W2": Real("m", "h"), "x": Real("n"), "t": Real("m")},
        function=net.L,
        claims=[Claim("∂L/∂W1", lambda s, k=masked: net.delta(s, k) * s.x.T, output="grad_W1", wrt="W1"),
                Claim("∂L/∂b1", lambda s, k=masked: net.delta(s, k), output="grad_b1", wrt="b1")],
        implementation=Implementation(code(masked), args=("W1", "b1", "W2", "x", "t"),
                                      returns=("L", "grad_W1", "grad_b1")),
        symbolic_sizes=[{"n": 2, "h": 3, "m": 1}])
        for suffix, masked in (("", True), ("-mask-missing", False))}


def _batch_norm(lib, code, wrong_suffix, framework):
    return {f"{lib}-batch-norm{suffix}": Derivation(
        id=f"{lib}-batch-norm{suffix}", title=f"batch norm ({lib})", citation="catalogue: batch norm",
        dims={"N": (2, 3), "D": (1, 2)}, variables={"x": Real("N", "D"), "dout": Real("N", "D")}, function=bn.J,
        claims=[Claim("∂J/∂x", bn.grad, output="dx", wrt="x")],
        implementation=Implementation(code(wrong), args=("x", "dout"), returns=("J", "dx"), framework=framework),
        symbolic_sizes=[{"N": 2, "D": 1}, {"N": 3, "D": 2}])
        for suffix, wrong in (("", False), (wrong_suffix, True))}


def _logistic(lib, code):
    return {f"{lib}-logistic{suffix}": Derivation(
        id=f"{lib}-logistic{suffix}", title=f"logistic regression ({lib})", citation="catalogue: logistic regression",
        dims={"N": (1, 3), "D": (1, 3)}, variables={"X": Real("N", "D"), "w": Real("D"), "t": Real("N")},
        function=logistic.L, claims=[Claim("∂L/∂w", claim, output="grad_w", wrt="w")],
        implementation=Implementation(code(with_sigma), args=("X", "w", "t"), returns=("L", "grad_w")))
        for suffix, claim, with_sigma in (("", logistic.right, True), ("-no-sigma", logistic.no_sigma, False))}


def _huber(lib, code):
    return {f"{lib}-huber{suffix}": Derivation(
        id=f"{lib}-huber{suffix}", title=f"Huber loss ({lib})", citation="catalogue: Huber",
        dims={"n": (1, 4)}, variables={"x": Real("n"), "t": Real("n")}, function=huber.J,
        claims=[Claim("∂J/∂x", claim, output="grad_x", wrt="x")],
        implementation=Implementation(code(clipped), args=("x", "t"), returns=("J", "grad_x")))
        for suffix, claim, clipped in (("", huber.right, True), ("-wrong-outside", huber.outside_wrong, False))}


def declare(lib, *, softmax_ce, relu_net, batch_norm, batch_norm_wrong, logistic_loss, huber_loss,
            framework=None) -> dict:
    """{id: Derivation} for the ten entries of ``lib``'s catalogue file. Each code factory takes the
    switch of its planted mistake (sign, masked, the batch-norm slip, σ, clipped); ``framework``
    is said for batch norm (the others are detected), so both ways are covered."""
    return {**_softmax_ce(lib, softmax_ce), **_relu_net(lib, relu_net),
            **_batch_norm(lib, batch_norm, batch_norm_wrong, framework),
            **_logistic(lib, logistic_loss), **_huber(lib, huber_loss)}
