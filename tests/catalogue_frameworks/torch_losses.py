"""Ordinary losses written in torch, as a torch user writes them (torch.log_softmax, torch.relu,
torch.var, a backward pass by hand), each beside the specs of the numpy catalogue; right and
planted wrong, with torch's own classic slips:

- softmax cross-entropy through torch.log_softmax; planted: the sign flipped;
- a two-layer ReLU net (kinks) with torch.relu; planted: the mask missing;
- batch norm with torch.var; planted: torch.var's default, the unbiased variance (÷ N−1), where
  the math divides by N;
- logistic regression with torch.sigmoid and torch.nn.functional.softplus; planted: σ dropped.
  (softplus's threshold: torch returns x itself above 20, which is within rounding of the math at
  the scales drawn here);
- Huber through torch.clamp (kinks at |r| = 1); planted: the claim r everywhere.
"""

import torch

import batch_norm as bn
import huber
import logistic
import relu_two_layer as net
import softmax_ce as ce
from gradverify import Claim, Derivation, Implementation, Index, Real

EXPECTED = {
    "torch-softmax-ce": ("holds", "none"), "torch-softmax-ce-sign-flipped": ("refuted", "sign flipped"),
    "torch-relu-net": ("holds", "none"), "torch-relu-net-mask-missing": ("refuted", "mask missing"),
    "torch-batch-norm": ("holds", "none"),
    "torch-batch-norm-unbiased-var": ("refuted", "torch.var's default divides by N − 1"),
    "torch-logistic": ("holds", "none"), "torch-logistic-no-sigma": ("refuted", "σ dropped"),
    "torch-huber": ("holds", "none"), "torch-huber-wrong-outside": ("refuted", "wrong only for |r| > 1"),
}


def softmax_ce_code(sign):
    def softmax_ce(W, x, y):
        logp = torch.log_softmax(W @ x, dim=0)
        p = logp.exp()
        p[y] -= 1.0
        return -logp[y], sign * torch.outer(p, x)
    return softmax_ce


for _id, _sign in (("torch-softmax-ce", 1), ("torch-softmax-ce-sign-flipped", -1)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="softmax classifier, cross-entropy (torch)", citation="catalogue: softmax classifier",
        dims={"C": (2, 4), "D": (1, 3)}, variables={"W": Real("C", "D"), "x": Real("D"), "y": Index("C")},
        function=ce.L, claims=[Claim("∂L/∂W", lambda s, k=_sign: ce.grad(s, k), output="grad_W", wrt="W")],
        implementation=Implementation(softmax_ce_code(_sign), args=("W", "x", "y"), returns=("L", "grad_W")),
        symbolic_sizes=[{"C": 3, "D": 2}, {"C": 2, "D": 4}])


def net_code(masked):
    def two_layer(W1, b1, W2, x, t):
        a = W1 @ x + b1
        r = W2 @ torch.relu(a) - t
        d = W2.T @ r
        if masked:
            d = d * (a > 0)
        return 0.5 * (r @ r), torch.outer(d, x), d
    return two_layer


for _id, _masked in (("torch-relu-net", True), ("torch-relu-net-mask-missing", False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="two-layer ReLU net (torch)", citation="catalogue: two-layer net",
        dims={"n": (1, 3), "h": (1, 3), "m": (1, 2)},
        variables={"W1": Real("h", "n"), "b1": Real("h"), "W2": Real("m", "h"), "x": Real("n"), "t": Real("m")},
        function=net.L,
        claims=[Claim("∂L/∂W1", lambda s, k=_masked: net.delta(s, k) * s.x.T, output="grad_W1", wrt="W1"),
                Claim("∂L/∂b1", lambda s, k=_masked: net.delta(s, k), output="grad_b1", wrt="b1")],
        implementation=Implementation(net_code(_masked), args=("W1", "b1", "W2", "x", "t"),
                                      returns=("L", "grad_W1", "grad_b1")),
        symbolic_sizes=[{"n": 2, "h": 3, "m": 1}])


def batch_norm_code(unbiased):
    def batch_norm(x, dout):
        N = x.shape[0]
        mu = x.mean(dim=0)
        inv = 1.0 / torch.sqrt(torch.var(x, dim=0, unbiased=unbiased) + 1e-5)
        xhat = (x - mu) * inv
        dx = (N * dout - dout.sum(dim=0) - xhat * (dout * xhat).sum(dim=0)) * inv / N
        return (dout * xhat).sum(), dx
    return batch_norm


for _id, _unbiased in (("torch-batch-norm", False), ("torch-batch-norm-unbiased-var", True)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="batch norm (torch)", citation="catalogue: batch norm",
        dims={"N": (2, 3), "D": (1, 2)}, variables={"x": Real("N", "D"), "dout": Real("N", "D")}, function=bn.J,
        claims=[Claim("∂J/∂x", bn.grad, output="dx", wrt="x")],
        implementation=Implementation(batch_norm_code(_unbiased), args=("x", "dout"), returns=("J", "dx"),
                                      framework="torch"),  # said, not detected: both ways are covered
        symbolic_sizes=[{"N": 2, "D": 1}, {"N": 3, "D": 2}])


def logistic_code(with_sigma):
    def logistic_loss(X, w, t):
        z = X @ w
        loss = torch.nn.functional.softplus(z).sum() - t @ z
        return loss, X.T @ ((torch.sigmoid(z) if with_sigma else z) - t)
    return logistic_loss


for _id, _claim, _sig in (("torch-logistic", logistic.right, True), ("torch-logistic-no-sigma", logistic.no_sigma, False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="logistic regression (torch)", citation="catalogue: logistic regression",
        dims={"N": (1, 3), "D": (1, 3)}, variables={"X": Real("N", "D"), "w": Real("D"), "t": Real("N")},
        function=logistic.L, claims=[Claim("∂L/∂w", _claim, output="grad_w", wrt="w")],
        implementation=Implementation(logistic_code(_sig), args=("X", "w", "t"), returns=("L", "grad_w")))


def huber_code(clipped):
    def huber_loss(x, t):
        r = x - t
        a = r.abs()
        loss = torch.where(a <= 1, 0.5 * r * r, a - 0.5).sum()
        return loss, torch.clamp(r, -1.0, 1.0) if clipped else r
    return huber_loss


for _id, _claim, _clip in (("torch-huber", huber.right, True), ("torch-huber-wrong-outside", huber.outside_wrong, False)):
    globals()[_id.replace("-", "_")] = Derivation(
        id=_id, title="Huber loss (torch)", citation="catalogue: Huber",
        dims={"n": (1, 4)}, variables={"x": Real("n"), "t": Real("n")}, function=huber.J,
        claims=[Claim("∂J/∂x", _claim, output="grad_x", wrt="x")],
        implementation=Implementation(huber_code(_clip), args=("x", "t"), returns=("J", "grad_x")))
