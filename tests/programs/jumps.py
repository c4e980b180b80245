"""break, continue and early return, in for and while loops and in branches."""

import numpy as np

from ._spec import case, normal


def break_on_threshold(x, n):
    s = x
    for i in range(n):
        s = s * 1.3 + 0.1
        if s > 2.0:
            break
        s = np.sin(s) + s
    return s


def continue_odd(w, x):
    acc = 0.0
    for i in range(x.shape[0]):
        if i % 2 == 1:
            continue
        acc = acc + w[i] * x[i] ** 2
    return acc


def while_break(x):
    k = 0
    while True:
        x = x * 0.9 + 0.05
        k += 1
        if x < 0.5 or k > 50:
            break
        x = x + 0.01 * x * x
    return x


def early_return(x, y):
    if x > 1.0:
        return x * y
    z = np.exp(x) * y
    if z > 2.0:
        return z - y
    return z + x


def return_in_loop(v, n):
    for i in range(n):
        v = 3.5 * v * (1.0 - v)
        if v > 0.85:
            return v * 10.0
    return v


def nested_break(A):
    total = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            if A[i, j] < -0.5:
                break
            total = total + A[i, j] ** 2
        total = total * 0.9
    return total


CASES = [
    case(break_on_threshold, 0.4, 6, id="break_taken"),
    case(break_on_threshold, -3.0, 3, id="break_not_taken"),
    case(continue_odd, normal(6), normal(6), wrt=(0, 1)),
    case(while_break, 2.0),
    case(early_return, 1.5, 0.7, wrt=(0, 1), id="return_first"),
    case(early_return, 0.5, 0.7, wrt=(0, 1), id="return_second"),
    case(early_return, 0.1, 0.3, wrt=(0, 1), id="return_last"),
    case(return_in_loop, 0.3, 8, id="return_in_loop_taken"),
    case(return_in_loop, 0.3, 1, id="return_in_loop_not_taken"),
    case(nested_break, lambda rng: np.array([[0.3, -0.9, 0.2], [0.1, 0.4, 0.8]])),
]
