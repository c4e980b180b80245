"""Forward mode: jvp and derivative against reverse mode (the transposition identity
<J u, 1> == <u, J^T 1> on the whole corpus), finite differences, and the notes' dual-number
logistic map; check_grads as users call it."""

from __future__ import annotations

import functools

import numba
import numpy as np
import pytest

import adcompile as ad
from tests.oracles import param_indices
from tests.programs.seeds import logistic3
from tests.test_programs import CASES, derivative

# compiled forward mode for one program of each feature (the rest run uncompiled: the same
# generated code, and the reverse-mode tests compile every program)
COMPILED = {"poly", "reductions_axis", "elif_mid", "rnn", "while_halving", "break_taken",
            "return_in_loop_taken", "fill_sequence", "two_layers", "mlp_softmax_xent",
            "shapes", "elementwise_kinks"}


@functools.cache
def tangent_map(case_id: str, jit: bool):
    case = next(c for c in CASES if c.id == case_id)
    wrt = case.wrt if isinstance(case.wrt, tuple) else (case.wrt,)
    return ad.jvp(case.fun, wrt=wrt, jit=jit)


def _params():
    for case in CASES:
        yield pytest.param(case, False, id=f"{case.id}-python")
        if case.id in COMPILED:
            yield pytest.param(case, True, id=f"{case.id}-numba")


@pytest.mark.parametrize("case,jit", list(_params()))
def test_forward_and_reverse_agree(case, jit):
    args = case.make_args()
    rng = np.random.default_rng(7)
    idx = param_indices(case.fun, case.wrt)
    directions = [rng.standard_normal(np.shape(args[k])) if np.ndim(args[k])
                  else float(rng.standard_normal()) for k in idx]
    value, tangent = tangent_map(case.id, jit)(*args, *directions)
    grads = derivative(case.id, jit)(*args)
    grads = grads if isinstance(case.wrt, tuple) else (grads,)
    expected = sum(float(np.sum(g * u)) for g, u in zip(grads, directions))
    assert tangent == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert value == pytest.approx(case.fun(*case.make_args()), rel=1e-12, abs=1e-12)


def layer(W, x):
    return np.tanh(W @ x) * 2.0


def test_jvp_of_an_array_valued_function():
    rng = np.random.default_rng(0)
    W, x, u = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(3)
    for jit in (False, True):
        value, tangent = ad.jvp(layer, wrt="x", jit=jit)(W, x, u)
        np.testing.assert_allclose(value, layer(W, x))
        h = 1e-6
        fd = (layer(W, x + h * u) - layer(W, x - h * u)) / (2 * h)
        np.testing.assert_allclose(tangent, fd, rtol=1e-6, atol=1e-8)


def test_logistic_map_by_dual_numbers():
    """The notes' (v, dv) = (x, 1), then (4v(1-v), 4dv - 8v dv) per step."""
    v, dv = 0.3, 1.0
    for _ in range(3):
        v, dv = 4 * v * (1 - v), 4 * dv - 8 * v * dv
    for jit in (False, True):
        got = ad.derivative(logistic3, jit=jit)(0.3)
        assert abs(got - dv) <= 1e-10 * abs(dv)


def test_derivative_is_callable_from_njit():
    d = ad.derivative(logistic3)

    @numba.njit
    def newton_like(x):
        return x - 0.01 * d(x)

    assert newton_like(0.3) == pytest.approx(0.3 - 0.01 * d(0.3))


def test_forward_code_names_tangents():
    text = ad.source(ad.derivative(logistic3, jit=False))
    assert "v_dot = like(1.0, v)" in text
    assert "# ---- values and tangents ----" in text


def test_check_grads_passes_and_reports():
    from tests.programs.mlp import relu_mlp_mse

    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s) for s in [(3, 5), (5,), (5, 2), (2,), (6, 3), (6, 2)]]
    ad.check_grads(relu_mlp_mse, args, wrt=(0, 1, 2, 3))


@numba.njit
def wrong_square(x):
    return x * x


@ad.defvjp(wrong_square)
def wrong_square_vjp(x, out, dout):
    return dout * 3.0 * x  # deliberately wrong: the derivative is 2x


@ad.defjvp(wrong_square)
def wrong_square_jvp(x, out, x_dot):
    return x_dot * 2.0 * x


def uses_wrong_square(w):
    return np.sum(wrong_square(w))


def test_check_grads_names_the_argument_and_entry():
    with pytest.raises(AssertionError, match=r"reverse mode .* argument 'w' entry \(0,\)"):
        ad.check_grads(uses_wrong_square, (np.array([1.0, 2.0]),))
    ad.check_grads(uses_wrong_square, (np.array([1.0, 2.0]),), modes=("fwd",))


def drift(w, x):
    for i in range(2):
        x = x - w * 0.5  # x is not differentiated, yet its tangent flows after the first trip
    return np.sum(x * x)


@pytest.mark.parametrize("jit", [False, True])
def test_jvp_of_a_parameter_outside_wrt_that_a_loop_makes_active(jit):
    w, x, u = np.array([0.3, -0.2]), np.array([1.0, 2.0]), np.array([0.7, 0.4])
    _, tangent = ad.jvp(drift, wrt="w", jit=jit)(w, x, u)
    h = 1e-6
    fd = (drift(w + h * u, x) - drift(w - h * u, x)) / (2 * h)
    assert tangent == pytest.approx(fd, rel=1e-7)
    assert tangent == pytest.approx(np.dot(ad.grad(drift, jit=jit)(w, x), u), rel=1e-12)
