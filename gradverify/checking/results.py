"""What a gradcheck call returns or raises: the result, the wrong entry it names, its error."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import GradverifyError

__all__ = ["GradcheckError", "GradcheckResult", "WrongEntry"]


@dataclass(frozen=True)
class WrongEntry:
    """One entry of a claimed gradient found wrong."""

    #: position of the argument in ``args``
    argument: int
    #: index of the entry in that argument
    index: tuple
    claimed: float
    #: the estimator's value of the true derivative there
    estimate: float

    def __str__(self) -> str:
        return (f"args[{self.argument}] at index {self.index}: claimed {self.claimed:.12g}, "
                f"estimate {self.estimate:.12g}")


@dataclass
class GradcheckResult:
    ok: bool
    mode: str
    estimator: str
    #: worst |numeric − claimed| / tolerance over the comparisons made (≤ 1 passes)
    error_over_tolerance: float
    evaluations: int
    seconds: float
    #: why the check failed, naming the wrong entry when one was located, or why it is
    #: inconclusive (starts "inconclusive:"); "" when ok
    message: str = ""
    #: the wrong entries found (a failed check locates one when it can)
    located: list = field(default_factory=list)
    #: why the complex step was not used, when it was not
    fallback: str = ""
    #: True when fn drew from np.random/random and those were seeded before every call
    pinned_rng: bool = False
    #: the smallest error in one entry, as a fraction of max|grad|, that this check catches for
    #: certain (along random directions, whose weights are all at least ½: 2·tolerance/max|grad|;
    #: entry by entry: tolerance/max|grad|), with the sharpest estimator used. A pass says nothing of
    #: errors below it: central differences and float32 resolve far less than the complex step in
    #: float64 (1e-7 against 1e-12 or better)
    resolution: float = float("nan")
    #: True when every comparison agreed but ``resolution`` ≥ `INCONCLUSIVE_RESOLUTION` (an error as
    #: large as max|grad| in one entry could pass unseen): ``ok`` is False and ``message`` says why and
    #: what to do (float64 inputs, an estimator that resolves more, a smaller problem)
    inconclusive: bool = False
    #: the same figure for what real arithmetic alone certified: central differences along the same
    #: directions, which every pass must agree with (they need no analyticity of the code). The
    #: complex step's sharper ``resolution`` rests on the code computing the real function continued
    #: to complex numbers; this one rests on nothing but the code's own real calls
    certified_resolution: float = float("nan")
    #: what the measuring met and did about it (code that refuses watched arrays, Monte Carlo reruns
    #: that flipped a mask and were left out)
    notes: list = field(default_factory=list)

    def __bool__(self):
        return self.ok

    def __str__(self) -> str:
        head = ("pass" if self.ok else "inconclusive" if self.inconclusive else "FAIL")
        worth = (f"{self.mode or '-'}, {self.estimator or '-'}, resolution {self.resolution:.3g} "
                 f"(certified in real arithmetic: {self.certified_resolution:.3g}), "
                 f"{self.evaluations} evaluations, {self.seconds:.3g} s")
        lines = [f"gradcheck {head}: {worth}"]
        if self.message:
            lines.append(self.message)
        if self.fallback:
            lines.append(f"complex step not used: {self.fallback}")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


class GradcheckError(GradverifyError, AssertionError):
    """Raised by ``gradcheck(..., raise_exception=True)`` on a failed or inconclusive check;
    ``.result`` has it all."""

    def __init__(self, result: GradcheckResult):
        self.result = result
        super().__init__(result.message)
