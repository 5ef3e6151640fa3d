"""The two-layer ReLU network of mlp.py written in torch (float64 tensors, a hand-written backward,
torch.relu, the softmax written out or torch.softmax or log_softmax, a (z > 0) mask), and a custom torch.autograd.Function whose backward is checked by
calling autograd inside fn. n: the hidden width."""

import numpy as np

from . import Entry
from .mlp import B, C, LAM


def code(mistake=None, softmax="written out"):
    def make(n):
        import torch

        g = torch.Generator().manual_seed(0)
        D = H = n
        X = torch.randn(B, D, generator=g, dtype=torch.float64)
        y = torch.randint(0, C, (B,), generator=g)
        W1 = torch.randn(D, H, generator=g, dtype=torch.float64) / D ** 0.5
        b1 = 0.1 * torch.randn(H, generator=g, dtype=torch.float64)
        W2 = torch.randn(H, C, generator=g, dtype=torch.float64) / H ** 0.5
        b2 = torch.zeros(C, dtype=torch.float64)

        def loss(W1, b1, W2, b2, X, y):
            z1 = X @ W1 + b1
            a1 = torch.relu(z1)
            s = a1 @ W2 + b2
            if softmax == "torch.softmax":
                p = torch.softmax(s, dim=1)
            elif softmax == "log_softmax":
                p = torch.exp(torch.nn.functional.log_softmax(s, dim=1))
            else:
                e = torch.exp(s - s.max(dim=1, keepdim=True).values)
                p = e / e.sum(dim=1, keepdim=True)
            J = -torch.log(p[torch.arange(B), y]).mean() + 0.5 * LAM * ((W1 ** 2).sum() + (W2 ** 2).sum())
            ds = p.clone()
            ds[torch.arange(B), y] -= 1
            ds = ds / B
            gW2 = a1.T @ ds + LAM * W2
            dz1 = (ds @ W2.T) * (z1 > 0)
            if mistake == "no mask":
                dz1 = ds @ W2.T
            gW1 = X.T @ dz1 + LAM * W1
            if mistake == "flipped":
                gW1 = -gW1
            return J, gW1, dz1.sum(0), gW2, ds.sum(0)
        return loss, (W1, b1, W2, b2, X, y), (0, 1, 2, 3)
    return make


def custom_function(mistake=None):
    def make(n):
        import torch

        class Swish(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                s = torch.sigmoid(x)
                ctx.save_for_backward(x, s)
                return x * s

            @staticmethod
            def backward(ctx, gy):
                x, s = ctx.saved_tensors
                d = s + x * s * (1 - s) if mistake is None else s      # wrong: x·σ'(x) dropped
                return gy * d

        x0 = torch.randn(n, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

        def loss(x):
            x = x.detach().requires_grad_(True)
            J = (Swish.apply(x) ** 2).sum()
            (g,) = torch.autograd.grad(J, x)
            return J.detach(), g
        return loss, (x0,), (0,)
    return make


SIZES = {"small": 40, "large": 2000}
ENTRIES = [
    Entry("mlp-torch", code(), sizes=SIZES, framework="torch"),
    Entry("mlp-torch-no-mask", code("no mask"), "fail", "missing mask (z > 0)", SIZES, framework="torch"),
    Entry("mlp-torch-flipped", code("flipped"), "fail", "flipped sign (∂J/∂W1)", SIZES, framework="torch"),
    # torch.softmax refuses complex tensors; the guard shifts by the largest real part itself (a false alarm
    # at 4·10⁶ weights when central differences judged it, crossing ReLU kinks)
    Entry("mlp-torch-softmax", code(softmax="torch.softmax"), sizes=SIZES, framework="torch"),
    Entry("mlp-torch-softmax-no-mask", code("no mask", softmax="torch.softmax"), "fail", "missing mask (z > 0)",
          SIZES, framework="torch"),
    Entry("mlp-torch-log-softmax", code(softmax="log_softmax"), sizes=SIZES, framework="torch"),
    Entry("mlp-torch-log-softmax-flipped", code("flipped", softmax="log_softmax"), "fail", "flipped sign (∂J/∂W1)",
          SIZES, framework="torch"),
    Entry("swish-torch-autograd", custom_function(), sizes={"small": 1000, "large": 1_000_000}, framework="torch"),
    Entry("swish-torch-autograd-dropped", custom_function("dropped"), "fail", "dropped term (x·σ′ in backward)",
          {"small": 1000, "large": 1_000_000}, framework="torch"),
]
