"""Escaping user-written text (ids, titles, claim names, assumptions, as-written text, paths)
for each format it enters, so that no text can add a cell, end a block or run a script."""

from __future__ import annotations

import html
import re

__all__ = ["md_cell", "md_text", "md_code", "md_fence", "html_text", "xml_text", "terminal_text", "encodable",
           "SURROGATES"]

#: what can start markup in Markdown (a lone ">" cannot open a tag)
_HTML = {"&": "&amp;", "<": "&lt;"}
#: characters XML 1.0 cannot hold at all (escaping cannot help): replaced by U+FFFD
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


#: what closes the text of a link or an image in Markdown (``[x](url)``, ``![p](url)``, ``[x][ref]``,
#: ``[x]: url``): a ``]`` before ``(``, ``[`` or ``:`` is escaped, so that text shows as written and
#: links nowhere (``[0, 0, 4]`` alone is no link and stays as it is)
_LINK_END = re.compile(r"\](?=\s*[(\[:])")
#: characters a terminal acts on instead of showing: C0 and C1 controls (ESC starts an escape
#: sequence that can retitle or clear it), DEL, and the bidirectional overrides that reorder a line
_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: lone surrogates: no encoding can write them (a file name or a claim name read with surrogateescape)
SURROGATES = re.compile("[\ud800-\udfff]")


def _escape(match) -> str:
    return match.group().encode("unicode_escape", "backslashreplace").decode("ascii")


def controls(text: str) -> str:
    """Every control or escape character (but the newline and the tab) as its Python escape: a
    file shown with ``cat`` cannot drive the terminal either."""
    return _TERMINAL.sub(_escape, str(text))


def terminal_text(text: str) -> str:
    """Text a terminal shows as written: every control or escape character (but the newline and the tab) and
    every lone surrogate as its Python escape (``\\x1b``, ``\\u202e``, ``\\udcff``)."""
    return SURROGATES.sub(lambda m: f"\\u{ord(m.group()):04x}", controls(text))


def encodable(text: str) -> tuple[str, int]:
    """``text`` with each lone surrogate replaced by U+FFFD (so UTF-8 can write it), and how many were."""
    text = str(text)
    return SURROGATES.subn("\ufffd", text)


def md_text(text: str) -> str:
    """Markdown inline text: raw HTML shown as text, links and images inert, a newline kept as a
    line break, not a new block."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    out = _LINK_END.sub(r"\\]", "".join(_HTML.get(ch, ch) for ch in controls(text)))
    out = out.replace("`", "\\`")
    return out.replace("\n", "<br>")


def md_cell(text: str) -> str:
    """A Markdown table cell: as `md_text`, and ``|`` cannot start a new cell."""
    return md_text(text).replace("|", "\\|")


def md_code(text: str) -> str:
    """Inline code that no backtick in ``text`` can close (one line)."""
    text = controls(" ".join(str(text).splitlines()))
    ticks = "`" * (max((len(m) for m in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def md_fence(lines: list[str]) -> list[str]:
    """A fenced code block that no line of ``lines`` can close: the fence is longer than any backtick run."""
    lines = [controls(part) for line in lines for part in (str(line).splitlines() or [""])]
    longest = max((len(m) for line in lines for m in re.findall("`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *lines, fence]


def html_text(text: str) -> str:
    return html.escape(str(text), quote=True)


def xml_text(text: str) -> str:
    """Text `xml.etree` can write (it escapes markup itself; this removes what XML cannot hold)."""
    return _NOT_XML.sub("\ufffd", str(text))
