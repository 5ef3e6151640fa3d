"""Which library a function is written in, read from the names its code uses."""

from __future__ import annotations

import types
from collections.abc import Callable

__all__ = ["DETECT_DEPTH", "detect", "install_hint", "library_of"]

#: how many calls deep `detect` follows the user's own helper functions
DETECT_DEPTH = 3

#: the top-level modules of each library
_ROOTS = {"torch": "torch", "jax": "jax", "jaxlib": "jax"}


#: how to install each optional library (pyproject's optional-dependencies; torch's CPU build too)
_INSTALL = {"torch": "pip install 'gradverify[torch]' (torch's CPU build, smaller: pip install torch --index-url "
                     "https://download.pytorch.org/whl/cpu)",
            "jax": "pip install 'gradverify[jax]'"}


def install_hint(module: str | None) -> str:
    """"Install it: pip install ..." when ``module`` (a missing module's name: torch, jax.numpy,
    jaxlib) is one of the optional libraries, else ""."""
    library = _ROOTS.get((module or "").partition(".")[0])
    return f"Install it: {_INSTALL[library]}" if library else ""


def library_of(obj) -> str | None:
    """"torch" or "jax" when ``obj`` is that library, a part of it, something defined in it, or
    an object of one of its types (a tensor; a ``jax.jit`` of the user's function, a
    ``PjitFunction`` that carries the user's ``__module__``)."""
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
    found = _ROOTS.get(module.partition(".")[0]) if isinstance(module, str) else None
    return found or _ROOTS.get((getattr(type(obj), "__module__", "") or "").partition(".")[0])


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
        library = library_of(obj)
        if library:
            found.add(library)
        elif isinstance(obj, types.FunctionType):  # a helper of the user's: read it too
            found |= _libraries(obj, seen, depth - 1)
    return found


def detect(fn: Callable) -> str:
    """"torch" or "jax" when ``fn``'s code refers to that library (``torch.exp``, ``jnp.sum``,
    ``from torch import tanh``, ``import torch`` inside it, a closure over a tensor, a module-level
    ``@jax.jit`` helper it calls), directly or
    in a function of the user's it calls by name (`DETECT_DEPTH` deep), else "numpy". Nothing is
    imported. When both or neither are found but the code needs one, say ``framework=``."""
    found = _libraries(getattr(fn, "__wrapped__", fn), set(), DETECT_DEPTH)
    return found.pop() if len(found) == 1 else "numpy"
