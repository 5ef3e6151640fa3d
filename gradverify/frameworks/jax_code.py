"""Code written in jax: float64 arrays in (64-bit mode for the call only), numpy out; rounding
and the complex step watched on the traced program (a jaxpr), primitive by primitive."""

from __future__ import annotations

import importlib

import numpy as np

from .base import Framework, NotAnalyticCode, is_float_array
from .torch_code import conjugates

__all__ = ["JaxCode"]

#: jax primitives that keep complex numbers complex but are not analytic: ordering and rounding
#: (as numpy's np.sort and np.round, which gradcheck's numpy guard refuses too)
_NOT_ANALYTIC = frozenset({"sort", "round", "floor", "ceil", "clamp", "reduce_precision"})
#: primitives that move or select numbers without rounding them: not perturbed (a cast,
#: convert_element_type, is perturbed at the new dtype's rounding: float64 → float32 rounds)
_EXACT = frozenset({"reshape", "broadcast_in_dim", "squeeze", "expand_dims", "transpose", "slice", "dynamic_slice",
                    "dynamic_update_slice", "gather", "scatter", "concatenate", "pad", "rev", "select_n", "copy",
                    "copy_p", "neg", "real", "imag", "iota", "stop_gradient"})
#: primitives whose inner program is run primitive by primitive (so its rounding is seen too)
_INLINED = frozenset({"pjit", "jit", "closed_call", "core_call", "remat", "checkpoint", "custom_jvp_call",
                      "custom_vjp_call", "custom_vjp_call_jaxpr"})


class JaxCode(Framework):
    name = "jax"

    def __init__(self, jax):
        self.jax = jax
        self.jnp = importlib.import_module("jax.numpy")

    def context(self):
        # float64 only while gradverify calls the code: the user's own jax setting is left as it was
        enable = getattr(self.jax, "enable_x64", None)
        if enable is None:  # jax before 0.5 keeps the switch in jax.experimental
            return importlib.import_module("jax.experimental").enable_x64()
        return enable(True)

    def to_code(self, value):
        if is_float_array(value):
            return self.jnp.asarray(value)  # float64 stays float64 (64-bit mode is on during the call)
        return value

    def to_numpy(self, value):
        if isinstance(value, self.jax.Array):
            return np.asarray(value)
        return value

    def is_array(self, value) -> bool:
        return isinstance(value, self.jax.Array)

    def run(self, fn, args, rounding, guarded):
        if rounding is None and not guarded:
            return fn(*args)
        positions = [i for i, a in enumerate(args) if self.is_array(a)]

        def on_arrays(*arrays):  # the other arguments (ints, lists of indices) stay Python values
            full = list(args)
            for i, a in zip(positions, arrays):
                full[i] = a
            return fn(*full)

        try:
            closed, shapes = self.jax.make_jaxpr(on_arrays, return_shape=True)(*[args[i] for i in positions])
        except Exception as exc:  # code that branches on values cannot be traced
            if guarded:
                raise NotAnalyticCode(f"jax code that could not be traced ({type(exc).__name__}: "
                                      f"{(str(exc).splitlines() or [''])[0]})") from exc
            return fn(*args)  # its rounding is then not seen (the checks have a fallback for that)
        if guarded:
            found = _non_analytic(closed.jaxpr)
            if found:
                raise NotAnalyticCode(found)
        # the program traced (and checked) is the one run: fn is not called again, so randomness it
        # drew while being traced (np.random) is the same in its result
        leaves = [a for a in args if self.is_array(a)]
        outs = self._evaluate(closed.jaxpr, closed.consts, leaves, rounding)
        return self.jax.tree_util.tree_unflatten(self.jax.tree_util.tree_structure(shapes), outs)

    def _evaluate(self, jaxpr, consts, args, rounding):
        """The program run one primitive at a time, each rounding result perturbed by ``rounding``."""
        env = {}

        def read(v):
            return v.val if hasattr(v, "val") and not hasattr(v, "count") else env[v]

        for v, value in zip(jaxpr.constvars, consts):
            env[v] = value
        for v, value in zip(jaxpr.invars, args):
            env[v] = value
        for eqn in jaxpr.eqns:
            invals = [read(v) for v in eqn.invars]
            inner = _inlined(eqn)
            if inner is not None:
                outs = self._evaluate(inner.jaxpr, inner.consts, invals, rounding)
            else:
                outs = eqn.primitive.bind(*invals, **eqn.params)
                outs = outs if eqn.primitive.multiple_results else [outs]
                if rounding is not None and eqn.primitive.name not in _EXACT:
                    # a loop or a branch (while, scan, cond) runs its inner program natively: the rounding
                    # inside is modelled at the size of its inputs as well, as torch's fused operations'
                    scale = _largest(invals) if any(True for _ in _sub_programs(eqn)) else 0.0
                    outs = [self._perturbed(o, rounding, scale) for o in outs]
            for v, value in zip(eqn.outvars, outs):
                env[v] = value
        return [read(v) for v in jaxpr.outvars]

    def _perturbed(self, value, rounding, scale=0.0):
        kind = np.dtype(getattr(value, "dtype", np.int64)).kind
        if kind not in rounding.kinds:
            return value
        rounding.seen += 1
        # perturbed in numpy, by the one Monte Carlo arithmetic (a jax operation per result costs ~0.25 ms)
        return rounding.perturbed(np.asarray(value), scale=scale)


def _largest(values) -> float:
    """max |v| over the floating-point arrays among ``values`` (0 when there are none)."""
    sizes = [float(np.max(np.abs(np.asarray(v)))) for v in values
             if np.dtype(getattr(v, "dtype", np.int64)).kind in "fc" and np.size(v)]
    return max(sizes, default=0.0)


def _inlined(eqn):
    """The inner program of a call-like primitive (jit, custom_jvp ...), as a closed jaxpr, or None."""
    if eqn.primitive.name not in _INLINED:
        return None
    for key in ("jaxpr", "call_jaxpr", "fun_jaxpr"):
        inner = eqn.params.get(key)
        if inner is not None and hasattr(inner, "consts"):
            return inner
    return None


def _sub_programs(eqn):
    for value in eqn.params.values():
        for item in value if isinstance(value, (tuple, list)) else (value,):
            inner = getattr(item, "jaxpr", item)  # a ClosedJaxpr holds its Jaxpr
            if hasattr(inner, "eqns"):
                yield inner


def _non_analytic(jaxpr) -> str:
    """The first primitive of a jax program that the complex step cannot see through, or ""."""
    for eqn in jaxpr.eqns:
        dtypes = [getattr(v.aval, "dtype", None) for v in eqn.invars]
        if any(d is not None and np.issubdtype(d, np.complexfloating) for d in dtypes):
            name = eqn.primitive.name
            outs = [getattr(v.aval, "dtype", None) for v in eqn.outvars]
            if conjugates(name) or name in _NOT_ANALYTIC:
                return f"jax {name} on a complex array"
            if not any(True for _ in _sub_programs(eqn)) and \
                    any(d is not None and not np.issubdtype(d, np.complexfloating) for d in outs):
                return f"jax {name} turned a complex array into real numbers"
        for inner in _sub_programs(eqn):
            found = _non_analytic(inner)
            if found:
                return found
    return ""


