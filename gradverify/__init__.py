"""gradverify: check hand-derived gradients three ways (sympy, finite differences, code vs math).

The public surface is the spec vocabulary a derivation file uses, ``gradcheck``
(one implementation against its own value, at any size), the errors a caller
can catch, and the tolerance table. Everything else is reached through its
module (``gradverify.checks``, ``gradverify.mutation``, ``gradverify.report``, ...).

Names are imported when first used (PEP 562): ``from gradverify import gradcheck``
loads numpy and no sympy or hypothesis; the spec vocabulary and the checks load what they need.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from .errors import DerivationError, GradverifyError, InvalidArgument

__version__ = "0.1.0"

#: each lazily exported name and the module it comes from
_LAZY = {
    "Options": ".options", "check_derivation": ".checks",
    "Verdict": ".results",
    "Result": ".testing", "assert_holds": ".testing", "check": ".testing",
    **{name: ".spec" for name in ("Assumption", "Claim", "Derivation", "Distinct", "Excludes", "Fixed",
                                  "Implementation", "Index", "Indices", "Int", "OneHot", "Real", "Require")},
    "TOLERANCES": ".tolerances", "Tolerance": ".tolerances",
    # (lazy too, so that `python -m gradverify` can say that numpy is missing before anything needs it)
    **{name: ".checking" for name in ("GradcheckError", "GradcheckResult", "Workspace", "WrongEntry", "gradcheck")},
}

if TYPE_CHECKING:  # what the lazy names are, for type checkers and the API reference (never run)
    from .checking import GradcheckError, GradcheckResult, Workspace, WrongEntry, gradcheck
    from .checks import check_derivation
    from .options import Options
    from .results import Verdict
    from .spec import (Assumption, Claim, Derivation, Distinct, Excludes, Fixed, Implementation, Index, Indices, Int,
                       OneHot, Real, Require)
    from .testing import Result, assert_holds, check
    from .tolerances import TOLERANCES, Tolerance

__all__ = ["Assumption", "Claim", "Derivation", "DerivationError", "Distinct", "Excludes", "Fixed", "GradcheckError", "GradcheckResult",
           "GradverifyError", "Implementation", "Index", "Indices", "Int", "InvalidArgument", "OneHot", "Options", "Real",
           "Require", "Result", "TOLERANCES", "Tolerance", "Verdict", "__version__", "assert_holds", "check", "check_derivation",
           "gradcheck", "Workspace", "WrongEntry"]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gradverify' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # the next access is an ordinary attribute
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
