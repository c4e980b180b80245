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


def contraction(x, n):
    h = x
    for i in range(n):
        h = 0.9 * np.sin(h) + 0.1 * x
    return h


@pytest.mark.parametrize("jit", [False, True])
def test_flushing_subnormal_adjoints(jit):
    """The adjoint carried back through 10,000 contracting steps falls through the subnormal
    numbers; flushed, it reaches zero sooner, and the gradient is the same to the last bit
    that matters."""
    plain = ad.grad(contraction, jit=jit)(0.3, 10_000)
    flushed = ad.grad(contraction, jit=jit, flush_subnormals=True)
    assert "flush_subnormal(dh)" in ad.source(flushed)
    assert flushed(0.3, 10_000) == pytest.approx(plain, rel=1e-15)
    h = 1e-6
    fd = (contraction(0.3 + h, 10_000) - contraction(0.3 - h, 10_000)) / (2 * h)
    assert flushed(0.3, 10_000) == pytest.approx(fd, rel=1e-7)


def test_flush_subnormal_values():
    from adcompile.runtime import flush_subnormal

    tiny = np.finfo(np.float64).tiny
    x = np.array([tiny / 4, -tiny / 4, tiny, -2.0, np.inf, np.nan])
    got = flush_subnormal(x)
    np.testing.assert_array_equal(got, [0.0, -0.0, tiny, -2.0, np.inf, np.nan])
    assert np.signbit(got[1])
    assert flush_subnormal(tiny / 8) == 0.0 and flush_subnormal(3.0) == 3.0
    assert np.isnan(flush_subnormal(np.nan))
    small32 = np.array([np.finfo(np.float32).tiny / 2], np.float32)
    assert flush_subnormal(small32)[0] == 0 and flush_subnormal(small32).dtype == np.float32
