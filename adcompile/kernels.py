"""Vectorizable exp, log, log1p, tanh, sigmoid and softplus for Numba-compiled code.

Contract: each public function is a plain NumPy function (so uncompiled code gets exactly
NumPy's result) plus a Numba ``@overload`` of it. Under Numba, a float64 or float32 array of
any rank and layout gives a new C-contiguous array of the same dtype, computed by a loop whose
body calls no libm: range reduction and polynomials built from multiplies, adds and bit
operations, which LLVM turns into SIMD code (Numba's own ``np.exp`` on arrays calls libm once
per element, several times slower). Results are within a few ulp of NumPy's over the whole
domain, including subnormals, signed zeros, infinities, NaN, overflow and underflow; float32
is computed in float64 and rounded once. Non-contiguous arrays are copied to a contiguous one
first; scalars, and arrays of other dtypes, use NumPy's function.

The code below must stay self-contained (NumPy, Numba and llvmlite only): the command line's
``export`` copies this file into standalone modules.
"""

import math

import numpy as np
from llvmlite import ir as llvm_ir
from numba.core import types
from numba.extending import intrinsic, overload, register_jitable

__all__ = ["exp", "log", "log1p", "sigmoid", "softplus", "tanh"]

# Only `contract` (fused multiply-add): the rounding tricks below need IEEE adds, and the
# special values need `nan`/`inf` semantics, so no other fast-math flag is safe.
_FASTMATH = {"contract"}
# NumPy's error model: x / 0 gives inf or NaN instead of raising, a branch that would stop
# vectorization.
_JIT = {"fastmath": _FASTMATH, "error_model": "numpy"}


# ---------------------------------------------------------------------------
# The plain functions (NumPy semantics)
# ---------------------------------------------------------------------------

def exp(x):
    """np.exp(x)."""
    return np.exp(x)


def log(x):
    """np.log(x)."""
    return np.log(x)


def log1p(x):
    """np.log1p(x)."""
    return np.log1p(x)


def tanh(x):
    """np.tanh(x)."""
    return np.tanh(x)


def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), without overflow for any x."""
    e = np.exp(-np.abs(x))
    return np.where(np.signbit(x), e / (1 + e), 1 / (1 + e))[()]


def softplus(x):
    """log(1 + exp(x)), without overflow for any x."""
    return np.logaddexp(0, x)


# ---------------------------------------------------------------------------
# Bit casts (they compile to nothing, so loops using them still vectorize)
# ---------------------------------------------------------------------------

@intrinsic
def _bits(typingctx, x):
    """The int64 with the same bits as the float64 x."""
    if x != types.float64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], llvm_ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, i):
    """The float64 with the same bits as the int64 i."""
    if i != types.int64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], llvm_ir.DoubleType())
    return types.float64(types.int64), codegen


# ---------------------------------------------------------------------------
# float64 scalar kernels, branch-free (selects only)
# ---------------------------------------------------------------------------

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 to 32 bits: n * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_ROUND = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer in the low bits
_ROUND_BITS = 0x4338000000000000
_EXP_MAX = 710.0  # exp overflows above 709.78; clamping keeps the integer math in range
_EXP_MIN = -746.0  # and underflows to 0 below -745.13


@register_jitable(**_JIT)
def _reduce(x):
    """(n, r) with x = n ln2 + r, n an integer (as int64) and |r| <= ln2 / 2."""
    t = x * _LOG2E + _ROUND
    n = _bits(t) - _ROUND_BITS
    nf = t - _ROUND
    return n, (x - nf * _LN2_HI) - nf * _LN2_LO


@register_jitable(**_JIT)
def _expm1_poly(r):
    """exp(r) - 1 for |r| <= ln2 / 2 (Taylor to degree 13, error below 2**-60)."""
    p = 1.6059043836821613e-10
    p = p * r + 2.08767569878681e-09
    p = p * r + 2.505210838544172e-08
    p = p * r + 2.755731922398589e-07
    p = p * r + 2.7557319223985893e-06
    p = p * r + 2.48015873015873e-05
    p = p * r + 0.0001984126984126984
    p = p * r + 0.001388888888888889
    p = p * r + 0.008333333333333333
    p = p * r + 0.041666666666666664
    p = p * r + 0.16666666666666666
    p = p * r + 0.5
    return r + (r * r) * p


@register_jitable(**_JIT)
def _scale(p, n):
    """p * 2**n for -1076 <= n <= 1024, in two exact-exponent steps so that results in the
    subnormal range round once and huge ones overflow to inf."""
    half = n >> 1
    return p * _from_bits((half + 1023) << 52) * _from_bits((n - half + 1023) << 52)


@register_jitable(**_JIT)
def _exp64(x):
    # Conditional expressions, not min/max: NaN fails both tests and stays NaN.
    x = _EXP_MAX if x > _EXP_MAX else x  # noqa: FURB136
    x = _EXP_MIN if x < _EXP_MIN else x  # noqa: FURB136
    n, r = _reduce(x)
    return _scale(1.0 + _expm1_poly(r), n)


@register_jitable(**_JIT)
def _expm1_nonneg(y):
    """exp(y) - 1 for 0 <= y <= 64 (tanh's helper), accurate also for tiny y."""
    n, r = _reduce(y)
    two_n = _from_bits((n + 1023) << 52)
    return two_n * _expm1_poly(r) + (two_n - 1.0)


_SQRT_HALF_HI = 0x3fe6a09e  # high word of sqrt(2) / 2
_TINY = 2.2250738585072014e-308  # smallest normal float64
_TWO54 = 18014398509481984.0


@register_jitable(**_JIT)
def _int_to_float(k):
    """float(k) for |k| < 2**51 without int64->float64 conversion (none in AVX2)."""
    return _from_bits(k + _ROUND_BITS) - _ROUND


@register_jitable(**_JIT)
def _log_core(u, c):
    """log(u + c) for finite u > 0 and a tiny correction c (|c| <= ulp(u)): u = 2**k (1 + f)
    with sqrt(2)/2 <= 1 + f < sqrt(2), then log(1 + f) = 2 atanh(f / (2 + f)) by fdlibm's
    polynomial (error below 1 ulp)."""
    sub = u < _TINY
    u = u * _TWO54 if sub else u
    ix = _bits(u)
    hx = (ix >> 32) + (0x3ff00000 - _SQRT_HALF_HI)
    k = (hx >> 20) - 0x3ff - (54 if sub else 0)
    hx = (hx & 0x000fffff) + _SQRT_HALF_HI
    m = _from_bits((hx << 32) | (ix & 0xffffffff))
    cor = c / u * (_from_bits((54 + 1023) << 52) if sub else 1.0)  # c / (original u)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01
                                               + w * 1.531383769920937332e-01))
    t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
                                              + w * (1.818357216161805012e-01
                                                     + w * 1.479819860511658591e-01)))
    hfsq = 0.5 * f * f
    dk = _int_to_float(k)
    return s * (hfsq + t1 + t2) + (dk * _LN2_LO + cor) - hfsq + f + dk * _LN2_HI


@register_jitable(**_JIT)
def _log64(x):
    r = _log_core(x, 0.0)
    r = -math.inf if x == 0.0 else r
    r = math.nan if x < 0.0 else r
    return x if not x < math.inf else r  # +inf and NaN


@register_jitable(**_JIT)
def _log1p64(x):
    u = 1.0 + x
    c = (u - 1.0) - x  # u = 1 + x + c exactly: log(1 + x) = log(u - c)
    r = _log_core(u, -c)
    r = x if u == 1.0 else r  # |x| < 2**-53, and keeps -0.0
    r = -math.inf if u == 0.0 else r
    r = math.nan if x < -1.0 else r
    return x if not x < math.inf else r


_SIGN = -0x8000000000000000


@register_jitable(**_JIT)
def _tanh64(x):
    a = abs(x)
    a = 22.0 if a > 22.0 else a  # noqa: FURB136  (tanh(22) rounds to 1; NaN stays NaN)
    e = _expm1_nonneg(a + a)
    d = e + 2.0
    err = (2.0 - d) + e if e < 2.0 else (e - d) + 2.0  # d + err = e + 2 exactly
    inv = 1.0 / d
    t = e * inv
    t += (e - t * d - t * err) * inv  # one Newton step on e / (e + 2): t * d fuses (FMA)
    return _from_bits(_bits(t) | (_bits(x) & _SIGN))  # copysign(t, x), so tanh(-0) = -0


@register_jitable(**_JIT)
def _sigmoid64(x):
    e = _exp64(-abs(x))  # in [0, 1], never overflows
    return (e if x < 0.0 else 1.0) / (1.0 + e)


@register_jitable(inline="always", **_JIT)  # too big for LLVM to inline into the loop
def _softplus64(x):
    e = _exp64(-abs(x))
    return (x if x > 0.0 else 0.0) + _log1p64(e)  # noqa: FURB136  (NaN: 0 + log1p(NaN))


# ---------------------------------------------------------------------------
# The array loops and the overloads
# ---------------------------------------------------------------------------

def _loop_of(kernel):
    """A loop applying a float64 kernel to 1-D C-contiguous arrays (out may be float32)."""
    @register_jitable(**_JIT)
    def loop(x, out):
        for i in range(x.size):
            out[i] = kernel(np.float64(x[i]))
    return loop


def _array_impl(x, loop):
    """The overload body for an array x of float32 or float64 (any rank and layout)."""
    dt = x.dtype
    if x.layout == "C":
        def contiguous(x):
            out = np.empty(x.shape, dt)
            loop(x.reshape(x.size), out.reshape(out.size))
            return out
        return contiguous

    def strided(x):
        c = np.ascontiguousarray(x)  # one copy, then the same vectorized loop
        out = np.empty(c.shape, dt)
        loop(c.reshape(c.size), out.reshape(out.size))
        return out
    return strided


def _is_real(t):
    return isinstance(t, (types.Float, types.Integer, types.Boolean))


def _define(public, kernel, fallback):
    """Register the overload of `public`: the vectorized loop for float32/float64 arrays,
    `fallback` (NumPy's function, or the kernel for scalars) for everything else."""
    loop = _loop_of(kernel)

    @overload(public)
    def _ol(x):
        if isinstance(x, types.Array) and isinstance(x.dtype, types.Float) and \
                x.dtype.bitwidth in (32, 64):
            return _array_impl(x, loop)
        if isinstance(x, types.Array) and isinstance(x.dtype, (types.Integer, types.Boolean)):
            return lambda x: public(x.astype(np.float64))
        if fallback is not None:
            return lambda x: fallback(x)
        if _is_real(x):
            ft = types.float32 if x == types.float32 else types.float64
            return lambda x: ft(kernel(np.float64(x)))
        return None


_define(exp, _exp64, np.exp)
_define(log, _log64, np.log)
_define(log1p, _log1p64, np.log1p)
_define(tanh, _tanh64, np.tanh)
_define(sigmoid, _sigmoid64, None)
_define(softplus, _softplus64, None)
