"""Variables whose type changes across assignments: an int that becomes a float (in loops,
branches and helpers), counters used in float arithmetic, float32 data met by float64
parameters. The type of what is saved for the backward sweep is the join of every value."""

import numpy as np

from ._spec import case, normal


def third(a, n):
    out = 1
    for i in range(n):
        out = out * a
    return out


def int_sum(x):
    s = 0
    for i in range(x.shape[0]):
        s = s + x[i] * x[i]
    return s * s


def counter(a, n):
    k = 0
    y = a
    for i in range(n):
        k = k + 1
        y = y * k * 0.5 + np.sin(y)
    return y * k


def branch_int_or_float(a, b):
    if a > 0.0:
        c = 2
    else:
        c = a * b
    return c * b


def int_or_float(a):
    if a > 1.0:
        return 1
    return a * a


def helper_types(a, n):
    s = 0
    for i in range(n):
        s = s + int_or_float(a + i)
    return s * a


def while_int(a):
    t = 0
    k = 0
    while k < 3:
        t = t + a * k
        k = k + 1
    return t * t


def float32_data(w, x32):
    s = 0
    for i in range(x32.shape[0]):
        s = s + np.tanh(w[0] * x32[i])  # float64 times float32: float64
    return s


CASES = [
    case(third, 0.5, 3, wrt=0),
    case(int_sum, normal(4), wrt=0),
    case(counter, 0.4, 4, wrt=0),
    case(branch_int_or_float, 0.7, 1.3, wrt=(0, 1)),
    case(branch_int_or_float, -0.7, 1.3, wrt=(0, 1), id="branch_int_or_float_else"),
    case(helper_types, 0.3, 3, wrt=0),
    case(while_int, 0.8, wrt=0),
    case(float32_data, normal(1), lambda rng: rng.standard_normal(5).astype(np.float32), wrt=0),
]
