"""Which library a function is written in, read from the names its code uses."""

from __future__ import annotations

import types
from collections.abc import Callable

from ..guard.hints import OPAQUE, opaque_module

__all__ = ["DETECT_DEPTH", "OPAQUE", "detect", "install_hint", "library_of", "opaque_libraries", "opaque_module"]

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


def _walk(fn, seen: set, depth: int, classify) -> set:
    """What ``classify(name, obj, names)`` finds among the names ``fn``'s code uses (``obj``: what the
    name refers to, or None), and in the user's functions it calls by name, ``depth`` deep."""
    code = getattr(fn, "__code__", None)
    if code is None or fn in seen or depth < 0:
        return set()
    seen.add(fn)
    found = set()
    closure = dict(zip(code.co_freevars, (c.cell_contents for c in fn.__closure__ or () if _filled(c))))
    names = list(_names(code)) + list(closure)
    for name in names:
        obj = closure.get(name, fn.__globals__.get(name))
        labels = classify(name, obj, names)
        found |= labels
        if not labels and isinstance(obj, types.FunctionType):  # a helper of the user's: read it too
            found |= _walk(obj, seen, depth - 1, classify)
    defaults = list(getattr(fn, "__defaults__", None) or ()) + list((getattr(fn, "__kwdefaults__", None) or {}).values())
    for obj in defaults:  # lambda W, term=term: ... (a helper bound as a default argument)
        found |= classify("", obj, names)
        if isinstance(obj, types.FunctionType):
            found |= _walk(obj, seen, depth - 1, classify)
    return found


def _library_names(name, obj, names) -> set:
    found = set()
    if name.partition(".")[0] in _ROOTS:  # imported inside the function: import torch
        found.add(_ROOTS[name.partition(".")[0]])
    library = library_of(obj) if obj is not None else None
    return found | {library} if library else found


def _libraries(fn, seen: set, depth: int) -> set:
    """The libraries ``fn``'s code names, and those of the user's functions it calls by name."""
    return _walk(fn, seen, depth, _library_names)


def _opaque_names(name, obj, names) -> set:
    imported = {p for p in OPAQUE if name == p or name.startswith(p + ".")}  # import scipy.linalg inside fn
    if imported or obj is None:
        return imported
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
    if not isinstance(module, str):
        return set()
    if module == "scipy":  # import scipy; scipy.linalg.eigh(...)
        return {p for p in OPAQUE if p.partition(".")[2] in names}
    return {p for p in OPAQUE if module == p or module.startswith(p + ".")}


def opaque_libraries(fn: Callable) -> list:
    """The libraries in `OPAQUE` that ``fn``'s code names (as `detect` reads it), sorted."""
    return sorted(_walk(getattr(fn, "__wrapped__", fn), set(), DETECT_DEPTH, _opaque_names))


def detect(fn: Callable) -> str:
    """"torch" or "jax" when ``fn``'s code refers to that library (``torch.exp``, ``jnp.sum``,
    ``from torch import tanh``, ``import torch`` inside it, a closure over a tensor, a module-level
    ``@jax.jit`` helper it calls), directly or
    in a function of the user's it calls by name (`DETECT_DEPTH` deep), else "numpy". Nothing is
    imported. When both or neither are found but the code needs one, say ``framework=``."""
    found = _libraries(getattr(fn, "__wrapped__", fn), set(), DETECT_DEPTH)
    return found.pop() if len(found) == 1 else "numpy"
