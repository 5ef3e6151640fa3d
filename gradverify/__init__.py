"""gradverify: check hand-derived gradients three ways (sympy, finite differences, code vs math).

The public surface is the spec vocabulary a derivation file uses, ``gradcheck``
(one implementation against its own value, at any size), the errors a caller
can catch, and the tolerance table. Everything else is reached through its
module (``gradverify.checks``, ``gradverify.mutation``, ``gradverify.report``, ...).
"""

from .errors import DerivationError, GradverifyError, InvalidArgument
from .gradcheck import GradcheckError, GradcheckResult, WrongEntry, gradcheck
from .checks import Options, check_derivation
from .results import Verdict
from .testing import Result, assert_holds, check
from .spec import (Assumption, Claim, Derivation, Distinct, Excludes, Fixed, Implementation, Index, Indices, Int, OneHot,
                   Real, Require)
from .tolerances import TOLERANCES, Tolerance

__version__ = "0.1.0"

__all__ = ["Assumption", "Claim", "Derivation", "DerivationError", "Distinct", "Excludes", "Fixed", "GradcheckError", "GradcheckResult",
           "GradverifyError", "Implementation", "Index", "Indices", "Int", "InvalidArgument", "OneHot", "Options", "Real",
           "Require", "Result", "TOLERANCES", "Tolerance", "Verdict", "__version__", "assert_holds", "check", "check_derivation",
           "gradcheck", "WrongEntry"]
