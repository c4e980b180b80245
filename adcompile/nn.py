"""Differentiable building blocks for losses: activations, softmax, losses, regularizers,
dropout and batch normalization, plus weight initializers.

Every differentiable function here is plain Python + NumPy in the language adcompile accepts,
so when your loss calls it, adcompile inlines its body and differentiates it like your own
code (`adcompile.source(g)` shows it, commented with this file's lines)::

    import numpy as np
    import adcompile as ad
    from adcompile import nn

    def loss(W1, b1, W2, b2, X, labels, lam):
        H = nn.relu(X @ W1 + b1)
        logits = H @ W2 + b2
        return nn.softmax_cross_entropy_int(logits, labels) + lam * (nn.l2(W1) + nn.l2(W2))

    vg = ad.value_and_grad(loss, wrt=(0, 1, 2, 3))

Conventions: a batch is the rows of a 2-D array (`X` is `(batch, features)`, weights are
`(fan_in, fan_out)` so that a layer is `X @ W + b`); softmax and its relatives work along
axis 1; losses are means over the batch. At kinks (ReLU, leaky ReLU and ELU at 0, the hinge at
a zero margin) the derivative is taken from the left-hand side, as PyTorch and JAX do:
`relu'(0) = 0`.

The `@numba.njit` functions (`dropout_mask`, `batch_norm_update`) and the initializers are
not differentiated: call them outside the loss and pass their results in.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "batch_norm",
    "batch_norm_eval",
    "batch_norm_update",
    "dropout",
    "dropout_mask",
    "elastic_net",
    "elu",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "hinge",
    "l1",
    "l2",
    "leaky_relu",
    "log_softmax",
    "logsumexp",
    "maxout",
    "mse",
    "one_hot",
    "relu",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_int",
    "tanh",
    "xavier_normal",
    "xavier_uniform",
]


# ---------------------------------------------------------------------------
# Activations (elementwise; scalars or arrays of any rank)
# ---------------------------------------------------------------------------

def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), without overflow for any x.

    Written as a / (a + b) with a = exp(min(x, 0)) and b = exp(min(-x, 0)): both exponents
    are <= 0, and tiny values (sigmoid(-700) ~ 1e-304) keep full relative precision. The
    derivative is sigmoid(x) * (1 - sigmoid(x)) everywhere, including x = 0.
    """
    a = np.exp(np.minimum(x, 0.0))
    b = np.exp(np.minimum(-x, 0.0))
    return a / (a + b)


def tanh(x):
    """The hyperbolic tangent (np.tanh); derivative 1 - tanh(x)**2."""
    return np.tanh(x)


def relu(x):
    """max(0, x); derivative 1 for x > 0 and 0 for x <= 0."""
    return np.where(x > 0.0, x, 0.0)


def leaky_relu(x, alpha=0.01):
    """x for x > 0, alpha * x otherwise (= max(alpha * x, x) for 0 <= alpha <= 1)."""
    return np.where(x > 0.0, x, alpha * x)


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise (Clevert et al., 2016).

    The exponential only ever sees x <= 0, so large x does not overflow; the derivative at 0
    is alpha (the left-hand one).
    """
    return np.where(x > 0.0, x, alpha * np.expm1(np.where(x > 0.0, 0.0, x)))


def maxout(z, k):
    """Maxout units (Goodfellow et al., 2013): the max over groups of k consecutive columns.

    z is (batch, n * k), typically z = X @ W + b with W of shape (fan_in, n * k); the result
    is (batch, n) with out[:, j] = max(z[:, j*k], ..., z[:, j*k + k - 1]). z must be
    C-contiguous (a fresh result of arithmetic is), because it is reshaped to (batch, n, k).
    Ties split the derivative evenly among the tied entries.
    """
    batch, width = z.shape
    return np.max(z.reshape((batch, width // k, k)), axis=2)


# ---------------------------------------------------------------------------
# Softmax and relatives (along axis 1: one row per example)
# ---------------------------------------------------------------------------

def logsumexp(z):
    """log(sum(exp(z), axis=1, keepdims=True)), shape (batch, 1), computed stably: the row
    maximum m is subtracted before exponentiating and added back."""
    m = np.max(z, axis=1, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))


def softmax(z):
    """exp(z) / sum(exp(z)) along each row, stable for large logits."""
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def log_softmax(z):
    """log(softmax(z)) along each row: z - logsumexp(z), never log(0)."""
    return z - logsumexp(z)


def one_hot(labels, num_classes):
    """A float (n, num_classes) array with 1.0 at [i, labels[i]] and 0.0 elsewhere; not
    differentiable (use it for targets and masks)."""
    return np.where(labels[:, None] == np.arange(num_classes)[None, :], 1.0, 0.0)


# ---------------------------------------------------------------------------
# Losses (means over the batch)
# ---------------------------------------------------------------------------

def softmax_cross_entropy(logits, labels_onehot):
    """Mean cross-entropy -1/N sum_i sum_k Y[i, k] log softmax(logits)[i, k].

    labels_onehot is (N, classes); rows may also be any probability distributions (soft
    labels). Only `logits` should be differentiated.
    """
    return -np.sum(labels_onehot * log_softmax(logits)) / logits.shape[0]


def softmax_cross_entropy_int(logits, labels):
    """Mean cross-entropy with integer class labels: -1/N sum_i log softmax(logits)[i, labels[i]].

    labels is an integer array of shape (N,) with values in [0, classes).
    """
    logp = log_softmax(logits)
    n = logits.shape[0]
    total = 0.0
    for i in range(n):
        total = total - logp[i, labels[i]]
    return total / n


def mse(pred, target):
    """Mean squared error: mean((pred - target) ** 2) over all entries."""
    return np.mean((pred - target) ** 2)


def hinge(scores, labels, delta=1.0):
    """Multiclass SVM hinge loss (Weston & Watkins; the CS231n form), mean over the batch:

        1/N sum_i sum_{j != y_i} max(0, scores[i, j] - scores[i, y_i] + delta)

    scores is (N, classes), labels an integer array (N,). For a binary SVM use two columns
    (scores [0, s]) or write max(0, 1 - y * s) directly. At a zero margin the derivative is 0.
    """
    n, classes = scores.shape
    target = one_hot(labels, classes)
    correct = np.sum(scores * target, axis=1, keepdims=True)
    margins = scores - correct + delta
    return np.sum(np.where(margins > 0.0, margins, 0.0) * (1.0 - target)) / n


# ---------------------------------------------------------------------------
# Regularizers (add lam * R(W) to the loss)
# ---------------------------------------------------------------------------

def l2(W):
    """Squared L2 norm sum(W ** 2) (weight decay; the gradient is 2 W)."""
    return np.sum(W * W)


def l1(W):
    """L1 norm sum(|W|) (the derivative at W = 0 is 0)."""
    return np.sum(np.abs(W))


def elastic_net(W, l1_ratio=0.5):
    """l1_ratio * sum(|W|) + (1 - l1_ratio) * sum(W ** 2)."""
    return l1_ratio * l1(W) + (1.0 - l1_ratio) * l2(W)


# ---------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------

def dropout(x, mask, rate):
    """Inverted dropout (Srivastava et al., 2014): x * mask / (1 - rate).

    mask holds 1.0 (keep) or 0.0 (drop), shaped like x (or broadcastable to it), made by
    `dropout_mask(x.shape, rate)` outside the loss and passed in; dividing by the keep
    probability makes the expected activation equal to x, so at evaluation time you use x
    itself (no dropout call). Do not differentiate with respect to mask.
    """
    return x * mask / (1.0 - rate)


@numba.njit(cache=True)
def dropout_mask(shape, rate):
    """A float64 array of the given shape (a tuple) with entries 1.0 with probability
    1 - rate, else 0.0, drawn from Numba's generator (seed it with `adcompile.data.seed`)."""
    return (np.random.random(shape) >= rate).astype(np.float64)


# ---------------------------------------------------------------------------
# Batch normalization (Ioffe & Szegedy, 2015), over the batch axis 0
# ---------------------------------------------------------------------------

def batch_norm(x, gamma, beta, eps=1e-5):
    """Training-mode batch normalization of x (batch, features) with the batch's statistics:

        mu = mean(x, axis 0), var = mean((x - mu) ** 2, axis 0)   (biased)
        out = gamma * (x - mu) / sqrt(var + eps) + beta

    The derivative flows through mu and var as well (adcompile differentiates all of it).
    gamma and beta have shape (features,). Keep running statistics for evaluation with
    `batch_norm_update`.
    """
    mu = np.mean(x, axis=0, keepdims=True)
    xc = x - mu
    var = np.mean(xc * xc, axis=0, keepdims=True)
    return gamma * xc / np.sqrt(var + eps) + beta


def batch_norm_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """Evaluation-mode batch normalization with fixed (running) statistics:
    gamma * (x - running_mean) / sqrt(running_var + eps) + beta."""
    return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta


@numba.njit(cache=True)
def batch_norm_update(running_mean, running_var, x, momentum=0.9):
    """Update running statistics in place from a batch x (batch, features):

        running_mean = momentum * running_mean + (1 - momentum) * mean(x, axis 0)
        running_var  = momentum * running_var  + (1 - momentum) * var_unbiased(x, axis 0)

    The unbiased batch variance (divide by batch - 1) is used, as in Ioffe & Szegedy's
    inference statistics. `momentum` is the weight of the old value (Keras' convention;
    PyTorch's momentum=0.1 is momentum=0.9 here).
    """
    n, d = x.shape
    for j in range(d):
        s = 0.0
        for i in range(n):
            s += x[i, j]
        mu = s / n
        ss = 0.0
        for i in range(n):
            ss += (x[i, j] - mu) ** 2
        var = ss / max(n - 1, 1)
        running_mean[j] = momentum * running_mean[j] + (1.0 - momentum) * mu
        running_var[j] = momentum * running_var[j] + (1.0 - momentum) * var


# ---------------------------------------------------------------------------
# Initializers (plain NumPy; not differentiated)
# ---------------------------------------------------------------------------

def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def xavier_uniform(fan_in, fan_out, rng=None):
    """A (fan_in, fan_out) float64 matrix, uniform on [-a, a] with a = sqrt(6 / (fan_in +
    fan_out)), so Var = a**2 / 3 = 2 / (fan_in + fan_out) (Glorot & Bengio, 2010): keeps the
    variance of activations (forward) and of gradients (backward) roughly constant.

    rng: a np.random.Generator, or a seed for np.random.default_rng.
    """
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return _rng(rng).uniform(-a, a, size=(fan_in, fan_out))


def xavier_normal(fan_in, fan_out, rng=None):
    """A (fan_in, fan_out) matrix ~ Normal(0, 2 / (fan_in + fan_out)) (Glorot & Bengio)."""
    return _rng(rng).normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))


glorot_uniform = xavier_uniform
glorot_normal = xavier_normal


def he_uniform(fan_in, fan_out, rng=None):
    """A (fan_in, fan_out) matrix, uniform on [-a, a] with a = sqrt(6 / fan_in), so
    Var = 2 / fan_in (He et al., 2015; for ReLU layers)."""
    a = np.sqrt(6.0 / fan_in)
    return _rng(rng).uniform(-a, a, size=(fan_in, fan_out))


def he_normal(fan_in, fan_out, rng=None):
    """A (fan_in, fan_out) matrix ~ Normal(0, 2 / fan_in) (He et al., 2015)."""
    return _rng(rng).normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
