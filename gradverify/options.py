"""What a run of the checks is asked to do (`Options`): a module of its own, light to import, so
that the processes that only send work to workers (the report's, pytest's) import no sympy and no
hypothesis to build it. `gradverify.checks` reads it."""

from __future__ import annotations

from dataclasses import dataclass

from .tolerances import DEFAULT_TOLERANCE, Tolerance

__all__ = ["Options"]


@dataclass
class Options:
    seed: int = 0
    #: hypothesis examples per derivation for the numeric checks
    examples: int = 25
    tolerance: Tolerance = DEFAULT_TOLERANCE
    #: index choices drawn at each symbolic size tuple (the numeric checks draw dozens more)
    symbolic_configs: int = 1
    #: re-check every claim with each assumption dropped in turn (report --assumptions)
    assumptions: bool = False
    #: whether `gradverify.runner.check_all` gives each row its function and claim as MathML
    #: (`gradverify.mathml`, a sympy printer's work per row): only report.html shows it
    mathml: bool = True
