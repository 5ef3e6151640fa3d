"""The symbol tables for the seed's written answers a–f, read by ``python -m gradverify steps``.

The chains themselves are read from ``seed/000_a6544ced7a39c042.txt`` (a verbatim copy of the seed)
as written, mangled escapes included (each repair is listed in the output). These tables only say
what each name means, following the seed's notation (see its README):

* U is d×V with the outside vectors u_w as its columns; v_c is a d-column;
* ŷ = softmax(Uᵀ v_c) and y are **row** vectors (1×V), as the seed's note under (b) says;
* y is any real row: "y is one-hot at o" is an assumption, so a step that needs it is reported
  as holding only under it, and the same for w ≠ o and w = o in (c);
* (e): the K negative samples are columns 1..K of U and o is column 0 (so o ∉ {w_1..w_K} and the
  samples are distinct, as the seed states), u_k is column k;
* (d): x is a scalar in the first display (σ's definition) and a vector of n entries in the others;
* (f): the center vectors are the columns v_w of a d×V matrix, the center word c is word 0 at
  position t = m of a window whose words w_{t+j} are fixed (``WINDOW``), J is the naive-softmax loss
  and J_s its sum over the window (the seed's J_{skip-gram}).

Sizes: two per table, one of them not square, so that a transposed matrix cannot pass.
"""

import sympy as sp

from gradverify.steps import (Columns, Condition, Define, Function, Index, OneHot, Real, Sequence, Set, Steps,
                              SymbolTable)

SEED = "seed/000_a6544ced7a39c042.txt"


def softmax_row(scores):
    """ŷ as a 1×V row, ŷ_w = exp(s_w) / Σ_x exp(s_x)."""
    e = [sp.exp(x) for x in scores]
    total = sum(e)
    return sp.Matrix(1, len(e), [x / total for x in e])


def sigma(x):
    """σ(x) = 1 / (1 + e^{−x})  (seed, equation 4)."""
    return 1 / (1 + sp.exp(-x))


def yhat(s):
    return softmax_row(list(s["U"].T * s["v_c"]))


def probability(s, event):
    """P(O = w | C = c) = ŷ_w: the model's probability of outside word w (the condition C = c is the
    center word the whole derivation is about)."""
    outcome = dict(event.pairs).get("O")
    if outcome is None:
        raise ValueError("P(...) needs the event O = w")
    return s[r"\hat{y}"][int(outcome)]


def naive_softmax_loss(v_c, o, U):
    """J_naive-softmax(v_c, o, U) = −log ŷ_o."""
    return -sp.log(softmax_row(list(U.T * v_c))[int(o)])


SOFTMAX_SIZES = [{"d": 2, "V": 3}, {"d": 3, "V": 2}]

SOFTMAX_NAMES = [
    Real("v_c", "d"), Real("U", "d", "V"), Real("y", "V", row=True),
    Index("o", "V"), Index("w", "V"), Set("Vocab", "V"), Columns("u", of="U"),
    Define(r"\hat{y}", yhat, "softmax(Uᵀ v_c), a row"),
    Define("J", r"-\log \hat{y}_o", "the naive-softmax loss, −log P(O = o | C = c)"),
    Function("P", probability, elementwise=False, names=True),
    Function("J_{naive-softmax}", naive_softmax_loss, elementwise=False),
]

ONE_HOT = OneHot("y", at="o")
W_NOT_O = Condition(r"w \neq o", lambda i: i["w"] != i["o"])
W_IS_O = Condition("w = o", lambda i: i["w"] == i["o"])

a = Steps("a", SEED, section="a", table=SymbolTable(
    sizes=[{"V": 3}, {"V": 4}],
    names=[Real("s", "V"), Real("y", "V", row=True), Index("o", "V"), Index("w", "V"), Set("Vocab", "V"),
           Define(r"\hat{y}", lambda s: softmax_row(list(s["s"])), "softmax of scores s, a row")],
    assumptions=[ONE_HOT]))

b = Steps("b", SEED, section="b", table=SymbolTable(SOFTMAX_SIZES, SOFTMAX_NAMES, [ONE_HOT]))

c = Steps("c", SEED, section="c", table=SymbolTable(SOFTMAX_SIZES, SOFTMAX_NAMES, [ONE_HOT, W_NOT_O, W_IS_O]))

_SIGMA = Function(r"\sigma", sigma)

d = Steps("d", SEED, section="d", table=SymbolTable(
    sizes=[{"n": 2}, {"n": 3}],
    names=[Real("x", "n"), Index("i", "n"), _SIGMA]),
    tables={1: SymbolTable(sizes=[{}], names=[Real("x"), _SIGMA])})


def negative_sampling_loss(v_c, o, U):
    """J_neg-sample(v_c, o, U) = −log σ(u_oᵀ v_c) − Σ_{k=1}^K log σ(−u_kᵀ v_c), samples in columns 1..K."""
    return (-sp.log(sigma((U[:, int(o)].T * v_c)[0, 0]))
            - sum(sp.log(sigma(-(U[:, k].T * v_c)[0, 0])) for k in range(1, U.cols)))


e = Steps("e", SEED, section="e", table=SymbolTable(
    sizes=[{"d": 2, "K": 2, "V": 3}, {"d": 3, "K": 3, "V": 4}],
    names=[Real("v_c", "d"), Real("U", "d", "V"), Columns("u", of="U"),
           Define("o", lambda s: sp.Integer(0), "the true outside word is column 0; samples are 1..K"),
           Index("k", "K", start=1), _SIGMA,
           Define("J", r"-\log(\sigma(u_o^T v_c)) - \sum_{k=1}^K \log(\sigma(-u_k^T v_c))",
                  "the negative-sampling loss"),
           Function("J_{neg-sample}", negative_sampling_loss, elementwise=False)]))


#: the words of the window at positions 0..2m (the center, c = 0, at position t = m); outside words
#: repeat and one equals the center word, as real windows do
WINDOW = [1, 2, 0, 2, 1]


def window(sizes):
    m = sizes["m"]
    return WINDOW[2 - m:3 + m]


def skip_gram_loss(v_c, *rest):
    """J_skip-gram(v_c, w_{t-m}, …, w_{t+m}, U) = Σ_{j≠0} J(v_c, w_{t+j}, U)."""
    *words, U = rest
    m = len(words) // 2
    return sum(naive_softmax_loss(v_c, w, U) for j, w in enumerate(words) if j != m)


f = Steps("f", SEED, section="f", table=SymbolTable(
    sizes=[{"d": 2, "V": 3, "m": 1}, {"d": 2, "V": 3, "m": 2}],
    names=[Real("C", "d", "V"), Columns("v", of="C"), Real("U", "d", "V"), Index("w", "V"),
           Define("c", lambda s: sp.Integer(0), "the center word"),
           Define("t", lambda s: sp.Integer(s.size("m")), "the center's position in the window"),
           Sequence("w", window),
           Function("J", naive_softmax_loss, elementwise=False),
           Function("J_{skip-gram}", skip_gram_loss, elementwise=False),
           Define("J_s", r"\sum_{-m \leq j \leq m \& j \neq 0} J(v_c, w_{t+j}, U)", "J_skip-gram")],
    assumptions=[Condition(r"w \neq c", lambda i: i["w"] != 0)]))
