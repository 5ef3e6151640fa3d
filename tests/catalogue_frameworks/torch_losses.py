"""Ordinary losses written in torch, as a torch user writes them (torch.log_softmax, torch.relu,
torch.var, a backward pass by hand), each beside the specs of the numpy catalogue; right and
planted wrong, with torch's own classic slips:

- softmax cross-entropy through torch.log_softmax; planted: the sign flipped;
- a two-layer ReLU net (kinks) with torch.relu; planted: the mask missing;
- batch norm with torch.var; planted: torch.var's default, the unbiased variance (÷ N−1), where
  the math divides by N;
- logistic regression with torch.sigmoid and torch.logaddexp; planted: σ dropped. (Not
  torch.nn.functional.softplus: above its threshold, 20, it returns x itself, off the math by up to
  log1p(e⁻²⁰) ≈ 2e-9, and the agreement check says so: tests/test_frameworks.py pins that case.)
- Huber through torch.clamp (kinks at |r| = 1); planted: the claim r everywhere.
"""

import torch

from _declarations import declare

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



def net_code(masked):
    def two_layer(W1, b1, W2, x, t):
        a = W1 @ x + b1
        r = W2 @ torch.relu(a) - t
        d = W2.T @ r
        if masked:
            d = d * (a > 0)
        return 0.5 * (r @ r), torch.outer(d, x), d
    return two_layer



def batch_norm_code(unbiased):
    def batch_norm(x, dout):
        N = x.shape[0]
        mu = x.mean(dim=0)
        inv = 1.0 / torch.sqrt(torch.var(x, dim=0, unbiased=unbiased) + 1e-5)
        xhat = (x - mu) * inv
        dx = (N * dout - dout.sum(dim=0) - xhat * (dout * xhat).sum(dim=0)) * inv / N
        return (dout * xhat).sum(), dx
    return batch_norm



def logistic_code(with_sigma):
    def logistic_loss(X, w, t):
        z = X @ w
        loss = torch.logaddexp(torch.zeros_like(z), z).sum() - t @ z
        return loss, X.T @ ((torch.sigmoid(z) if with_sigma else z) - t)
    return logistic_loss



def huber_code(clipped):
    def huber_loss(x, t):
        r = x - t
        a = r.abs()
        loss = torch.where(a <= 1, 0.5 * r * r, a - 0.5).sum()
        return loss, torch.clamp(r, -1.0, 1.0) if clipped else r
    return huber_loss


globals().update({name.replace("-", "_"): d for name, d in declare(
    "torch", softmax_ce=softmax_ce_code, relu_net=net_code,
    batch_norm=batch_norm_code, batch_norm_wrong="-unbiased-var",
    logistic_loss=logistic_code, huber_loss=huber_code, framework="torch").items()})
