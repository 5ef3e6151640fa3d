"""Code written in jax: float64 arrays in (64-bit mode for the call only), numpy out; rounding
and the complex step watched on the traced program (a jaxpr), primitive by primitive."""

from __future__ import annotations

import importlib

import numpy as np

from .base import Framework, NotAnalyticCode, is_float_array
from .torch_code import conjugates

__all__ = ["JaxCode"]

#: jax primitives that keep complex numbers complex but are not analytic: ordering and rounding
#: (as numpy's np.sort and np.round, which gradcheck's numpy guard refuses too); a running max
#: (cummax), lexicographic on complex numbers, whose ties the guard does not watch
_NOT_ANALYTIC = frozenset({"sort", "round", "floor", "ceil", "reduce_precision", "cummax", "cummin", "top_k",
                           # linear algebra that reads a complex matrix as Hermitian or makes unitary factors
                           # (torch_code.HERMITIAN): the complex step through it reads a derivative of 0
                           "cholesky", "eigh", "eig", "svd", "qr", "geqrf", "householder_product", "schur",
                           "hessenberg", "tridiagonal"})
#: piecewise analytic primitives, lexicographic on complex numbers in jax (real part first, the
#: imaginary part deciding a tie): away from a tie of real parts that is the real function's
#: choice, and the guard refuses the ties as it runs the program (`_evaluate`); argmax and argmin,
#: which jax cannot run on complex numbers, it runs on the real parts. In a loop or a branch
#: (while, scan, cond), run natively and not watched, they are refused.
_PIECEWISE = frozenset({"max", "min", "clamp", "eq", "ne", "reduce_max", "reduce_min", "argmax", "argmin"})
#: the orderings jnp compares complex numbers with, lexicographically (`_comparisons`)
_ORDERINGS = frozenset({"gt", "ge", "lt", "le"})
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
                    raise NotAnalyticCode(f"jax code that could not be traced ({type(exc).__name__}: "
                                          f"{(str(exc).splitlines() or [''])[0]})") from exc
                return fn(*args)  # its rounding is then not seen (the checks have a fallback for that)
            if traces is not None:
                traces[key] = closed, shapes
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
                _refuse_ties(ordering, _tie(read(a), read(b)), _PAIRS)
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


def _comparisons(jaxpr):
    """jnp's comparisons of complex numbers in ``jaxpr``: lexicographic, select_n(eq(Re a, Re b),
    op(Re a, Re b), op(Im a, Im b)). Away from a tie (Re a = Re b, Im a ≠ Im b, refused when the
    program runs) that is op(Re a, Re b), the real code's comparison. Returns ({index of the eq:
    (op, a, b)}, the indices of the real and imag primitives that serve only such comparisons)."""
    if not any(eqn.primitive.name == "select_n" for eqn in jaxpr.eqns):
        return {}, frozenset()
    made = {v: k for k, eqn in enumerate(jaxpr.eqns) for v in eqn.outvars}
    uses: dict = {}
    for k, eqn in enumerate(jaxpr.eqns):
        for v in eqn.invars:
            if not _is_literal(v):
                uses.setdefault(v, set()).add(k)
    outvars = [v for v in jaxpr.outvars if not _is_literal(v)]

    def producer(v, names):
        k = None if _is_literal(v) else made.get(v)
        return k if k is not None and jaxpr.eqns[k].primitive.name in names else None

    def parts(k, part):  # the real (imag) primitives behind comparison k's two operands, and their inputs
        found = [producer(v, (part,)) for v in jaxpr.eqns[k].invars]
        return None if len(found) != 2 or None in found else (found, [jaxpr.eqns[j].invars[0] for j in found])

    found, serving, comparing, selecting = {}, set(), set(), set()
    for k, eqn in enumerate(jaxpr.eqns):
        if eqn.primitive.name != "select_n" or len(eqn.invars) != 3:
            continue
        pred, on_real, on_imag = eqn.invars
        k_eq, k_re = producer(pred, ("eq",)), producer(on_real, _ORDERINGS)
        k_im = producer(on_imag, _ORDERINGS)
        if None in (k_eq, k_re, k_im) or jaxpr.eqns[k_re].primitive.name != jaxpr.eqns[k_im].primitive.name:
            continue
        read = [parts(k_eq, "real"), parts(k_re, "real"), parts(k_im, "imag")]
        if None in read:
            continue
        (a, b), rest = read[0][1], [r[1] for r in read[1:]]
        if not all(_same(a, x) and _same(b, y) for x, y in rest):
            continue
        found[k_eq] = (jaxpr.eqns[k_re].primitive.name, a, b)
        serving.update(j for r in read for j in r[0])
        comparing.update((k_eq, k_re, k_im))
        selecting.add(k)
    # a real or imag part used for anything else (or returned) is not only compared: not allowed; nor an
    # imaginary parts' comparison used other than by its select_n
    imag_compared = {jaxpr.eqns[k].outvars[0] for k in comparing if jaxpr.eqns[k].invars
                     and producer(jaxpr.eqns[k].invars[0], ("imag",)) is not None}
    ok = {j for j in serving if all(uses.get(v, set()) <= comparing and v not in outvars
                                    for v in jaxpr.eqns[j].outvars)}
    if any(not uses.get(v, set()) <= selecting or v in outvars for v in imag_compared):
        return {}, frozenset()
    return found, frozenset(ok)


def _tie(a, b):
    """Where real parts are equal and imaginary parts are not (numpy bool array)."""
    a, b = np.asarray(a), np.asarray(b)
    return (np.real(a) == np.real(b)) & (np.imag(a) != np.imag(b))


def _count(n, one, many):
    return f"{n} {one if n == 1 else many}"


def _PAIRS(n):
    return _count(n, "pair of values", "pairs of values") + " of equal real part"


def _refuse_ties(name, tie, what):
    count = int(np.sum(tie))
    if count:
        raise NotAnalyticCode(f"jax {name} at a tie: {what(count)}, where the imaginary parts differ, so the "
                              f"complex step's imaginary part would decide (a kink of the real function)")


def _extreme_ties(name, x, axes, larger):
    """A tie of largest (smallest) real parts along ``axes`` among entries whose imaginary parts differ, refused."""
    x = np.asarray(x)
    r, i = np.real(x), np.imag(x)
    if r.size == 0:
        return
    best = np.max(r, axis=axes, keepdims=True) if larger else np.min(r, axis=axes, keepdims=True)
    at = r == best
    hi = np.max(np.where(at, i, -np.inf), axis=axes)
    lo = np.min(np.where(at, i, np.inf), axis=axes)
    extreme = "largest" if larger else "smallest"
    _refuse_ties(name, np.any(at, axis=axes) & (hi != lo),
                 lambda n: _count(n, f"{extreme} real part", f"{extreme} real parts") + " shared by several entries")


def _piecewise(eqn, invals):
    """A piecewise primitive on complex numbers (`_PIECEWISE`), a tie refused."""
    name = eqn.primitive.name
    if name in ("max", "min", "eq", "ne"):
        _refuse_ties(name, _tie(*invals), _PAIRS)
    elif name == "clamp":  # clamp(lo, x, hi)
        lo, x, hi = invals
        _refuse_ties(name, _tie(x, lo) | _tie(x, hi), _PAIRS)
    else:
        axes = tuple(eqn.params["axes"])
        _extreme_ties(name, invals[0], axes, larger=name in ("reduce_max", "argmax"))
        if name in ("argmax", "argmin"):  # jax compares no complex numbers here: the real parts decide
            return eqn.primitive.bind(np.real(np.asarray(invals[0])), **eqn.params)
    return eqn.primitive.bind(*invals, **eqn.params)


def _non_analytic(jaxpr, watched: bool = True) -> str:
    """The first primitive of a jax program that the complex step cannot see through, or "".
    ``watched``: the program is run by `JaxCode._evaluate` (ties refused as it runs), not natively."""
    allowed = _comparisons(jaxpr)[1] if watched else frozenset()
    for k, eqn in enumerate(jaxpr.eqns):
        dtypes = [getattr(v.aval, "dtype", None) for v in eqn.invars]
        if any(d is not None and np.issubdtype(d, np.complexfloating) for d in dtypes):
            name = eqn.primitive.name
            outs = [getattr(v.aval, "dtype", None) for v in eqn.outvars]
            if conjugates(name) or name in _NOT_ANALYTIC:
                return f"jax {name} on a complex array"
            if name in _PIECEWISE and not watched:
                return f"jax {name} on a complex array inside a loop or a branch, where the guard cannot watch ties"
            if k not in allowed and name not in _PIECEWISE and not any(True for _ in _sub_programs(eqn)) and \
                    any(d is not None and not np.issubdtype(d, np.complexfloating) for d in outs):
                return f"jax {name} turned a complex array into real numbers"
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
