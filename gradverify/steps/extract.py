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

__all__ = ["Display", "Side", "Chain", "displays", "chains", "sections"]


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
_OPEN = {"(": 1, "[": 1}
_CLOSE = {")": 1, "]": 1}


def _top_level(text: str):
    """Yield (offset, token) for each top-level ``\\\\``, ``&``, ``=`` of ``text``."""
    i, braces, parens, envs = 0, 0, [0], 0
    while i < len(text):
        ch = text[i]
        env = _ENV.match(text, i)
        if env:
            if env.group(2) not in _OUTER:
                envs += 1 if env.group(1) == "begin" else -1
            i = env.end()
            continue
        if text.startswith("\\\\", i):
            if not braces and not parens[-1] and not envs:
                yield i, "\\\\"
            i += 2
            continue
        if ch == "\\":
            cmd = re.match(r"\\(left|right|[bB]igg?[lr]?)\s*(\\?.)", text[i:])
            if cmd:
                name, delim = cmd.group(1), cmd.group(2)
                opening = name == "left" or name.endswith("l") or (name != "right" and not name.endswith("r")
                                                                     and delim in ("(", "[", "\\{"))
                if opening:
                    parens[-1] += 1
                else:
                    parens[-1] = max(0, parens[-1] - 1)
                i += cmd.end()
                continue
            i += 2
            continue
        if ch == "{":
            braces += 1
            parens.append(0)
        elif ch == "}":
            braces = max(0, braces - 1)
            if len(parens) > 1:
                parens.pop()
        elif ch in _OPEN:
            parens[-1] += 1
        elif ch in _CLOSE:
            parens[-1] = max(0, parens[-1] - 1)
        elif ch in "&=" and not braces and not parens[-1] and not envs:
            yield i, ch
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
    for at, token in _top_level(body):
        if token == "\\\\":
            rows.append((start, at))
            start = at + 2
    rows.append((start, len(body)))
    out: list[Chain] = []
    for a, b in rows:
        row = body[a:b]
        if not row.strip():
            continue
        cuts = [at for at, token in _top_level(row) if token == "="]
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
