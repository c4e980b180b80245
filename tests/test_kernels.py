"""adcompile.kernels against NumPy: ulp error over the whole float64 and float32 domains
(random bit patterns), typical ranges and special values, compiled and plain, for every
layout the overloads distinguish."""

import re

import numba
import numpy as np
import pytest

from adcompile import kernels

NAMES = ("exp", "log", "log1p", "tanh", "sigmoid", "softplus")

# Measured maxima (see docs/kernels.md); float32 is computed in float64 and rounded once.
MAX_ULP_64 = {"exp": 1, "log": 1, "log1p": 1, "tanh": 2, "sigmoid": 2, "softplus": 2}
MAX_ULP_32 = 1  # against the float64 reference rounded to float32 (measured: 0)
MAX_ULP_32_NUMPY = 3  # against NumPy's float32 functions, whose own error is up to 3 ulp


def _compiled(f):
    return numba.njit(lambda x: f(x))


# One dispatcher per kernel for the whole session: each signature compiles once.
COMPILED = {name: _compiled(getattr(kernels, name)) for name in NAMES}


def _reference(name, x):
    """The float64 reference: NumPy's function, or long double for the two NumPy lacks."""
    with np.errstate(all="ignore"):
        if name == "sigmoid":
            xl = x.astype(np.longdouble)
            return (1 / (1 + np.exp(-xl))).astype(np.float64)
        if name == "softplus":
            return np.logaddexp(np.longdouble(0), x.astype(np.longdouble)).astype(np.float64)
        return getattr(np, name)(x)


def ulp_distance(a, b):
    """Elementwise number of representable floats between a and b (0 where both are NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    ints = np.int64 if a.dtype == np.float64 else np.int32
    lowest = np.iinfo(ints).min

    def ordered(v):  # a monotonic integer image of the floats, -0 and +0 both at 0
        i = v.view(ints).astype(np.int64)
        return np.where(i < 0, np.int64(lowest) - i, i)

    d = np.abs(ordered(a) - ordered(b))
    return np.where(np.isnan(a) & np.isnan(b), 0, np.where(np.isnan(a) | np.isnan(b), -1, d))


def _max_ulp(got, want):
    d = ulp_distance(got, want)
    assert (d >= 0).all(), f"NaN mismatch at {np.flatnonzero(d < 0)[:5]}"
    return int(d.max())


def _specials(dtype):
    fi = np.finfo(dtype)
    values = [0.0, -0.0, fi.smallest_subnormal, -fi.smallest_subnormal, fi.tiny, -fi.tiny,
              fi.tiny * 0.5, fi.max, -fi.max, np.inf, -np.inf, np.nan, -np.nan, 1.0, -1.0,
              fi.eps, -fi.eps, 0.5, 2.0, 1e-300, 1e-20, -1e-20, 19.06, -19.06, 22.0, 30.0,
              # exp overflow / subnormal / zero thresholds, float64 and float32
              709.782712893384, 709.7827128933841, 709.79, -708.39, -708.4, -745.1332191019411,
              -745.1332191019412, -745.14, -746.0, -800.0, 88.72283, 88.72284, -87.33655,
              -103.27893, -103.97208, -104.0, -1.0 + fi.eps / 2, -1.0 - fi.eps, -2.0]
    values += [v * s for v in (1e-8, 1e-5, 0.3466, 0.35, 0.55, 0.6931, 1.0, 5.0, 50.0)
               for s in (1, -1)]
    with np.errstate(over="ignore"):
        return np.array(values).astype(dtype)


def _domain(dtype, rng):
    """Random bit patterns over the whole domain, typical ranges, and the special values."""
    ints = np.int64 if dtype == np.float64 else np.int32
    n = 1_000_000
    bits = rng.integers(np.iinfo(ints).min, np.iinfo(ints).max, n, dtype=ints,
                        endpoint=True).view(dtype)
    parts = [bits, rng.uniform(-800, 800, n // 4), rng.uniform(-25, 25, n // 4),
             rng.uniform(-1, 1, n // 4), np.exp(rng.uniform(-740, 700, n // 4)),
             _specials(dtype)]
    with np.errstate(over="ignore"):
        return np.concatenate([p.astype(dtype) for p in parts])


@pytest.fixture(scope="module")
def domains():
    rng = np.random.default_rng(20240601)
    return {dt: _domain(dt, rng) for dt in (np.float64, np.float32)}


@pytest.mark.parametrize("name", NAMES)
def test_float64_ulp(name, domains):
    x = domains[np.float64]
    got = COMPILED[name](x)
    assert got.dtype == np.float64 and got.shape == x.shape
    assert _max_ulp(got, _reference(name, x)) <= MAX_ULP_64[name]


@pytest.mark.parametrize("name", NAMES)
def test_float32_ulp(name, domains):
    x = domains[np.float32]
    got = COMPILED[name](x)
    assert got.dtype == np.float32
    with np.errstate(over="ignore", invalid="ignore"):
        want = _reference(name, x.astype(np.float64)).astype(np.float32)
    assert _max_ulp(got, want) <= MAX_ULP_32
    if hasattr(np, name):  # NumPy's float32 functions are within an ulp of the truth too
        with np.errstate(all="ignore"):
            assert _max_ulp(got, getattr(np, name)(x)) <= MAX_ULP_32_NUMPY


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_special_values_exact(name, dtype):
    """Signed zeros, infinities, NaN, overflow and underflow: bit for bit."""
    x = _specials(dtype)
    got = COMPILED[name](x)
    with np.errstate(over="ignore", invalid="ignore"):
        want = _reference(name, x.astype(np.float64)).astype(dtype)
    exact = ~np.isfinite(want) | (want == 0) | (x == 0)
    assert _max_ulp(got[exact], want[exact]) == 0
    assert (np.signbit(got[exact]) == np.signbit(want[exact]))[~np.isnan(want[exact])].all()


def test_named_special_cases():
    f = {name: COMPILED[name] for name in NAMES}
    v = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, -2.0, 710.0, -746.0, 22.0, -40.0])
    with np.errstate(all="ignore"):
        for name in ("exp", "log", "log1p", "tanh"):
            np.testing.assert_array_equal(f[name](v), getattr(np, name)(v))
    assert f["exp"](np.array([-745.0]))[0] == 5e-324  # the smallest subnormal
    assert np.signbit(f["tanh"](np.array([-0.0]))[0])
    np.testing.assert_array_equal(f["sigmoid"](v[:5]), [0.5, 0.5, 1.0, 0.0, np.nan])
    np.testing.assert_array_equal(f["softplus"](v[:5]), [np.log(2), np.log(2), np.inf, 0, np.nan])


def test_layouts_ranks_and_scalars():
    """Non-contiguous and 0-d arrays, integer arrays and scalars, compiled."""
    rng = np.random.default_rng(0)
    a = rng.uniform(-5, 5, (40, 30))
    tanh, exp = COMPILED["tanh"], COMPILED["exp"]
    for x in (a.T, a[:, ::3], a[::2, 1], np.asfortranarray(a)):
        got = tanh(x)
        assert got.shape == x.shape and got.flags.c_contiguous
        assert _max_ulp(got, np.tanh(x)) <= MAX_ULP_64["tanh"]
    x32 = a.astype(np.float32)[:, ::2]
    assert exp(x32).dtype == np.float32
    assert _max_ulp(exp(x32), np.exp(x32.astype(np.float64)).astype(np.float32)) <= 1
    assert exp(np.array(1.0)).shape == ()
    assert _max_ulp(exp(np.array(1.0)), np.exp(np.array(1.0))) <= 1
    assert exp(1.0) == np.exp(1.0) and exp(3) == np.exp(3)
    assert tanh(np.float32(0.5)) == pytest.approx(np.tanh(0.5), rel=1e-7)
    assert _max_ulp(exp(np.arange(5)), np.exp(np.arange(5))) <= 1
    assert COMPILED["sigmoid"](0.0) == 0.5


def test_inside_compiled_expression():
    """The kernels compose with other array code in one compiled function."""
    @numba.njit
    def layer(x, w):
        return kernels.tanh(x @ w) * 2.0 + kernels.log1p(kernels.exp(x @ w))

    x, w = np.ones((3, 4)), np.full((4, 2), 0.1)
    np.testing.assert_allclose(layer(x, w), np.tanh(x @ w) * 2 + np.log1p(np.exp(x @ w)),
                               rtol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_plain_python(name, domains):
    """Uncompiled, the kernels are NumPy's functions (stable formulas for the other two)."""
    for dtype in (np.float64, np.float32):
        x = domains[dtype][::7]
        with np.errstate(all="ignore"):
            got = getattr(kernels, name)(x)
        assert got.dtype == dtype
        if hasattr(np, name):
            with np.errstate(all="ignore"):
                np.testing.assert_array_equal(got, getattr(np, name)(x))
        else:
            with np.errstate(invalid="ignore"):
                want = _reference(name, x.astype(np.float64))
            assert _max_ulp(got.astype(np.float64) if dtype == np.float64 else got,
                            want if dtype == np.float64 else want.astype(dtype)) <= 3
    assert getattr(kernels, name)(0.5) == pytest.approx(_reference(name, np.array(0.5)))
    assert np.ndim(getattr(kernels, name)(np.array(0.5))) == 0


@pytest.mark.parametrize("name", NAMES)
def test_loops_vectorize(name):
    """The float64 loops compile to packed (SIMD) arithmetic with no calls to libm."""
    f = COMPILED[name]
    f(np.ones(3))
    llvm = f.inspect_llvm((numba.float64[::1],))
    assert re.search(r"<\d+ x double>", llvm)
    libm = re.findall(r"call [^(]*@(?:llvm\.)?(exp|expm1|log|log1p|tanh)[.(]", llvm)
    assert not libm, libm
