"""Tuples: packed, unpacked, indexed by constants (negative ones too) and by run-time integers,
returned from helpers, nested, tuples of arrays, tuples carried by loops and chosen by
branches. Each element is differentiated like a variable of its own."""

import numpy as np

from ._spec import case, normal


def pick(a, b, c, i):
    x = a, b, c
    return x[i]


def last_times_first(a, b, c):
    x = (a, b, c)
    return x[-1] * x[0]


def polar(a):
    return a * 2.0, np.sin(a)


def from_helper(a):
    t = polar(a)
    return t[1] + t[0] * t[-1]


def unpacked_from_helper(a, b):
    p, q = polar(a * b)
    return p * q + b


def pick_negative(a, b, c, i):
    x = (a, b, c)
    return x[i] * x[-2]


def rotate(a, b, n):
    t = (a, b)
    for i in range(n):
        t = (t[1], 0.5 * t[0] + np.tanh(t[1]))
    return t[0] * t[1]


def indexed_in_loop(a, b, c, n):
    x = (a, b, c)
    s = 0.0
    for i in range(n):
        s = s + x[i % 3] * x[(i + 1) % 3]
    return s


def array_params(W, b, X):
    params = (W, b)
    W1, _b1 = params
    return np.sum(np.tanh(X @ W1 + params[1]))


def nested(a, b):
    t = ((a, b), a * b)
    u, v = t[0]
    return u * v + t[1] * t[0][1]


def branches(a, b, k):
    if k > 0:
        t = (a, b)
    else:
        t = (b * 2.0, a)
    s = (a, b) if k > 1 else (b, a)
    return t[0] ** 2 + t[1] * s[0]


def sliced(a, b, c):
    t = (a, b, c)
    s = t[1:]
    return s[0] * s[1] * len(t)


def product(t):
    return t[0] * t[1]


def tuple_argument(a, b):
    return product((a, b)) + product((b, np.exp(a)))


def swap(a, b):
    x, y = a, b
    x, y = y, x * y
    return x + 2.0 * y


CASES = [
    case(pick, 1.0, 2.0, 3.0, 1, wrt=(0, 1, 2)),
    case(last_times_first, 1.5, 2.0, -3.0, wrt=(0, 1, 2)),
    case(from_helper, 0.4, wrt=0),
    case(unpacked_from_helper, 0.4, 0.9, wrt=(0, 1)),
    case(pick_negative, 1.0, 2.0, 3.0, -1, wrt=(0, 1, 2)),
    case(pick_negative, 1.0, 2.0, 3.0, -3, wrt=(0, 1, 2), id="pick_negative_first"),
    case(rotate, 0.3, 0.7, 4, wrt=(0, 1)),
    case(indexed_in_loop, 0.3, -0.8, 1.1, 5, wrt=(0, 1, 2)),
    case(array_params, normal(3, 2), normal(2), normal(4, 3), wrt=(0, 1)),
    case(nested, 0.3, 0.9, wrt=(0, 1)),
    case(branches, 0.3, 0.9, 2, wrt=(0, 1)),
    case(branches, 0.3, 0.9, -1, wrt=(0, 1), id="branches_else"),
    case(sliced, 0.3, 0.9, 1.5, wrt=(0, 1, 2)),
    case(tuple_argument, 0.3, 0.9, wrt=(0, 1)),
    case(swap, 0.3, 0.9, wrt=(0, 1)),
]
