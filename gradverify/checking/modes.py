"""The two ways of covering the entries: random directions, or every entry on its own.

* directional: the derivative along ``directions`` random directions over all the
  ``wrt`` arrays together, each compared with Σ gradᵀu (cost does not grow with
  the number of entries); a failed direction is searched for its wrong entry, which
  is then confirmed on its own (`search.confirmed_entry`), before the direction
  itself would be; ``spot`` entries drawn at random are also compared one by one.
* entries: every entry (cost grows with size).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .directions import random_direction
from .estimators import Estimate, Estimators, Kinked
from .search import confirmed_entry, entry_at

__all__ = ["Verdict", "directional", "entries"]


@dataclass
class Verdict:
    ok: bool
    message: str = ""
    located: list = field(default_factory=list)
    #: not ok, and no failure either: what was seen cannot decide (a kink within a step)
    inconclusive: bool = False


def _located_message(located, what: str) -> str:
    if located:
        more = "" if len(located) > 1 else "; the entry located first: others may be wrong too"
        return f"wrong gradient for {located[0]} ({what}{more})"
    return f"wrong gradient, not narrowed to one entry ({what})"


def directional(est: Estimators, rng: np.random.Generator, first, count: int, spot: int, search: bool) -> Verdict:
    """``first``: the first direction, drawn from ``rng`` already (its complex call may be made)."""
    sizes = est.calls.sizes
    for n in range(count):
        u = first if n == 0 else random_direction(rng, sizes)
        e = est.look(u)
        if not e.fails:
            e = est.certify(u, e)  # real arithmetic along the same direction: a pass needs it too
            if not e.fails:
                est.record(e)
                continue
        verdict = _failed_direction(est, u, e, search)
        if verdict is not None:
            return verdict
    if spot:
        picks = rng.choice(sum(sizes), size=min(spot, sum(sizes)), replace=False)
        return entries(est, sorted(int(p) for p in picks))
    return Verdict(True)


def _what(est: Estimators, e: Estimate) -> str:
    return (f"directional derivative along a random direction: claimed Σ gradᵀu = {e.claimed:.12g}, "
            f"{e.estimator} estimate {e.numeric:.12g}, error {e.ratio:.3g}× the tolerance {e.tolerance:.3g}")


def _failed_direction(est: Estimators, u, e: Estimate, search: bool) -> Verdict | None:
    """A direction whose comparison failed (unconfirmed): the wrong entry is searched for and
    confirmed on its own; where none is, the direction itself is confirmed. None when the
    rounding measured there explains the failure (the check goes on)."""
    if search:
        before = est.worst
        found = confirmed_entry(est, u, e)
        if found is not None:
            return Verdict(False, _located_message([found], _what(est, e)), [found])
        est.worst = before  # a search that confirmed nothing leaves no trace in a passing result
    confirmed = est.confirm(u, e)
    if not confirmed.fails:
        return None
    if not search:
        return Verdict(False, f"wrong gradient ({_what(est, confirmed)}); locate=False", [])
    found = confirmed_entry(est, u, confirmed) if confirmed.estimator != e.estimator else None
    located = [found] if found is not None else []  # searched again when the complex step was refuted
    return Verdict(False, _located_message(located, _what(est, confirmed)), located)


def entries(est: Estimators, picks=None) -> Verdict:
    """Every entry (or the ``picks``, global flat positions), one confirmed estimate each. An entry
    that a kink leaves undecided does not stop the others: a wrong entry elsewhere is still a failure,
    and the check is inconclusive (`Kinked`, raised at the end) only where nothing failed."""
    kinked = None
    for k in range(sum(est.calls.sizes)) if picks is None else picks:
        try:
            found = entry_at(est, est.calls.sizes, k)
        except Kinked as exc:
            kinked = kinked or exc
            continue
        if found is not None:
            what = f"{est.used}, error {est.worst:.3g}× the tolerance"
            return Verdict(False, _located_message([found], what), [found])
    if kinked is not None:
        raise kinked
    return Verdict(True)

