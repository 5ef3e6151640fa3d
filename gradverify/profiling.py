"""Where a derivation's time goes (``report --profile``): measured in its worker with cProfile.

Imported only when asked for: hypothesis draws constants from the modules loaded where it runs,
so a module loaded in every worker would change which examples a seed draws.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Profile"]


@dataclass(frozen=True)
class Profile:
    """Where one derivation's time went in its worker (``report --profile``): wall-clock seconds in
    all, of which importing the user's file, and the checks' time split by whose code ran it
    (cProfile's own time per function, grouped by package: sympy, hypothesis, numpy, gradverify,
    your code, and the rest: Python itself)."""

    seconds: float
    import_seconds: float
    shares: tuple[tuple[str, float], ...]

    @staticmethod
    def of(profiler, seconds: float, import_seconds: float) -> "Profile":
        import pstats

        from .tracebacks import is_user_file

        totals: dict[str, float] = {}
        for (filename, _line, _name), row in pstats.Stats(profiler).stats.items():
            own, callers = row[2], row[4]  # tottime: the function's own time
            if filename.startswith(("~", "<")) and callers:  # a builtin: the time of whoever called it
                weights = {caller: max(c[2], 1e-12) for caller, c in callers.items()}
                whole = sum(weights.values())
                for caller, w in weights.items():
                    owner = _owner(caller[0], is_user_file)
                    totals[owner] = totals.get(owner, 0.0) + own * w / whole
                continue
            owner = _owner(filename, is_user_file)
            totals[owner] = totals.get(owner, 0.0) + own
        whole = sum(totals.values()) or 1.0
        return Profile(seconds, import_seconds, tuple(sorted(((k, v / whole) for k, v in totals.items()),
                                                             key=lambda kv: -kv[1])))

    def text(self) -> str:
        parts = ", ".join(f"{name} {share:.0%}" for name, share in self.shares if share >= 0.005)
        return f"{self.seconds:.2f} s (importing your file {self.import_seconds:.2f} s); by whose code ran: {parts}"


_OWNERS = (("sympy", ("/sympy/", "/mpmath/")), ("hypothesis", ("/hypothesis/",)), ("numpy", ("/numpy/",)),
           ("gradverify", ("/gradverify/",)))


def _owner(filename: str, is_user_file) -> str:
    name = filename.replace("\\", "/")
    for owner, marks in _OWNERS:
        if any(m in name for m in marks):
            return owner
    if filename and not filename.startswith(("~", "<")) and is_user_file(filename):
        return "your code"
    return "Python itself"
