"""Which framework a name or a value means: a table of loaders, outside the base class, so that
`base` knows none of its subclasses and adding a framework is one row here (and its module)."""

from __future__ import annotations

import importlib
import sys

from ..errors import InvalidArgument
from .base import Framework
from .detection import install_hint

__all__ = ["FRAMEWORKS", "framework", "framework_of_values", "to_numpy_values"]

#: the array libraries a user's function may be written in: name → (the module of this package
#: that handles it, its `Framework` subclass), both imported with the library when asked for;
#: numpy is the base class itself
_LOADERS = {"numpy": None, "torch": (".torch_code", "TorchCode"), "jax": (".jax_code", "JaxCode")}
FRAMEWORKS = tuple(_LOADERS)


def framework(name: str) -> Framework:
    """The converter for ``name`` ("numpy", "torch" or "jax"), importing the library now."""
    if name not in _LOADERS:
        raise InvalidArgument("framework 'numpy', 'torch' or 'jax'", f"framework={name!r}")
    if _LOADERS[name] is None:
        return Framework()
    try:
        library = importlib.import_module(name)
    except ImportError as exc:
        raise InvalidArgument(f"{name} installed, to check code written in {name}",
                              f"ImportError: {exc}", install_hint(name)) from None
    module, cls = _LOADERS[name]
    return getattr(importlib.import_module(module, __package__), cls)(library)


def framework_of_values(values) -> str:
    """"torch" or "jax" when any of ``values`` is a tensor of that library (checked without
    importing it), else "numpy"."""
    for value in values:
        for name, kind in (("torch", "Tensor"), ("jax", "Array")):
            module = sys.modules.get(name)
            if module is not None and isinstance(value, getattr(module, kind)):
                return name
    return "numpy"


def to_numpy_values(values) -> list:
    """Each torch tensor or jax array in ``values`` as a numpy array of its dtype (on the CPU,
    detached); anything else as it is."""
    out = []
    for i, value in enumerate(values):
        name = framework_of_values([value])
        if name == "torch" and value.layout != sys.modules["torch"].strided:
            raise InvalidArgument("dense tensors in args", f"args[{i}] with layout {value.layout}",
                                  "Pass args[i].to_dense(): gradcheck moves every entry of an argument.")
        out.append(framework(name).to_numpy(value) if name != "numpy" else value)
    return out
