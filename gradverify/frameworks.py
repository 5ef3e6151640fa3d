"""Code written in torch or jax: which array library a user's function is written in, and
the conversion at its boundary.

gradverify computes in numpy everywhere (float64 for derivations). A function written in
torch or jax is called with its float inputs converted at the boundary (same dtype, on the
CPU) and its outputs converted back to numpy; nothing else in gradverify knows the difference. torch
and jax are optional: each is imported only when a function written in it is checked,
and a missing one is an `InvalidArgument` with the install command.

`detect` reads which library a function uses from the names its code refers to, without
importing anything; `framework` gives the object that converts. The Monte Carlo rounding
watch and the complex step's guard see numpy operations only, so code in torch or jax is,
to them, code that converts its inputs first: its noise is estimated from moved inputs
alone (the report says so), and gradcheck's "auto" estimator is the central difference.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from collections.abc import Callable

import numpy as np

from .errors import InvalidArgument

__all__ = ["DETECT_DEPTH", "FRAMEWORKS", "Framework", "detect", "framework", "framework_of_values", "to_numpy_values"]

#: the array libraries a user's function may be written in
FRAMEWORKS = ("numpy", "torch", "jax")

#: the extra that installs each optional library (pyproject's optional-dependencies)
_EXTRA = {"torch": "pip install 'gradverify[torch]'", "jax": "pip install 'gradverify[jax]'"}


class Framework:
    """numpy: the identity at the boundary. Subclasses convert to and from their tensors."""

    name = "numpy"

    def to_code(self, value):
        """An input as the function takes it (a float array becomes a CPU tensor of its dtype)."""
        return value

    def to_numpy(self, value):
        """An output as gradverify reads it (a tensor becomes a numpy array)."""
        return value

    def context(self):
        """Held around every call of the function (jax: 64-bit mode)."""
        return contextlib.nullcontext()

    def call(self, fn: Callable, args) -> object:
        """``fn`` on ``args`` converted in, its result (or each element of a tuple) converted out."""
        with self.context():
            out = fn(*[self.to_code(a) for a in args])
            if isinstance(out, (tuple, list)):
                return type(out)(self.to_numpy(o) for o in out)
            return self.to_numpy(out)

    def wrap(self, fn: Callable) -> Callable:
        """``fn`` as a function of numpy arrays that returns numpy arrays."""
        if self.name == "numpy":
            return fn

        def on_numpy(*args):
            return self.call(fn, args)

        on_numpy.__name__ = getattr(fn, "__name__", "fn")
        on_numpy.__wrapped__ = fn
        return on_numpy


def _is_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


class _Torch(Framework):
    name = "torch"

    def __init__(self, torch):
        self.torch = torch

    def to_code(self, value):
        if _is_float_array(value):
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
            return value.detach().cpu().resolve_conj().numpy()
        return value


class _Jax(Framework):
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
        if _is_float_array(value):
            return self.jnp.asarray(value)  # float64 stays float64 (64-bit mode is on during the call)
        return value

    def to_numpy(self, value):
        if isinstance(value, self.jax.Array):
            return np.asarray(value)
        return value


def framework(name: str) -> Framework:
    """The converter for ``name`` ("numpy", "torch" or "jax"), importing the library now."""
    if name not in FRAMEWORKS:
        raise InvalidArgument("framework 'numpy', 'torch' or 'jax'", f"framework={name!r}")
    if name == "numpy":
        return Framework()
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise InvalidArgument(f"{name} installed, to check code written in {name}",
                              f"ImportError: {exc}", f"Install it: {_EXTRA[name]}") from None
    return _Torch(module) if name == "torch" else _Jax(module)


#: the top-level modules of each library
_ROOTS = {"torch": "torch", "jax": "jax", "jaxlib": "jax"}


def _library(obj) -> str | None:
    """"torch" or "jax" when ``obj`` is that library, a part of it, or something defined in it."""
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
    if not isinstance(module, str):
        module = getattr(type(obj), "__module__", "") or ""
    return _ROOTS.get(module.partition(".")[0])


def _names(code: types.CodeType):
    yield from code.co_names
    for const in code.co_consts:  # nested functions and lambdas
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # a cell not yet assigned
        return False
    return True


def _libraries(fn, seen: set, depth: int) -> set:
    """The libraries ``fn``'s code names, and those of the user's functions it calls by name."""
    code = getattr(fn, "__code__", None)
    if code is None or fn in seen or depth < 0:
        return set()
    seen.add(fn)
    found = set()
    closure = dict(zip(code.co_freevars, (c.cell_contents for c in fn.__closure__ or () if _filled(c))))
    for name in list(_names(code)) + list(closure):
        if name.partition(".")[0] in _ROOTS:  # imported inside the function: import torch
            found.add(_ROOTS[name.partition(".")[0]])
        obj = closure.get(name, fn.__globals__.get(name))
        if obj is None:
            continue
        library = _library(obj)
        if library:
            found.add(library)
        elif isinstance(obj, types.FunctionType):  # a helper of the user's: read it too
            found |= _libraries(obj, seen, depth - 1)
    return found


#: how many calls deep `detect` follows the user's own helper functions
DETECT_DEPTH = 3


def detect(fn: Callable) -> str:
    """"torch" or "jax" when ``fn``'s code refers to that library by a global name (``torch.exp``,
    ``jnp.sum``, ``from torch import tanh``), directly or in a function of the user's it calls
    by name (`DETECT_DEPTH` deep), else "numpy". Nothing is imported: code written in torch
    found torch in its own module's globals. When both or neither are found but the code
    needs one, say ``framework=`` explicitly."""
    found = _libraries(getattr(fn, "__wrapped__", fn), set(), DETECT_DEPTH)
    return found.pop() if len(found) == 1 else "numpy"


def to_numpy_values(values) -> list:
    """Each torch tensor or jax array in ``values`` as a numpy array of its dtype (on the CPU,
    detached); anything else as it is."""
    out = []
    for value in values:
        name = framework_of_values([value])
        out.append(framework(name).to_numpy(value) if name != "numpy" else value)
    return out


def framework_of_values(values) -> str:
    """"torch" or "jax" when any of ``values`` is a tensor of that library (checked without
    importing it), else "numpy"."""
    for value in values:
        for name in ("torch", "jax"):
            module = sys.modules.get(name)
            if module is None:
                continue
            kind = module.Tensor if name == "torch" else module.Array
            if isinstance(value, kind):
                return name
    return "numpy"
