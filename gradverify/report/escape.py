"""Escaping user-written text (ids, titles, claim names, assumptions, as-written text, paths)
for each format it enters, so that no text can add a cell, end a block or run a script."""

from __future__ import annotations

import html
import re

__all__ = ["md_cell", "md_text", "md_code", "md_fence", "html_text", "xml_text"]

#: what can start markup in Markdown (a lone ">" cannot open a tag)
_HTML = {"&": "&amp;", "<": "&lt;"}
#: characters XML 1.0 cannot hold at all (escaping cannot help): replaced by U+FFFD
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def md_text(text: str) -> str:
    """Markdown inline text: raw HTML shown as text, a newline kept as a line break, not a new block."""
    out = "".join(_HTML.get(ch, ch) for ch in str(text))
    out = out.replace("`", "\\`")
    return out.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def md_cell(text: str) -> str:
    """A Markdown table cell: as `md_text`, and ``|`` cannot start a new cell."""
    return md_text(text).replace("|", "\\|")


def md_code(text: str) -> str:
    """Inline code that no backtick in ``text`` can close (one line)."""
    text = " ".join(str(text).splitlines())
    ticks = "`" * (max((len(m) for m in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def md_fence(lines: list[str]) -> list[str]:
    """A fenced code block that no line of ``lines`` can close: the fence is longer than any backtick run."""
    longest = max((len(m) for line in lines for m in re.findall("`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *lines, fence]


def html_text(text: str) -> str:
    return html.escape(str(text), quote=True)


def xml_text(text: str) -> str:
    """Text `xml.etree` can write (it escapes markup itself; this removes what XML cannot hold)."""
    return _NOT_XML.sub("\ufffd", str(text))
