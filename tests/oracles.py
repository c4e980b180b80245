"""Independent answers a derivative is checked against: central finite differences in float64,
and HIPS autograd running the same source with `np` bound to `autograd.numpy`."""

from __future__ import annotations

import types
from collections.abc import Callable

import autograd
import autograd.numpy as anp
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
