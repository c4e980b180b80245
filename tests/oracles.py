"""Independent answers a derivative is checked against: central finite differences in float64,
and HIPS autograd running the same source with `np` bound to `autograd.numpy`; and correctly
rounded values of the elementary functions, which no CPU, SIMD path, BLAS or libm changes."""

from __future__ import annotations

import math
import types
from collections.abc import Callable

import autograd
import autograd.numpy as anp
import mpmath
import numpy as np


def param_indices(fun: Callable, wrt) -> list[int]:
    code = fun.__code__
    params = list(code.co_varnames[: code.co_argcount])
    return [w if isinstance(w, int) else params.index(w) for w in _as_tuple(wrt)]


def _as_tuple(wrt) -> tuple:
    return tuple(wrt) if isinstance(wrt, (tuple, list)) else (wrt,)


def finite_differences(fun: Callable, args: list, wrt, h: float = 1e-6) -> list:
    """Central differences of scalar `fun` for every coordinate of each `wrt` argument."""
    grads = []
    for k in param_indices(fun, wrt):
        x = args[k]
        if np.ndim(x) == 0:
            grads.append((fun(*_with(args, k, x + h)) - fun(*_with(args, k, x - h))) / (2 * h))
            continue
        g = np.zeros(np.shape(x))
        for i in np.ndindex(g.shape):
            plus, minus = np.array(x, dtype=np.float64), np.array(x, dtype=np.float64)
            plus[i] += h
            minus[i] -= h
            g[i] = (fun(*_with(args, k, plus)) - fun(*_with(args, k, minus))) / (2 * h)
        grads.append(g)
    return grads


def _with(args: list, k: int, value) -> list:
    out = list(args)
    out[k] = value
    return out


def with_autograd_numpy(fun: Callable) -> Callable:
    """The same function with `np` (and helper functions it calls) rebound to autograd.numpy."""
    namespace = dict(fun.__globals__)
    namespace["np"] = anp
    for name, value in fun.__globals__.items():
        value = getattr(value, "py_func", value)  # @numba.njit helpers run as Python here
        if isinstance(value, types.FunctionType) and value.__module__ == fun.__module__ \
                and value is not fun:
            namespace[name] = types.FunctionType(value.__code__, namespace, name,
                                                 value.__defaults__)
    return types.FunctionType(fun.__code__, namespace, fun.__name__, fun.__defaults__)


def autograd_grads(fun: Callable, args: list, wrt) -> list:
    idx = tuple(param_indices(fun, wrt))
    result = autograd.grad(with_autograd_numpy(fun), idx)(*args)
    return list(result)


def assert_close(actual, expected, rtol: float, atol: float, what: str) -> None:
    actual_l = list(actual) if isinstance(actual, tuple) else [actual]
    assert len(actual_l) == len(expected), what
    for i, (a, e) in enumerate(zip(actual_l, expected)):
        np.testing.assert_allclose(np.asarray(a, dtype=np.float64), e, rtol=rtol, atol=atol,
                                   err_msg=f"{what}: gradient {i}")


# ---------------------------------------------------------------- correctly rounded values

_LD = np.longdouble
EXACT = {  # f in arbitrary precision (mpmath)
    "exp": mpmath.exp, "log": mpmath.log, "log1p": mpmath.log1p, "tanh": mpmath.tanh,
    "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
    "softplus": lambda x: mpmath.log1p(mpmath.exp(x)),
}
EXTENDED = {  # f in x87 extended precision: NumPy's long double loops call glibc's expl, ...
    "exp": np.exp, "log": np.log, "log1p": np.log1p, "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "softplus": lambda x: np.logaddexp(_LD(0), x),
}
# Measured on 20,000 points per function, EXTENDED is within 2 * 2**-63 * |f| of f (tanh and
# softplus; the others within 1): a band of 16 * 2**-63 * |f| around each tie is 8 times that.
_TIE_BAND = 16 * _LD(2) ** -63
_HAS_EXTENDED = np.finfo(_LD).nmant >= 63  # x86-64 Linux; elsewhere mpmath does everything


def correctly_rounded(name: str, x) -> np.ndarray:
    """f(x) rounded once to the nearest float64, elementwise, for f in EXACT and a float64 or
    float32 array x (NaN where f is undefined, +-inf where it overflows or is infinite).

    f is computed in extended precision; its rounding to float64 is f(x)'s unless it lies
    within _TIE_BAND of a point halfway between two float64s, where mpmath recomputes it with
    160 bits (about 1 % of random points)."""
    shape = np.shape(x)
    with np.errstate(all="ignore"):  # signalling NaNs among random bit patterns
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        extended = EXTENDED[name](x.astype(_LD))
        out = extended.astype(np.float64)
        near = _near_a_tie(extended, out) if _HAS_EXTENDED else np.isfinite(extended)
    with mpmath.workprec(160):
        out[near] = [_nearest_float64(EXACT[name](mpmath.mpf(v))) for v in x[near].tolist()]
    return out.reshape(shape)


def _near_a_tie(extended: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Where `extended` is within _TIE_BAND of a midpoint between `out` and a neighbour (past
    the largest float64, the midpoint is 2**1024 - 2**970, where rounding overflows)."""
    big = np.finfo(np.float64).max
    o = np.where(np.isinf(out) & np.isfinite(extended), np.copysign(big, out), out)
    lo = np.where(o == -big, -_LD(2) ** 1024, np.nextafter(o, -np.inf).astype(_LD))
    hi = np.where(o == big, _LD(2) ** 1024, np.nextafter(o, np.inf).astype(_LD))
    o = o.astype(_LD)
    gap = np.minimum(np.abs(extended - (o + lo) / 2), np.abs(extended - (o + hi) / 2))
    return np.isfinite(extended) & (gap <= _TIE_BAND * np.abs(extended))


_OVERFLOW_TIE = mpmath.mpf(2) ** 1024 - mpmath.mpf(2) ** 970


def _nearest_float64(v) -> float:
    """The float64 nearest to the mpmath number v (float() may round twice for subnormals)."""
    if abs(v) >= _OVERFLOW_TIE:
        return math.copysign(math.inf, v)
    c = float(v)
    c = math.copysign(np.finfo(np.float64).max, v) if math.isinf(c) else c
    neighbours = (math.nextafter(c, -math.inf), c, math.nextafter(c, math.inf))
    return min(neighbours, key=lambda f: abs(mpmath.mpf(f) - v))
