"""Code written in torch: float64 CPU tensors in, numpy out; rounding and the complex step
watched by a TorchFunctionMode, which sees every torch function, method and operator."""

from __future__ import annotations

import warnings

import numpy as np

from .base import Framework, NotAnalyticCode, converted, is_float_array

__all__ = ["TorchCode", "CONJUGATING", "ELEMENTARY", "conjugates"]

#: operations that take complex numbers to complex numbers but are not analytic (the conjugate,
#: z/|z|): the complex step through them is wrong with no real number ever appearing; any
#: operation whose name contains one of `_CONJUGATING_PARTS` is refused too (conj_physical_,
#: linalg_vecdot, _conj ...)
CONJUGATING = frozenset({"conj", "conj_physical", "sgn", "sign", "vdot", "vecdot", "adjoint", "H", "mH",
                         "conj_transpose", "angle"})
_CONJUGATING_PARTS = ("conj", "vecdot", "sgn", "adjoint")
#: methods that hand a complex tensor's numbers to code the guard does not watch (numpy, Python lists);
#: ``.item()`` is allowed: it is how code returns its value, and Python's complex keeps the step
_LEAVES_THE_WATCH = frozenset({"numpy", "tolist", "__array__", "__float__", "__int__", "__index__", "__bool__"})


def conjugates(name: str) -> bool:
    """Whether a torch operation of this name conjugates (or takes z/|z|) on complex numbers."""
    return name in CONJUGATING or any(part in name for part in _CONJUGATING_PARTS)


class TorchCode(Framework):
    name = "torch"

    def __init__(self, torch):
        self.torch = torch

    def to_code(self, value):
        if is_float_array(value):
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


def _watch(torch, rounding, guarded: bool):
    """A TorchFunctionMode: with ``rounding`` (a `MonteCarloArithmetic`), each operation's
    floating-point result is multiplied by 1 + δ as that watcher draws it (views and shapes
    are exact and left alone); ``guarded``: on complex inputs, refuse what the complex step
    cannot see through: a result that is not complex (abs, .real, a comparison, a cast to
    real, float()), a conjugate, and an operation torch refuses for complex numbers."""
    from torch.overrides import TorchFunctionMode
    from torch.utils._pytree import tree_flatten

    getters = {getattr(torch.Tensor, n).__get__: n for n in ("real", "imag", "H", "mH")}
    kinds = rounding.kinds if rounding is not None else ""

    def complex_in(values) -> bool:
        return any(isinstance(v, torch.Tensor) and v.is_complex() for v in tree_flatten(values)[0])

    def refuse_non_analytic(func, args, kwargs):
        name = getters.get(func) or getattr(func, "__name__", repr(func))
        if conjugates(name) or name in getters.values():
            raise NotAnalyticCode(f"torch {name} on a complex tensor")
        if name in _LEAVES_THE_WATCH:
            raise NotAnalyticCode(f"torch {name} takes a complex tensor's numbers out of torch")
        try:
            with warnings.catch_warnings():  # torch warns as it drops an imaginary part (a write into a real tensor)
                warnings.filterwarnings("error", message=".*discards the imaginary part")
                out = func(*args, **kwargs)
        except Exception as exc:
            raise NotAnalyticCode(f"torch {name} refused a complex tensor ({exc})") from exc
        flat = tree_flatten(out)[0]
        if any(isinstance(v, torch.Tensor) and not v.is_complex() for v in flat) or \
                any(isinstance(v, float) for v in flat):
            raise NotAnalyticCode(f"torch {name} turned a complex tensor into real numbers")
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
