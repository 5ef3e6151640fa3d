"""Mangled escapes, repaired and listed.

Text extracted from a PDF or pasted through a program that read ``\\b``, ``\\f``, ``\\t``, ``\\r``,
``\\n``, ``\\v`` as control characters loses them: ``\\begin`` arrives as ``egin``, ``\\frac`` as
``rac``, ``\\times`` as ``imes``, ``\\right`` as a line break and ``ight``, ``\\neq`` as a line break
and ``eq``, ``\\vdots`` as ``dots``; ``\\\\`` (a line break in ``aligned``) arrives as a lone
`` \\ ``. `repair` puts each back and returns one `Repair` per change, with where it was in the
original text, so the report can list every one: nothing is changed silently.

A lone `` \\ `` inside parentheses is LaTeX's control space (``(when \\ w \\neq c)``) and stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Repair", "repair", "original_offset"]


@dataclass(frozen=True)
class Repair:
    line: int      # 1-based, in the original text
    column: int    # 1-based
    found: str
    made: str
    why: str
    #: where the repair is in the repaired text (offset), to tell which step it belongs to
    at: int = 0

    def __str__(self) -> str:
        found = self.found.replace("\n", "⏎")
        return f"line {self.line}, column {self.column}: “{found}” read as “{self.made}” ({self.why})"


_RULES = [  # (group name, pattern, replacement, why)
    ("begin", r"(?<![\\A-Za-z])egin(?=\{)", r"\begin", "\\b was lost as a backspace"),
    ("frac", r"(?<![\\A-Za-z])rac(?=\{)", r"\frac", "\\f was lost as a form feed"),
    ("times", r"(?<![\\A-Za-z])imes(?![A-Za-z])", r"\times", "\\t was lost as a tab"),
    ("right", r"\n[ \t]*ight(?![A-Za-z])", r"\right", "\\r became a line break"),
    ("neq", r"\n[ \t]*eq(?![A-Za-z])", r"\neq", "\\n became a line break"),
    ("vdots", r"(?<![\\A-Za-z])dots(?![A-Za-z])", r"\vdots", "\\v was lost as a vertical tab"),
    ("newline", r"(?<![\\])\\(?=[ \t])", "\\\\", "a lone \\ stands for the line break \\\\"),
]
_PATTERN = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern, _, _ in _RULES))
_MADE = {name: (made, why) for name, _, made, why in _RULES}


def _paren_depth_zero(text: str) -> set[int]:
    """Offsets outside every parenthesis of their brace level (a paren left open inside braces
    is closed with them)."""
    out, stack = set(), [0]
    for i, ch in enumerate(text):
        if ch == "{" and (i == 0 or text[i - 1] != "\\"):
            stack.append(0)
        elif ch == "}" and len(stack) > 1 and text[i - 1] != "\\":
            stack.pop()
        elif ch in "([":
            stack[-1] += 1
        elif ch in ")]" and stack[-1] > 0:
            stack[-1] -= 1
        if stack[-1] == 0:
            out.add(i)
    return out


def _line_col(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def repair(text: str, start: int = 0, whole: str | None = None) -> tuple[str, list[Repair], list[tuple[int, int]]]:
    """``text`` with its mangled escapes put back, each `Repair` (positions in ``whole``, the text
    ``text`` was cut from at ``start``), and the anchors ``(new offset, old offset)`` that map a
    position in the result back (`original_offset`)."""
    whole = text if whole is None else whole
    top = _paren_depth_zero(text)
    out, repairs, anchors, last = [], [], [(0, 0)], 0
    length = 0
    for m in _PATTERN.finditer(text):
        name = m.lastgroup
        if name == "newline" and m.start() not in top:
            continue  # a control space inside parentheses
        made, why = _MADE[name]
        out.append(text[last:m.start()])
        length += m.start() - last
        line, col = _line_col(whole, start + m.start())
        repairs.append(Repair(line, col, m.group(), made, why, length))
        out.append(made)
        length += len(made)
        last = m.end()
        anchors.append((length, last))
    out.append(text[last:])
    return "".join(out), repairs, anchors


def original_offset(anchors: list[tuple[int, int]], offset: int) -> int:
    """Where ``offset`` in the repaired text was in the original."""
    new, old = max((a for a in anchors if a[0] <= offset), default=(0, 0))
    return old + (offset - new)
