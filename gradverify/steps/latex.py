"""One side of a derivation step, from LaTeX to a tree: a lark LALR grammar, never ``eval``.

The grammar covers the notation hand derivations use: ``\\frac``, both derivative forms
(``\\frac{\\partial J}{\\partial x}`` and the operator ``\\frac{\\partial}{\\partial x}``, which
applies to what follows it), ``\\sum`` with ``_w``, ``_{w \\in Vocab}``, ``_{k=1}^K`` and
``_{-m \\leq j \\leq m \\& j \\neq 0}``, ``\\exp``/``exp``, ``\\log``/``log``, ``\\sigma``, ``^T``
and ``^\\top``, ``\\hat{}``, subscripts, juxtaposition, ``\\cdot`` ``\\odot`` ``\\circ``
``\\times``, parentheses of every size, ``\\mathbf`` ``\\boldsymbol`` ``\\text``, ``bmatrix``.

What a tree *means* (a product or a matrix product, a function applied or a factor) is decided
by `translate` from the symbol table; this module only says what was written. A command the
grammar does not know is an error naming it, never dropped; every error names the line and
column and what was expected there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

__all__ = ["parse", "LatexError", "KNOWN_COMMANDS", "GREEK", "FUNCTION_COMMANDS", "line_column"]

GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi "
         "rho varrho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma "
         "Upsilon Phi Psi Omega").split()
#: commands that are functions of what follows them
FUNCTION_COMMANDS = ("exp", "log", "ln", "sin", "cos", "tanh", "tan", "sqrt")
FONTS = ("mathbf", "boldsymbol", "mathrm", "mathit", "bm", "vec", "operatorname")
SIZES = ("left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
         "Biggl", "Biggr")
SPACES = (",", ";", ":", "!", " ", "quad", "qquad")
#: every command the grammar reads; any other is an error (`LatexError`), never dropped
KNOWN_COMMANDS = frozenset(
    ("frac", "dfrac", "tfrac", "partial", "sum", "hat", "text", "cdot", "odot", "circ", "times", "top",
     "intercal", "in", "notin", "neq", "ne", "leq", "le", "geq", "ge", "mid", "begin", "end", "ldots", "cdots",
     "dots", "vdots", "ddots", "&", "\\", "prime")
    + tuple(GREEK) + FUNCTION_COMMANDS + FONTS + SIZES + SPACES)

GRAMMAR = r"""
?start: sum

?sum: term
    | sum "+" term                  -> add
    | sum "-" term                  -> minus
?term: signed
    | term PRODUCT signed           -> product
    | term "/" signed               -> divide
?signed: juxt
    | "-" signed                    -> neg
    | "+" signed
    | dop signed                    -> dapply
?juxt: postfix
    | juxt postfix                  -> juxt
?postfix: primary
    | postfix "^" script            -> sup
    | postfix "_" script            -> subscript
    | postfix PRIME                 -> prime

?script: CHAR | NUMBER | TOP | name_cmd | "{" sum "}" | "{" TOP "}"

?primary: CHAR                      -> name
    | WORD                          -> name
    | name_cmd                      -> name
    | NUMBER                        -> number
    | TEXT                          -> text
    | HAT "{" sum "}"               -> hat
    | HAT CHAR                      -> hat
    | FONT "{" sum "}"              -> font
    | FRAC "{" sum "}" "{" sum "}"  -> frac
    | FRAC "{" PARTIAL sum "}" "{" PARTIAL postfix "}"   -> dfrac
    | group
    | bigsum
    | matrix
    | DOTS                          -> dots

name_cmd: GREEK | FUNC

dop: FRAC "{" PARTIAL "}" "{" PARTIAL postfix "}"

?group: open sum close              -> group
    | open sum ("," sum)+ close     -> tuple
    | open event close              -> event
open: LPAR | LSQ | SIZED_OPEN
close: RPAR | RSQ | SIZED_CLOSE
event: sum REL sum (MID sum REL sum)*

bigsum: SUM limits body
limits: ("_" lower)? ("^" script)?
      | "^" script "_" lower        -> limits_swapped
?lower: CHAR | "{" relchain (AND relchain)* "}"
relchain: sum (REL sum)*
?body: juxt | dop signed            -> dapply

matrix: BEGIN_MATRIX mrow (ROWSEP mrow)* END_MATRIX
mrow: sum ("&" sum)*

SUM: "\\sum"
FRAC: /\\[dt]?frac(?![a-zA-Z])/
PARTIAL: "\\partial"
HAT: /\\(hat|widehat)(?![a-zA-Z])/
FONT: /\\(mathbf|boldsymbol|mathrm|mathit|bm|vec|operatorname)(?![a-zA-Z])/
TEXT: /\\text\{[^{}]*\}/
GREEK: /\\(GREEK_NAMES)(?![a-zA-Z])/
FUNC: /\\(FUNC_NAMES)(?![a-zA-Z])/
PRODUCT: /\\(cdot|odot|circ|times)(?![a-zA-Z])/
TOP: /\\(top|intercal)(?![a-zA-Z])/
REL: /\\(in|notin|neq|ne|leq|le|geq|ge)(?![a-zA-Z])/ | "=" | "<" | ">"
MID: "|" | /\\mid(?![a-zA-Z])/
AND: "\\&"
DOTS: /\\(ldots|cdots|dots|vdots|ddots)(?![a-zA-Z])/
BEGIN_MATRIX: /\\begin\{[bpv]?matrix\}/
END_MATRIX: /\\end\{[bpv]?matrix\}/
ROWSEP: "\\\\"
PRIME: "'" | /\\prime(?![a-zA-Z])/
SIZED_OPEN: /\\(left|bigl|Bigl|biggl|Biggl|big|Big|bigg|Bigg)\s*(\(|\[|\\\{|\.)/
SIZED_CLOSE: /\\(right|bigr|Bigr|biggr|Biggr|big|Big|bigg|Bigg)\s*(\)|\]|\\\}|\.)/
LPAR: "("
RPAR: ")"
LSQ: "["
RSQ: "]"
WORD.-1: /[A-Za-z]{2,}/
CHAR.-2: /[A-Za-z]/
NUMBER: /\d+(\.\d+)?/
SPACE: /\\(,|;|:|!| |quad(?![a-zA-Z])|qquad(?![a-zA-Z]))/

%ignore /\s+/
%ignore SPACE
""".replace("GREEK_NAMES", "|".join(sorted(GREEK, key=len, reverse=True))) \
   .replace("FUNC_NAMES", "|".join(FUNCTION_COMMANDS))

_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)

#: what each terminal looks like, for "expected ..." in messages
_SHOWN = {"RPAR": ")", "RSQ": "]", "LPAR": "(", "LSQ": "[", "RBRACE": "}", "LBRACE": "{", "PLUS": "+",
          "MINUS": "-", "SLASH": "/", "CIRCUMFLEX": "^", "UNDERSCORE": "_", "COMMA": ",", "AMPERSAND": "&",
          "CHAR": "a letter", "WORD": "a name", "NUMBER": "a number", "SIZED_CLOSE": r"\right)",
          "SIZED_OPEN": r"\left(", "FRAC": r"\frac", "SUM": r"\sum", "REL": "a relation (=, \\in, \\neq...)",
          "PRODUCT": r"\cdot", "END_MATRIX": r"\end{bmatrix}", "ROWSEP": r"\\", "PARTIAL": r"\partial",
          "$END": "the end", "HAT": r"\hat", "FONT": r"\mathbf", "TEXT": r"\text{...}", "GREEK": "a Greek letter",
          "FUNC": r"\exp or \log", "TOP": r"\top", "MID": "|", "AND": r"\&", "DOTS": r"\dots", "PRIME": "'",
          "BEGIN_MATRIX": r"\begin{bmatrix}"}


@dataclass
class LatexError(Exception):
    """A side that does not parse: where (1-based line and column in ``text``) and why."""
    text: str
    offset: int
    message: str

    @property
    def line(self) -> int:
        return line_column(self.text, self.offset)[0]

    @property
    def column(self) -> int:
        return line_column(self.text, self.offset)[1]

    def __str__(self) -> str:
        near = self.text[self.offset:self.offset + 24].strip()
        return f"line {self.line}, column {self.column}: {self.message} (at {near!r})" if near else \
            f"line {self.line}, column {self.column}: {self.message} (at the end)"


def line_column(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


#: an error lists at most this many of the tokens the grammar could take there
MAX_EXPECTED = 8

_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.S)


def _unknown_command(text: str) -> LatexError | None:
    for m in _COMMAND.finditer(text):
        name = m.group(1)
        if name not in KNOWN_COMMANDS and not name.isspace():
            import difflib

            near = difflib.get_close_matches(name, sorted(KNOWN_COMMANDS), n=1)
            hint = f" (did you mean \\{near[0]}?)" if near else ""
            return LatexError(text, m.start(), f"unknown command \\{name}{hint}: the grammar does not read it, "
                                               "and it is not dropped")
    return None


def _expected(exc: UnexpectedInput) -> str:
    names = sorted({_SHOWN.get(t, t) for t in (getattr(exc, "expected", None) or getattr(exc, "allowed", ()) or ())
                    if not t.startswith("__")})
    if len(names) > MAX_EXPECTED:
        return f"expected one of {len(names)} things such as " + ", ".join(names[:MAX_EXPECTED])
    return "expected " + (", ".join(names) if names else "something else")


_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _unclosed(text: str, offset: int) -> str:
    """", and the ( opened at column 10 is not closed" when a bracket before ``offset`` is still open
    and the text closes a different one there."""
    stack = []
    i = 0
    while i < offset:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch in _PAIRS:
            stack.append((ch, i))
        elif ch in _PAIRS.values() and stack and _PAIRS[stack[-1][0]] == ch:
            stack.pop()
        i += 1
    if stack and offset < len(text) and text[offset] in _PAIRS.values() and _PAIRS[stack[-1][0]] != text[offset]:
        ch, at = stack[-1]
        return f"; the {ch} opened at column {line_column(text, at)[1]} is not closed before this {text[offset]}"
    return ""


def parse(text: str) -> Tree:
    """The tree of one side (an expression); `LatexError` with line, column and what was expected."""
    if not isinstance(text, str):
        from ..errors import InvalidArgument

        raise InvalidArgument("LaTeX text (a str)", f"text={text!r}", "Pass the side of the step as written.")
    bad = _unknown_command(text)
    if bad:
        raise bad
    if not text.strip():
        raise LatexError(text, 0, "an empty side: expected an expression")
    try:
        return _PARSER.parse(text)
    except UnexpectedEOF as exc:
        raise LatexError(text, len(text.rstrip()), "the text ended early: " + _expected(exc)) from None
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            raise LatexError(text, len(text.rstrip()), "the text ended early: " + _expected(exc)) from None
        raise LatexError(text, exc.token.start_pos, f"unexpected {exc.token.value!r}: " + _expected(exc)
                         + _unclosed(text, exc.token.start_pos)) from None
    except UnexpectedCharacters as exc:  # (before UnexpectedInput, its base)
        env = re.match(r"\\end\{([^}]*)\}", text[exc.pos_in_stream:])
        if env:
            raise LatexError(text, exc.pos_in_stream, f"\\end{{{env.group(1)}}} closes no environment open here "
                                                      "(a \\begin{bmatrix} needs \\end{bmatrix})") from None
        raise LatexError(text, exc.pos_in_stream, f"unexpected character {text[exc.pos_in_stream]!r}: "
                                                  + _expected(exc)) from None
    except UnexpectedInput as exc:  # any other way lark can refuse the text
        raise LatexError(text, getattr(exc, "pos_in_stream", 0) or 0, f"not read: {exc}") from None


def source(tree, text: str) -> str:
    """The LaTeX a node was parsed from."""
    if isinstance(tree, Token):
        return str(tree)
    meta = tree.meta
    return text[meta.start_pos:meta.end_pos] if not meta.empty else ""
