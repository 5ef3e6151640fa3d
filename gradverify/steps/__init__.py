"""Derivations as written: LaTeX chains ``A &= B \\\\ &= C`` read and every link checked.

* `repair`: mangled escapes (``egin``, ``rac``, a lone ``\\``) put back, each listed;
* `extract`: displays, their sections, chains and sides;
* `latex`: the grammar (lark) from one side to a tree, errors with line, column and what was expected;
* `table`: the symbol table, what each name is (`Real`, `Index`, `Columns`, `Define`, `Function`, `Set`,
  and the assumptions `OneHot`, `Condition`);
* `translate`: a tree to sympy, entry by entry at a concrete size;
* `chain`: each link checked (50-digit points, then a symbolic proof), `diagnosis`: what a wrong one got wrong;
* `run`: `Steps` (a text and its table), loading them, the table of verdicts;
* `claims`: `latex_claim`, a `Claim`'s formula from its LaTeX, for the usual three-way check;
* `mathml`: a link as MathML for report.html.
"""

from .chain import Link, check_chain, check_link
from .claims import latex_claim
from .latex import LatexError, parse
from .run import Steps, check_steps, load_steps, render_table
from .table import Columns, Condition, Define, Function, Index, OneHot, Real, Sequence, Set, SymbolTable

__all__ = ["latex_claim", "Link", "check_chain", "check_link", "LatexError", "parse", "Steps", "check_steps", "load_steps",
           "render_table", "Columns", "Condition", "Define", "Function", "Index", "OneHot", "Real", "Sequence", "Set",
           "SymbolTable"]
