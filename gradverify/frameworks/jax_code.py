"""Code written in jax: float64 arrays in (64-bit mode for the call only), numpy out; rounding
and the complex step watched on the traced program (a jaxpr), primitive by primitive."""

from __future__ import annotations

import importlib

import numpy as np

from ..guard import NotAnalytic, ties
from ..guard.hints import canonical, refusal
from .base import Framework, is_float_array

__all__ = ["JaxCode"]

# Which primitives the guard refuses on complex numbers (conjugates, Hermitian linear algebra,
# rounding, the orderings it does not run itself: sort, cummax, top_k) is `gradverify.guard.hints`'s.
#: piecewise analytic primitives, lexicographic on complex numbers in jax (real part first, the
#: imaginary part deciding a tie): away from a tie of real parts that is the real function's
#: choice, and the guard refuses the ties as it runs the program (`_evaluate`); argmax and argmin,
#: which jax cannot run on complex numbers, it runs on the real parts. In a loop or a branch
#: (while, scan, cond), run natively and not watched, they are refused.
_PIECEWISE = frozenset({"max", "min", "clamp", "eq", "ne", "reduce_max", "reduce_min", "argmax", "argmin"})
#: the orderings jnp compares complex numbers with, lexicographically (`_comparisons`)
_ORDERINGS = frozenset({"gt", "ge", "lt", "le"})
#: the orderings (`hints.ORDERINGS`) this guard runs itself, ties refused: not refused by name
_COMPUTED = frozenset(canonical(name) for name in _PIECEWISE | _ORDERINGS)
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

        # one trace per watch for the same function, shapes and other arguments: the rounding's
        # runs (`numeric.noise`: several at one point, every input moved by an ulp) trace the same
        # program; tracing it again costs more than running it
        key = _trace_key(fn, args, positions, guarded)
        traces = _traces_of(rounding) if key is not None else None
        if traces is not None and key in traces:
            closed, shapes = traces[key]
        else:
            try:
                closed, shapes = self.jax.make_jaxpr(on_arrays, return_shape=True)(*[args[i] for i in positions])
            except Exception as exc:  # code that branches on values cannot be traced
                if guarded:
                    raise NotAnalytic(f"jax code that could not be traced ({type(exc).__name__}: "
                                      f"{(str(exc).splitlines() or [''])[0]})") from exc
                return fn(*args)  # its rounding is then not seen (the checks have a fallback for that)
            if traces is not None:
                traces[key] = closed, shapes
        if guarded:
            found = _non_analytic(closed.jaxpr)
            if found:
                raise NotAnalytic(found)
        # the program traced (and checked) is the one run: fn is not called again, so randomness it
        # drew while being traced (np.random) is the same in its result
        leaves = [a for a in args if self.is_array(a)]
        outs = self._evaluate(closed.jaxpr, closed.consts, leaves, rounding)
        return self.jax.tree_util.tree_unflatten(self.jax.tree_util.tree_structure(shapes), outs)

    def _evaluate(self, jaxpr, consts, args, rounding):
        """The program run one primitive at a time, each rounding result perturbed by ``rounding``;
        on complex numbers, a piecewise primitive or comparison at a tie of real parts refused."""
        env = {}

        def read(v):
            return v.val if _is_literal(v) else env[v]

        for v, value in zip(jaxpr.constvars, consts):
            env[v] = value
        for v, value in zip(jaxpr.invars, args):
            env[v] = value
        comparisons = _comparisons(jaxpr)[0]
        for k, eqn in enumerate(jaxpr.eqns):
            invals = [read(v) for v in eqn.invars]
            if k in comparisons:  # jnp's comparison of complex a and b: its eq(Re a, Re b)
                ordering, a, b = comparisons[k]
                ties.refuse(f"jax {ordering}", ties.between(read(a), read(b)), ties.pairs_of_values)
            inner = _inlined(eqn)
            if inner is not None:
                outs = self._evaluate(inner.jaxpr, inner.consts, invals, rounding)
            else:
                if eqn.primitive.name in _PIECEWISE and any(np.iscomplexobj(v) for v in invals):
                    outs = _piecewise(eqn, invals)
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


def _is_literal(v) -> bool:
    return hasattr(v, "val") and not hasattr(v, "count")


def _same(a, b) -> bool:
    """The same variable, or literals of the same value."""
    if _is_literal(a) or _is_literal(b):
        return _is_literal(a) and _is_literal(b) and np.array_equal(np.asarray(a.val), np.asarray(b.val))
    return a is b


class _Program:
    """A jaxpr's equations indexed: which equation made each variable, which use it."""

    def __init__(self, jaxpr):
        self.eqns = jaxpr.eqns
        self.made = {v: k for k, eqn in enumerate(jaxpr.eqns) for v in eqn.outvars}
        self.uses: dict = {}
        for k, eqn in enumerate(jaxpr.eqns):
            for v in eqn.invars:
                if not _is_literal(v):
                    self.uses.setdefault(v, set()).add(k)
        self.outvars = [v for v in jaxpr.outvars if not _is_literal(v)]

    def producer(self, v, names):
        """The index of the equation of one of ``names`` that made ``v``, or None."""
        k = None if _is_literal(v) else self.made.get(v)
        return k if k is not None and self.eqns[k].primitive.name in names else None

    def parts(self, k, part):
        """The real (imag) primitives behind equation k's two operands, and their inputs; or None."""
        found = [self.producer(v, (part,)) for v in self.eqns[k].invars]
        return None if len(found) != 2 or None in found else (found, [self.eqns[j].invars[0] for j in found])

    def used_only_by(self, k, users) -> bool:
        """Whether equation k's results are used by ``users`` alone (and not returned)."""
        return all(self.uses.get(v, set()) <= users and v not in self.outvars for v in self.eqns[k].outvars)


def _lexicographic(program: _Program, k: int):
    """When equation k is select_n(eq(Re a, Re b), op(Re a, Re b), op(Im a, Im b)): (index of the eq,
    op, a, b, the real and imag primitives serving it, the three comparisons); else None."""
    eqn = program.eqns[k]
    if eqn.primitive.name != "select_n" or len(eqn.invars) != 3:
        return None
    pred, on_real, on_imag = eqn.invars
    k_eq, k_re = program.producer(pred, ("eq",)), program.producer(on_real, _ORDERINGS)
    k_im = program.producer(on_imag, _ORDERINGS)
    if None in (k_eq, k_re, k_im) or program.eqns[k_re].primitive.name != program.eqns[k_im].primitive.name:
        return None
    read = [program.parts(k_eq, "real"), program.parts(k_re, "real"), program.parts(k_im, "imag")]
    if None in read:
        return None
    (a, b), rest = read[0][1], [r[1] for r in read[1:]]
    if not all(_same(a, x) and _same(b, y) for x, y in rest):
        return None
    return k_eq, program.eqns[k_re].primitive.name, a, b, [j for r in read for j in r[0]], (k_eq, k_re, k_im)


def _comparisons(jaxpr):
    """jnp's comparisons of complex numbers in ``jaxpr``: lexicographic, select_n(eq(Re a, Re b),
    op(Re a, Re b), op(Im a, Im b)). Away from a tie (Re a = Re b, Im a ≠ Im b, refused when the
    program runs) that is op(Re a, Re b), the real code's comparison. Returns ({index of the eq:
    (op, a, b)}, the indices of the real and imag primitives that serve only such comparisons)."""
    if not any(eqn.primitive.name == "select_n" for eqn in jaxpr.eqns):
        return {}, frozenset()
    program = _Program(jaxpr)
    found, serving, comparing, selecting = {}, set(), set(), set()
    for k in range(len(jaxpr.eqns)):
        match = _lexicographic(program, k)
        if match is None:
            continue
        k_eq, op, a, b, served, compared = match
        found[k_eq] = (op, a, b)
        serving.update(served)
        comparing.update(compared)
        selecting.add(k)
    # a real or imag part used for anything else (or returned) is not only compared: not allowed; nor an
    # imaginary parts' comparison used other than by its select_n
    imag_compared = [k for k in comparing if program.eqns[k].invars
                     and program.producer(program.eqns[k].invars[0], ("imag",)) is not None]
    if not all(program.used_only_by(k, selecting) for k in imag_compared):
        return {}, frozenset()
    return found, frozenset(j for j in serving if program.used_only_by(j, comparing))


def _extreme_ties(name, x, axes, larger):
    """A tie of largest (smallest) real parts along ``axes`` among entries whose imaginary parts differ, refused."""
    ties.refuse(f"jax {name}", ties.extremes(x, axes, larger), ties.shared_extremes(larger))


def _piecewise(eqn, invals):
    """A piecewise primitive on complex numbers (`_PIECEWISE`), a tie refused."""
    name = eqn.primitive.name
    if name in ("max", "min", "eq", "ne"):
        ties.refuse(f"jax {name}", ties.between(*invals), ties.pairs_of_values)
    elif name == "clamp":  # clamp(lo, x, hi)
        lo, x, hi = invals
        ties.refuse(f"jax {name}", ties.between(x, lo) | ties.between(x, hi), ties.pairs_of_values)
    else:
        axes = tuple(eqn.params["axes"])
        _extreme_ties(name, invals[0], axes, larger=name in ("reduce_max", "argmax"))
        if name in ("argmax", "argmin"):  # jax compares no complex numbers here: the real parts decide
            return eqn.primitive.bind(np.real(np.asarray(invals[0])), **eqn.params)
    return eqn.primitive.bind(*invals, **eqn.params)


def _is_complex(v) -> bool:
    dtype = getattr(v.aval, "dtype", None)
    return dtype is not None and np.issubdtype(dtype, np.complexfloating)


def _is_real(v) -> bool:
    dtype = getattr(v.aval, "dtype", None)
    return dtype is not None and not np.issubdtype(dtype, np.complexfloating)


def _refusal(eqn, k: int, allowed: frozenset, watched: bool) -> str:
    """Why the complex step cannot see through equation k on complex inputs, or ""."""
    if not any(_is_complex(v) for v in eqn.invars):
        return ""
    name = eqn.primitive.name
    if refusal("jax", name, computes=_COMPUTED) is not None:
        return f"jax {name} on a complex array"
    if name in _PIECEWISE:
        return "" if watched else \
            f"jax {name} on a complex array inside a loop or a branch, where the guard cannot watch ties"
    if k in allowed or any(True for _ in _sub_programs(eqn)):
        return ""
    return f"jax {name} turned a complex array into real numbers" if any(_is_real(v) for v in eqn.outvars) else ""


def _non_analytic(jaxpr, watched: bool = True) -> str:
    """The first primitive of a jax program that the complex step cannot see through, or "".
    ``watched``: the program is run by `JaxCode._evaluate` (ties refused as it runs), not natively."""
    allowed = _comparisons(jaxpr)[1] if watched else frozenset()
    for k, eqn in enumerate(jaxpr.eqns):
        found = _refusal(eqn, k, allowed, watched)
        if found:
            return found
        inner = _inlined(eqn)
        for program in _sub_programs(eqn):
            found = _non_analytic(program, watched and inner is not None and program is inner.jaxpr)
            if found:
                return found
    return ""


def _traces_of(rounding) -> dict | None:
    """The programs traced under this watch (`JaxCode.run`), kept on the watch itself: they live
    as long as it does (one `numeric.noise`, one gradcheck call), never across checks."""
    if rounding is None:
        return None
    try:
        return rounding.__dict__.setdefault("_jax_traces", {})
    except AttributeError:
        return None


def _trace_key(fn, args, positions, guarded):
    """What a traced program depends on: the function, its arrays' shapes and dtypes, and its other
    arguments (ints, indices) by value; None when one of those cannot be a key (then no reuse)."""
    where = set(positions)
    try:
        others = tuple(_frozen(a) for i, a in enumerate(args) if i not in where)
        arrays = tuple((tuple(args[i].shape), str(args[i].dtype)) for i in positions)
        key = (fn, tuple(positions), arrays, others, guarded)
        hash(key)
    except (TypeError, AttributeError):
        return None
    return key


def _frozen(value):
    if value is None or type(value) in (int, float, bool, str, complex):
        return (type(value).__name__, value)
    if type(value) in (list, tuple):
        return (type(value).__name__, tuple(_frozen(v) for v in value))
    raise TypeError(f"not a plain value: {type(value).__name__}")
