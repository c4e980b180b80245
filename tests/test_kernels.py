"""adcompile.kernels against correctly rounded values: ulp error over the whole float64 and
float32 domains (random bit patterns), typical ranges and special values, compiled and plain,
for every layout the overloads distinguish.

The reference is f(x) rounded once (tests.oracles.correctly_rounded), never NumPy's own
functions: NumPy picks its SIMD code by CPU (SVML on AVX512_SKX, its own AVX512F and AVX2
loops, libm elsewhere), and their results differ by an ulp or more between machines. Only true
special values (zeros, infinities, NaN, overflow and underflow, exact results such as
exp(0) = 1 and log(1) = 0, saturation such as tanh(22) = 1) are required bit for bit."""

import re

import mpmath
import numba
import numpy as np
import pytest

from adcompile import kernels
from tests.oracles import correctly_rounded

NAMES = ("exp", "log", "log1p", "tanh", "sigmoid", "softplus")

# Against the correctly rounded value: the measured maxima over 2 million points per function
# (docs/compilation.md), which are the documented bounds. float32 is computed in float64 and
# rounded once: measured 0 ulp; 1 allows the float64 result's own error to round it the other
# way when f(x) lies within an ulp (float64) of a tie between two float32s.
MAX_ULP_64 = {"exp": 1, "log": 1, "log1p": 1, "tanh": 2, "sigmoid": 2, "softplus": 2}
MAX_ULP_32 = 1


def _compiled(f):
    return numba.njit(lambda x: f(x))


# One dispatcher per kernel for the whole session: each signature compiles once.
COMPILED = {name: _compiled(getattr(kernels, name)) for name in NAMES}


def _reference(name, x):
    """f(x) correctly rounded to x's dtype (float32: the float64 value rounded again, which is
    f(x)'s own rounding except within a float64 ulp of a float32 tie)."""
    with np.errstate(over="ignore"):  # float32 overflows where float64 does not
        return correctly_rounded(name, x).astype(np.asarray(x).dtype)


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
    assert _max_ulp(got, _reference(name, x)) <= MAX_ULP_32


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_special_values_exact(name, dtype):
    """Signed zeros, infinities, NaN, overflow and underflow: bit for bit."""
    x = _specials(dtype)
    got = COMPILED[name](x)
    want = _reference(name, x)
    exact = ~np.isfinite(want) | (want == 0) | (x == 0)
    _assert_bitwise(got[exact], want[exact])
    # the rest of the edge cases (thresholds, tiny and huge arguments) to the ulp bound
    assert _max_ulp(got, want) <= (MAX_ULP_64[name] if dtype == np.float64 else MAX_ULP_32)


def _assert_bitwise(got, want):
    """The same floats, the sign of zero included (NaN matches any NaN)."""
    assert _max_ulp(got, want) == 0, (got, want)
    assert (np.signbit(got) == np.signbit(want))[~np.isnan(want)].all(), (got, want)


INF, NAN = np.inf, np.nan
# (argument, exact result): the same on every CPU and in every correct implementation
EXACT_CASES = {
    "exp": [(0.0, 1.0), (-0.0, 1.0), (INF, INF), (-INF, 0.0), (NAN, NAN), (710.0, INF),
            (-746.0, 0.0), (-745.0, 5e-324)],  # overflow; underflow to 0 and to 2**-1074
    "log": [(0.0, -INF), (-0.0, -INF), (INF, INF), (-INF, NAN), (NAN, NAN), (-1.0, NAN),
            (-746.0, NAN), (1.0, 0.0)],
    "log1p": [(0.0, 0.0), (-0.0, -0.0), (INF, INF), (-INF, NAN), (NAN, NAN), (-1.0, -INF),
              (-2.0, NAN), (-746.0, NAN)],
    "tanh": [(0.0, 0.0), (-0.0, -0.0), (INF, 1.0), (-INF, -1.0), (NAN, NAN), (22.0, 1.0),
             (-40.0, -1.0), (710.0, 1.0), (-746.0, -1.0)],  # 1 - tanh(22) < 2**-62
    "sigmoid": [(0.0, 0.5), (-0.0, 0.5), (INF, 1.0), (-INF, 0.0), (NAN, NAN)],
    "softplus": [(INF, INF), (-INF, 0.0), (NAN, NAN)],
}
# Ordinary points: correctly rounded values are irrational, computed to within the bound
ORDINARY = {"exp": [-1.0, -2.0, 22.0, -40.0], "log": [2.0, 22.0, 710.0],
            "log1p": [-0.5, 22.0, 710.0], "tanh": [-1.0, -2.0, 0.5],
            "sigmoid": [-1.0, 22.0, -40.0], "softplus": [0.0, -0.0, -40.0, 22.0]}


@pytest.mark.parametrize("name", NAMES)
def test_named_special_cases(name):
    x, want = (np.array(v) for v in zip(*EXACT_CASES[name]))
    with np.errstate(all="ignore"):
        _assert_bitwise(COMPILED[name](x), want)
        # uncompiled, NumPy's functions: bit for bit only where IEEE 754 fixes the result
        fixed = ~np.isfinite(x) | (x == 0) | ~np.isfinite(want) | ((x == 1) & (want == 0))
        _assert_bitwise(getattr(kernels, name)(x)[fixed], want[fixed])
    x = np.array(ORDINARY[name])
    assert _max_ulp(COMPILED[name](x), _reference(name, x)) <= MAX_ULP_64[name]


def test_layouts_ranks_and_scalars():
    """Non-contiguous and 0-d arrays, integer arrays and scalars, compiled."""
    rng = np.random.default_rng(0)
    a = rng.uniform(-5, 5, (40, 30))
    tanh, exp = COMPILED["tanh"], COMPILED["exp"]
    for x in (a.T, a[:, ::3], a[::2, 1], np.asfortranarray(a)):
        got = tanh(x)
        assert got.shape == x.shape and got.flags.c_contiguous
        assert _max_ulp(got, _reference("tanh", x)) <= MAX_ULP_64["tanh"]
    x32 = a.astype(np.float32)[:, ::2]
    assert exp(x32).dtype == np.float32
    assert _max_ulp(exp(x32), _reference("exp", x32)) <= MAX_ULP_32
    assert exp(np.array(1.0)).shape == ()
    assert _max_ulp(exp(np.array(1.0)), _reference("exp", np.array(1.0))) <= MAX_ULP_64["exp"]
    # scalars run Numba's np.exp, the platform libm's exp (glibc: under 1 ulp)
    e = _reference("exp", np.array([1.0, 3.0]))
    assert _max_ulp(np.array([exp(1.0), exp(3)]), e) <= 1
    assert tanh(np.float32(0.5)) == pytest.approx(np.tanh(0.5), rel=1e-7)  # a float32's ulp
    assert _max_ulp(exp(np.arange(5)), _reference("exp", np.arange(5.0))) <= MAX_ULP_64["exp"]
    assert COMPILED["sigmoid"](0.0) == 0.5  # exact: exp(0) = 1


def test_inside_compiled_expression():
    """The kernels compose with other array code in one compiled function."""
    @numba.njit
    def layer(x, w):
        return kernels.tanh(x @ w) * 2.0 + kernels.log1p(kernels.exp(x @ w))

    x, w = np.ones((3, 4)), np.full((4, 2), 0.1)
    # every entry is 2 tanh(z) + log1p(exp(z)) ~ 1.67 for z = 4 * 0.1 (the float), exactly
    with mpmath.workprec(160):
        z = 4 * mpmath.mpf(0.1)
        want = float(2 * mpmath.tanh(z) + mpmath.log1p(mpmath.exp(z)))
    # the kernels' errors (2, 1 and 1 ulp), x @ w's rounding (<= 2 ulp of 0.4, times the
    # derivative 2.3) and two additions come to under 1e-15 of the value (~4.5 ulp)
    np.testing.assert_allclose(layer(x, w), np.full((3, 2), want), rtol=1e-15)


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
        else:  # NumPy's exp is within 1 ulp on every SIMD path (its AVX512F loop: 0.77);
            # the formulas round an addition and a division (sigmoid), log1p (softplus)
            assert _max_ulp(got, _reference(name, x)) <= 3
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
