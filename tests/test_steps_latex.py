"""The LaTeX side of `gradverify.steps`: the grammar, its errors, the seed's repairs, chains from displays."""

import pytest
from lark import Tree

from gradverify.errors import InvalidArgument
from gradverify.steps.extract import chains, displays
from gradverify.steps.latex import LatexError, parse
from gradverify.steps.repair import repair


def kinds(tree) -> list[str]:
    return [t.data for t in tree.iter_subtrees_topdown()]


@pytest.mark.parametrize("text, has", [
    (r"\frac{\partial J}{\partial v_c}", "dfrac"),
    (r"\frac{\partial}{\partial v_c} (-u_o^T v_c)", "dapply"),
    (r"\frac{\partial}{\partial v_c} - (u_o^T v_c)", "dapply"),
    (r"\sum_{w \in Vocab} y_w \log(\hat{y}_w)", "bigsum"),
    (r"\sum_w \hat{y}_w u_w", "bigsum"),
    (r"\sum_{k=1}^K \log(\sigma(-u_k^T v_c))", "bigsum"),
    (r"\sum^K_{k=1} x_k", "bigsum"),
    (r"\sum_{-m \leq j \leq m \& j \neq 0} J(v_c, w_{t+j}, U)", "tuple"),
    (r"\exp(x) + exp(x) + \log x + log(x)", "add"),
    (r"U(\hat{y} - y)^\top", "sup"),
    (r"\mathbf{\hat{y}}_w \cdot \boldsymbol{x} \odot z \circ q", "product"),
    (r"\left( a + b \right) \Big[ c \Big]", "juxt"),
    (r"\text{softmax}(x)", "text"),
    (r"\begin{bmatrix} a & b \\ c & d \end{bmatrix}", "matrix"),
    (r"P(O = w | C = c) v_c", "event"),
    (r"\sigma'(x)", "prime"),
    (r"e^{-x} / 2", "divide"),
])
def test_the_notation_parses(text, has):
    assert has in kinds(parse(text))


def test_the_derivative_operator_takes_what_follows_it_up_to_the_next_plus():
    tree = parse(r"\frac{\partial}{\partial x} a b + c")
    assert tree.data == "add" and tree.children[0].data == "dapply"
    assert tree.children[0].children[1].data == "juxt"


def test_a_sum_takes_the_whole_product_after_it():
    tree = parse(r"-u_o + \sum_w \hat{y}_w u_w")
    body = tree.children[1].children[2]
    assert body.data == "juxt"


@pytest.mark.parametrize("text, line, column, words", [
    pytest.param(r"\frac{exp(u_w^T v_c v_c}{\sum_w exp(u_w^T v_c)}", 1, 24,
                 "expected ), +, ,, -, \\right), ], a relation (=, \\in, \\neq...); the ( opened at column 10 is not closed",
                 id="unbalanced-paren"),
    pytest.param(r"\foo x", 1, 1, r"unknown command \foo", id="unknown-command"),
    pytest.param("a +\n  b \\bar{c}", 2, 5, r"unknown command \bar", id="unknown-on-line-2"),
    pytest.param(r"\frac{a}{b", 1, 11, "ended early", id="unclosed-brace"),
    pytest.param(r"\begin{bmatrix} a \end{array}", 1, 19, r"\end{array} closes no environment", id="wrong-end"),
    pytest.param("a + ", 1, 4, "ended early", id="dangling-plus"),
    pytest.param("", 1, 1, "empty side", id="empty"),
    pytest.param(r"\frca{a}{b}", 1, 1, r"unknown command \frca (did you mean \frac?)", id="misspelt"),
    pytest.param("a ; b", 1, 3, "unexpected character ';'", id="stray-char"),
])
def test_a_parse_error_names_line_column_and_what_was_expected(text, line, column, words):
    with pytest.raises(LatexError) as info:
        parse(text)
    assert (info.value.line, info.value.column) == (line, column), str(info.value)
    assert words in str(info.value)
    assert f"line {line}, column {column}" in str(info.value)


def test_the_parser_refuses_what_is_not_text():
    with pytest.raises(InvalidArgument, match="LaTeX text"):
        parse(b"x")


def test_a_python_expression_is_never_run():
    with pytest.raises(LatexError):
        parse("__import__('os').system('false')")


MANGLED = "$$egin{aligned} rac{\\partial J}{\\partial x} &= a imes b \\ &= \\left[c\night] \\ &= d (when \\ w\neq c) \\end{aligned}$$"


def test_each_mangled_escape_is_repaired_and_listed():
    fixed, made, _ = repair(MANGLED)
    assert r"\begin{aligned} \frac{\partial J}" in fixed
    assert r"a \times b \\ &= \left[c\right] \\ &= d (when \ w\neq c)" in fixed
    assert [r.made for r in made] == [r"\begin", r"\frac", r"\times", "\\\\", r"\right", "\\\\", r"\neq"]
    assert all(r.why for r in made) and made[0].line == 1 and made[0].column == 3


def test_a_control_space_inside_parentheses_is_not_a_line_break():
    fixed, made, _ = repair(r"0 (when \ w)")
    assert fixed == r"0 (when \ w)" and made == []


def test_chains_continue_over_rows_and_restart_at_a_new_left_side():
    d = displays("$$\\begin{aligned} A &= B \\\\ &= C \\\\ D &= E = F(x = 1) \\end{aligned}$$")[0]
    found = chains(d)
    assert [[s.text for s in c.sides] for c in found] == [["A", "B", "C"], ["D", "E", "F(x = 1)"]]
    assert d.text[found[1].sides[2].offset:].startswith("F(x = 1)")


def test_a_bmatrix_keeps_its_own_rows():
    d = displays(r"$$M = \begin{bmatrix} a & b \\ c & d \end{bmatrix}$$")[0]
    assert [s.text for s in chains(d)[0].sides] == ["M", r"\begin{bmatrix} a & b \\ c & d \end{bmatrix}"]


def test_sections_follow_the_question_headings():
    text = "Question a:\n$$x = y$$\nOuestion b:\n$$p = q$$\n$$r = s$$\n"
    assert [(d.section, d.number) for d in displays(text)] == [("a", 1), ("b", 1), ("b", 2)]


from hypothesis import given, settings
from hypothesis import strategies as st

PIECES = [r"\frac", "{", "}", "(", ")", r"\left(", r"\right)", "[", "]", "^", "_", "T", r"\top", "x", "v_c", "u_w",
          r"\sum", r"\sum_{w \in Vocab}", r"\partial", "+", "-", r"\cdot", "=", "|", ",", "&", r"\\", "2", r"\hat{y}",
          r"\exp", "log", r"\sigma", "'", " ", r"\begin{bmatrix}", r"\end{bmatrix}", r"\dots", r"\&", r"\neq", r"\foo"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14))
def test_any_text_parses_or_is_a_latex_error_never_another_exception(pieces):
    text = "".join(pieces)
    try:
        parse(text)
    except LatexError as exc:
        assert 1 <= exc.line and 1 <= exc.column <= len(text) + 1
