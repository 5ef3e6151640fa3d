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
    except Exception:  # anything that cannot be read (a tensor that requires grad, a mapping that is
        return None     # not one): None, never equal, so the check runs in the caller's process
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
    for matches, feed in _KINDS:
        if matches(value):
            feed(h, value, depth, seen)
            return
    raise _Unreadable(type(value).__name__)


def _named(prefix: str, name):
    return lambda h, v, depth, seen: h.update(f"{prefix}:{name(v)};".encode())


def _feed_array(h, value, depth, seen) -> None:
    h.update(f"array:{value.dtype.str}:{value.shape};".encode())
    h.update(np.ascontiguousarray(value).tobytes() if value.dtype.kind != "O" else repr(value.tolist()).encode())


def _feed_sympy(h, value, depth, seen) -> None:
    import sympy

    h.update(f"sympy:{sympy.srepr(value)};".encode())


def _feed_items(h, value, depth, seen) -> None:
    items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
    h.update(f"{type(value).__name__}[{len(items)}];".encode())
    for item in items:
        _feed(h, item, depth - 1, seen)


def _feed_mapping(h, value, depth, seen) -> None:
    h.update(f"{type(value).__name__}{{{len(value)}}};".encode())
    for k in sorted(value, key=repr):
        _feed(h, k, depth - 1, seen)
        _feed(h, value[k], depth - 1, seen)


def _feed_dataclass(h, value, depth, seen) -> None:
    h.update(f"{type(value).__module__}.{type(value).__qualname__}(".encode())
    for f in dataclasses.fields(value):
        if not f.compare:  # (a derivation's origin: where it was loaded from, not what it is)
            continue
        h.update(f"{f.name}=".encode())
        _feed(h, getattr(value, f.name), depth - 1, seen)
    h.update(b");")


def _feed_object(h, value, depth, seen) -> None:
    h.update(f"object:{type(value).__module__}.{type(value).__qualname__};".encode())
    _feed(h, value.__dict__, depth - 1, seen)


def _qualified(v) -> str:
    return f"{getattr(v, '__module__', '')}.{getattr(v, '__qualname__', getattr(v, '__name__', ''))}"


#: (is it of this kind, how it is read), in order: the first that matches reads the value
_KINDS = (
    (lambda v: isinstance(v, types.ModuleType), _named("module", lambda v: v.__name__)),
    (lambda v: isinstance(v, type), _named("class", _qualified)),
    (lambda v: isinstance(v, np.ndarray), _feed_array),
    (lambda v: isinstance(v, np.generic), _named("scalar", repr)),
    (lambda v: isinstance(v, (types.FunctionType, types.MethodType)), lambda h, v, d, s: _feed_function(h, v, d, s)),
    # a bound builtin method ({...}.get, rng.normal) is read with the object it is bound to
    (lambda v: isinstance(v, types.BuiltinMethodType) and not isinstance(getattr(v, "__self__", None),
                                                                         (types.ModuleType, type(None))),
     lambda h, v, d, s: (_named("builtin", _qualified)(h, v, d, s), _feed(h, v.__self__, d - 1, s))),
    (lambda v: isinstance(v, types.BuiltinFunctionType) or type(v).__name__ == "ufunc", _named("builtin", _qualified)),
    (lambda v: (type(v).__module__ or "").startswith("sympy."), _feed_sympy),
    (lambda v: isinstance(v, (list, tuple, frozenset, set)), _feed_items),
    (lambda v: isinstance(v, dict) or hasattr(v, "items") and hasattr(v, "keys"), _feed_mapping),
    (dataclasses.is_dataclass, _feed_dataclass),
    (lambda v: isinstance(v, functools.partial),
     lambda h, v, d, s: _feed(h, (v.func, v.args, v.keywords), d - 1, s)),
    # a tensor of torch or jax: its numbers
    (lambda v: hasattr(v, "__array__"), lambda h, v, d, s: _feed(h, np.array(v), d - 1, s)),
    (lambda v: isinstance(getattr(v, "__dict__", None), dict) and _python_class(type(v)), _feed_object),
)


_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement, not by C code


def _python_class(cls: type) -> bool:
    """Whether all of an instance's state is in its ``__dict__``: every class of its MRO but
    ``object`` written in Python, none with ``__slots__``."""
    return all(c is object or (c.__flags__ & _HEAP_TYPE and "__slots__" not in vars(c)) for c in cls.__mro__)


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
    names = _global_names(code)
    for name in names:
        if name in space:
            h.update(f"global:{name}=".encode())
            _feed(h, space[name], depth - 1, seen)
            if isinstance(space[name], (types.ModuleType, type)):
                _feed_attributes(h, space[name], names, depth, seen)


def _feed_attributes(h, owner, names: list, depth: int, seen: set) -> None:
    """The attributes of a module or class the code may read (``params.SCALE``, ``Cfg.scale``, a
    helper monkeypatched onto a module): those of them named in the code, as they are now. A
    module or class is otherwise read by its name alone."""
    if depth < 0 or id(owner) in seen:
        return
    seen = seen | {id(owner)}
    space = vars(owner)
    for attr in names:
        if attr in space and not isinstance(space[attr], types.ModuleType):
            h.update(f"attribute:{attr}=".encode())
            _feed(h, space[attr], depth - 1, seen)
            if isinstance(space[attr], type):  # params.Cfg.scale
                _feed_attributes(h, space[attr], names, depth - 1, seen)


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
