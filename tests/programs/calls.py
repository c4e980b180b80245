"""Calls to the user's own module-level functions, inlined (two levels deep, early returns,
defaults, keyword arguments, a @numba.njit helper)."""

import numba
import numpy as np

from ._spec import case, normal


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def layer(W, b, h):
    return sigmoid(h @ W + b)


def softplus(x, beta=1.0):
    if beta * x > 20.0:
        return x
    return np.log1p(np.exp(beta * x)) / beta


@numba.njit
def square_plus(a, b):
    c = a * a
    return c + b


def two_layers(W1, b1, W2, b2, X):
    H = layer(W1, b1, X)
    P = layer(W2, b2, H)
    return np.sum(P * P)


def scalar_helpers(x, y):
    s = softplus(x) + softplus(y, beta=2.0) + softplus(30.0 * x)
    return s * square_plus(x, y)


def helper_shadowing(z, c):
    h = sigmoid(z * c)
    z = sigmoid(h) + z
    return np.sum(z)


CASES = [
    case(two_layers, normal(2, 4), normal(4), normal(4, 3), normal(3), normal(5, 2),
         wrt=(0, 1, 2, 3)),
    case(scalar_helpers, 0.8, -0.3, wrt=(0, 1)),
    case(helper_shadowing, normal(3), 0.7, wrt=(0, 1)),
]
