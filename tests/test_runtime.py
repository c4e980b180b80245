"""Tests of adcompile.runtime: every helper against a NumPy reference, both as plain Python
and inside @numba.njit; the adjoint helpers also against the transposition identity
<adjoint(g), u> == <g, forward(u)> (linear maps) or central finite differences (max/min)."""

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numba
import numpy as np
import pytest
from numba.core import types
from numba.core.errors import NumbaPerformanceWarning, TypingError

from adcompile.runtime import (
    as_gradient,
    like,
    matmul_adjoint_x,
    matmul_adjoint_y,
    maxmin_adjoint,
    mean_adjoint,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_sum,
    reshape,
    reshape_like,
    scalar_seed,
    sum_adjoint,
    unbroadcast,
    zeros_like,
)

F32, F64 = np.float32, np.float64
RNG = np.random.default_rng(1234)


# ---------------------------------------------------------------- njit wrappers


@numba.njit
def nb_like(c, x):
    return like(c, x)


@numba.njit
def nb_zeros_like(x):
    return zeros_like(x)


@numba.njit
def nb_scalar_seed(out):
    return scalar_seed(out)


@numba.njit
def nb_unbroadcast(g, x):
    return unbroadcast(g, x)


@numba.njit
def nb_as_gradient(g, x):
    return as_gradient(g, x)


# Two reductions per wrapper: Numba compiles every (reduction, keepdims, type) separately,
# and compile time dominates this file. Together they cover all four and both keepdims.
@numba.njit
def nb_sum_max(x, axis):
    return reduce_sum(x, axis, False), reduce_max(x, axis, True)


@numba.njit
def nb_mean_min(x, axis):
    return reduce_mean(x, axis, True), reduce_min(x, axis, False)


@numba.njit
def nb_reductions_literal_axis(x):
    return reduce_sum(x, -1, False), reduce_mean(x, 0, True), reduce_max(x, -2, True)


@numba.njit
def nb_reduce_sum_keepdims_var(x, keep):
    return reduce_sum(x, 0, keep)


@numba.njit
def nb_sum_mean_adjoint(g, x, axis, keepdims):
    return sum_adjoint(g, x, axis, keepdims), mean_adjoint(g, x, axis, keepdims)


@numba.njit
def nb_maxmin_adjoint(g, x, out, axis, keepdims):
    return maxmin_adjoint(g, x, out, axis, keepdims)


@numba.njit
def nb_reshape(x, shape):
    return reshape(x, shape)


@numba.njit
def nb_reshape_like(g, x):
    return reshape_like(g, x)


@numba.njit
def nb_matmul_adjoints(g, x, y):
    return matmul_adjoint_x(g, x, y), matmul_adjoint_y(g, x, y)


# ---------------------------------------------------------------- helpers


def make(shape, dtype=F64, layout="C"):
    """A random array of `shape`: C-contiguous, Fortran ("F", a transpose), or a
    non-contiguous strided view ("S": every other element of the last axis)."""
    def rand(s):
        return RNG.standard_normal(s).astype(dtype)
    if layout == "C":
        a = rand(shape)
    elif layout == "F":
        a = rand(shape[::-1]).T
    else:
        a = rand(shape[:-1] + (2 * shape[-1],))[..., ::2]
    assert a.shape == tuple(shape)
    assert layout == "C" or not a.flags.c_contiguous
    return a


def rand_like(v, dtype):
    """Random values shaped like v (a scalar if v is a scalar)."""
    if np.ndim(v) == 0:
        return dtype(RNG.standard_normal())
    return RNG.standard_normal(np.shape(v)).astype(dtype)


def inner(a, b):
    return float(np.sum(np.asarray(a, F64) * np.asarray(b, F64)))


def assert_transposed(adj, u, g, forward_u, dtype):
    """<adj, u> == <g, forward_u>: adj is the adjoint of the linear map `forward` applied
    to g, up to dtype's rounding (measured against the size of the terms)."""
    def norm(v):
        return float(np.linalg.norm(np.ravel(v).astype(F64)))
    scale = norm(adj) * norm(u) + norm(g) * norm(forward_u)
    eps = 1e-5 if dtype == F32 else 1e-12
    assert abs(inner(adj, u) - inner(g, forward_u)) <= eps * scale


def tol(dtype):
    return {"rtol": 1e-5, "atol": 1e-5} if dtype == F32 else {"rtol": 1e-12, "atol": 1e-12}


def nb_return_types(fn, *args):
    """The Numba return type(s) of the njit wrapper fn for args: scalars come back from
    Numba as Python floats, so their float32-ness is only visible in the signature."""
    key = tuple(numba.typeof(a) for a in args)
    ret = fn.overloads[key].signature.return_type
    return list(ret) if isinstance(ret, types.BaseTuple) else [ret]


def nb_dtype(t):
    return np.dtype(str(t.dtype if isinstance(t, types.Array) else t))


def check(actual, expected, nb_type=None):
    """actual matches the NumPy result expected in shape, dtype and value; with a Numba
    return type, the dtype is checked on it (and the array-vs-scalar kind too)."""
    expected_dtype = np.asarray(expected).dtype
    assert np.shape(actual) == np.shape(expected)
    if nb_type is None:
        assert np.asarray(actual).dtype == expected_dtype
        assert isinstance(actual, np.ndarray) == isinstance(expected, np.ndarray)
    else:
        assert nb_dtype(nb_type) == expected_dtype
        assert isinstance(nb_type, types.Array) == isinstance(expected, np.ndarray)
    np.testing.assert_allclose(actual, expected, **tol(expected_dtype))


# ---------------------------------------------------------------- like, zeros_like


@pytest.mark.parametrize("x, dtype", [
    (np.ones(3, F32), F32), (F32(1.0), F32), (np.ones((2, 2)), F64), (1.5, F64),
    (np.ones(3, np.int64), F64), (3, F64), (np.ones((2, 3), F32).T, F32),
])
def test_like(x, dtype):
    for got, typ in [(like(2.5, x), None), (nb_like(2.5, x), nb_return_types(nb_like, 2.5, x)[0])]:
        assert got == 2.5 and np.ndim(got) == 0
        assert (nb_dtype(typ) if typ is not None else np.asarray(got).dtype) == dtype


def test_like_keeps_float32_arithmetic_in_float32():
    @numba.njit
    def scale(x):
        return x * like(2.0, x)

    x = make((3, 4), F32)
    assert scale(x).dtype == F32 and (x * like(2.0, x)).dtype == F32
    np.testing.assert_allclose(scale(x), 2 * x)


@pytest.mark.parametrize("x", [
    np.ones((2, 3), F32), make((3, 4), F64, "F"), make((4,), F32, "S"), np.arange(4),
    F32(2.0), 2.0, 3,
])
def test_zeros_like(x):
    dtype = F32 if getattr(x, "dtype", None) == F32 else F64  # int arrays get float zeros
    expected = np.zeros(x.shape, dtype) if isinstance(x, np.ndarray) else dtype(0.0)
    check(zeros_like(x), expected)
    check(nb_zeros_like(x), expected, nb_return_types(nb_zeros_like, x)[0])


def test_zeros_like_of_python_float_is_python_float():
    assert type(zeros_like(2.0)) is float and zeros_like(2.0) == 0.0


# ---------------------------------------------------------------- scalar_seed


@pytest.mark.parametrize("out, dtype", [
    (2.0, F64), (F32(2.0), F32), (F64(2.0), F64), (3, F64),
])
def test_scalar_seed(out, dtype):
    check(scalar_seed(out), dtype(1.0))
    check(nb_scalar_seed(out), dtype(1.0), nb_return_types(nb_scalar_seed, out)[0])


def test_scalar_seed_zero_dim_array_is_a_scalar_in_python():
    check(scalar_seed(np.array(2.0, F32)), F32(1.0))


@pytest.mark.parametrize("out", [np.ones(3), np.ones((2, 2), F32).T])
def test_scalar_seed_rejects_arrays(out):
    start = "adcompile: the differentiated function must return a scalar, but it returned an array"
    with pytest.raises(TypeError) as info:
        scalar_seed(out)
    message = str(info.value)
    assert message.startswith(start)
    assert f"ndim {out.ndim}" in message and "np.sum(...)" in message
    with pytest.raises(TypingError) as info:
        nb_scalar_seed(out)
    assert start in str(info.value) and "np.mean(...)" in str(info.value)


# ---------------------------------------------------------------- unbroadcast

UNBROADCAST_CASES = [
    ((4, 3), (3,)),        # bias: (B, n) -> (n,)
    ((4, 3), (1,)),        # bias path's generic fallback
    ((4, 3), (1, 3)),
    ((4, 3), (4, 1)),
    ((4, 3), (1, 1)),
    ((2, 4, 3), (4, 1)),
    ((2, 4, 3), (2, 1, 3)),
    ((2, 4, 3), (3,)),
    ((4, 3), ()),          # x a scalar
    ((5,), (1,)),
]


@pytest.mark.parametrize("g_shape, x_shape", UNBROADCAST_CASES)
def test_unbroadcast(g_shape, x_shape):
    # alternate float64 C-contiguous and float32 transposed adjoints (compile time)
    dtype, layout = [(F64, "C"), (F32, "F")][UNBROADCAST_CASES.index((g_shape, x_shape)) % 2]
    layout = "S" if layout == "F" and len(g_shape) == 1 else layout
    g = make(g_shape, dtype, layout)
    x = np.ones(x_shape, dtype) if x_shape else dtype(1.0)
    lead = len(g_shape) - len(x_shape)
    axes = tuple(range(lead)) + tuple(
        lead + d for d, n in enumerate(x_shape) if n == 1 and g_shape[lead + d] != 1)
    expected = g.sum(axis=axes, keepdims=True).reshape(x_shape)
    expected = expected if x_shape else expected[()]
    check(unbroadcast(g, x), expected)
    got = nb_unbroadcast(g, x)
    check(got, expected, nb_return_types(nb_unbroadcast, g, x)[0])
    # transposition: unbroadcast is the adjoint of broadcasting u (x's shape) to g's shape
    u = rand_like(x, F64)
    for result in (unbroadcast(g, x), got):
        assert_transposed(result, u, g, np.broadcast_to(u, g_shape), dtype)


@pytest.mark.parametrize("g", [make((4, 3), F32), make((4, 3), F64, "F"), make((2, 3, 4))])
def test_unbroadcast_returns_g_itself_when_shapes_match(g):
    x = np.ones(g.shape, g.dtype)
    assert unbroadcast(g, x) is g
    got = nb_unbroadcast(g, x)  # a new Python object under Numba, but the same memory
    assert got.shape == g.shape and np.shares_memory(got, g)
    np.testing.assert_array_equal(got, g)


def test_unbroadcast_scalar_adjoints():
    x = np.ones((2, 3), F32)
    for got in (unbroadcast(2.0, x), nb_unbroadcast(2.0, x)):
        check(got, np.full((2, 3), 2.0, F32))
    check(unbroadcast(F32(2.0), 1.0), F32(2.0))
    assert nb_unbroadcast(F32(2.0), 1.0) == 2.0
    assert nb_return_types(nb_unbroadcast, F32(2.0), 1.0)[0] == types.float32


def test_unbroadcast_rejects_incompatible_shapes():
    g = np.ones((4, 3))
    with pytest.raises(ValueError):
        unbroadcast(g, np.ones(2))
    with pytest.raises(ValueError):
        nb_unbroadcast(g, np.ones(2))
    with pytest.raises(ValueError):
        nb_unbroadcast(g, np.ones((2, 3)))


# ---------------------------------------------------------------- as_gradient


def test_as_gradient_scalars():
    assert type(as_gradient(F64(2.5), 1.0)) is float and as_gradient(F64(2.5), 1.0) == 2.5
    check(as_gradient(2.5, F32(1.0)), F32(2.5))
    check(as_gradient(np.array([2.5]), F32(1.0)), F32(2.5))
    check(nb_as_gradient(2.5, F32(1.0)), F32(2.5), nb_return_types(nb_as_gradient, 2.5, F32(1.0))[0])
    check(nb_as_gradient(np.array([2.5]), 1.0), F64(2.5),
          nb_return_types(nb_as_gradient, np.array([2.5]), 1.0)[0])


@pytest.mark.parametrize("x", [make((3, 4), F32), make((5,), F64, "S")])
def test_as_gradient_arrays(x):
    same = np.ones(x.shape, x.dtype)
    assert as_gradient(same, x) is same
    got = nb_as_gradient(same, x)
    assert np.shares_memory(got, same) and got.dtype == x.dtype
    for g, expected in [
        (0.0, np.zeros(x.shape, x.dtype)),                        # the "zero gradient" constant
        (2.0, np.full(x.shape, 2.0, x.dtype)),
        (np.arange(x.size, dtype=F64), np.arange(x.size).reshape(x.shape).astype(x.dtype)),
        (np.ones(x.shape[::-1], x.dtype).T, np.ones(x.shape, x.dtype)),  # non-contiguous g
    ]:
        check(as_gradient(g, x), expected)
        check(nb_as_gradient(g, x), expected, nb_return_types(nb_as_gradient, g, x)[0])


@pytest.mark.parametrize("x, dtype, hint", [
    (np.arange(3), "int64", "x.astype(np.float64)"),
    (np.ones((2, 2), np.int32).T, "int32", "x.astype(np.float64)"),
    (np.array([True, False]), "bool", "x.astype(np.float64)"),
    (3, "int64", "float(x)"),
    (True, "bool", "float(x)"),
])
def test_as_gradient_rejects_integer_arguments(x, dtype, hint):
    with pytest.raises(TypeError) as info:
        as_gradient(0.0, x)
    message = str(info.value)
    assert message.startswith("adcompile: cannot differentiate with respect to")
    assert f"(dtype {dtype}); pass floats, e.g. {hint}" in message
    with pytest.raises(TypingError) as info:
        nb_as_gradient(0.0, x)
    assert message in str(info.value)


def test_as_gradient_integer_message_text():
    with pytest.raises(TypeError, match=r"^adcompile: cannot differentiate with respect to an "
                       r"integer argument \(dtype int64\); pass floats, e\.g\. "
                       r"x\.astype\(np\.float64\)$"):
        as_gradient(0.0, np.arange(3, dtype=np.int64))


# ---------------------------------------------------------------- reductions

# (shape, dtype, layout, njit wrappers): both wrappers on one type; one each on the
# layouts that pick other kernels (F, strided, 3-D) or return scalars (1-D).
REDUCTION_CASES = [
    ((4, 5), F32, "C", ("sum_max", "mean_min")),
    ((2, 3, 4), F64, "S", ("sum_max",)),
    ((4, 5), F64, "F", ("mean_min",)),
    ((4, 5), F32, "S", ("sum_max",)),
    ((7,), F32, "S", ("mean_min",)),
]
NUMPY_REDUCTIONS = [np.sum, np.mean, np.max, np.min]
RUNTIME_REDUCTIONS = [reduce_sum, reduce_mean, reduce_max, reduce_min]


def _check_nb_reductions(wrapper, x, axis):
    """The njit wrapper named `wrapper` against NumPy."""
    if wrapper == "sum_max":
        nb, expected = nb_sum_max, [np.sum(x, axis=axis), np.max(x, axis=axis, keepdims=True)]
    else:
        nb, expected = nb_mean_min, [np.mean(x, axis=axis, keepdims=True), np.min(x, axis=axis)]
    got, nb_types = nb(x, axis), nb_return_types(nb, x, axis)
    for c, t, e in zip(got, nb_types, expected, strict=True):
        check(c, e, t)


@pytest.mark.parametrize("shape, dtype, layout, wrappers", REDUCTION_CASES)
def test_reductions(shape, dtype, layout, wrappers):
    x = make(shape, dtype, layout)
    for axis in [None, *range(-x.ndim, x.ndim)]:
        for keep in (False, True):
            for fn, ref in zip(RUNTIME_REDUCTIONS, NUMPY_REDUCTIONS, strict=True):
                check(fn(x, axis, keep), ref(x, axis=axis, keepdims=keep))
        if axis is None and len(wrappers) == 1:
            continue  # whole-array reductions do not depend on the layout
        for wrapper in wrappers:
            _check_nb_reductions(wrapper, x, axis)


def test_reductions_with_literal_axes():
    x = make((2, 3, 4), F64, "S")
    expected = (x.sum(-1), x.mean(0, keepdims=True), x.max(-2, keepdims=True))
    got = nb_reductions_literal_axis(x)
    for g, t, e in zip(got, nb_return_types(nb_reductions_literal_axis, x), expected,
                       strict=True):
        check(g, e, t)


def test_reductions_of_integer_arrays():
    x = np.arange(12, dtype=np.int32).reshape(3, 4)  # sums accumulate in int64, like NumPy
    for axis in (0, 1):
        _check_nb_reductions("sum_max", x, axis)
    check(reduce_mean(x, 0, True), np.mean(x, axis=0, keepdims=True))


def test_reductions_propagate_nan_and_reject_bad_input():
    x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], F32)
    np.testing.assert_array_equal(nb_sum_max(x, 1)[1], np.max(x, axis=1, keepdims=True))
    np.testing.assert_array_equal(nb_mean_min(x, 1)[1], np.min(x, axis=1))
    assert np.isnan(nb_sum_max(x, None)[1]).all() and np.isnan(nb_mean_min(x, None)[1])
    with pytest.raises(ValueError):
        nb_sum_max(x, 2)
    with pytest.raises(ValueError):
        nb_sum_max(np.ones((0, 3), F32), 0)  # max over an empty axis has no identity
    with pytest.raises(TypingError, match="adcompile: keepdims must be a literal True or False"):
        nb_reduce_sum_keepdims_var(x, True)


# ---------------------------------------------------------------- reduction adjoints

# (shape, dtype, layout, axes): axis None is shape-independent, so only tested in 2-D
ADJOINT_CASES = [((4, 5), F32, "C", (None, 0, -1)), ((2, 3, 4), F64, "S", (1, -1))]


def _reduced_reference(g, x, axis):
    """g re-expanded to x's shape: the NumPy reference for sum_adjoint."""
    g = np.asarray(g)
    if axis is not None and g.ndim == x.ndim - 1:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, x.shape)


@pytest.mark.parametrize("shape, dtype, layout, axes", ADJOINT_CASES)
def test_sum_and_mean_adjoints(shape, dtype, layout, axes):
    x = make(shape, dtype, layout)
    u = make(shape, F64)
    for axis in axes:
        for keep in (False, True):
            out = np.sum(x, axis=axis, keepdims=keep)
            g = rand_like(out, dtype)
            count = x.size // np.size(out)
            expected_sum = _reduced_reference(g, x, axis).astype(dtype)
            expected_mean = (_reduced_reference(g, x, axis) / dtype(count)).astype(dtype)
            nb = nb_sum_mean_adjoint(g, x, axis, keep)
            nb_types = nb_return_types(nb_sum_mean_adjoint, g, x, axis, keep)
            for ds, dm, ts, tm in [(sum_adjoint(g, x, axis, keep), mean_adjoint(g, x, axis, keep),
                                    None, None), (*nb, *nb_types)]:
                check(ds, expected_sum, ts)
                check(dm, expected_mean, tm)
                # transposition: <adjoint(g), u> == <g, reduction(u)>
                assert_transposed(ds, u, g, np.sum(u, axis=axis, keepdims=keep), dtype)
                assert_transposed(dm, u, g, np.mean(u, axis=axis, keepdims=keep), dtype)


def test_sum_adjoint_of_scalar_and_scalar_zero_adjoint():
    check(sum_adjoint(F32(2.0), F32(3.0), None, False), F32(2.0))
    assert nb_sum_mean_adjoint(2.0, 3.0, None, False) == (2.0, 2.0)
    v = make((4,), F64, "S")  # a 1-D reduction along axis 0 has a scalar adjoint
    for ds, dm in [(sum_adjoint(2.0, v, 0, False), mean_adjoint(2.0, v, 0, False)),
                   nb_sum_mean_adjoint(2.0, v, 0, False)]:
        check(ds, np.full(4, 2.0))
        check(dm, np.full(4, 0.5))
    x = np.ones((2, 3), F32)
    for zero in (0.0, 0):  # a zero adjoint constant, float or int
        for ds, dm in [(sum_adjoint(zero, x, 1, False), mean_adjoint(zero, x, 1, False)),
                       nb_sum_mean_adjoint(zero, x, 1, False)]:
            check(ds, np.zeros((2, 3), F32))
            check(dm, np.zeros((2, 3), F32))


def _maxmin_fd(reduction, g, x, axis, keep, u, eps=1e-6):
    """<g, d/dt reduction(x + t u)> at t=0, by central differences (exact for max/min
    away from ties: they are piecewise linear)."""
    x = x.astype(F64)
    plus = reduction(x + eps * u, axis=axis, keepdims=keep)
    minus = reduction(x - eps * u, axis=axis, keepdims=keep)
    return inner(g, (plus - minus) / (2 * eps))


@pytest.mark.parametrize("shape, dtype, layout, axes", ADJOINT_CASES)
def test_maxmin_adjoint_against_finite_differences(shape, dtype, layout, axes):
    x = make(shape, dtype, layout)
    u = make(shape, F64)
    for reduction in (np.max, np.min):
        for axis in axes:
            for keep in (False, True):
                out = reduction(x, axis=axis, keepdims=keep)
                g = rand_like(out, dtype)
                fd = _maxmin_fd(reduction, g, x, axis, keep, u)
                nb = nb_maxmin_adjoint(g, x, out, axis, keep)
                t = nb_return_types(nb_maxmin_adjoint, g, x, out, axis, keep)[0]
                for got, typ in [(maxmin_adjoint(g, x, out, axis, keep), None), (nb, t)]:
                    assert got.shape == x.shape
                    assert (nb_dtype(typ) if typ is not None else got.dtype) == dtype
                    assert inner(got, u) == pytest.approx(fd, rel=1e-5, abs=1e-6)


def test_maxmin_adjoint_splits_ties_evenly():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], F32)
    g = np.array([6.0, 3.0], F32)
    expected_rows = np.array([[0.0, 3.0, 3.0], [1.0, 1.0, 1.0]], F32)
    for axis, keep, gg, want in [
        (1, False, g, expected_rows),
        (-1, True, g[:, None], expected_rows),
        (0, False, np.array([1.0, 2.0, 4.0], F32),
         np.array([[0.0, 2.0, 4.0], [1.0, 0.0, 0.0]], F32)),
        (None, False, F32(6.0), np.array([[0, 3, 3], [0, 0, 0]], F32)),
    ]:
        out = np.max(x, axis=axis, keepdims=keep)
        check(maxmin_adjoint(gg, x, out, axis, keep), want)
        check(nb_maxmin_adjoint(gg, x, out, axis, keep), want)
    out = np.min(x, axis=None, keepdims=True)  # a min: the single 1.0
    want = np.array([[2.0, 0, 0], [0, 0, 0]], F32)
    check(maxmin_adjoint(np.full((1, 1), 2.0, F32), x, out, None, True), want)
    check(nb_maxmin_adjoint(np.full((1, 1), 2.0, F32), x, out, None, True), want)


# ---------------------------------------------------------------- reshape, reshape_like


@pytest.mark.parametrize("x", [make((3, 4), F32), make((4, 3), F64, "F"), make((2, 3, 4), F64, "S")])
def test_reshape(x):
    for shape in [(-1,), (2, -1), (x.shape[-1], -1)]:
        expected = np.reshape(x.copy(), shape)
        check(reshape(x, shape), expected)
        check(nb_reshape(x, shape), expected, nb_return_types(nb_reshape, x, shape)[0])
    check(nb_reshape(x, x.size), x.copy().reshape(-1))


def test_reshape_of_contiguous_array_is_a_view():
    x = make((3, 4), F64)
    assert np.shares_memory(nb_reshape(x, (4, 3)), x)
    assert np.shares_memory(reshape(x, (4, 3)), x)


def test_reshape_like():
    x = make((3, 4), F32)
    g = make((4, 3), F32, "F")  # non-contiguous, 12 elements
    check(reshape_like(g, x), g.copy().reshape(3, 4))
    check(nb_reshape_like(g, x), g.copy().reshape(3, 4))
    check(reshape_like(g.T, x.T), g.T.copy().reshape(4, 3))
    check(nb_reshape_like(g.T, x.T), g.T.copy().reshape(4, 3))
    check(reshape_like(np.array([[2.5]], F32), 1.0), F32(2.5))
    assert nb_reshape_like(np.array([[2.5]], F32), 1.0) == 2.5
    assert nb_return_types(nb_reshape_like, np.array([[2.5]], F32), 1.0)[0] == types.float32
    check(reshape_like(0.0, x), np.zeros((3, 4), F32))
    check(nb_reshape_like(0.0, x), np.zeros((3, 4), F32))


# ---------------------------------------------------------------- matmul adjoints

MATMUL_CASES = [  # (x, y) operand factories: shapes, dtypes and layouts
    ("2d@2d C", lambda: (make((5, 4)), make((4, 3)))),
    ("2d@2d F/strided f32", lambda: (make((5, 4), F32, "F"), make((4, 3), F32, "S"))),
    ("1d@2d", lambda: (make((4, 5))[:, 1], make((4, 3), F64, "F"))),
    ("2d@1d f32", lambda: (make((5, 4), F32, "F"), make((4,), F32))),
    ("1d@1d", lambda: (make((4,), F64, "S"), make((4, 3))[:, 0])),
]


@pytest.mark.parametrize("name, operands", MATMUL_CASES, ids=[c[0] for c in MATMUL_CASES])
def test_matmul_adjoints(name, operands):
    x, y = operands()
    dtype = x.dtype.type
    g = rand_like(x @ y, dtype)
    if x.ndim == 2 and y.ndim == 2:
        expected = (g @ y.T, x.T @ g)
    elif x.ndim == 1 and y.ndim == 2:
        expected = (y @ g, np.outer(x, g))
    elif x.ndim == 2:
        expected = (np.outer(g, y), x.T @ g)
    else:
        expected = (g * y, g * x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumbaPerformanceWarning)
        nb = nb_matmul_adjoints(g, x, y)
    nb_types = nb_return_types(nb_matmul_adjoints, g, x, y)
    u, v = make(x.shape), make(y.shape)
    for dx, dy, tx, ty in [(matmul_adjoint_x(g, x, y), matmul_adjoint_y(g, x, y), None, None),
                           (*nb, *nb_types)]:
        check(dx, expected[0].astype(dtype), tx)
        check(dy, expected[1].astype(dtype), ty)
        # transposition: <dx, u> == <g, u @ y> and <dy, v> == <g, x @ v>
        assert_transposed(dx, u, g, u @ y.astype(F64), dtype)
        assert_transposed(dy, v, g, x.astype(F64) @ v, dtype)


def test_matmul_adjoints_cast_integer_operands():
    # Numba's np.dot rejects integer and mixed-dtype operands: they are cast first
    x, y = np.arange(6).reshape(2, 3), make((3, 4), F32)
    g = make((2, 4), F64)
    expected = ((g @ y.T).astype(F64), (x.T @ g).astype(F32))
    for got in [(matmul_adjoint_x(g, x, y), matmul_adjoint_y(g, x, y)),
                nb_matmul_adjoints(g, x, y)]:
        check(got[0], expected[0])
        check(got[1], expected[1])


# ---------------------------------------------------------------- on-disk caching

CACHED_MODULE = """
import numba
import numpy as np
from adcompile.runtime import like, reduce_sum, unbroadcast


@numba.njit(cache=True)
def f(x, b):
    y = x * like(2.0, x) + b
    return reduce_sum(y, -1, True), unbroadcast(y, b)


x = np.arange(6, dtype=np.float32).reshape(2, 3)
b = np.ones(3, np.float32)
s, g = f(x, b)
assert s.dtype == g.dtype == np.float32, (s.dtype, g.dtype)
np.testing.assert_allclose(s, [[9.0], [27.0]])  # y = 2x + b = [[1, 3, 5], [7, 9, 11]]
np.testing.assert_allclose(g, [8.0, 12.0, 16.0])
print(len(f.stats.cache_hits), len(f.stats.cache_misses))
"""


def test_helpers_work_in_cached_njit_functions(tmp_path):
    module = tmp_path / "generated.py"
    module.write_text(textwrap.dedent(CACHED_MODULE))
    repo = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(repo), NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    runs = [subprocess.run([sys.executable, str(module)], env=env, capture_output=True,
                           text=True, timeout=120, check=False) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert runs[0].stdout.split() == ["0", "1"]  # compiled and saved
    assert runs[1].stdout.split() == ["1", "0"]  # loaded from the cache
