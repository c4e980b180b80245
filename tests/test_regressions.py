"""Wrong numbers found once, each kept as the smallest program that showed it, checked against
finite differences compiled and uncompiled."""

import numpy as np
import pytest

import adcompile as ad
from tests.oracles import finite_differences


def write_then_rebind_in_loop(w, n):
    z = w * 2.0
    s = 0.0
    for i in range(n):
        s = s + np.sum(z * w)
        z[i % 3] = s * 0.1  # the old entry must go back into this array...
        z = np.tanh(z)  # ...though `z` names another one by then
    return np.sum(z) + s


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_restored_entries_go_to_the_array_written(jit):
    # saved references to `z` once saw the next iteration's writes: a wrong derivative
    w = np.array([0.3, -0.2, 0.5])
    got = ad.grad(write_then_rebind_in_loop, jit=jit)(w, 4)
    np.testing.assert_allclose(got, finite_differences(write_then_rebind_in_loop, [w, 4], 0)[0],
                               rtol=1e-6, atol=1e-8)


def test_its_second_derivative_is_refused_not_wrong():
    # the first derivative shares arrays between names around its loop, which the check
    # on written arrays cannot prove safe: a clear refusal
    g = ad.grad(write_then_rebind_in_loop, jit=False)
    with pytest.raises(ad.UnsupportedError, match="shared under two names"):
        ad.vjp(g, wrt=0, jit=False)


def rebound_argument(x):
    x = x[0] * np.ones(3)
    return 1.0


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_gradient_has_the_shape_of_the_argument_passed(jit):
    # the zero gradient took the shape and dtype of the parameter's last value: (3,) float64
    x = np.array([1.0, 2.0], dtype=np.float32)
    got = ad.grad(rebound_argument, jit=jit)(x)
    assert got.shape == (2,) and got.dtype == np.float32
    np.testing.assert_array_equal(got, finite_differences(rebound_argument, [x], 0)[0])


def _half_or_none(a):
    for i in range(2):
        if a > 0.0:
            return a * 0.5
    a = a + 1.0


def test_helper_that_can_end_without_return_is_refused():
    """Python returns None where such a helper ends; compiled, the result was a silent 0."""
    def f(x):
        return _half_or_none(x) * 3.0

    with pytest.raises(ad.UnsupportedError, match="can end without `return`") as info:
        ad.grad(f, jit=False)
    assert "_half_or_none" in str(info.value)
    assert "a = a + 1.0" in str(info.value)


def test_saved_slices_of_an_array_written_in_place():
    """`z[0:1] -= z[:1, :] * z[0:1, :]` reads slices (views) of z and then writes z: the slices
    the backward sweep needs are saved as they were, not as views of the written array."""
    def f(x0):
        v = x0.transpose()
        for i in range(3):
            z = v.copy()
            z[0:1] -= z[:1, :] * z[0:1, :]
            x0 = z[:, 0:4].T
        return x0[1, 0] + np.sum(np.sin(x0))

    x = np.array([[-0.39], [1.14], [0.12], [-0.30]])
    for jit in (False, True):
        got = ad.grad(f, jit=jit)(x)
        np.testing.assert_allclose(got, finite_differences(f, [x], 0)[0], rtol=1e-6, atol=1e-8)


def _float32_or_float64(x, s):
    y = x * 2.0
    if s > 0.0:
        y = np.ones(3) * s
    return np.sum(y * x)


def test_array_of_two_dtypes_where_paths_meet():
    """NumPy joins a float32 and a float64 array; compiled code keeps one dtype per array
    variable, so it refuses, naming the variable, rather than failing inside Numba."""
    x = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    for s in (1.5, -1.0):  # both paths, as Python
        got = ad.grad(_float32_or_float64, jit=False)(x, s)
        fd = finite_differences(_float32_or_float64, [x.astype(np.float64), s], 0)[0]
        np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-5)
    with pytest.raises(ad.UnsupportedError, match="`y` holding arrays of two dtypes") as info:
        ad.grad(_float32_or_float64, jit=True)(x, 1.5)
    assert "test_regressions.py" in str(info.value)


def _sum_or_second(a):
    for i in range(1):
        if a[0] > -5.0:
            l = np.sum(a)  # defined only inside the loop, under a branch
            if l > 100.0:
                return l
            l = l + 1.0
    return a[1]


def _calls_in_a_loop(s, n, x):
    for i in range(n):
        s = s + _sum_or_second(x * s)
    return s


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("n", [0, 2])
def test_adjoint_of_a_variable_no_trip_defined(n, jit):
    """`l` exists only if a trip ran; its adjoint was zeroed before the reversed loop as
    `zeros_like(l)`, which fails when no trip ran. It is not read across trips: no zero."""
    x = np.array([0.3, 0.2])
    got = ad.grad(_calls_in_a_loop, wrt=(0, 2), jit=jit)(0.5, n, x)
    for k, g in zip((0, 2), got):
        fd = finite_differences(_calls_in_a_loop, [0.5, n, x], k)[0]
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
