"""Driving hypothesis: the example loop over drawn points, shrinking, and its budgets.

`Search` runs a check's ``evaluate`` on points hypothesis draws; each key (a
claim and check) that fails anywhere is explored again alone so hypothesis
shrinks it to the smallest failing point within `SHRINK_BUDGET` examples. Its
counters live on the instance (as hypothesis keeps its engine's on the runner).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .errors import DerivationError
from .sampling import HypothesisSource, Source
from .spec import Point
from .tolerances import SHRINK_BUDGET

__all__ = ["Found", "Exploration", "Search", "explore", "OutsideDomain"]


@dataclass
class Found:
    """What a check found at one point: ``detail`` is the check's own record."""

    point: Point
    detail: Any


@dataclass
class Exploration:
    examples: int
    #: per key (claim name), the shrunk failure (the first one seen when not shrunk)
    failures: dict[str, Found]
    #: per key, the first failure seen, before any shrinking
    first: dict = field(default_factory=dict)
    #: points outside the function's domain, drawn again, and the first few of them
    outside: int = 0
    outside_points: list = field(default_factory=list)


#: points outside the domain kept to name (report --assumptions)
MAX_OUTSIDE_POINTS = 20


class _Stop(Exception):
    pass


class OutsideDomain(Exception):
    """Raised by ``evaluate``: the point is outside the function's domain (the spec is undefined
    there too). It is drawn again (hypothesis: an invalid example) and counted."""


class _Abort(BaseException):  # not an Exception: hypothesis must not replay or shrink it
    def __init__(self, error: DerivationError):
        super().__init__(str(error))
        self.error = error


class _ShrinkTimeout(BaseException):  # not an Exception: hypothesis must not take it for a failure
    pass




def _settings(examples: int):
    from hypothesis import HealthCheck, Phase, Verbosity, settings

    return settings(max_examples=examples, deadline=None, database=None, derandomize=False,
                    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                    phases=[Phase.explicit, Phase.generate, Phase.shrink], print_blob=False,
                    report_multiple_bugs=False)


class Search:
    """One exploration: ``evaluate(point, target)`` returns ``{key: detail}`` for every key
    that failed at the point (``target``: the one key being shrunk, all it needs to
    evaluate then; None in the survey). A `DerivationError` raised by ``evaluate``
    stops the search and is re-raised with the point that caused it. With ``until``,
    the survey stops as soon as every key in it has failed."""

    def __init__(self, draw: Callable[[Source], Point], evaluate: Callable[..., dict[str, Any]], examples: int,
                 seed: int, until: set | None = None, explicit: Sequence[Point] = ()):
        self.draw, self.evaluate, self.examples, self.seed, self.until = draw, evaluate, examples, seed, until
        #: points tried before hypothesis's (on both sides of and between breakpoints); a failure
        #: found at one is shrunk like any other, and stays as found when no smaller one fails
        self.explicit = list(explicit)
        self.failures: dict[Any, Found] = {}
        self.first: dict[Any, Found] = {}
        #: examples evaluated, and shrink examples tried for the current key
        self.count = self.tries = 0
        #: points outside the function's domain, drawn again (`OutsideDomain`), and the first of them
        self.outside = 0
        self.outside_points: list = []
        self._in_hypothesis = False

    def run(self, shrink: bool = True) -> Exploration:
        try:
            for point in self.explicit:
                self._example(point, None)
        except _Stop:
            pass
        except _Abort as abort:
            raise abort.error from abort.error.__cause__
        if not (self.until and self.until <= set(self.failures)):
            self._pass(None)
        surveyed = self.count
        shrunk: set = set()
        while shrink and set(self.failures) - shrunk:  # a shrink run may find failures of other keys
            key = sorted(set(self.failures) - shrunk, key=str)[0]
            shrunk.add(key)
            self.tries = 0
            self._pass(key)
        return Exploration(examples=surveyed, failures=self.failures, first=self.first, outside=self.outside,
                           outside_points=self.outside_points)

    def _pass(self, target) -> None:
        import hypothesis
        from hypothesis import given, strategies as st

        @_settings(self.examples)
        @hypothesis.seed(self.seed)
        @given(st.data())
        def body(data):
            self._example(self.draw(HypothesisSource(data)), target)

        self._in_hypothesis = True
        try:
            body()
        except (_Stop, _ShrinkTimeout):
            pass
        except _Abort as abort:
            raise abort.error from abort.error.__cause__
        except hypothesis.errors.Unsatisfiable as exc:
            if target is None and self.outside and not self.count:
                raise DerivationError(f"no valid point could be drawn: all {self.outside} points drawn were outside "
                                      "the function's domain (the spec is undefined there as well as the code); "
                                      "check the dims, domains and Requires") from exc
            if target is None:
                raise DerivationError(f"hypothesis could not explore this derivation: {type(exc).__name__}: {exc}")
        except hypothesis.errors.HypothesisException as exc:  # flaky, unsatisfiable: say so plainly
            raise DerivationError(f"hypothesis could not explore this derivation: {type(exc).__name__}: {exc}")
        finally:
            self._in_hypothesis = False

    def _example(self, point: Point, target) -> None:
        self.count += 1
        try:
            found = self.evaluate(point, target)
        except OutsideDomain:
            self.count -= 1
            self.outside += 1
            if len(self.outside_points) < MAX_OUTSIDE_POINTS:
                self.outside_points.append(point)
            if self._in_hypothesis:
                from hypothesis import assume

                assume(False)  # drawn again; hypothesis counts it invalid
            return
        except DerivationError as exc:
            # said at once, as it is: replaying it (code that is not deterministic may not fail
            # twice) would turn it into hypothesis's FlakyFailure
            error = DerivationError(f"{exc} (at {point.describe()})")
            error.__cause__ = exc
            error.point = point  # (report --assumptions names it)
            raise _Abort(error) from exc
        for key, detail in found.items():
            if key == target:
                self.failures[key] = Found(point, detail)
                raise _Stop
            self.failures.setdefault(key, Found(point, detail))
            self.first.setdefault(key, Found(point, detail))
        if target is None and self.until and self.until <= set(self.failures):
            raise _Stop
        if target is not None:
            self.tries += 1
            if self.tries > SHRINK_BUDGET:
                raise _ShrinkTimeout


def explore(draw: Callable[[Source], Point], evaluate: Callable[..., dict[str, Any]], examples: int, seed: int,
            shrink: bool = True, until: set | None = None, explicit: Sequence[Point] = ()) -> Exploration:
    """``Search(draw, evaluate, examples, seed, until, explicit).run(shrink)``: see `Search`."""
    return Search(draw, evaluate, examples, seed, until, explicit).run(shrink)
