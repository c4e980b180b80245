"""Numerics: NaN and inf propagate through derivatives instead of crashing, and the
conventions at kinks are the documented ones, compiled and uncompiled."""

import numpy as np
import pytest

import adcompile as ad


def logs(x):
    return np.sum(np.log(x) * 2.0)


def relu_sum(x):
    return np.sum(np.maximum(x, 0.0))


def abs_sum(x):
    return np.sum(np.abs(x))


def row_max(A):
    return np.sum(np.max(A, axis=1))


@pytest.mark.parametrize("jit", [False, True])
def test_nan_and_inf_propagate(jit):
    g = ad.grad(logs, jit=jit)
    with np.errstate(divide="ignore", invalid="ignore"):
        got = g(np.array([0.0, np.nan, 1.0, np.inf]))
    assert np.isinf(got[0]) and np.isnan(got[1])
    assert got[2] == 2.0 and got[3] == 0.0


@pytest.mark.parametrize("jit", [False, True])
def test_kink_conventions(jit):
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(ad.grad(relu_sum, jit=jit)(x), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(ad.grad(abs_sum, jit=jit)(x), [-1.0, 0.0, 1.0])
    A = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]])
    np.testing.assert_array_equal(ad.grad(row_max, jit=jit)(A),
                                  [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
