"""A Gaussian process's negative log marginal likelihood, ½ yᵀK⁻¹y + ½ log det K, K = k(X, X) + σ²I
with an RBF kernel, by its hyperparameters θ = (log ℓ, log s², log σ²); the log-det from a
Cholesky factor (np.linalg.cholesky, or scipy.linalg.cho_factor). LAPACK reads x + i·h·u as
Hermitian, so the complex step sees no log-det term: a claim that forgot it passed. Both are
judged by central differences. n: the data points (θ has 3 entries, checked one by one)."""

import numpy as np
import scipy.linalg as sl

from . import Entry


def _data(n):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 2))
    return np.array([0.3, -0.2, -1.0]), X, np.sin(X[:, 0]) + 0.1 * rng.standard_normal(n)


def code(mistake=None, factor="numpy"):
    def nll(theta, X, y):
        ell, s2, n2 = np.exp(theta)
        D2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, -1)
        Kf = s2 * np.exp(-0.5 * D2 / ell ** 2)
        K = Kf + n2 * np.eye(len(y))
        if factor == "scipy":
            L = sl.cho_factor(K, lower=True)[0]
        else:
            L = np.linalg.cholesky(K)
        alpha = np.linalg.solve(K, y)
        J = 0.5 * y @ alpha + np.sum(np.log(np.diag(L)))
        M = np.outer(alpha, alpha) - (0 if mistake == "no log-det" else np.linalg.inv(K))
        g = np.array([-0.5 * np.sum(M * dK) for dK in (Kf * D2 / ell ** 2, Kf, n2 * np.eye(len(y)))])
        return J, (-g if mistake == "flipped" else g)
    return lambda n: (nll, _data(n), (0,))


SIZES = {"small": 10, "large": 400}
ENTRIES = [
    Entry("gp-cholesky", code(), sizes=SIZES),
    Entry("gp-cholesky-no-logdet", code("no log-det"), "fail", "dropped term (½ log det K)", SIZES),
    Entry("gp-cholesky-flipped", code("flipped"), "fail", "flipped sign", SIZES),
    Entry("gp-scipy-cho-factor", code(factor="scipy"), sizes=SIZES),
    Entry("gp-scipy-cho-factor-no-logdet", code("no log-det", "scipy"), "fail", "dropped term (½ log det K)",
          SIZES),
]
