"""Branches on runtime values: if/elif/else, conditional expressions, and/or/not."""

import numpy as np

from ._spec import case, normal


def relu_scalar(x):
    if x > 0.0:
        y = x * x
    else:
        y = 0.1 * x
    return y


def elif_chain(x, w):
    s = np.sum(x * w)
    if s > 1.0:
        r = s * s
    elif s > -1.0:
        r = np.sin(s) * w[0]
    else:
        r = -s
    return r + w[1]


def branch_assigns_different(x, y):
    a = x * 2.0
    if np.sum(x) > np.sum(y):
        b = a * y
    else:
        a = a + y
        b = a
    return np.sum(a * b)


def conditional_expression(x, y):
    z = x * y if x > y else x - y
    return z * z + (y if y > 0.0 else -y)


def bool_ops(x, y):
    m = x * y
    if x > 0.0 and y > 0.0 or not m < 1.0:
        m = m * 3.0
    return m + x


def nested_branches(x):
    t = np.sum(x)
    if t > 0.0:
        if x[0] > 0.0:
            t = t * x[0]
        else:
            t = t - x[1] ** 2
    return t * t


CASES = [
    case(relu_scalar, 1.5, id="relu_positive"),
    case(relu_scalar, -0.7, id="relu_negative"),
    case(elif_chain, lambda rng: np.array([1.0, 2.0, 0.5]), normal(3), wrt=(0, 1), id="elif_high"),
    case(elif_chain, lambda rng: np.array([0.1, 0.2, 0.3]), normal(3), wrt=(0, 1), id="elif_mid"),
    case(elif_chain, lambda rng: np.array([-1.0, -2.0, -0.5]),
         lambda rng: np.array([1.0, 0.5, 2.0]), wrt=(0, 1), id="elif_low"),
    case(branch_assigns_different, normal(3), normal(3), wrt=(0, 1)),
    case(branch_assigns_different, normal(3), lambda rng: np.full(3, 5.0), wrt=(0, 1),
         id="branch_assigns_other"),
    case(conditional_expression, 1.2, 0.3, wrt=(0, 1), id="ifexp_true"),
    case(conditional_expression, 0.2, -0.9, wrt=(0, 1), id="ifexp_false"),
    case(bool_ops, 0.5, 0.8, wrt=(0, 1), id="boolop_true"),
    case(bool_ops, -0.5, 0.8, wrt=(0, 1), id="boolop_false"),
    case(nested_branches, lambda rng: np.array([1.0, 0.5, 0.2])),
    case(nested_branches, lambda rng: np.array([-0.2, 0.5, 0.9]), id="nested_inner_else"),
]
