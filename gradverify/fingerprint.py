"""What a derivation is, as a digest two processes compute alike.

`gradverify.check` runs a derivation in a worker process that imports its file
again. The worker must then check the very derivation the caller passed, not
the one the file defines at import: a test may have changed a module constant,
built a variant with ``dataclasses.replace``, or edited a claim. `digest` reads
what decides a check (every field, the code of every function with its
defaults, closure and the globals it names, sympy expressions by ``srepr``,
arrays by their bytes) and hashes it; the caller compares its digest with the
worker's and checks in its own process when they differ. A value it cannot
read exactly makes the digest None (never equal), so a difference is never
missed by being unreadable.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import types

import numpy as np

__all__ = ["digest"]

#: how deep the walk follows values (a function's globals, their functions' globals, ...)
DEPTH = 24


class _Unreadable(Exception):
    pass


def digest(value) -> str | None:
    """A hex digest of ``value`` and everything it holds, or None when part of it cannot be read."""
    h = hashlib.sha256()
    try:
        _feed(h, value, DEPTH, set())
    except (_Unreadable, RecursionError, ValueError, TypeError):
        return None
    return h.hexdigest()


def _feed(h, value, depth: int, seen: set) -> None:
    if depth < 0:
        raise _Unreadable("too deep")
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        h.update(f"{type(value).__name__}:{value!r};".encode())
        return
    if id(value) in seen:
        h.update(b"<seen>;")
        return
    seen = seen | {id(value)}
    if isinstance(value, types.ModuleType):
        h.update(f"module:{value.__name__};".encode())
        return
    if isinstance(value, type):
        h.update(f"class:{value.__module__}.{value.__qualname__};".encode())
        return
    if isinstance(value, np.ndarray):
        h.update(f"array:{value.dtype.str}:{value.shape};".encode())
        h.update(np.ascontiguousarray(value).tobytes() if value.dtype.kind != "O" else repr(value.tolist()).encode())
        return
    if isinstance(value, np.generic):
        h.update(f"{type(value).__name__}:{value!r};".encode())
        return
    if isinstance(value, (types.FunctionType, types.MethodType)):
        _feed_function(h, value, depth, seen)
        return
    if isinstance(value, types.BuiltinFunctionType) or type(value).__name__ == "ufunc":
        h.update(f"builtin:{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', value.__name__)};"
                 .encode())
        return
    if _is_sympy(value):
        import sympy

        h.update(f"sympy:{sympy.srepr(value)};".encode())
        return
    if isinstance(value, (list, tuple, frozenset, set)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        h.update(f"{type(value).__name__}[{len(items)}];".encode())
        for item in items:
            _feed(h, item, depth - 1, seen)
        return
    if isinstance(value, dict) or hasattr(value, "items") and hasattr(value, "keys"):
        h.update(f"{type(value).__name__}{{{len(value)}}};".encode())
        for k in sorted(value, key=repr):
            _feed(h, k, depth - 1, seen)
            _feed(h, value[k], depth - 1, seen)
        return
    if dataclasses.is_dataclass(value):
        h.update(f"{type(value).__module__}.{type(value).__qualname__}(".encode())
        for f in dataclasses.fields(value):
            if not f.compare:  # (a derivation's origin: where it was loaded from, not what it is)
                continue
            h.update(f"{f.name}=".encode())
            _feed(h, getattr(value, f.name), depth - 1, seen)
        h.update(b");")
        return
    if isinstance(value, functools.partial):
        _feed(h, (value.func, value.args, value.keywords), depth - 1, seen)
        return
    if hasattr(value, "__array__"):  # a tensor of torch or jax: its numbers
        _feed(h, np.array(value), depth - 1, seen)
        return
    state = getattr(value, "__dict__", None)
    if isinstance(state, dict) and _python_class(type(value)):
        h.update(f"object:{type(value).__module__}.{type(value).__qualname__};".encode())
        _feed(h, state, depth - 1, seen)
        return
    raise _Unreadable(type(value).__name__)


_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement, not by C code


def _python_class(cls: type) -> bool:
    """Whether all of an instance's state is in its ``__dict__``: every class of its MRO but
    ``object`` written in Python, none with ``__slots__``."""
    return all(c is object or (c.__flags__ & _HEAP_TYPE and "__slots__" not in vars(c)) for c in cls.__mro__)


def _is_sympy(value) -> bool:
    module = type(value).__module__ or ""
    return module.startswith("sympy.")


def _feed_function(h, fn, depth: int, seen: set) -> None:
    if isinstance(fn, types.MethodType):
        _feed(h, fn.__self__, depth - 1, seen)
        fn = fn.__func__
    code = fn.__code__
    _feed_code(h, code, depth, seen)
    _feed(h, fn.__defaults__, depth - 1, seen)
    _feed(h, fn.__kwdefaults__, depth - 1, seen)
    cells = [c.cell_contents if _filled(c) else "<empty cell>" for c in (fn.__closure__ or ())]
    _feed(h, cells, depth - 1, seen)
    space = fn.__globals__
    for name in _global_names(code):
        if name in space:
            h.update(f"global:{name}=".encode())
            _feed(h, space[name], depth - 1, seen)


def _feed_code(h, code: types.CodeType, depth: int, seen: set) -> None:
    """The code's instructions, names and constants (not its file or line numbers, and not by
    `marshal`, whose bytes depend on reference counts)."""
    h.update(b"code:")
    h.update(code.co_code)
    h.update(repr((code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars, code.co_argcount,
                   code.co_posonlyargcount, code.co_kwonlyargcount, code.co_flags)).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _feed_code(h, const, depth - 1, seen)
        else:
            _feed(h, const, depth - 1, seen)


def _global_names(code: types.CodeType) -> list[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names.update(_global_names(const))
    return sorted(names)


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True
