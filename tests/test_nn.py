"""adcompile.nn: each differentiable function inside a small loss, differentiated by adcompile
(uncompiled and compiled) and checked against central finite differences and against HIPS
autograd running the same source; forward values and numerical stability; the njit helpers;
initializer variances."""

from __future__ import annotations

import functools
import types

import autograd
import autograd.numpy as anp
import numba
import numpy as np
import pytest

import adcompile as ad
from adcompile import data, nn
from tests.oracles import finite_differences

RNG = np.random.default_rng(0)
Z = RNG.normal(size=(4, 6))
W = RNG.normal(size=(4, 6))
LABELS = np.array([0, 5, 2, 2])
Y = nn.one_hot(LABELS, 6)
MASK = np.where(RNG.random((4, 6)) > 0.25, 1.0, 0.0)
GAMMA = RNG.uniform(0.5, 1.5, 6)
BETA = RNG.normal(size=6)
RUN_MEAN = RNG.normal(size=6)
RUN_VAR = RNG.uniform(0.5, 2.0, 6)
# activations see values on both sides of 0 and exactly 0 is avoided (finite differences
# straddling a kink are meaningless); kinks are tested separately below
X_ACT = np.where(np.abs(Z) < 0.05, 0.3, Z) * 3.0


# ---- small losses, one per function (each weights the output so every entry matters) ----

def l_sigmoid(x, w):
    return np.sum(w * nn.sigmoid(x))


def l_tanh(x, w):
    return np.sum(w * nn.tanh(x))


def l_relu(x, w):
    return np.sum(w * nn.relu(x))


def l_leaky_relu(x, w):
    return np.sum(w * nn.leaky_relu(x, 0.1))


def l_elu(x, w):
    return np.sum(w * nn.elu(x, 1.5))


def l_maxout(x, w):
    return np.sum(w[:, :3] * nn.maxout(x, 2))


def l_logsumexp(x, w):
    return np.sum(w[:, :1] * nn.logsumexp(x))


def l_softmax(x, w):
    return np.sum(w * nn.softmax(x))


def l_log_softmax(x, w):
    return np.sum(w * nn.log_softmax(x))


def l_xent(x, y):
    return nn.softmax_cross_entropy(x, y)


def l_xent_int(x, labels):
    return nn.softmax_cross_entropy_int(x, labels)


def l_mse(x, t):
    return nn.mse(x, t)


def l_hinge(x, labels):
    return nn.hinge(x, labels)


def l_l2(x, w):
    return nn.l2(x) * np.sum(w)


def l_l1(x, w):
    return nn.l1(x) * np.sum(w)


def l_elastic_net(x, w):
    return nn.elastic_net(x, 0.3) * np.sum(w)


def l_dropout(x, mask):
    return np.sum(nn.dropout(x, mask, 0.25) ** 2)


def l_batch_norm(x, gamma, beta, w):
    return np.sum(w * nn.batch_norm(x, gamma, beta))


def l_batch_norm_eval(x, gamma, beta, w, mean, var):
    return np.sum(w * nn.batch_norm_eval(x, gamma, beta, mean, var))


CASES = {  # name -> (loss, args, wrt)
    "sigmoid": (l_sigmoid, (X_ACT, W), 0),
    "tanh": (l_tanh, (X_ACT, W), 0),
    "relu": (l_relu, (X_ACT, W), 0),
    "leaky_relu": (l_leaky_relu, (X_ACT, W), 0),
    "elu": (l_elu, (X_ACT, W), 0),
    "maxout": (l_maxout, (Z, W), 0),
    "logsumexp": (l_logsumexp, (Z, W), 0),
    "softmax": (l_softmax, (Z, W), 0),
    "log_softmax": (l_log_softmax, (Z, W), 0),
    "softmax_cross_entropy": (l_xent, (Z, Y), 0),
    "softmax_cross_entropy_int": (l_xent_int, (Z, LABELS), 0),
    "mse": (l_mse, (Z, W), 0),
    "hinge": (l_hinge, (0.3 * Z, LABELS), 0),
    "l2": (l_l2, (Z, W), 0),
    "l1": (l_l1, (Z, W), 0),
    "elastic_net": (l_elastic_net, (Z, W), 0),
    "dropout": (l_dropout, (Z, MASK), 0),
    "batch_norm": (l_batch_norm, (Z, GAMMA, BETA, W), (0, 1, 2)),
    "batch_norm_eval": (l_batch_norm_eval, (Z, GAMMA, BETA, W, RUN_MEAN, RUN_VAR), (0, 1, 2)),
}
DIFFERENTIABLE = {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "maxout", "logsumexp",
                  "softmax", "log_softmax", "one_hot", "softmax_cross_entropy",
                  "softmax_cross_entropy_int", "mse", "hinge", "l2", "l1", "elastic_net",
                  "dropout", "batch_norm", "batch_norm_eval"}


def test_every_differentiable_function_has_a_case():
    initializers = ("xavier", "glorot", "he_")
    plain = {n for n in nn.__all__ if isinstance(getattr(nn, n), types.FunctionType)
             and getattr(nn, n).__module__ == nn.__name__ and not n.startswith(initializers)}
    assert plain == DIFFERENTIABLE
    assert set(CASES) == DIFFERENTIABLE - {"one_hot"}  # one_hot: through hinge and Y


# ---- oracles ----

def _autograd_nn() -> types.SimpleNamespace:
    """adcompile.nn with `np` bound to autograd.numpy (its functions call each other)."""
    namespace = dict(vars(nn))
    namespace["np"] = anp
    for name, value in vars(nn).items():
        if isinstance(value, types.FunctionType) and value.__module__ == nn.__name__:
            namespace[name] = types.FunctionType(value.__code__, namespace, name,
                                                 value.__defaults__)
    return types.SimpleNamespace(**namespace)


AUTOGRAD_NN = _autograd_nn()


def autograd_grads(fun, args, wrt) -> list:
    namespace = dict(fun.__globals__, np=anp, nn=AUTOGRAD_NN)
    f = types.FunctionType(fun.__code__, namespace, fun.__name__, fun.__defaults__)
    idx = wrt if isinstance(wrt, tuple) else (wrt,)
    return list(autograd.grad(f, idx)(*args))


def as_list(g, wrt) -> list:
    return list(g) if isinstance(wrt, tuple) else [g]


def assert_grads(got, expected, rtol, atol, what):
    assert len(got) == len(expected)
    for i, (a, e) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"{what}: gradient {i}")


@functools.cache
def uncompiled(name):
    fun, _, wrt = CASES[name]
    return ad.grad(fun, wrt=wrt, jit=False)


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_uncompiled(name):
    fun, args, wrt = CASES[name]
    got = as_list(uncompiled(name)(*args), wrt)
    assert_grads(got, finite_differences(fun, list(args), wrt), 1e-5, 1e-7,
                 f"{name} vs finite differences")
    assert_grads(got, autograd_grads(fun, list(args), wrt), 1e-9, 1e-12, f"{name} vs autograd")


# ---- compiled: the functions grouped into a few losses (each Numba compile costs seconds),
# ---- each function on its own input so that every gradient checks one function

def g_activations(x1, x2, x3, x4, x5, w):
    return (np.sum(w * nn.sigmoid(x1)) + np.sum(w * nn.tanh(x2)) + np.sum(w * nn.relu(x3))
            + np.sum(w * nn.leaky_relu(x4, 0.1)) + np.sum(w * nn.elu(x5, 1.5)))


def g_softmax(x1, x2, x3, x4, w):
    return (np.sum(w[:, :3] * nn.maxout(x1, 2)) + np.sum(w[:, :1] * nn.logsumexp(x2))
            + np.sum(w * nn.softmax(x3)) + np.sum(w * nn.log_softmax(x4)))


def g_losses(x1, x2, x3, x4, w, labels, y):
    return (nn.softmax_cross_entropy(x1, y) + nn.softmax_cross_entropy_int(x2, labels)
            + nn.mse(x3, w) + nn.hinge(x4, labels))


def g_regularizers(x1, x2, x3, x4, x5, x6, gamma, beta, w, mask, mean, var):
    s = nn.l2(x1) + nn.l1(x2) + nn.elastic_net(x3, 0.3) + np.sum(nn.dropout(x4, mask, 0.25) ** 2)
    s = s + np.sum(w * nn.batch_norm(x5, gamma, beta))
    return s + np.sum(w * nn.batch_norm_eval(x6, gamma, beta, mean, var))


GROUPS = {  # name -> (loss, args, wrt)
    "activations": (g_activations, (X_ACT, -X_ACT, X_ACT, -X_ACT, X_ACT, W), (0, 1, 2, 3, 4)),
    "softmax": (g_softmax, (Z, -Z, 2.0 * Z, W, W), (0, 1, 2, 3)),
    "losses": (g_losses, (Z, W, 0.5 * Z, 0.3 * W, Z, LABELS, Y), (0, 1, 2, 3)),
    "regularizers": (g_regularizers, (Z, W, -Z, 2.0 * W, 0.5 * Z, -W, GAMMA, BETA, W, MASK,
                                      RUN_MEAN, RUN_VAR),
                     (0, 1, 2, 3, 4, 5, 6, 7)),
}


@functools.cache
def compiled_group(name):
    fun, _, wrt = GROUPS[name]
    return ad.value_and_grad(fun, wrt=wrt)


@pytest.mark.parametrize("name", list(GROUPS))
def test_gradient_compiled(name):
    fun, args, wrt = GROUPS[name]
    value, got = compiled_group(name)(*args)
    assert value == pytest.approx(fun(*args), rel=1e-12)
    assert_grads(list(got), finite_differences(fun, list(args), wrt), 1e-5, 1e-7,
                 f"{name} (compiled) vs finite differences")
    _, uncompiled_grads = ad.value_and_grad(fun, wrt=wrt, jit=False)(*args)
    assert_grads(list(got), list(uncompiled_grads), 1e-12, 1e-14, f"{name}: compiled vs not")


# ---- derivatives at kinks and far out (the conventions the docstrings state) ----

def test_derivatives_at_kinks():
    x = np.array([0.0, 0.0])
    ones = np.ones(2)
    assert list(uncompiled("sigmoid")(x, ones)) == [0.25, 0.25]
    assert list(uncompiled("relu")(x, ones)) == [0.0, 0.0]
    assert list(uncompiled("leaky_relu")(x, ones)) == [0.1, 0.1]
    assert list(uncompiled("elu")(x, ones)) == [1.5, 1.5]


def test_large_inputs_give_finite_values_and_gradients():
    x = np.array([[-1000.0, -40.0, 0.0, 40.0, 710.0, 1000.0]])
    w = np.ones_like(x)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for name in ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softmax",
                     "log_softmax"):
            fun = CASES[name][0]
            assert np.isfinite(fun(x, w)), name
            assert np.all(np.isfinite(uncompiled(name)(x, w))), name
        xent = uncompiled("softmax_cross_entropy_int")(x, np.array([0]))
        assert np.all(np.isfinite(xent))
    np.testing.assert_allclose(xent, nn.softmax(x) - nn.one_hot(np.array([0]), 6))


# ---- forward values ----

def test_sigmoid_values_keep_relative_precision():
    x = np.array([-700.0, -40.0, -1.0, 0.0, 2.0, 40.0, 700.0])
    expected = np.array([np.exp(-700.0), np.exp(-40.0) / (1 + np.exp(-40.0)),
                         1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-2.0)), 1.0, 1.0])
    np.testing.assert_allclose(nn.sigmoid(x), expected, rtol=1e-14)
    assert nn.sigmoid(3.0) == pytest.approx(1 / (1 + np.exp(-3.0)), rel=1e-15)


def test_activation_values():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(nn.relu(x), [0, 0, 0, 0.5, 2])
    np.testing.assert_allclose(nn.leaky_relu(x, 0.1), np.maximum(0.1 * x, x))
    np.testing.assert_allclose(nn.elu(x, 2.0), np.where(x >= 0, x, 2.0 * (np.exp(x) - 1)))
    np.testing.assert_allclose(nn.tanh(x), np.tanh(x))
    z = RNG.normal(size=(3, 8))
    expected = np.array([[z[i, 2 * j:2 * j + 2].max() for j in range(4)] for i in range(3)])
    np.testing.assert_array_equal(nn.maxout(z, 2), expected)
    assert nn.maxout(z, 4).shape == (3, 2)


def test_softmax_family_values():
    z = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]])
    p = nn.softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], np.exp(z[0]) / np.exp(z[0]).sum())
    np.testing.assert_allclose(p[1], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(nn.logsumexp(z), [[np.log(np.exp(z[0]).sum())],
                                                 [1000.0 + np.log(2.0)]])
    np.testing.assert_allclose(nn.log_softmax(z), z - nn.logsumexp(z))
    assert np.isfinite(nn.log_softmax(z)).all()


def test_losses_values():
    xent = -np.mean(np.log(nn.softmax(Z))[np.arange(4), LABELS])
    assert nn.softmax_cross_entropy(Z, Y) == pytest.approx(xent, rel=1e-14)
    assert nn.softmax_cross_entropy_int(Z, LABELS) == pytest.approx(xent, rel=1e-14)
    np.testing.assert_array_equal(nn.one_hot(LABELS, 6), np.eye(6)[LABELS])
    assert nn.mse(Z, W) == pytest.approx(np.mean((Z - W) ** 2))
    hinge = 0.0
    for i, y in enumerate(LABELS):
        hinge += sum(max(0.0, Z[i, j] - Z[i, y] + 1.0) for j in range(6) if j != y)
    assert nn.hinge(Z, LABELS) == pytest.approx(hinge / 4, rel=1e-14)
    assert nn.hinge(Z, LABELS, 0.0) <= nn.hinge(Z, LABELS)


def test_regularizer_values():
    assert nn.l2(Z) == pytest.approx(np.sum(Z ** 2))
    assert nn.l1(Z) == pytest.approx(np.sum(np.abs(Z)))
    assert nn.elastic_net(Z, 0.3) == pytest.approx(0.3 * nn.l1(Z) + 0.7 * nn.l2(Z))
    assert nn.elastic_net(Z, 1.0) == pytest.approx(nn.l1(Z))


# ---- dropout ----

def test_dropout_mask_statistics_and_seed():
    data.seed(3)
    m = nn.dropout_mask((400, 500), 0.3)
    assert m.shape == (400, 500) and m.dtype == np.float64
    assert set(np.unique(m)) == {0.0, 1.0}
    assert abs(m.mean() - 0.7) < 4 * np.sqrt(0.7 * 0.3 / m.size)
    data.seed(3)
    np.testing.assert_array_equal(nn.dropout_mask((400, 500), 0.3), m)
    x = RNG.normal(size=(400, 500))
    out = nn.dropout(x, m, 0.3)
    np.testing.assert_array_equal(out[m == 0.0], 0.0)
    np.testing.assert_allclose(out[m == 1.0], x[m == 1.0] / 0.7)
    # inverted dropout keeps the expectation: E[dropout(1)] = 1
    assert abs(nn.dropout(np.ones_like(m), m, 0.3).mean() - 1.0) < 0.01


@numba.njit
def _masks_in_njit(seed, shape, rate):
    data.seed(seed)
    return nn.dropout_mask(shape, rate), nn.dropout_mask(shape, rate)


def test_dropout_mask_inside_njit():
    a, b = _masks_in_njit(7, (50, 40), 0.5)
    assert a.shape == (50, 40) and not np.array_equal(a, b)
    a2, _ = _masks_in_njit(7, (50, 40), 0.5)
    np.testing.assert_array_equal(a, a2)


# ---- batch normalization ----

def test_batch_norm_normalizes_each_feature():
    x = 3.0 + 2.0 * RNG.normal(size=(64, 5))
    out = nn.batch_norm(x, np.ones(5), np.zeros(5))
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=1e-3)  # eps=1e-5 shrinks it a bit
    gamma, beta = RNG.uniform(1, 2, 5), RNG.normal(size=5)
    np.testing.assert_allclose(nn.batch_norm(x, gamma, beta), gamma * out + beta)
    # evaluation mode with the batch's own (biased) statistics gives the training output
    np.testing.assert_allclose(
        nn.batch_norm_eval(x, gamma, beta, x.mean(axis=0), x.var(axis=0)),
        nn.batch_norm(x, gamma, beta), rtol=1e-12)


def test_batch_norm_update():
    x = RNG.normal(size=(16, 3))
    mean, var = RNG.normal(size=3), RNG.uniform(0.5, 1.5, 3)
    expected_mean = 0.8 * mean + 0.2 * x.mean(axis=0)
    expected_var = 0.8 * var + 0.2 * x.var(axis=0, ddof=1)
    nn.batch_norm_update(mean, var, x, 0.8)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-14)
    np.testing.assert_allclose(var, expected_var, rtol=1e-14)
    # repeated updates on the same batch converge to its statistics
    for _ in range(200):
        nn.batch_norm_update(mean, var, x)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(var, x.var(axis=0, ddof=1), rtol=1e-6)


# ---- initializers ----

@pytest.mark.parametrize("init, fan_in, fan_out, variance, uniform", [
    (nn.xavier_uniform, 300, 500, 2.0 / 800, True),
    (nn.xavier_normal, 300, 500, 2.0 / 800, False),
    (nn.he_uniform, 400, 300, 2.0 / 400, True),
    (nn.he_normal, 400, 300, 2.0 / 400, False),
])
def test_initializer_variance(init, fan_in, fan_out, variance, uniform):
    w = init(fan_in, fan_out, 0)
    assert w.shape == (fan_in, fan_out) and w.dtype == np.float64
    n = w.size
    # the sample variance of n draws has relative standard error about sqrt(2 / n) (normal)
    # or sqrt(0.8 / n) (uniform): allow 5 of them
    assert abs(w.var() / variance - 1.0) < 5 * np.sqrt(2.0 / n)
    assert abs(w.mean()) < 5 * np.sqrt(variance / n)
    if uniform:
        bound = np.sqrt(3.0 * variance)
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    else:  # a normal's kurtosis is 3 (a uniform's 1.8)
        assert abs(np.mean(w ** 4) / w.var() ** 2 - 3.0) < 0.1
    np.testing.assert_array_equal(init(fan_in, fan_out, 0), w)
    np.testing.assert_array_equal(init(fan_in, fan_out, np.random.default_rng(0)), w)
    assert not np.array_equal(init(fan_in, fan_out, 1), w)


def test_glorot_aliases():
    assert nn.glorot_uniform is nn.xavier_uniform and nn.glorot_normal is nn.xavier_normal
