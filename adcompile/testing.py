"""`check_grads`: the lecture's gradient check as a public function.

Compares adcompile's reverse and forward modes with central finite differences in float64:
every coordinate of small arguments, a few random directions for large ones. Second
derivatives are compared with central differences of the gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .api import _params, _resolve_wrt, grad, jvp, vjp

SMALL = 64  # arguments with at most this many entries are checked coordinate by coordinate
SECOND = {"rev": "reverse-over-reverse", "fwd": "forward-over-reverse"}


def check_grads(fun: Callable, args: Sequence, *, wrt=0, order: int = 1,
                modes: Sequence[str] = ("rev", "fwd"), rtol: float = 1e-5, atol: float = 1e-7,
                eps: float = 1e-6, directions: int = 3, seed: int = 0) -> None:
    """Raise AssertionError, saying which mode, argument, direction and entry and by how
    much, when a derivative of `fun` at `args` disagrees with central finite differences::

        check_grads(loss, (W, b, X, y), wrt=(0, 1), order=2)

    `order=1` checks first derivatives: mode `"rev"` the gradient (`grad`), `"fwd"` the
    directional derivative (`jvp`), against differences of `fun`. `order=2` checks them, then
    the second derivatives: along each direction u of a `wrt` argument (the others held
    still), the derivative of the gradient of every `wrt` argument (H u), entry by entry,
    against central differences of the gradient. `"rev"` computes H u by reverse over reverse
    (`vjp` of `grad` with cotangent u), `"fwd"` by forward over reverse (`jvp` of `grad`).
    """
    if order not in (1, 2) or isinstance(order, bool):
        raise NotImplementedError(
            f"check_grads checks first and second derivatives (order=1 or 2), got {order!r}: "
            "a third derivative would differentiate derivative code that returns a tuple")
    for mode in modes:
        if mode not in SECOND:
            raise ValueError(f"unknown mode {mode!r}; use 'rev' or 'fwd'")
    names, _ = _resolve_wrt(_params(fun), wrt)
    params = _params(fun)
    args = [np.asarray(a, dtype=np.float64) if np.ndim(a) else a for a in args]
    rng = np.random.default_rng(seed)
    for mode in modes:
        check = _check_reverse if mode == "rev" else _check_forward
        check(fun, args, names, params, rtol, atol, eps, rng, directions)
        if order == 2:
            _check_second(fun, args, names, params, mode, (rtol, atol, eps), rng, directions)


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


# ---------------------------------------------------------------- second derivatives
# Only gradients of one argument are differentiated again: each returns one array, where
# `grad(fun, wrt=(...))` returns a tuple.


def _check_second(fun, args, names, params, mode, tols, rng, directions) -> None:
    rtol, atol, eps = tols
    product = (_reverse_over_reverse if mode == "rev" else _forward_over_reverse)(fun, names)
    gradient = grad(fun, wrt=tuple(names))
    for name in names:
        k = params.index(name)
        for u in _directions(args[k], rng, directions):
            us = tuple(u if n == name else _zero(args[params.index(n)]) for n in names)
            plus, minus = _shifted(args, k, u, eps)
            for of, analytic, p, m in zip(names, product(args, name, us), gradient(*plus),
                                          gradient(*minus)):
                numeric = (np.asarray(p) - np.asarray(m)) / (2 * eps)
                _compare_entries(SECOND[mode], name, u, of, analytic, numeric, rtol, atol)


def _reverse_over_reverse(fun, names: list[str]) -> Callable:
    """(args, name, us) -> H us, one entry per `wrt` argument: the vjp of the gradient of the
    direction's argument, with the direction as cotangent (H is symmetric)."""
    vjps = {n: vjp(grad(fun, wrt=n), wrt=tuple(names)) for n in names}
    return lambda args, name, us: vjps[name](*args, us[names.index(name)])[1]


def _forward_over_reverse(fun, names: list[str]) -> Callable:
    """(args, name, us) -> H us: the jvp of each argument's gradient along `us`."""
    jvps = [jvp(grad(fun, wrt=n), wrt=tuple(names)) for n in names]
    return lambda args, name, us: tuple(j(*args, *us)[1] for j in jvps)


def _compare_entries(mode, name, u, of, analytic, numeric, rtol, atol) -> None:
    """Report the entry of the derivative of `of`'s gradient that misses the tolerance most."""
    analytic, numeric = np.asarray(analytic, dtype=float), np.asarray(numeric, dtype=float)
    if np.allclose(analytic, numeric, rtol=rtol, atol=atol):
        return
    excess = np.abs(analytic - numeric) - rtol * np.abs(numeric)
    worst = np.unravel_index(int(np.argmax(np.where(np.isnan(excess), np.inf, excess))),
                             analytic.shape)
    a, n = float(analytic[worst]), float(numeric[worst])
    entry = f", worst at entry {tuple(int(i) for i in worst)}," if analytic.ndim else ""
    raise AssertionError(
        f"check_grads: {mode} mode (order 2) disagrees with finite differences of the gradient "
        f"for argument {name!r}{_where(u)}: the derivative along it of the gradient of {of!r}"
        f"{entry} is analytic {a!r}, numeric {n!r} (abs diff {abs(a - n):.3g}, rtol={rtol}, "
        f"atol={atol})")


# ---------------------------------------------------------------- shared


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


def _shifted(args, k, u, eps) -> tuple[list, list]:
    plus, minus = list(args), list(args)
    plus[k] = args[k] + eps * u
    minus[k] = args[k] - eps * u
    return plus, minus


def _fd(fun, args, k, u, eps) -> np.ndarray:
    plus, minus = _shifted(args, k, u, eps)
    return (np.asarray(fun(*plus)) - np.asarray(fun(*minus))) / (2 * eps)


def _where(u) -> str:
    if np.ndim(u) == 0:
        return ""
    if np.count_nonzero(u) == 1:
        return f" entry {tuple(int(i) for i in np.argwhere(u)[0])}"
    return " along a random direction"


def _compare(mode, name, u, analytic, numeric, rtol, atol) -> None:
    analytic, numeric = np.asarray(analytic, dtype=float), np.asarray(numeric, dtype=float)
    if np.allclose(analytic, numeric, rtol=rtol, atol=atol):
        return
    diff = np.max(np.abs(analytic - numeric))
    raise AssertionError(
        f"check_grads: {mode} mode disagrees with finite differences for argument "
        f"{name!r}{_where(u)}: analytic {analytic!r}, numeric {numeric!r} "
        f"(max abs diff {diff:.3g}, rtol={rtol}, atol={atol})")
