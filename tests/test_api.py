"""The public API: decorator forms, wrt forms, jit=False, value_and_grad, and calling a
derivative from inside a user's @numba.njit training loop."""

import numba
import numpy as np
import pytest

import adcompile as ad
from tests.oracles import finite_differences


def loss(W1, b1, W2, b2, X, Y):
    H = np.tanh(X @ W1 + b1)
    P = H @ W2 + b2
    return np.mean((P - Y) ** 2)


def data(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    shapes = [(2, 16), (16,), (16, 2), (2,), (32, 2), (32, 2)]
    return [(0.5 * rng.standard_normal(s)).astype(dtype) for s in shapes]


VG = ad.value_and_grad(loss, wrt=(0, 1, 2, 3))


@ad.grad
def plain(x):
    return np.sum(np.sin(x))


@ad.grad(wrt="y")
def by_name(x, y):
    return np.sum(x * y ** 2)


def test_decorator_forms():
    x = np.linspace(0.0, 1.0, 5)
    np.testing.assert_allclose(plain(x), np.cos(x))
    np.testing.assert_allclose(by_name(x, x), 2 * x * x)
    g = ad.grad(lambda_free_loss, wrt=1)
    np.testing.assert_allclose(g(2.0, 3.0), 2.0)


def lambda_free_loss(a, b):
    return a * b


def test_wrt_single_and_tuple():
    args = data()
    single = ad.grad(loss, wrt="W2")(*args)
    assert single.shape == args[2].shape
    both = ad.grad(loss, wrt=(2, "b1"))(*args)
    assert isinstance(both, tuple) and len(both) == 2
    np.testing.assert_allclose(both[0], single)
    np.testing.assert_allclose(both[1], finite_differences(loss, args, 1)[0], rtol=1e-5,
                               atol=1e-7)


def test_value_and_grad_matches_grad_and_value():
    args = data()
    value, grads = VG(*args)
    assert value == pytest.approx(loss(*args), rel=1e-12)
    for g, fd in zip(grads, finite_differences(loss, args, (0, 1, 2, 3))):
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-7)


def test_jit_false_gives_the_same_numbers_and_code():
    args = data()
    slow = ad.value_and_grad(loss, wrt=(0, 1, 2, 3), jit=False)
    assert ad.source(slow) == ad.source(VG)
    v1, g1 = slow(*args)
    v2, g2 = VG(*args)
    assert v1 == pytest.approx(v2, rel=1e-12)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_float32_stays_float32():
    args = data(dtype=np.float32)
    value, grads = VG(*args)
    assert isinstance(value, float) and all(g.dtype == np.float32 for g in grads)
    ref = ad.value_and_grad(loss, wrt=(0, 1, 2, 3))(*[a.astype(np.float64) for a in args])
    for g, r in zip(grads, ref[1]):
        np.testing.assert_allclose(g, r, rtol=1e-3, atol=1e-5)


@numba.njit
def train(W1, b1, W2, b2, X, Y, steps, lr):
    losses = np.empty(steps)
    for k in range(steps):
        value, grads = VG(W1, b1, W2, b2, X, Y)
        dW1, db1, dW2, db2 = grads
        W1 -= lr * dW1
        b1 -= lr * db1
        W2 -= lr * dW2
        b2 -= lr * db2
        losses[k] = value
    return losses


def test_training_loop_inside_njit():
    args = data()
    reference = [a.copy() for a in args]
    losses = train(*args, 50, 0.1)
    assert losses[-1] < 0.5 * losses[0]
    # the same steps from Python, uncompiled, give the same numbers
    slow = ad.value_and_grad(loss, wrt=(0, 1, 2, 3), jit=False)
    W1, b1, W2, b2, X, Y = reference
    for k in range(50):
        value, (dW1, db1, dW2, db2) = slow(W1, b1, W2, b2, X, Y)
        assert value == pytest.approx(losses[k], rel=1e-9)
        W1, b1, W2, b2 = W1 - 0.1 * dW1, b1 - 0.1 * db1, W2 - 0.1 * dW2, b2 - 0.1 * db2
    np.testing.assert_allclose(W1, args[0], rtol=1e-9)


def test_derivative_passed_as_an_argument_to_njit():
    @numba.njit
    def step(vg, x):
        return vg(x)

    g = ad.grad(plain_loss)
    np.testing.assert_allclose(step(g, np.arange(3.0)), 2 * np.arange(3.0))


def plain_loss(x):
    return np.sum(x * x)


def test_python_float_arguments_give_floats():
    def f(a, b):
        return a * b + a ** 3

    da, db = ad.grad(f, wrt=(0, 1))(2.0, 5.0)
    assert isinstance(da, float) and isinstance(db, float)
    assert (da, db) == (17.0, 2.0)


def test_source_requires_an_adcompile_function():
    with pytest.raises(TypeError):
        ad.source(loss)


def test_gradients_never_share_memory():
    def f(x, y):
        return np.sum(x + y)

    dx, dy = ad.grad(f, wrt=(0, 1))(np.ones(3), np.ones(3))
    dx *= 5.0
    np.testing.assert_array_equal(dy, np.ones(3))
