"""Subscript writes into local arrays, including overwriting entries that were read."""

import numpy as np

from ._spec import case, normal


def fill_sequence(x, n):
    out = np.zeros(n)
    out[0] = x
    for t in range(1, n):
        out[t] = np.sin(out[t - 1]) + x * t
    return np.sum(out ** 2)


def accumulate_into(A, v):
    B = np.zeros_like(A)
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            B[i, j] += A[i, j] * v[j]
            B[i, j] += v[i] ** 2
    return np.sum(B * A)


def overwrite_after_read(x):
    y = x.copy()
    a = y[1] * 3.0
    y[1] = y[1] ** 2 + a
    y[0] = y[1] * y[2]
    y[1] = 0.5
    return np.sum(y * y) + a


def column_writes(X):
    Y = np.zeros((X.shape[0], 2))
    for k in range(2):
        Y[:, k] = np.tanh(X[:, k] * (k + 1.0))
    Y[1:, 0] = Y[1:, 0] * 2.0
    return np.sum(Y ** 2)


def rnn_states(W, h0, xs):
    T = xs.shape[0]
    H = np.zeros((T + 1, h0.shape[0]))
    H[0] = h0
    for t in range(T):
        H[t + 1] = np.tanh(W @ H[t] + xs[t])
    return np.sum(H[T] ** 2) + np.mean(H)


def inner_loop_in_writing_loop(x):
    z = np.zeros(2)
    y = x[0]
    for i in range(2):
        for j in range(3):
            y = np.tanh(2.0 * y + x[1])
        z[i] = y * y
    return y + np.sum(z)


# autograd cannot differentiate in-place writes: these are checked against finite differences
AUTOGRAD = False

def returned_after_write(w):
    z = w * 2.0
    z[0] = z[1] * z[2]
    z = np.tanh(z)
    return np.sum(z)


def write_then_rebind(w):
    z = w * 2.0
    y = np.sum(z * w)
    z[0] = y
    z = np.tanh(z)
    return np.sum(z) + y


CASES = [
    case(write_then_rebind, normal(3), wrt=0),
    case(returned_after_write, normal(3), wrt=0),
    case(fill_sequence, 0.3, 6),
    case(accumulate_into, normal(3, 3), normal(3), wrt=(0, 1)),
    case(overwrite_after_read, normal(4)),
    case(column_writes, normal(4, 3)),
    case(inner_loop_in_writing_loop, normal(2)),
    case(rnn_states, normal(3, 3, scale=0.5), normal(3), normal(4, 3), wrt=(0, 1, 2)),
]
