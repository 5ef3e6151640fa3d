"""A user's mistake as a traceback in the user's own frames (``report --traceback``).

By default a spec or implementation error is one line naming the file, line and function in
the user's code (`user_frame`). With ``--traceback`` the whole traceback is shown too, cut the
way pytest cuts it: from the first frame in the user's code down to where the exception was
raised. sympy's or numpy's frames below the user's stay (that is where the message comes from);
gradverify's own go, above the user's and below (its wrappers around numpy arrays, the validation
that refused an argument). An error that is not an exception (code that is not
deterministic, an argument changed in place, a NaN returned) has no traceback: `describe` says
so, and names the user's function when it is known.

The text is made where the exception is caught, in the worker process, and travels back as a
string (`ClaimResult.traceback`, `LoadFailure.traceback`); the report's process never imports
user code. `trim_text` cuts an already formatted traceback (a worker's ``Outcome.traceback``).
"""

from __future__ import annotations

import os
import re
import sysconfig
import traceback
from pathlib import Path

from .errors import GradverifyError

__all__ = ["is_user_file", "user_frame", "user_exception", "format_user", "describe", "trim_text", "NO_TRACEBACK",
           "where_defined"]

#: what a row says when its error carries nothing more than its line
NO_TRACEBACK = ("no traceback: this error is not an exception raised in your code; gradverify found it by "
                "checking what the code did (the error line says what)")


def _package_dir(name: str) -> str | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.realpath(list(spec.submodule_search_locations)[0]) + os.sep


_OURS = os.path.realpath(Path(__file__).parent) + os.sep


def _not_users() -> tuple[str, ...]:
    dirs = [_OURS]
    dirs += [d for d in map(_package_dir, ("sympy", "numpy", "mpmath", "hypothesis", "torch", "jax", "jaxlib")) if d]
    dirs += [os.path.realpath(sysconfig.get_paths()[k]) + os.sep for k in ("stdlib", "platstdlib")]
    return tuple(dict.fromkeys(dirs))


_NOT_USERS = _not_users()


def is_user_file(filename: str) -> bool:
    """Not gradverify's, the standard library's, sympy's, numpy's, mpmath's, hypothesis's, torch's or jax's."""
    if not filename or filename.startswith("<"):  # <frozen importlib._bootstrap>, <string>
        return False
    return not os.path.realpath(filename).startswith(_NOT_USERS)


def _hidden(filename: str) -> bool:
    """A frame left out below the user's first one: gradverify's own (its wrappers around numpy
    arrays, the validation that refused an argument) and generated code (``<string>``)."""
    return not filename or filename.startswith("<") or os.path.realpath(filename).startswith(_OURS)


def user_frame(exc: BaseException) -> str:
    """" (at file.py:12 in dJ_dU)": the innermost frame of the traceback in the user's own code
    (not gradverify's, numpy's or sympy's), where the mistake is."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if is_user_file(f.filename)]
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {f.filename}:{f.lineno} in {f.name})"


def _chain(exc: BaseException | None):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__


def _in_user_code(exc: BaseException) -> bool:
    return any(is_user_file(f.filename) for f in traceback.extract_tb(exc.__traceback__))


def user_exception(exc: BaseException) -> BaseException | None:
    """The exception behind ``exc`` that has a traceback in the user's code: the innermost one
    along the ``raise ... from`` chain (gradverify wraps what user code raises) whose frames
    reach the user's code, when the user's code raised it, or called gradverify which refused (a
    `Derivation` with a bad argument at import). An exception raised in C below it (numpy's
    ufunc on a sympy expression raises a TypeError from an AttributeError that has no frames)
    is shown as its cause. None when gradverify found the error by looking at what the code did."""
    chain = list(_chain(exc))
    for e in reversed(chain):
        if _in_user_code(e):
            return e
    innermost = chain[-1]
    return None if isinstance(innermost, GradverifyError) else innermost


def _cut(te: traceback.TracebackException, syntax_error: bool = False) -> None:
    """``te``'s stack from its first frame in user code, gradverify's own frames below it left
    out (untouched when it has none; a SyntaxError, which names its file and line itself,
    without the importer's frames), and the same for the exceptions chained to it."""
    first = next((i for i, f in enumerate(te.stack) if is_user_file(f.filename)), None)
    if first is None and syntax_error:
        first = len(te.stack)
    if first is not None:
        te.stack = traceback.StackSummary.from_list([f for f in te.stack[first:] if not _hidden(f.filename)])
    for other in (te.__cause__, te.__context__):
        if other is not None:
            _cut(other)


def format_user(exc: BaseException) -> str:
    """The traceback of the user's exception behind ``exc``, from the first frame in the user's
    code; "" when there is none (the error was found, not raised)."""
    user = user_exception(exc)
    if user is None:
        return ""
    te = traceback.TracebackException.from_exception(user)
    _cut(te, isinstance(user, SyntaxError))
    return "".join(te.format()).rstrip("\n")


def where_defined(fn) -> str:
    """"loss_and_grad (at file.py:12)", or "" for what has no code of its own."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ""
    return f"{getattr(fn, '__name__', '?')} (at {code.co_filename}:{code.co_firstlineno})"


def describe(exc: BaseException) -> str:
    """What ``--traceback`` shows for ``exc``: the user's traceback, or why there is none
    (naming the user's function behind the error when the error knows it)."""
    text = format_user(exc)
    if text:
        return text
    fn = next((e.fn for e in _chain(exc) if getattr(e, "fn", None) is not None), None)
    where = where_defined(fn) if fn is not None else ""
    if where:
        return (f"no traceback: {where} raised no exception; gradverify found this by checking what it did "
                "(the error line says what)")
    return NO_TRACEBACK


_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line \d+')


def trim_text(text: str) -> str:
    """A formatted traceback (``traceback.format_exception``'s text) cut as `format_user` cuts
    one: in each ``Traceback (most recent call last):`` section, the frames before the first one in
    user code left out, and gradverify's below it; a section with no frame in user code is kept
    whole."""
    out: list[str] = []
    section: list[str] = []
    for line in text.rstrip("\n").splitlines():
        if line.startswith("Traceback (most recent call last):"):
            out += _trim_section(section)
            section = []
        section.append(line)
    out += _trim_section(section)
    return "\n".join(out)


def _trim_section(lines: list[str]) -> list[str]:
    """One section: its heading, its frames (a ``  File`` line and the indented lines under it),
    then the exception's own lines."""
    starts = [i for i, line in enumerate(lines) if _FRAME.match(line)]
    if not starts:
        return lines
    end = next((i for i in range(starts[-1] + 1, len(lines)) if not lines[i].startswith("    ")), len(lines))
    frames = [(_FRAME.match(lines[i]).group("file"), lines[i:j]) for i, j in zip(starts, starts[1:] + [end])]
    first = next((k for k, (file, _) in enumerate(frames) if is_user_file(file)), None)
    if first is None:
        return lines
    kept = [block for k, (file, block) in enumerate(frames) if k == first or k > first and not _hidden(file)]
    return lines[:starts[0]] + [line for block in kept for line in block] + lines[end:]
