"""The gradcheck catalogue: ordinary loss-and-gradient code, written as users write it, checked by
`gradverify.gradcheck` at real sizes, right and planted wrong, each with the verdict it must get.

Each module of this package is one loss and defines ``ENTRIES``, a list of `Entry`. An entry is
data: ``make(n)`` builds ``(fn, args, wrt)`` at the size ``n`` (what n means is the module's: a
side of W, a vocabulary, a hidden width), and gradcheck's result must match:

* ``expected``: "pass" (ok), "fail" (not ok, not inconclusive), "inconclusive" (not ok,
  ``result.inconclusive``) or "error" (gradcheck raises; ``message`` is a phrase of the error);
* ``message``: a phrase the result's message (or the error) must contain ("" none asked);
* ``located``: for a wrong entry planted at one place, ``(argument, index)`` the check must name
  (``result.located`` holds it);
* ``resolution``: for a pass, the largest ``result.resolution`` that is not vacuous (1e-3), and
  ``resolution_why`` when an entry allows more (float32 code).

Nothing here derives anything: the code is the subject, gradcheck the judge.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

VERDICTS = ("pass", "fail", "inconclusive", "error")


@dataclass
class Entry:
    name: str
    make: Callable
    expected: str = "pass"
    planted: str = "none"
    sizes: dict = field(default_factory=lambda: {"small": 30, "large": 1000})
    framework: str = "numpy"
    located: tuple | None = None
    message: str = ""
    resolution: float = 1e-3
    resolution_why: str = ""
    #: keyword arguments of gradcheck beyond (fn, args, wrt) (``pin_rng=True`` for code that draws
    #: from the global generators)
    options: dict = field(default_factory=dict)
    #: the verdict at a size where it differs from ``expected`` ({"large": "inconclusive"}), with the
    #: reason beside the entry: what real arithmetic resolves changes with the size
    expected_at: dict = field(default_factory=dict)
    #: the loss (its module's name), filled in by `entries`
    loss: str = ""

    def __post_init__(self):
        assert self.expected in VERDICTS, self.expected
        assert self.planted != "none" or self.expected in ("pass", "inconclusive") or self.message, \
            f"{self.name}: a right version expected to fail must say how ({self.message!r})"

    def expected_for(self, size: str) -> str:
        return self.expected_at.get(size, self.expected)

    def missing(self) -> str:
        """Why this entry cannot run here ("" when it can): its library is not installed."""
        if self.framework != "numpy" and importlib.util.find_spec(self.framework) is None:
            return f"{self.framework} is not installed"
        return ""


def entries() -> list[Entry]:
    """Every entry of every module, in module order."""
    out = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for e in module.ENTRIES:
            e.loss = info.name
            out.append(e)
    names = [e.name for e in out]
    assert len(names) == len(set(names)), "entry names must be unique"
    return out


def entries_of(run) -> int:
    """How many entries gradcheck checks: the sizes of the wrt arguments of ``make(n)``'s output."""
    fn, args, wrt = run
    import numpy as np

    positions = wrt if wrt is not None else [i for i, a in enumerate(args)
                                             if hasattr(a, "dtype") and np.issubdtype(np.dtype(str(a.dtype).split(".")[-1]), np.floating)]
    return int(sum(np.prod(tuple(args[i].shape)) for i in positions))
