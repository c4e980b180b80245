"""Functions that fail when their derivative is called (tests/test_call_errors.py). Each line
expected in a message carries a comment `# fails: <name>`."""

import ast

import numba
import numpy as np

import adcompile as ad
from adcompile.rules import call


def shapes(a, b):
    c = a * 2.0
    return np.sum(c @ b)  # fails: matmul


def reshaped(x):
    y = np.reshape(x, (2, 2))  # fails: reshape
    return np.sum(y * y)


def indexed(x, start):
    s = 0.0
    for i in range(3):
        s = s + x[start + i] * 2.0  # fails: index
    return s


def divided(x):
    y = x * 3.0
    return y / x  # fails: divide


@numba.njit
def halve(x):
    """A test-only primitive, with a derivative rule Numba cannot compile."""
    return x * 0.5


@ad.defvjp(halve)
def _halve_vjp(x, out, dout):
    return np.fix(dout * 0.5)  # np.fix: plain NumPy runs it, Numba has no implementation


def uses_halve(x):
    y = np.sin(x)
    z = halve(y)  # fails: rule
    return np.sum(z)


def lowered(x):
    y = np.tanh(x * 2.0)  # fails: lowering
    return np.sum(y * y)


def as_vector(x):
    """A test-only primitive, written in generated code as a runtime helper's call that Numba
    has no implementation of for a scalar (`reshape` takes arrays)."""
    return np.reshape(x, (1,))


@ad.defvjp(as_vector, primal=lambda x: call("reshape", x, ast.parse("(1,)", mode="eval").body))
def _as_vector_vjp(x, out, dout):
    return np.sum(dout)


def uses_helper(x):
    v = as_vector(x * 2.0)  # fails: helper
    return np.sum(v * v)
