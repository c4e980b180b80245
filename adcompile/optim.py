"""Optimizers, learning-rate schedules and early stopping, as plain `@numba.njit` functions:
call them from Python or from inside your own `@numba.njit` training loop.

An optimizer is an `*_init(param)` function that returns its state arrays (zeros shaped like
the parameter) and a `*_step(param, grad, state..., lr, ...)` function that updates `param`
and the state arrays IN PLACE. You call the step once per parameter array, so parameters of
any shapes can be mixed::

    from adcompile import optim

    @numba.njit
    def train(W, b, X, Y, steps):
        mW, vW = optim.adam_init(W)
        mb, vb = optim.adam_init(b)
        for t in range(1, steps + 1):          # Adam counts steps from 1
            loss, (dW, db) = vg(W, b, X, Y)    # vg = adcompile.value_and_grad(...)
            optim.adam_step(W, dW, mW, vW, t, 1e-3)
            optim.adam_step(b, db, mb, vb, t, 1e-3)

Parameters must be arrays (a Python float cannot be updated in place; use a 1-element array).
Notation below: g is the gradient, lr the learning rate, all operations elementwise.

Schedules are functions of the step or epoch number; `reduce_on_plateau` and `early_stopping`
keep their state in a small float64 array made by their `*_init` function.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "adadelta_init",
    "adadelta_step",
    "adagrad_init",
    "adagrad_step",
    "adam_init",
    "adam_step",
    "early_stopping",
    "early_stopping_init",
    "exponential_decay",
    "momentum_init",
    "momentum_step",
    "nesterov_init",
    "nesterov_step",
    "plateau_init",
    "reduce_on_plateau",
    "rmsprop_init",
    "rmsprop_step",
    "sgd_step",
    "step_decay",
]

_jit = numba.njit(cache=True)


# ---------------------------------------------------------------------------
# Stochastic gradient descent
# ---------------------------------------------------------------------------

@_jit
def sgd_step(param, grad, lr):
    """Plain (stochastic) gradient descent: param -= lr * g."""
    param -= lr * grad


# ---------------------------------------------------------------------------
# Momentum (Polyak's heavy ball) and Nesterov momentum, in Sutskever et al.'s (2013) form
# ---------------------------------------------------------------------------

@_jit
def momentum_init(param):
    """The velocity: zeros shaped like param."""
    return np.zeros_like(param)


@_jit
def momentum_step(param, grad, velocity, lr, mu=0.9):
    """Classical momentum (Polyak, 1964; as written in Sutskever et al., 2013, eq. 1-2):

        v = mu * v - lr * g
        param += v
    """
    velocity *= mu
    velocity -= lr * grad
    param += velocity


@_jit
def nesterov_init(param):
    """The velocity: zeros shaped like param."""
    return np.zeros_like(param)


@_jit
def nesterov_step(param, grad, velocity, lr, mu=0.9):
    """Nesterov's accelerated gradient (Sutskever et al., 2013, eq. 3-4), with the gradient
    taken at the stored parameters.

    Sutskever et al. evaluate the gradient at a look-ahead point: v = mu v - lr grad f(theta +
    mu v); theta += v. Storing phi = theta + mu v instead (Bengio et al., 2013), the same
    iteration needs only the gradient at phi, which is what you pass as `grad`:

        v = mu * v - lr * g
        param += mu * v - lr * g

    so `param` follows theta + mu * v of the original (tested exactly).
    """
    velocity *= mu
    velocity -= lr * grad
    param += mu * velocity - lr * grad


# ---------------------------------------------------------------------------
# Adaptive methods
# ---------------------------------------------------------------------------

@_jit
def adagrad_init(param):
    """The accumulated squared gradients: zeros shaped like param."""
    return np.zeros_like(param)


@_jit
def adagrad_step(param, grad, cache, lr=1e-2, eps=1e-8):
    """AdaGrad (Duchi, Hazan & Singer, 2011), diagonal form:

        cache += g ** 2
        param -= lr * g / (sqrt(cache) + eps)
    """
    cache += grad * grad
    param -= lr * grad / (np.sqrt(cache) + eps)


@_jit
def rmsprop_init(param):
    """The running mean of squared gradients: zeros shaped like param."""
    return np.zeros_like(param)


@_jit
def rmsprop_step(param, grad, cache, lr=1e-3, decay=0.9, eps=1e-8):
    """RMSProp (Tieleman & Hinton, 2012, Coursera lecture 6.5):

        cache = decay * cache + (1 - decay) * g ** 2
        param -= lr * g / (sqrt(cache) + eps)
    """
    cache *= decay
    cache += (1.0 - decay) * grad * grad
    param -= lr * grad / (np.sqrt(cache) + eps)


@_jit
def adadelta_init(param):
    """(E[g^2], E[dx^2]): the running means of squared gradients and of squared updates."""
    return np.zeros_like(param), np.zeros_like(param)


@_jit
def adadelta_step(param, grad, avg_sq_grad, avg_sq_delta, lr=1.0, rho=0.95, eps=1e-6):
    """ADADELTA (Zeiler, 2012, Algorithm 1); lr scales the update (1.0 in the paper):

        E[g^2]  = rho * E[g^2] + (1 - rho) * g ** 2
        dx      = -sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g
        E[dx^2] = rho * E[dx^2] + (1 - rho) * dx ** 2
        param  += lr * dx
    """
    avg_sq_grad *= rho
    avg_sq_grad += (1.0 - rho) * grad * grad
    delta = -np.sqrt(avg_sq_delta + eps) / np.sqrt(avg_sq_grad + eps) * grad
    avg_sq_delta *= rho
    avg_sq_delta += (1.0 - rho) * delta * delta
    param += lr * delta


@_jit
def adam_init(param):
    """(m, v): the first and second moment estimates, zeros shaped like param."""
    return np.zeros_like(param), np.zeros_like(param)


@_jit
def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam (Kingma & Ba, 2015, Algorithm 1) with bias correction; t is the step number,
    starting at 1 and shared by all parameters:

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t),  v_hat = v / (1 - beta2 ** t)
        param -= lr * m_hat / (sqrt(v_hat) + eps)
    """
    m *= beta1
    m += (1.0 - beta1) * grad
    v *= beta2
    v += (1.0 - beta2) * grad * grad
    c1 = 1.0 - beta1 ** t
    c2 = 1.0 - beta2 ** t
    param -= lr * (m / c1) / (np.sqrt(v / c2) + eps)


# ---------------------------------------------------------------------------
# Learning-rate schedules
# ---------------------------------------------------------------------------

@_jit
def exponential_decay(lr0, decay_rate, t):
    """lr0 * exp(-decay_rate * t), for step or epoch t = 0, 1, 2, ..."""
    return lr0 * np.exp(-decay_rate * t)


@_jit
def step_decay(lr0, factor, step_size, t):
    """lr0 * factor ** (t // step_size): multiply by `factor` every `step_size` epochs."""
    return lr0 * factor ** (t // step_size)


@_jit
def plateau_init(lr):
    """The state of `reduce_on_plateau`: [lr, best metric so far, epochs without improvement].
    state[0] is the current learning rate."""
    state = np.empty(3)
    state[0] = lr
    state[1] = np.inf
    state[2] = 0.0
    return state


@_jit
def reduce_on_plateau(state, metric, factor=0.1, patience=10, min_lr=0.0, threshold=0.0):
    """Call once per epoch with a validation metric to minimize; returns the learning rate.

    An epoch improves when metric < best - threshold. After more than `patience` epochs in a
    row without improvement the rate is multiplied by `factor` (never below `min_lr`) and the
    count restarts (as Keras' ReduceLROnPlateau and PyTorch's, mode "min", absolute
    threshold, no cooldown). `state` comes from `plateau_init(lr)` and is updated in place.
    """
    if metric < state[1] - threshold:
        state[1] = metric
        state[2] = 0.0
    else:
        state[2] += 1.0
        if state[2] > patience:
            state[0] = max(state[0] * factor, min_lr)
            state[2] = 0.0
    return state[0]


# ---------------------------------------------------------------------------
# Early stopping on a validation loss
# ---------------------------------------------------------------------------

@_jit
def early_stopping_init():
    """The state of `early_stopping`: [best loss so far, epochs without improvement]."""
    state = np.empty(2)
    state[0] = np.inf
    state[1] = 0.0
    return state


@_jit
def early_stopping(state, val_loss, patience, min_delta=0.0):
    """Call once per epoch; returns (improved, stop).

    improved: val_loss < best - min_delta (save your parameters now: they are the best so
    far). stop: `patience` epochs in a row have not improved. `state` comes from
    `early_stopping_init()` and is updated in place.
    """
    improved = val_loss < state[0] - min_delta
    if improved:
        state[0] = val_loss
        state[1] = 0.0
    else:
        state[1] += 1.0
    return improved, state[1] >= patience
