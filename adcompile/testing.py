"""`check_grads`: the lecture's gradient check as a public function.

Compares adcompile's reverse and forward modes with central finite differences in float64:
every coordinate of small arguments, a few random directions for large ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .api import _params, _resolve_wrt, grad, jvp

SMALL = 64  # arguments with at most this many entries are checked coordinate by coordinate


def check_grads(fun: Callable, args: Sequence, *, wrt=0, order: int = 1,
                modes: Sequence[str] = ("rev", "fwd"), rtol: float = 1e-5, atol: float = 1e-7,
                eps: float = 1e-6, directions: int = 3, seed: int = 0) -> None:
    """Raise AssertionError, saying which argument, which entries and by how much, when a
    derivative of `fun` at `args` disagrees with central finite differences::

        check_grads(loss, (W, b, X, y), wrt=(0, 1))
    """
    if order != 1:
        raise NotImplementedError("check_grads checks first derivatives (order=1)")
    names, _ = _resolve_wrt(_params(fun), wrt)
    params = _params(fun)
    args = [np.asarray(a, dtype=np.float64) if np.ndim(a) else a for a in args]
    rng = np.random.default_rng(seed)
    for mode in modes:
        if mode == "rev":
            _check_reverse(fun, args, names, params, rtol, atol, eps, rng, directions)
        elif mode == "fwd":
            _check_forward(fun, args, names, params, rtol, atol, eps, rng, directions)
        else:
            raise ValueError(f"unknown mode {mode!r}; use 'rev' or 'fwd'")


def _check_reverse(fun, args, names, params, rtol, atol, eps, rng, directions) -> None:
    grads = grad(fun, wrt=tuple(names))(*args)
    for name, g in zip(names, grads):
        k = params.index(name)
        for u in _directions(args[k], rng, directions):
            numeric = _fd(fun, args, k, u, eps)
            analytic = float(np.sum(np.asarray(g) * u))
            _compare("reverse", name, u, analytic, numeric, rtol, atol)


def _check_forward(fun, args, names, params, rtol, atol, eps, rng, directions) -> None:
    f_jvp = jvp(fun, wrt=tuple(names))
    for name in names:
        k = params.index(name)
        for u in _directions(args[k], rng, directions):
            tangents = [u if n == name else _zero(args[params.index(n)]) for n in names]
            _, analytic = f_jvp(*args, *tangents)
            numeric = _fd(fun, args, k, u, eps)
            _compare("forward", name, u, analytic, numeric, rtol, atol)


def _directions(x, rng, count: int):
    """Unit coordinate vectors for small arguments, random unit directions for large ones."""
    if np.ndim(x) == 0:
        yield 1.0
        return
    x = np.asarray(x)
    if x.size <= SMALL:
        for i in np.ndindex(x.shape):
            e = np.zeros(x.shape)
            e[i] = 1.0
            yield e
        return
    for _ in range(count):
        u = rng.standard_normal(x.shape)
        yield u / np.linalg.norm(u)


def _zero(x):
    return 0.0 if np.ndim(x) == 0 else np.zeros(np.shape(x))


def _fd(fun, args, k, u, eps) -> np.ndarray:
    plus, minus = list(args), list(args)
    plus[k] = args[k] + eps * u
    minus[k] = args[k] - eps * u
    return (np.asarray(fun(*plus)) - np.asarray(fun(*minus))) / (2 * eps)


def _compare(mode, name, u, analytic, numeric, rtol, atol) -> None:
    analytic, numeric = np.asarray(analytic, dtype=float), np.asarray(numeric, dtype=float)
    if np.allclose(analytic, numeric, rtol=rtol, atol=atol):
        return
    where = "" if np.ndim(u) == 0 else (
        f" entry {tuple(int(i) for i in np.argwhere(u)[0])}" if np.count_nonzero(u) == 1
        else " along a random direction")
    diff = np.max(np.abs(analytic - numeric))
    raise AssertionError(
        f"check_grads: {mode} mode disagrees with finite differences for argument "
        f"{name!r}{where}: analytic {analytic!r}, numeric {numeric!r} (max abs diff {diff:.3g}, "
        f"rtol={rtol}, atol={atol})")
