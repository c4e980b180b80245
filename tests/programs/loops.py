"""Loops: for over range (runtime bounds, negative steps, nested), while with data-dependent
trip counts, loop-carried scalars and arrays, accumulations."""

import numpy as np

from ._spec import case, normal, uniform


def logistic_map(v, n):
    for i in range(n):
        v = 4.0 * v * (1.0 - v)
    return v


def accumulate(w, x):
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            s += w[j] * x[i, j]
    return s * s


def rnn(W, U, h0, xs):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h * h)


def negative_step(x, n):
    y = 0.0
    for k in range(n, 0, -2):
        y = y * 0.5 + x[k] * k
    return y


def while_halving(x):
    n = 0
    while x > 0.1:
        x = x * 0.5 + 0.01 * x * x
        n += 1
    return x * n


def loop_with_branch(x, n):
    s = x
    for i in range(n):
        if s > 1.0:
            s = s * 0.5
        else:
            s = s * s + 0.7
    return s


def runtime_range(x, a, b):
    acc = 1.0
    for i in range(a, b):
        acc = acc * x[i] + np.sin(acc)
    return acc


CASES = [
    case(logistic_map, 0.3, 3, id="logistic3"),
    case(logistic_map, 0.3, 0, id="logistic_zero_trips"),
    case(logistic_map, 0.3, 1, id="logistic_one_trip"),
    case(accumulate, normal(3), normal(4, 3), wrt=(0, 1)),
    case(rnn, normal(3, 3, scale=0.5), normal(3, 2), normal(3), normal(5, 2), wrt=(0, 1, 2, 3)),
    case(negative_step, normal(8), 7),
    case(while_halving, 3.7),
    case(while_halving, 0.05, id="while_zero_trips"),
    case(loop_with_branch, 1.7, 6),
    case(runtime_range, uniform(0.5, 1.0, 6), 1, 5),
]


def logistic_closed_form_check(v0: float, n: int) -> float:
    """d v_n / d v_0 of the logistic map, as the product of the per-step derivatives."""
    d, v = 1.0, v0
    for _ in range(n):
        d *= 4.0 * (1.0 - 2.0 * v)
        v = 4.0 * v * (1.0 - v)
    return d
