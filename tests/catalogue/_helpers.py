"""Sympy helpers shared by the catalogue: the indicator functions and kinks ML code uses.

Written as a user would: 1[a > 0] is a Piecewise (sympy's Heaviside(0) is 1/2, which no
numpy mask computes), relu is Max(0, a).
"""

import sympy as sp


def relu(a):
    return sp.Max(0, a)


def step(a):
    """1[a > 0], the mask `a > 0` of numpy code."""
    return sp.Piecewise((1, a > 0), (0, True))


def step_ge(a):
    """1[a ≥ 0]."""
    return sp.Piecewise((1, a >= 0), (0, True))


def elementwise(f, m):
    return m.applyfunc(f)


def total(m):
    return sum(m)


def column(values):
    values = list(values)
    return sp.Matrix(len(values), 1, values)
