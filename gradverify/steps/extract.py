"""From a text with display math to chains of sides: ``A &= B \\\\ &= C`` is one chain A, B, C.

`displays` finds the ``$$ … $$`` blocks (and which question each is under, for an answer sheet
headed ``Question a:``); `chains` splits one display at its top level: rows at ``\\\\``, sides at
``=`` (``&`` is alignment only), outside braces, parentheses and nested environments (a
``bmatrix``'s ``&`` and ``\\\\`` are its own). A row that starts with a side starts a new chain;
a row that starts with ``&=`` goes on with the one before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .repair import Repair, original_offset, repair

__all__ = ["Display", "Side", "Chain", "displays", "chains", "sections", "top_level"]


@dataclass
class Display:
    section: str          # the question's letter ("" before any)
    number: int           # 1-based within its section
    text: str             # as repaired
    line: int             # the original text's line where it starts
    repairs: list[Repair]
    anchors: list = field(default_factory=list, repr=False)
    start: int = 0        # offset of the text in the original
    whole: str = field(default="", repr=False)

    def where(self, offset: int) -> tuple[int, int]:
        """(line, column) in the original text of ``offset`` in the repaired display."""
        o = self.start + original_offset(self.anchors, offset)
        before = self.whole[:o]
        return before.count("\n") + 1, o - (before.rfind("\n") + 1) + 1


@dataclass
class Side:
    text: str
    offset: int           # in the display's repaired text


@dataclass
class Chain:
    display: Display
    sides: list[Side]
    number: int           # 1-based within its section


_SECTION = re.compile(r"^\s*[QO]uestion\s+([a-z])\s*:", re.M)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)


def sections(text: str) -> list[tuple[str, int]]:
    return [(m.group(1), m.start()) for m in _SECTION.finditer(text)]


def displays(text: str) -> list[Display]:
    """Every ``$$ … $$`` block of ``text``, repaired, with its section."""
    heads = sections(text)
    out, counts = [], {}
    for m in _DISPLAY.finditer(text):
        section = ""
        for letter, at in heads:
            if at < m.start():
                section = letter
        counts[section] = counts.get(section, 0) + 1
        fixed, repairs, anchors = repair(m.group(1), m.start(1), text)
        line = text[:m.start(1)].count("\n") + 1
        out.append(Display(section, counts[section], fixed, line, repairs, anchors, m.start(1), text))
    return out


_ENV = re.compile(r"\\(begin|end)\{([a-zA-Z*]+)\}")
_OUTER = ("aligned", "split", "align", "align*", "gathered", "equation", "equation*")
#: a sized delimiter: ``\left(``, ``\bigr]``, ``\Big\{`` ...
_SIZED = re.compile(r"\\(left|right|[bB]igg?[lr]?)\s*(\\?.)")


class _Depth:
    """Where a scan of LaTeX stands: open braces, open brackets at each brace level, inner environments."""

    def __init__(self):
        self.braces, self.parens, self.envs = 0, [0], 0

    @property
    def top(self) -> bool:
        return not self.braces and not self.parens[-1] and not self.envs

    def open_brace(self) -> None:
        self.braces += 1
        self.parens.append(0)

    def close_brace(self) -> None:
        self.braces = max(0, self.braces - 1)
        if len(self.parens) > 1:
            self.parens.pop()

    def open_paren(self) -> None:
        self.parens[-1] += 1

    def close_paren(self) -> None:
        self.parens[-1] = max(0, self.parens[-1] - 1)


#: what each bracket does to the depth
_BRACKETS = {"{": _Depth.open_brace, "}": _Depth.close_brace, "(": _Depth.open_paren, "[": _Depth.open_paren,
             ")": _Depth.close_paren, "]": _Depth.close_paren}


def _environment(text: str, i: int, depth: _Depth) -> int | None:
    """At ``\\begin{…}``/``\\end{…}``: count an inner environment, and return where it ends."""
    env = _ENV.match(text, i)
    if not env:
        return None
    if env.group(2) not in _OUTER:
        depth.envs += 1 if env.group(1) == "begin" else -1
    return env.end()


def _opening(name: str, delim: str) -> bool:
    return name == "left" or name.endswith("l") or (name != "right" and not name.endswith("r")
                                                     and delim in ("(", "[", "\\{"))


def _command(text: str, i: int, depth: _Depth) -> int:
    """At a backslash: a sized delimiter opens or closes a bracket; any other command is stepped over."""
    cmd = _SIZED.match(text, i)
    if not cmd:
        return i + 2
    if _opening(cmd.group(1), cmd.group(2)):
        depth.open_paren()
    else:
        depth.close_paren()
    return cmd.end()


def top_level(text: str):
    """Yield (offset, token) for each top-level ``\\\\``, ``&``, ``=`` of ``text`` (outside braces,
    brackets and inner environments)."""
    i, depth = 0, _Depth()
    while i < len(text):
        end = _environment(text, i, depth)
        if end is not None:
            i = end
        elif text.startswith("\\\\", i):
            if depth.top:
                yield i, "\\\\"
            i += 2
        elif text[i] == "\\":
            i = _command(text, i, depth)
        else:
            step = _BRACKETS.get(text[i])
            if step is not None:
                step(depth)
            elif text[i] in "&=" and depth.top:
                yield i, text[i]
            i += 1


def _inner(display: Display) -> tuple[str, int]:
    """The display's body without its outer ``aligned``/``split`` environment, and its offset."""
    text = display.text
    m = re.match(r"\s*\\begin\{(aligned|split|align\*?|gathered)\}", text)
    if not m:
        return text, 0
    end = text.rfind("\\end{" + m.group(1) + "}")
    return text[m.end():end if end >= 0 else len(text)], m.end()


def chains(display: Display, first_number: int = 1) -> list[Chain]:
    body, base = _inner(display)
    rows, start = [], 0
    for at, token in top_level(body):
        if token == "\\\\":
            rows.append((start, at))
            start = at + 2
    rows.append((start, len(body)))
    out: list[Chain] = []
    for a, b in rows:
        row = body[a:b]
        if not row.strip():
            continue
        cuts = [at for at, token in top_level(row) if token == "="]
        bounds = [0] + [c + 1 for c in cuts]
        ends = cuts + [len(row)]
        sides = []
        for s, e in zip(bounds, ends):
            piece = row[s:e]
            stripped = piece.rstrip().rstrip("&").rstrip()  # "A &" before "="
            lead = len(piece) - len(piece.lstrip())
            sides.append(Side(stripped.strip(), base + a + s + lead))
        if sides and not sides[0].text and out:
            out[-1].sides += sides[1:]
        elif sides and not sides[0].text:
            out.append(Chain(display, sides[1:], first_number + len(out)))
        else:
            out.append(Chain(display, sides, first_number + len(out)))
    return out
