"""The returned variable reassigned after it was first computed: a data term plus a
regularizer, `+=` in loops and branches, early returns, in helpers. The value returned by
`value_and_grad` must be the one the function's `return` computed."""

import numpy as np

from ._spec import case, normal


def regularized(x, w):
    l = np.sum((x * w) ** 2)
    l = l + 0.1 * np.sum(w ** 2)
    return l


def accumulated(w, X):
    l = 0.0
    for i in range(X.shape[0]):
        l += np.sum(np.tanh(X[i] @ w) ** 2)
    return l


def in_branch(w, c):
    l = np.sum(w ** 2)
    if c > 0.0:
        l = l * c + np.sum(w)
    else:
        l -= np.max(w)
    return l


def early(w, c):
    l = np.sum(w ** 3)
    if c > 0.0:
        l = l + c
        return l
    l = l * 2.0
    return l


def penalty(w):
    p = np.sum(w ** 2)
    p = p * 0.5
    return p


def with_helper(w, x):
    l = np.sum(w * x)
    l = l + penalty(w)
    return l


CASES = [
    case(regularized, normal(2), normal(2), wrt=1),
    case(accumulated, normal(3), normal(4, 3), wrt=0),
    case(in_branch, normal(3), 0.5, wrt=0),
    case(in_branch, normal(3), -0.5, wrt=0, id="in_branch_else"),
    case(early, normal(3), 0.5, wrt=0),
    case(early, normal(3), -0.5, wrt=0, id="early_late"),
    case(with_helper, normal(3), normal(3), wrt=0),
]
