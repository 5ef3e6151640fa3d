"""A top-k loss (hard-example mining): J = the sum of the k largest of x, ∂J/∂x = 1 on them, 0
elsewhere. np.sort and np.argsort run under the complex step (numpy orders complex numbers by the
real part first); central differences swapped the k-th and (k+1)-th values 7e-7 apart at 3·10⁵
entries (a false alarm before). n: the entries, k = n/10."""

import numpy as np

from . import Entry


def code(mistake=None):
    def loss(x):
        k = x.size // 10
        g = np.zeros(x.shape)
        g[np.argsort(x)[-k:]] = 1.0
        if mistake == "off by one":
            g[np.argsort(x)[-k - 1]] = 1.0  # the (k+1)-th counted too
        elif mistake == "halved":
            g *= 0.5
        return np.sum(np.sort(x)[-k:]), g
    return lambda n: (loss, (np.random.default_rng(19).standard_normal(n),), (0,))


SIZES = {"small": 300, "large": 300_000}
ENTRIES = [
    # at 3·10⁵ entries central differences cross changes of the sort order within a step and certify only
    # 2·max|g| (the complex step agrees): inconclusive, saying so, never a failure
    Entry("topk", code(), sizes=SIZES, expected_at={"large": "inconclusive"}),
    Entry("topk-off-by-one", code("off by one"), "fail", "one entry too many", SIZES),
    Entry("topk-halved", code("halved"), "fail", "factor 1/2", SIZES),
]
