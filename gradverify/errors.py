"""Exceptions: a bad argument is not a failed check.

`InvalidArgument` is raised when a caller (a derivation author, a CLI user) passes
something gradverify cannot work with. It is never a verdict about a gradient.
`DerivationError` is raised when a registered derivation cannot be loaded or run
(its module fails to import, its implementation raises, returns the wrong shape
or NaN); the report shows it as an ERROR row and goes on with the others.
"""

__all__ = ["GradverifyError", "InvalidArgument", "DerivationError"]


class GradverifyError(Exception):
    """Base class of every error gradverify raises on purpose."""


class InvalidArgument(GradverifyError, ValueError):
    """Expected X but got name=value; the message ends with what to do."""

    def __init__(self, expected: str, got: str, hint: str = ""):
        self.expected, self.got, self.hint = expected, got, hint
        msg = f"Expected {expected} but got {got}."
        if hint:
            msg += f" {hint}"
        super().__init__(msg)


class DerivationError(GradverifyError):
    """A derivation could not be loaded or run; `str()` is one clear line. ``fn``: the user's
    function it is about, when the error is not an exception of theirs (code that is not
    deterministic, changes an argument in place): ``report --traceback`` names where it is."""

    def __init__(self, *args, fn=None):
        super().__init__(*args)
        self.fn = fn
