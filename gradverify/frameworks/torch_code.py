"""Code written in torch: float64 CPU tensors in, numpy out; rounding and the complex step
watched by a TorchFunctionMode, which sees every torch function, method and operator."""

from __future__ import annotations

import operator

import numpy as np

from ..guard import NotAnalytic, ties
from ..guard.hints import BY_REAL_PART, LEAVES_THE_WATCH, canonical, refusal
from ..tolerances import STEP_FLOOR, STEP_SIZED
from .base import Framework, converted, is_float_array

__all__ = ["TorchCode", "ELEMENTARY", "PIECEWISE"]

class TorchCode(Framework):
    name = "torch"

    def __init__(self, torch):
        self.torch = torch

    def to_code(self, value):
        # every numeric array becomes a tensor: floats (the complex step's too), and the integer and
        # boolean ones a gradcheck call got as tensors (labels y) and a derivation's Fixed data
        if is_float_array(value) or isinstance(value, np.ndarray) and value.dtype.kind in "biu":
            # shares memory with a writable array it is given: a write into the tensor shows in the array,
            # so gradverify's in-place check still sees it (callers pass a copy, never the user's data); a
            # read-only array (gradcheck's) is copied, as torch cannot make a read-only tensor
            array = np.ascontiguousarray(value)
            if not array.flags.writeable:
                array = array.copy()
            return self.torch.from_numpy(array)
        return value

    def to_numpy(self, value):
        if isinstance(value, self.torch.Tensor):
            if value.layout != self.torch.strided:  # a sparse gradient (an embedding's): its dense values
                value = value.to_dense()
            return value.detach().cpu().resolve_conj().numpy()
        return value

    def is_array(self, value) -> bool:
        return isinstance(value, self.torch.Tensor)

    def run(self, fn, args, rounding, guarded):
        if guarded:
            # torch's matmul does not mix complex and real: every real input becomes complex (imaginary
            # part 0), which changes nothing an analytic function computes
            complex_dtype = next(a.dtype for a in args if self.is_array(a) and a.is_complex())
            args = [a.to(complex_dtype) if self.is_array(a) and a.is_floating_point() else a for a in args]
        if rounding is None and not guarded:
            return fn(*args)
        with _watch(self.torch, rounding, guarded):
            return fn(*args)


#: torch operations that round once, relative to their own result (arithmetic, elementwise
#: functions, sums and products): Monte Carlo arithmetic perturbs their result as numpy's do.
#: Any other operation is fused (log_softmax, var, layer_norm, cross_entropy ...) and hides
#: intermediate results from the watch: log_softmax([36, 0])[0] = −2.3e-16 comes out of
#: 36 − 36 − log(1 + e⁻³⁶), wrong by 4% of itself. Its rounding is modelled at the size of its
#: largest input as well (u·max|input|), which covers what happened inside.
ELEMENTARY = frozenset({
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg", "negative", "reciprocal",
    "pow", "square", "sqrt", "rsqrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos",
    "tan", "tanh", "sinh", "cosh", "sigmoid", "erf", "abs", "sign", "relu", "clamp", "clip", "maximum", "minimum",
    "where", "matmul", "mm", "mv", "bmm", "dot", "outer", "sum", "mean", "prod", "cumsum", "einsum", "addmm",
    "__add__", "__radd__", "__iadd__", "__sub__", "__rsub__", "__isub__", "__mul__", "__rmul__", "__imul__",
    "__truediv__", "__rtruediv__", "__itruediv__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__",
    "add_", "sub_", "mul_", "div_", "exp_", "clone", "to", "double", "float", "contiguous", "__getitem__",
    "__setitem__", "reshape", "view", "transpose", "permute", "t", "squeeze", "unsqueeze", "flatten", "expand",
    "cat", "stack", "index_select", "gather", "masked_fill", "max", "min", "amax", "amin",
    # selections, piecewise (they round nothing; perturbing their result relative to itself covers it)
    "relu_", "clamp_", "clip_", "clamp_min", "clamp_max", "fmax", "fmin", "leaky_relu", "leaky_relu_", "hardtanh",
    "hardtanh_", "relu6", "threshold", "_threshold", "threshold_",
})


#: in-place methods that round nothing (they move, fill or mark): Monte Carlo arithmetic leaves their
#: result alone; any other method that returns its own input (``x.double()`` on a float64 tensor,
#: ``.contiguous()``, ``.to()`` with nothing to do) did no arithmetic either
_EXACT_IN_PLACE = frozenset({"requires_grad_", "retain_grad", "zero_", "fill_", "detach_", "resize_", "resize_as_",
                             "set_", "share_memory_", "squeeze_", "unsqueeze_", "t_", "transpose_", "as_strided_",
                             "index_put_", "masked_fill_", "scatter_", "fill_diagonal_", "swapdims_", "swapaxes_"})
_AUGMENTED = frozenset({"__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__ipow__",
                        "__imatmul__"})


def _rounds_in_place(name: str) -> bool:
    """An in-place arithmetic method (``add_``, ``x *= 2``): its result, its own input, is rounded."""
    return name in _AUGMENTED or (name.endswith("_") and not name.startswith("_") and name not in _EXACT_IN_PLACE)


def _name(func) -> str:
    return getattr(func, "__name__", "")


def _largest(torch, values) -> float:
    sizes = [float(v.detach().abs().max()) for v in values
             if isinstance(v, torch.Tensor) and (v.is_floating_point() or v.is_complex()) and v.numel()]
    return max(sizes, default=0.0)


# ---------------------------------------------------------------- piecewise operations on complex tensors
# relu, comparisons, max and min, clamp ... are piecewise analytic: away from a tie, comparing
# x + i·h·u with a real threshold (or with another entry) is decided by the real parts, and the
# comparison stays the same near x, so the complex step through the piece selected is exact. torch
# refuses most of them for complex tensors; the guard computes them itself, by real part. At a
# tie (real parts equal, imaginary parts not) the imaginary part would decide: the point is a kink
# of the real function, and the guard refuses it (NotAnalytic, so gradcheck falls back).

class _NotHandled(Exception):
    """A call form the guard's own version does not cover (``out=``, a named dimension ...):
    the operation goes the ordinary way (torch's refusal, or the real-result check)."""


def _bound(args, kwargs, names, defaults=None):
    """The arguments by parameter name, positional or keyword, with ``defaults``; _NotHandled
    for anything else (another keyword such as ``out=``, one given twice, too many or too few)."""
    if len(args) > len(names) or any(k not in names[len(args):] for k in kwargs):
        raise _NotHandled
    values = {**(defaults or {}), **dict(zip(names, args)), **kwargs}
    if any(n not in values for n in names):
        raise _NotHandled
    return [values[n] for n in names]


def _parts(torch, v):
    """(real part, imaginary part) of a tensor or a Python number (a real tensor's imaginary part: 0.0)."""
    if isinstance(v, torch.Tensor):
        return (v.real, v.imag) if v.is_complex() else (v, 0.0)
    if isinstance(v, (bool, int, float, complex)):
        return complex(v).real, complex(v).imag
    raise _NotHandled


def _tie(torch, a, b):
    (ra, ia), (rb, ib) = _parts(torch, a), _parts(torch, b)
    return torch.as_tensor(ties.pairs(ra, ia, rb, ib))


def _compared(torch, name, op, a, b):
    """A comparison of real parts (gt, lt, ge, le, eq, ne); a tie refused."""
    ties.refuse(f"torch {name}", _tie(torch, a, b), ties.pairs_of_values)
    return op(_parts(torch, a)[0], _parts(torch, b)[0])


def _selected(torch, name, a, b, larger, nan="propagate"):
    """max(a, b) or min(a, b) entry by entry, by real part; ``nan``: "propagate" (maximum) or
    "ignore" (fmax: a NaN gives way to the other number)."""
    ties.refuse(f"torch {name}", _tie(torch, a, b), ties.pairs_of_values)
    ra, rb = _parts(torch, a)[0], _parts(torch, b)[0]
    pick_a = torch.as_tensor(ra > rb if larger else ra < rb)
    a_nan, b_nan = torch.as_tensor(a).isnan(), torch.as_tensor(b).isnan()
    pick_a = pick_a | a_nan if nan == "propagate" else (pick_a & ~a_nan) | b_nan
    return torch.where(pick_a, a, b)


def _piece(torch, name, z, threshold, above, below):
    """``above`` where Re z > threshold, else ``below`` (relu, leaky_relu, threshold, elu)."""
    ties.refuse(f"torch {name}", (z.real == threshold) & (z.imag != 0), ties.kinks_at(threshold))
    return torch.where(z.real > threshold, above, below)


def _clamped(torch, name, z, lo, hi):
    """torch.clamp's min(max(z, lo), hi), by real part."""
    if lo is not None:
        z = _selected(torch, name, z, lo, larger=True)
    if hi is not None:
        z = _selected(torch, name, z, hi, larger=False)
    return z


def _extreme(torch, name, x, dim, keepdim, larger):
    """(values, indices) of the entries of largest (smallest) real part along ``dim`` (None: all);
    a tie between entries whose imaginary parts differ refused."""
    if not x.is_complex():
        raise _NotHandled
    if dim is None or x.dim() == 0:
        values, indices = _extreme(torch, name, x.reshape(-1), 0, False, larger)
        shape = [1] * x.dim() if keepdim else []
        return values.reshape(shape), indices.reshape(shape)
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if not dims or any(not isinstance(d, int) for d in dims):
        raise _NotHandled  # amax(dim=()) is all of them: said by None; named dimensions are not handled
    r, i = x.real, x.imag
    best = r.amax(dims, keepdim=True) if larger else r.amin(dims, keepdim=True)
    at = r == best
    inf = torch.tensor(float("inf"), dtype=r.dtype)
    hi = torch.where(at, i, -inf).amax(dims, keepdim=True)
    lo = torch.where(at, i, inf).amin(dims, keepdim=True)
    found = at  # groups with an entry at the extreme (not: all NaN)
    for d in dims:
        found = found.any(d, keepdim=True)
    ties.refuse(f"torch {name}", found & (hi != lo), ties.shared_extremes(larger))
    values = torch.complex(best, torch.where(found, hi, torch.full_like(hi, float("nan"))))
    indices = None
    if len(dims) == 1:
        indices = r.argmax(dims[0], keepdim=True) if larger else r.argmin(dims[0], keepdim=True)
    if not keepdim:
        values = values.squeeze(dims)
        indices = None if indices is None else indices.squeeze(dims)
    return values, indices


_COMPARISONS = {**dict.fromkeys(("gt", "greater", "__gt__"), operator.gt),
                **dict.fromkeys(("lt", "less", "__lt__"), operator.lt),
                **dict.fromkeys(("ge", "greater_equal", "__ge__"), operator.ge),
                **dict.fromkeys(("le", "less_equal", "__le__"), operator.le),
                **dict.fromkeys(("eq", "__eq__"), operator.eq),
                **dict.fromkeys(("ne", "not_equal", "__ne__"), operator.ne)}
_IN_PLACE = {"relu_": "relu", "leaky_relu_": "leaky_relu", "hardtanh_": "hardtanh", "threshold_": "threshold",
             "elu_": "elu", "clamp_": "clamp", "clip_": "clip", "clamp_min_": "clamp_min", "clamp_max_": "clamp_max"}


# Each handler below takes (torch, the name as called, its out-of-place name, args, kwargs) and
# returns the result, or raises _NotHandled for a call form it does not cover.

def _comparison(torch, name, base, args, kwargs):
    a, b = _bound(args, kwargs, ("input", "other"))
    return _compared(torch, name, _COMPARISONS[base], a, b)


def _elementwise(torch, name, base, args, kwargs):
    """maximum, minimum, fmax, fmin of two tensors."""
    a, b = _bound(args, kwargs, ("input", "other"))
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor):
        raise _NotHandled
    return _selected(torch, name, a, b, larger=base in ("maximum", "fmax"),
                     nan="propagate" if base in ("maximum", "minimum") else "ignore")


def _max_or_min(torch, name, base, args, kwargs):
    """torch.max(a, b) entry by entry, or torch.max(x[, dim, keepdim]) with its indices."""
    larger = base == "max"
    if "other" in kwargs or len(args) > 1 and isinstance(args[1], torch.Tensor):
        a, b = _bound(args, kwargs, ("input", "other"))
        return _selected(torch, name, a, b, larger)
    x, dim, keepdim = _bound(args, kwargs, ("input", "dim", "keepdim"), {"dim": None, "keepdim": False})
    values, indices = _extreme(torch, name, x, dim, keepdim, larger)
    if dim is None:
        return values
    return (torch.return_types.max if larger else torch.return_types.min)((values, indices))


def _amax_or_amin(torch, name, base, args, kwargs):
    x, dim, keepdim = _bound(args, kwargs, ("input", "dim", "keepdim"), {"dim": (), "keepdim": False})
    return _extreme(torch, name, x, None if dim in ((), []) else dim, keepdim, base == "amax")[0]


def _argmax_or_argmin(torch, name, base, args, kwargs):
    x, dim, keepdim = _bound(args, kwargs, ("input", "dim", "keepdim"), {"dim": None, "keepdim": False})
    _extreme(torch, name, x, dim, keepdim, base == "argmax")  # the tie check
    r = x.real
    return r.argmax(dim, keepdim) if base == "argmax" else r.argmin(dim, keepdim)


# One complex tensor in, selected from by its real part entry by entry: each returns (the input,
# the result, whether the call asked for it in place).

def _clamp(torch, name, args, kwargs):
    z, lo, hi = _bound(args, kwargs, ("input", "min", "max"), {"min": None, "max": None})
    return z, _clamped(torch, name, z, lo, hi), False


def _clamp_min(torch, name, args, kwargs):
    z, lo = _bound(args, kwargs, ("input", "min"))
    return z, _clamped(torch, name, z, lo, None), False


def _clamp_max(torch, name, args, kwargs):
    z, hi = _bound(args, kwargs, ("input", "max"))
    return z, _clamped(torch, name, z, None, hi), False


def _relu(torch, name, args, kwargs):
    z, inplace = _bound(args, kwargs, ("input", "inplace"), {"inplace": False})
    return z, _piece(torch, name, z, 0.0, z, torch.zeros_like(z)), inplace


def _relu6(torch, name, args, kwargs):
    z, inplace = _bound(args, kwargs, ("input", "inplace"), {"inplace": False})
    return z, _clamped(torch, name, z, 0.0, 6.0), inplace


def _leaky_relu(torch, name, args, kwargs):
    z, slope, inplace = _bound(args, kwargs, ("input", "negative_slope", "inplace"),
                               {"negative_slope": 0.01, "inplace": False})
    return z, _piece(torch, name, z, 0.0, z, z * slope), inplace


def _elu(torch, name, args, kwargs):
    z, alpha, inplace = _bound(args, kwargs, ("input", "alpha", "inplace"), {"alpha": 1.0, "inplace": False})
    return z, _piece(torch, name, z, 0.0, z, alpha * torch.expm1(z)), inplace


def _hardtanh(torch, name, args, kwargs):
    z, lo, hi, inplace = _bound(args, kwargs, ("input", "min_val", "max_val", "inplace"),
                                {"min_val": -1.0, "max_val": 1.0, "inplace": False})
    return z, _clamped(torch, name, z, lo, hi), inplace


def _threshold(torch, name, args, kwargs):
    """z where z > threshold, else value."""
    z, threshold, value, inplace = _bound(args, kwargs, ("input", "threshold", "value", "inplace"), {"inplace": False})
    if not isinstance(threshold, (int, float)) or not isinstance(value, (int, float, complex)):
        raise _NotHandled
    return z, _piece(torch, name, z, float(threshold), z, torch.full_like(z, value)), inplace


_UNARY = {"clamp": _clamp, "clip": _clamp, "clamp_min": _clamp_min, "clamp_max": _clamp_max, "relu": _relu,
          "relu6": _relu6, "leaky_relu": _leaky_relu, "elu": _elu, "hardtanh": _hardtanh, "threshold": _threshold,
          "_threshold": _threshold}


def _piecewise(torch, name, args, kwargs):
    """The guard's own version of a piecewise operation on complex tensors (see above); _NotHandled
    when ``name`` is not one, or the call's form is not covered."""
    base = _IN_PLACE.get(name, name)
    handler = _HANDLERS.get(base)
    if handler is not None:
        return handler(torch, name, base, args, kwargs)
    unary = _UNARY.get(base)
    if unary is None or not args or not isinstance(args[0], torch.Tensor) or not args[0].is_complex():
        raise _NotHandled
    z, out, inplace = unary(torch, name, args, kwargs)
    return z.copy_(out) if name in _IN_PLACE or inplace else out


#: |x| and sign(x) by the real part, as numpy's guard computes them (`hints.BY_REAL_PART`): Re z = 0
#: with Im z ≠ 0 is the kink, refused, and so are numbers whose imaginary part is the code's own
#: (torch.fft, a cast, 1j: above STEP_SIZED·|Re z|), whose |z| is the modulus it means.
def _by_real_part(torch, name, args, kwargs):
    z = args[0] if args else kwargs.get("input")
    if not isinstance(z, torch.Tensor) or not z.is_complex() or "out" in kwargs:
        raise _NotHandled
    ties.refuse(f"torch {name}", (z.real == 0) & (z.imag != 0), ties.kinks_at(0))
    floor = STEP_FLOOR * float(z.real.abs().max()) if z.numel() else 0.0
    if bool((z.imag.abs() > STEP_SIZED * z.real.abs().clamp(min=floor)).any()):
        raise _NotHandled  # the code's own complex numbers: |z| is their modulus, refused the ordinary way
    out = torch.where(z.real < 0, -z, z) if canonical(name) == "abs" else torch.sign(z.real).to(z.dtype)
    return z.copy_(out) if name.endswith("_") and not name.startswith("_") else out


#: products that refuse to mix real and complex tensors (``X @ W`` with data X a real tensor the code
#: holds, W the complex step's input): the guard makes the real ones complex (imaginary part 0), as it
#: does the inputs, which changes nothing an analytic function computes
_MIXES_NOTHING = frozenset({"matmul", "__matmul__", "__rmatmul__", "mm", "mv", "bmm", "dot", "inner", "einsum",
                            "tensordot", "linear", "bilinear", "multi_dot", "linalg_multi_dot", "chain_matmul",
                            "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"})


def _complexified(torch, args, kwargs):
    """``args`` and ``kwargs`` with each real floating-point tensor made complex (in lists too: einsum's)."""
    from torch.utils._pytree import tree_flatten, tree_map

    dtype = None
    for v in tree_flatten((args, kwargs))[0]:
        if isinstance(v, torch.Tensor) and (v.is_complex() or v.is_floating_point()):
            dtype = v.dtype if dtype is None else torch.promote_types(dtype, v.dtype)
    return tree_map(lambda v: v.to(dtype) if isinstance(v, torch.Tensor) and v.is_floating_point() else v,
                    (args, kwargs))


#: the piecewise operations the guard computes itself on complex tensors, by real part
#: softmax and its relatives subtract the largest score before exp (torch refuses complex tensors
#: for them): shifting by a constant is exact (softmax(z − c) = softmax(z)), so the guard shifts by
#: the largest real part, a real constant near x, and the function it computes is analytic in z
_NORMALISING = frozenset({"softmax", "log_softmax", "logsumexp", "_softmax", "_log_softmax"})


def _normalised(torch, called, name, args, kwargs):
    if name == "logsumexp":
        z, dim, keepdim = _bound(args, kwargs, ("input", "dim", "keepdim"), {"keepdim": False})
    else:
        z, dim, _, dtype = _bound(args, kwargs, ("input", "dim", "_stacklevel", "dtype"),
                                  {"_stacklevel": 3, "dtype": None})
        if dtype is not None:
            raise _NotHandled
        keepdim = True
    if not isinstance(z, torch.Tensor) or not z.is_complex() or dim is None:
        raise _NotHandled
    shift = z.real.detach().amax(dim=dim, keepdim=True)
    w = z - shift
    total = torch.exp(w).sum(dim=dim, keepdim=True)
    if name in ("softmax", "_softmax"):
        return torch.exp(w) / total
    if name in ("log_softmax", "_log_softmax"):
        return w - torch.log(total)
    out = torch.log(total) + shift
    return out if keepdim else out.squeeze(dim) if isinstance(dim, int) else out.reshape(
        [n for i, n in enumerate(out.shape) if i not in {d % z.ndim for d in dim}])


_HANDLERS = {**dict.fromkeys(_COMPARISONS, _comparison),
             **dict.fromkeys(("maximum", "minimum", "fmax", "fmin"), _elementwise),
             "max": _max_or_min, "min": _max_or_min, "amax": _amax_or_amin, "amin": _amax_or_amin,
             "argmax": _argmax_or_argmin, "argmin": _argmax_or_argmin, **dict.fromkeys(_NORMALISING, _normalised)}
#: what the guard computes itself on complex tensors: the orderings of its handler tables
#: (`gradverify.guard.hints.ORDERINGS`) and softmax's family
PIECEWISE = frozenset({*_HANDLERS, *_UNARY, *_IN_PLACE})


def _watch(torch, rounding, guarded: bool):
    """A TorchFunctionMode: with ``rounding`` (a `MonteCarloArithmetic`), each operation's
    floating-point result is multiplied by 1 + δ as that watcher draws it (views and shapes
    are exact and left alone); ``guarded``: on complex inputs, refuse what the complex step
    cannot see through: a result that is not complex (abs, .real, a comparison, a cast to
    real, float()), a conjugate, and an operation torch refuses for complex numbers; piecewise
    operations (`PIECEWISE`: relu, comparisons, max, clamp ...) are computed by real part, a tie refused."""
    from torch.overrides import TorchFunctionMode
    from torch.utils._pytree import tree_flatten

    getters = {getattr(torch.Tensor, n).__get__: n for n in ("real", "imag", "H", "mH")}
    kinds = rounding.kinds if rounding is not None else ""

    def complex_in(values) -> bool:
        return any(isinstance(v, torch.Tensor) and v.is_complex() for v in tree_flatten(values)[0])

    def refuse_non_analytic(func, args, kwargs):
        name = getters.get(func) or getattr(func, "__name__", repr(func))
        if name == "item" and args and isinstance(args[0], torch.Tensor) and args[0].numel() == 1:
            return args[0].reshape(())
        if canonical(name) in BY_REAL_PART.names:
            try:
                return _by_real_part(torch, name, args, kwargs)
            except _NotHandled:
                pass
        kind = refusal("torch", name)
        if kind is LEAVES_THE_WATCH:
            raise NotAnalytic(f"torch {name} takes a complex tensor's numbers out of torch")
        if kind is not None:  # a conjugate, a part (.real, .H), Hermitian linear algebra, a norm inside
            raise NotAnalytic(f"torch {name} on a complex tensor")
        if name in PIECEWISE:  # relu, a comparison, max ...: computed by real part, a tie refused
            try:
                return _piecewise(torch, name, args, kwargs)
            except _NotHandled:
                pass  # a form not covered (out=, a named dimension): torch's own way, refused as before
            except NotAnalytic:
                raise
            except Exception as exc:
                raise NotAnalytic(f"torch {name} on a complex tensor failed ({type(exc).__name__}: {exc})") \
                    from exc
        if name in _MIXES_NOTHING:
            args, kwargs = _complexified(torch, args, kwargs)
        try:
            # no warnings filter (it would be process-wide: another thread's code would meet it): where torch
            # drops an imaginary part (a write into a real tensor) it only warns, and the central differences
            # every gradcheck pass must agree with see the derivative lost
            out = func(*args, **kwargs)
        except Exception as exc:
            raise NotAnalytic(f"torch {name} refused a complex tensor ({exc})") from exc
        flat = tree_flatten(out)[0]
        if any(isinstance(v, torch.Tensor) and not v.is_complex() for v in flat) or \
                any(isinstance(v, float) for v in flat):
            raise NotAnalytic(f"torch {name} turned a complex tensor into real numbers")
        return out

    def draw(shape, dtype):  # the one Monte Carlo arithmetic's δ (float32 code rounds at float32's unit roundoff)
        return torch.as_tensor(rounding.deltas(shape, dtype))

    def perturbed(out, name, first, scale):
        if not isinstance(out, torch.Tensor) or not (out.is_floating_point() and "f" in kinds
                                                     or out.is_complex() and "c" in kinds):
            return out
        if out is first and not _rounds_in_place(name):  # it returned its input: nothing was rounded
            return out
        if out._base is not None and out is not first:  # a view: no rounding happened
            return out
        rounding.seen += 1
        shape = tuple(out.shape)
        with torch.no_grad():  # rounding is no operation of the user's: autograd does not see it
            error = out * draw(shape, out.dtype).to(out.dtype)
            if scale:  # a fused operation: its rounding inside is at the size of its inputs
                error = error + scale * draw(shape, out.dtype).to(out.dtype)
            if out is first:  # an in-place operation: perturb it in place
                return out.add_(error)
        return out + error

    class Watch(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if guarded and complex_in((args, kwargs)):
                out = refuse_non_analytic(func, args, kwargs)
            else:
                out = func(*args, **kwargs)
            if rounding is None:
                return out
            first, name = (args[0] if args else None), _name(func)
            scale = 0.0 if name in ELEMENTARY else _largest(torch, tree_flatten((args, kwargs))[0])
            return converted(out, lambda o: perturbed(o, name, first, scale))

    return Watch()
