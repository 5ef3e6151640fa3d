"""A layer's backward pass, checked as written: ``out, cache = forward(*args)``,
``grads = backward(dout, cache)``.

The layer is reduced to the scalar check (`gradcheck`): ``dout`` is drawn once (never-small
random weights, |w| in [½, 1] with random signs, from a local generator seeded by ``seed``),
and the scalar J = Σ dout ⊙ out has the gradients backward(dout, cache) returns. Every
direction then costs one forward and one backward, as a scalar loss does, and a wrong entry is
named by the layer's argument it belongs to.

Before the check, one forward and one backward on copies say what the scalar check could not
name: a backward that writes into ``dout`` or into the cache (a CS231n ``dx = dout;
dx[x <= 0] = 0``), a backward that returns too few gradients or gradients of the wrong shape.

The same reduction checks a vector–Jacobian product (``vjp(v, *args)``: the cache is the
arguments) and a Hessian–vector product (``hvp(v, *args)``: the vjp of the gradient code, as
torch's ``gradgradcheck`` checks second derivatives through the first).
"""

from __future__ import annotations

import copy
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..errors import InvalidArgument
from .results import GradcheckError, GradcheckResult
from .scalar import check_scalar

__all__ = ["check_layer", "check_vjp", "check_hvp", "never_small", "argument_name"]

#: the smallest |dout| entry: a weight near 0 would let the check miss an output's contribution
#: (its error scaled by the weight), so dout's entries are ½ ≤ |w| ≤ 1, random signs
DOUT_SMALLEST = 0.5
#: the stream of the local generator that draws dout (apart from the directions' stream of ``seed``)
_DOUT_STREAM = 22


def never_small(rng: np.random.Generator, shape: tuple, dtype=np.float64) -> np.ndarray:
    """Weights with ½ ≤ |w| ≤ 1 and random signs (a cotangent, a projection on the output side)."""
    magnitude = rng.uniform(DOUT_SMALLEST, 1.0, size=shape)
    signs = rng.choice(np.array([-1.0, 1.0]), size=shape)
    return np.asarray(magnitude * signs, dtype=dtype)


def weights_rng(seed: int) -> np.random.Generator:
    """The local generator of dout and output-side projections (never the global one)."""
    return np.random.default_rng([seed, _DOUT_STREAM])


def argument_name(fn: Callable, i: int) -> str:
    """``"w (args[1])"`` when fn's i-th parameter has a name, else ``"args[1]"``."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    if i < len(params) and params[i].kind in (params[i].POSITIONAL_ONLY, params[i].POSITIONAL_OR_KEYWORD):
        return f"{params[i].name} (args[{i}])"
    return f"args[{i}]"


@dataclass(frozen=True)
class _Roles:
    """How the parts are called in messages."""

    forward: str = "forward"
    backward: str = "backward"
    cotangent: str = "dout"
    cache: str = "cache"
    #: what backward's outputs are called in messages
    returns: str = "gradient"


def _as_list(values, count: int, what: str, wrt: list) -> list:
    if count == 1 and not isinstance(values, (tuple, list)):
        return [values]
    if not isinstance(values, (tuple, list)) or len(values) != count:
        got = f"{len(values)} values" if isinstance(values, (tuple, list)) else f"one {type(values).__name__}"
        raise InvalidArgument(f"{what} to return {count} gradient{'s' if count != 1 else ''}, one per wrt "
                              f"argument {tuple(wrt)} in order", got,
                              "wrt lists the arguments whose gradients it returns (left out: every float array in "
                              "args, in order); pass wrt= to match what it returns.")
    return list(values)


def _arrays_in(obj, path: str, depth: int = 3):
    """(path, array) for the numpy arrays in a cache: tuples, lists, dicts, objects' attributes."""
    if isinstance(obj, np.ndarray):
        yield path, obj
    elif depth <= 0:
        return
    elif isinstance(obj, (tuple, list)):
        for k, v in enumerate(obj):
            yield from _arrays_in(v, f"{path}[{k}]", depth - 1)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _arrays_in(v, f"{path}[{k!r}]", depth - 1)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        for k, v in vars(obj).items():
            yield from _arrays_in(v, f"{path}.{k}", depth - 1)


def _changed_at(before: np.ndarray, after: np.ndarray) -> str:
    if before.shape != after.shape:
        return f"its shape changed from {before.shape} to {after.shape}"
    differ = ~((before == after) | (np.isnan(before) & np.isnan(after))) if before.dtype.kind in "fc" \
        else before != after
    idx = tuple(int(i) for i in np.argwhere(differ)[0])
    return f"at {idx} it held {float(before[idx]):.12g}, then {float(after[idx]):.12g}"


class _Layer:
    """forward and backward as one scalar function of args: J = Σ dout ⊙ out, grads from backward."""

    def __init__(self, forward, backward, args: list, wrt: list, seed: int, roles: _Roles, split):
        self.forward, self.backward, self.args, self.wrt, self.roles = forward, backward, args, wrt, roles
        self.split = split  # forward's result -> (list of outputs, cache)
        self.seed = seed
        self.douts: list | None = None

    def preflight(self) -> str:
        """One forward and one backward on copies: dout drawn for the outputs' shapes, the
        gradients' count and shapes validated (InvalidArgument); returns what an in-place write
        into dout, the cache or an argument showed ("" when none)."""
        copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else copy.deepcopy(a) for a in self.args]
        outs, cache, written = self._forward_once(copies)
        if written:
            return written
        self.douts = self._draw_douts(outs)
        snapshot = [(p, np.array(a, copy=True), a) for p, a in _arrays_in(cache, self.roles.cache)]
        given = [np.array(d, copy=True) for d in self.douts]
        grads = self._backward_once(given, cache)
        written = self._written_dout(given) or self._written_cache(snapshot, copies)
        if written:
            return written
        self._check_shapes(grads)
        return ""

    def _forward_once(self, copies: list) -> tuple:
        """forward on ``copies``: (outputs, cache, what it wrote into an argument or "")."""
        r = self.roles
        kept = [np.array(a, copy=True) if isinstance(a, np.ndarray) else None for a in copies]
        try:
            outs, cache = self.split(self.forward(*copies), copies)
        except InvalidArgument:
            raise
        except Exception as exc:  # the user's code: say which part failed, before the check starts
            raise InvalidArgument(f"a {r.forward} that runs on the arguments given", f"{type(exc).__name__}: {exc}",
                                  f"Call {r.forward}(*args) yourself first.") from exc
        for i, (a, k) in enumerate(zip(copies, kept)):
            if k is not None and not np.array_equal(a, k, equal_nan=True):
                return outs, cache, (f"{r.forward} modifies its argument {argument_name(self.forward, i)} in place "
                                     f"({_changed_at(k, a)}); gradcheck never changes yours. Work on a copy "
                                     f"(x = x.copy()).")
        return outs, cache, ""

    def _draw_douts(self, outs: list) -> list:
        """A read-only cotangent per float output, its weights never small (`never_small`)."""
        rng = weights_rng(self.seed)
        douts = []
        for k, out in enumerate(outs):
            if not isinstance(out, (np.ndarray, np.generic, float)) or np.asarray(out).dtype.kind != "f":
                raise InvalidArgument(f"{self.roles.forward}'s output as a float numpy array",
                                      f"output {k} of type {type(out).__name__}"
                                      + (f" and dtype {np.asarray(out).dtype}" if hasattr(out, "dtype") else ""))
            dtype = np.asarray(out).dtype if np.asarray(out).dtype == np.float32 else np.float64
            d = never_small(rng, np.shape(out), dtype)
            d.flags.writeable = False
            douts.append(d)
        return douts

    def _backward_once(self, given: list, cache) -> list:
        r = self.roles
        try:
            return self._call_backward(given, cache)
        except InvalidArgument:
            raise
        except Exception as exc:
            raise InvalidArgument(f"a {r.backward} that runs on ({r.cotangent}, {r.cache})",
                                  f"{type(exc).__name__}: {exc}",
                                  f"Call {r.backward}({r.cotangent}, {r.cache}) yourself first, with "
                                  f"{r.cotangent} of the output's shape.") from exc

    def _written_dout(self, given: list) -> str:
        r = self.roles
        for k, (d, g) in enumerate(zip(self.douts, given)):
            if not np.array_equal(d, g):
                which = r.cotangent if len(given) == 1 else f"{r.cotangent}[{k}]"
                return (f"{r.backward} writes into {which} in place ({_changed_at(d, g)}): the caller's upstream "
                        f"gradient changes (dx = {r.cotangent}; dx[mask] = 0 aliases it). Copy first: "
                        f"dx = {r.cotangent}.copy(), or dx = {r.cotangent} * mask.")
        return ""

    def _written_cache(self, snapshot: list, copies: list) -> str:
        r = self.roles
        for path, before, now in snapshot:
            if not np.array_equal(before, now, equal_nan=True) or before.shape != now.shape:
                alias = next((f", which is {argument_name(self.forward, i)}" for i, a in enumerate(copies)
                              if isinstance(a, np.ndarray) and np.may_share_memory(a, now)), "")
                return (f"{r.backward} writes into its {r.cache} in place: {path}{alias} ({_changed_at(before, now)}). "
                        f"A second {r.backward} from the same {r.forward} sees other numbers"
                        + (", and the caller's array changes" if alias else "")
                        + ". Copy before writing (a = a.copy()).")
        return ""

    def _check_shapes(self, grads: list) -> None:
        r = self.roles
        for g, i in zip(grads, self.wrt):
            if np.shape(g) != self.args[i].shape:
                raise InvalidArgument(f"{r.backward}'s gradient for {argument_name(self.forward, i)} with its shape "
                                      f"{self.args[i].shape}", f"shape {np.shape(g)}",
                                      f"{r.backward} returns one gradient per wrt argument {tuple(self.wrt)}, "
                                      f"in order.")

    def _call_backward(self, douts, cache) -> list:
        d = douts[0] if len(douts) == 1 else tuple(douts)
        return _as_list(self.backward(d, cache), len(self.wrt), self.roles.backward, self.wrt)

    def __call__(self, *args):
        outs, cache = self.split(self.forward(*args), args)
        value = sum(np.sum(d * o) for d, o in zip(self.douts, outs))
        return (value, *self._call_backward(self.douts, cache))


def _layer_split(result, args):
    """forward's result: ``out`` (the cache is then args) or ``(out, cache)``."""
    if isinstance(result, tuple) and len(result) == 2:
        return [result[0]], result[1]
    if isinstance(result, (tuple, list)):
        raise InvalidArgument("forward to return out or (out, cache)", f"a {type(result).__name__} of {len(result)}",
                              "Return the layer's output, or the output and what backward needs.")
    return [result], tuple(args)


def _run(layer: _Layer, args: list, wrt: list, options: dict, what: str, raise_exception: bool) -> GradcheckResult:
    t0 = time.perf_counter()
    problem = layer.preflight()
    if problem:  # (one forward and one backward were called)
        result = GradcheckResult(False, options.get("mode", "auto"), "none", float("inf"), 1, time.perf_counter() - t0,
                                 problem)
    else:
        result = check_scalar(layer, args, wrt, **options)
        result = _named(result, layer, what)
    if raise_exception and not result.ok:
        raise GradcheckError(result)
    return result


def _named(result: GradcheckResult, layer: _Layer, what: str) -> GradcheckResult:
    """The scalar check's message said in the layer's terms: which argument's gradient, which output."""
    if result.ok:
        return result
    r = layer.roles
    head = f"{what}: "
    if result.located:
        e = result.located[0]
        slot = layer.wrt.index(e.argument) if e.argument in layer.wrt else None
        nth = f", {r.backward}'s output {slot} of {len(layer.wrt)}" if slot is not None and len(layer.wrt) > 1 else ""
        head += (f"{r.backward}'s {r.returns} for {argument_name(layer.forward, e.argument)}{nth} is wrong at index "
                 f"{e.index}: claimed {e.claimed:.12g}, estimate {e.estimate:.12g}. ")
    message = result.message.replace("fn modifies", f"{r.forward} or {r.backward} modifies")
    return replace(result, message=head + message)


def check_layer(forward: Callable, args: list, wrt: list, backward: Callable, options: dict,
                raise_exception: bool) -> GradcheckResult:
    """``gradcheck(forward, args, backward=backward)``."""
    layer = _Layer(forward, backward, args, wrt, options["seed"], _Roles(), _layer_split)
    return _run(layer, args, wrt, options, "layer (J = Σ dout ⊙ out, gradients from backward(dout, cache))",
                raise_exception)


def check_vjp(fn: Callable, args: list, wrt: list, vjp: Callable, options: dict,
              raise_exception: bool) -> GradcheckResult:
    """``gradcheck(fn, args, vjp=vjp)``: ``vjp(v, *args)`` returns vᵀ ∂y/∂args[i] for each i in wrt."""
    roles = _Roles(forward="fn", backward="vjp", cotangent="v", cache="args", returns="vᵀJ")
    layer = _Layer(fn, lambda v, cache: vjp(v, *cache), args, wrt, options["seed"], roles,
                   lambda y, a: ([y], tuple(a)))
    return _run(layer, args, wrt, options, "vjp (vᵀy with gradients vjp(v, *args))", raise_exception)


def check_hvp(fn: Callable, args: list, wrt: list, hvp: Callable, options: dict,
              raise_exception: bool) -> GradcheckResult:
    """``gradcheck(fn, args, hvp=hvp)``: fn returns (value, grads...) as for gradcheck, and
    ``hvp(v, *args)`` returns H v (v shaped like args[wrt[0]]; a tuple of them, one per wrt, when
    there are several). First fn's gradients are checked against its value, then hvp as the
    vector–Jacobian product of the gradient code (H is symmetric: its vjp is its jvp)."""
    first = check_scalar(fn, args, wrt, **options)
    if not first.ok:
        result = replace(first, message="first order (fn's gradients, checked before the hvp): " + first.message)
        if raise_exception:
            raise GradcheckError(result)
        return result
    roles = _Roles(forward="fn", backward="hvp", cotangent="v", cache="args", returns="H·v")
    k = len(wrt)

    def gradients(result, a):
        if not isinstance(result, (tuple, list)) or len(result) < 1 + k:
            raise InvalidArgument(f"fn to return (value, {k} gradients)", f"{type(result).__name__}")
        return [np.asarray(g) for g in result[1:1 + k]], tuple(a)

    layer = _Layer(fn, lambda v, cache: hvp(v, *cache), args, wrt, options["seed"], roles, gradients)
    result = _run(layer, args, wrt, options, "hvp (the Jacobian of fn's gradients along v: vᵀ∇f with "
                                             "gradients hvp(v, *args), as gradgradcheck)", False)
    result = replace(result, evaluations=result.evaluations + first.evaluations,
                     seconds=result.seconds + first.seconds)
    if raise_exception and not result.ok:
        raise GradcheckError(result)
    return result
