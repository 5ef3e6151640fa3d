"""Code written in torch or jax: which array library a user's function is written in, and
how gradverify calls it.

gradverify computes in numpy everywhere (float64 for derivations). A function written in
torch or jax is called with its float inputs converted at the boundary (same dtype, on the
CPU) and its outputs converted back to numpy; the checks themselves never know the
difference. What numpy code shows gradverify through its operations, torch and jax code
shows through its framework's own hooks:

- Monte Carlo arithmetic (`gradverify.mca`): when the inputs are watched by it, every
  torch operation's result is perturbed by a TorchFunctionMode, and jax code runs as its
  traced program (jaxpr), one primitive at a time, each result perturbed;
- the complex step's guard: torch operations and jax primitives that are not analytic on
  complex numbers (abs, the real part, comparisons, conjugates, casts to real) are refused
  (`gradverify.guard.NotAnalytic`; which ones, by the names numpy's guard reads too:
  `gradverify.guard.hints`).

`registry` says which `Framework` a name or a value means; `base` is what every framework does.

torch and jax are optional: each is imported only when code written in it is checked,
and a missing one is an `InvalidArgument` with the install command. `detect` reads which
library a function uses from the names its code refers to, without importing anything.
"""

from .base import Framework
from .detection import DETECT_DEPTH, detect
from .registry import FRAMEWORKS, framework, framework_of_values, to_numpy_values

__all__ = ["DETECT_DEPTH", "FRAMEWORKS", "Framework", "detect", "framework", "framework_of_values", "to_numpy_values"]
