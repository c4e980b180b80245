"""check_grads(order=2): second derivatives by reverse over reverse and forward over reverse
against central differences of the gradient. It passes on real functions and catches a wrong
rule that leaves every first derivative right."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

import adcompile as ad
from adcompile.rules import RULES


def tanh_mlp(W1, b1, W2, X, Y):
    H = np.tanh(X @ W1 + b1)
    P = H @ W2
    return np.mean((P - Y) ** 2) + 1e-2 * np.sum(W1 * W1)


def mlp_args():
    rng = np.random.default_rng(0)
    # W1 has 72 entries, more than check_grads.SMALL: it is checked along random directions
    shapes = [(9, 8), (8,), (8, 2), (6, 9), (6, 2)]
    return [0.5 * rng.standard_normal(s) for s in shapes]


def recurrence(w, x, h0):
    h = h0
    for t in range(4):
        h = np.tanh(w * h + x[t])
    return np.sum(h * h) + np.sum(np.sin(w) * x[0])


def scalar(x, a):
    y = x
    for _ in range(3):
        y = np.sin(y) * a + y * y * 0.1
    return np.exp(-y * y) + a * x


@pytest.mark.parametrize("fun,args,wrt", [
    (tanh_mlp, mlp_args(), (0, 1, 2)),
    (tanh_mlp, mlp_args(), "X"),
    (recurrence, [np.array([0.3, -0.7]), np.random.default_rng(1).standard_normal((4, 2)),
                  np.array([0.1, 0.2])], (0, 1, 2)),
    (scalar, [0.7, 1.3], (0, 1)),
], ids=["mlp", "mlp-data", "loop", "scalar"])
def test_order_two_passes(fun, args, wrt):
    ad.check_grads(fun, args, wrt=wrt, order=2)


def test_each_mode_alone():
    ad.check_grads(scalar, [0.7, 1.3], wrt=(0, 1), order=2, modes=("rev",))
    ad.check_grads(scalar, [0.7, 1.3], wrt=(0, 1), order=2, modes=("fwd",))


def test_orders_it_does_not_check():
    for order in (0, 3, True):
        with pytest.raises(NotImplementedError, match="order=1 or 2"):
            ad.check_grads(scalar, [0.7, 1.3], order=order)
    with pytest.raises(ValueError, match="unknown mode 'hvp'"):
        ad.check_grads(scalar, [0.7, 1.3], order=2, modes=("hvp",))


# ---------------------------------------------------------------- a planted wrong rule
# The rules of np.cos are used only by second derivatives of np.sin: d sin = cos dx is right
# whatever cos's own rules say. Flipping the sign of cos's derivative leaves every first
# derivative of `wave` right and makes its second derivative in x wrong.


def wrong_cos_vjp(x, out, dout):
    return dout * np.sin(x)  # deliberately wrong: d cos = -sin dx


def wrong_cos_jvp(x, out, x_dot):
    return x_dot * np.sin(x)  # deliberately wrong


def wave(x, w):
    return np.sum(w * np.sin(x))


WAVE_ARGS = [np.array([0.4, 1.1, -0.8]), np.array([1.5, -0.5, 2.0])]


def plant_vjp(monkeypatch, fn, wrong):
    """Replace fn's reverse rule (keeping its forward rule) until the test ends."""
    original = RULES[fn]
    monkeypatch.setitem(RULES, fn, original)  # undo puts the built-in rule back
    ad.defvjp(fn, name=original.name)(wrong)
    ad.defjvp(fn)(original.jvp)


def plant_jvp(monkeypatch, fn, wrong):
    """Replace fn's forward rule, on a copy of its rule that the undo drops."""
    monkeypatch.setitem(RULES, fn, dataclasses.replace(RULES[fn]))
    ad.defjvp(fn)(wrong)


def second_order_sources():
    """The generated code of both second derivatives of `wave` (cached by its text)."""
    g = ad.grad(wave, wrt="x", jit=False)
    return (ad.source(ad.vjp(g, wrt=("x", "w"), jit=False)),
            ad.source(ad.jvp(g, wrt=("x", "w"), jit=False)))


@pytest.mark.parametrize("plant,caught,missed", [
    (plant_vjp, "rev", "fwd"), (plant_jvp, "fwd", "rev")], ids=["reverse-rule", "forward-rule"])
def test_order_two_catches_a_wrong_rule_order_one_misses(monkeypatch, plant, caught, missed):
    clean = second_order_sources()
    plant(monkeypatch, np.cos, wrong_cos_vjp if caught == "rev" else wrong_cos_jvp)
    planted = second_order_sources()
    assert planted != clean  # the patched rule writes other code: another cache entry
    assert "np.sin(x)" in planted[0 if caught == "rev" else 1]

    ad.check_grads(wave, WAVE_ARGS, wrt=(0, 1), order=1)
    ad.check_grads(wave, WAVE_ARGS, wrt=(0, 1), order=2, modes=(missed,))
    mode = {"rev": "reverse-over-reverse", "fwd": "forward-over-reverse"}[caught]
    with pytest.raises(AssertionError) as info:
        ad.check_grads(wave, WAVE_ARGS, wrt=(0, 1), order=2, modes=(caught,))
    message = str(info.value)
    assert f"{mode} mode (order 2)" in message
    assert "for argument 'x' entry (0,)" in message  # the direction
    assert "gradient of 'x', worst at entry (0,)," in message  # H[0, 0] = -w0 sin(x0)
    analytic, numeric = map(float, re.search(r"analytic (\S+), numeric (\S+) ", message).groups())
    x0, w0 = WAVE_ARGS[0][0], WAVE_ARGS[1][0]
    # compiled code and differences of the gradient are not bit-exact: 1e-12 and 1e-8 relative
    assert analytic == pytest.approx(w0 * np.sin(x0), rel=1e-12)  # the planted sign
    assert numeric == pytest.approx(-w0 * np.sin(x0), rel=1e-8)  # eps = 1e-6: error ~ 1e-12

    monkeypatch.undo()  # the built-in rule is back, and so is the code it writes
    assert RULES[np.cos].vjp.__name__ == "cos" and RULES[np.cos].jvp.__name__ == "cos_jvp"
    assert second_order_sources() == clean
    ad.check_grads(wave, WAVE_ARGS, wrt=(0, 1), order=2)


def test_a_wrong_rule_is_reported_on_a_random_direction(monkeypatch):
    """Large arguments are checked along random directions; the message says so."""
    plant_vjp(monkeypatch, np.cos, wrong_cos_vjp)
    rng = np.random.default_rng(4)
    args = [rng.uniform(0.3, 1.2, 80), rng.uniform(1.0, 2.0, 80)]
    with pytest.raises(AssertionError, match=r"reverse-over-reverse mode \(order 2\) .* "
                                             r"argument 'x' along a random direction"):
        ad.check_grads(wave, args, wrt=0, order=2, modes=("rev",))
