"""Straight-line programs: arithmetic, broadcasting, reductions, shapes, subscript reads."""

import numpy as np

from ._spec import case, normal, positive


def poly(x, y):
    z = x * y + x ** 2 - y / 3.0
    return np.sum(z * z)


def scalar_mix(a, b):
    c = np.sin(a) * np.exp(b) + np.tanh(a - b)
    d = np.sqrt(a * a + 1.0) - np.arctan(b) + np.log1p(a * a)
    return c / d + np.expm1(b * 0.1) + abs(a)


def reassign(x, w):
    h = x * w
    h = np.tanh(h)
    h = h + x
    h += 1.0
    return np.sum(h * h)


def broadcast_bias(X, b, s):
    Z = X * s + b
    return np.sum(np.cos(Z)) + np.mean(Z - b * 2.0)


def reductions_axis(A):
    r0 = np.sum(A, axis=0)
    r1 = np.mean(A, axis=1, keepdims=True)
    m = np.max(A, axis=0)
    n = A.min(axis=-1)
    return np.sum(r0 * r0) + np.sum((A - r1) ** 2) + np.sum(m) - np.sum(n * 3.0) + A.max()


def reductions_3d(T):
    s = T.sum(axis=1)
    k = np.mean(T, axis=2, keepdims=True)
    return np.sum(s ** 2) + np.sum(T * k) + np.min(T)


def shapes(A, v):
    n = A.shape[0]
    B = A.T @ A / n
    c = np.dot(B, v) + A.reshape(-1)[2] * v
    d = np.outer(v, v).reshape(v.size * v.size)
    return np.sum(c * c) + np.sum(d) + np.sum(np.transpose(A) * 1.5) + A.size


def subscripts(A, x):
    return A[0, 1] * x[2] + np.sum(A[:, 1] * x[1:4]) + np.sum(A[1]) + np.sum(A[1:, :2] ** 2)


def elementwise_kinks(x, y):
    a = np.maximum(x, 0.0) + np.minimum(x, y)
    b = np.where(x > y, x * y, y - x)
    c = np.clip(x, -0.5, 0.5) + np.abs(y) + np.square(x)
    return np.sum(a * b) + np.sum(c)


def powers(x, p):
    return np.sum(np.power(x, p) + x ** 3 + 2.0 ** x)


def trig(x):
    return np.sum(np.sin(x) * np.cos(x) + np.tan(x * 0.5))


def logs(x):
    return np.sum(np.log(x) + np.sqrt(x) + np.log1p(x) * np.exp(-x))


def unary_and_tuple(x, y):
    a, b = x * 2.0, -y
    b, a = a, b
    return np.sum(a * np.exp(b) - x)


def relu_mse(W, b, X, Y):
    H = np.maximum(X @ W + b, 0.0)
    return np.mean((H - Y) ** 2)


def saliency(x, W1, W2):
    h = np.tanh(W1 @ x)
    scores = W2 @ h
    return scores[1]


def python_float(x, s):
    return x * s * 3.0 + s ** 2


def matvec_forms(A, v, w):
    return v @ A @ w + np.dot(v, v) + np.sum(A @ w) + np.sum(v @ A)


CASES = [
    case(poly, normal(3), normal(3), wrt=(0, 1)),
    case(scalar_mix, 0.7, -0.4, wrt=(0, 1)),
    case(reassign, normal(4), normal(4), wrt=("x", "w")),
    case(broadcast_bias, normal(5, 3), normal(3), 0.8, wrt=(0, 1, 2)),
    case(reductions_axis, normal(4, 3)),
    case(reductions_3d, normal(2, 3, 4)),
    case(shapes, normal(3, 3), normal(3), wrt=(0, 1)),
    case(subscripts, normal(3, 4), normal(4), wrt=(0, 1)),
    case(elementwise_kinks, normal(6), normal(6), wrt=(0, 1)),
    case(powers, positive(4), normal(4), wrt=(0, 1)),
    case(trig, normal(5)),
    case(logs, positive(5)),
    case(unary_and_tuple, normal(3), normal(3), wrt=(0, 1)),
    case(relu_mse, normal(3, 4), normal(4), normal(8, 3), normal(8, 4), wrt=(0, 1)),
    case(saliency, normal(4), normal(5, 4), normal(3, 5)),
    case(python_float, 1.3, 0.4, wrt=(0, 1)),
    case(matvec_forms, normal(3, 4), normal(3), normal(4), wrt=(0, 1, 2)),
]
