"""adcompile.optim and adcompile.data: each optimizer against a NumPy reference written from
its paper's formulas (called from Python and from inside an njit loop), schedules, early
stopping, minibatches, and an end-to-end test: an MLP trained by every optimizer inside one
`@numba.njit` function that calls an `adcompile.value_and_grad` object."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import adcompile as ad
from adcompile import data, nn, optim
from tests.oracles import correctly_rounded, finite_differences

STEPS = 6
# The njit functions here are not cached on disk (no cache=True): Numba's cache of a caller
# keeps the machine code of the functions it calls, and would not notice a change in
# adcompile.optim, adcompile.data or a regenerated derivative.
RNG = np.random.default_rng(42)
SHAPES = [(3, 4), (5,)]


# ---- references, straight from the published update rules ----

def ref_sgd(p, grads, lr):
    for g in grads:
        p = p - lr * g
    return p


def ref_momentum(p, grads, lr, mu):
    v = np.zeros_like(p)
    for g in grads:
        v = mu * v - lr * g
        p = p + v
    return p


def ref_nesterov(p, grads, lr, mu):
    """The look-ahead form stored as phi = theta + mu v (Bengio et al. 2013, CS231n):
    phi += -mu v_prev + (1 + mu) v."""
    v = np.zeros_like(p)
    for g in grads:
        v_prev = v
        v = mu * v - lr * g
        p = p - mu * v_prev + (1 + mu) * v
    return p


def ref_adagrad(p, grads, lr, eps):
    G = np.zeros_like(p)
    for g in grads:
        G = G + g ** 2
        p = p - lr / (np.sqrt(G) + eps) * g
    return p


def ref_rmsprop(p, grads, lr, decay, eps):
    r = np.zeros_like(p)
    for g in grads:
        r = decay * r + (1 - decay) * g ** 2
        p = p - lr * g / (np.sqrt(r) + eps)
    return p


def ref_adadelta(p, grads, lr, rho, eps):
    """Zeiler (2012), Algorithm 1 (with the update scaled by lr)."""
    eg2, edx2 = np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        eg2 = rho * eg2 + (1 - rho) * g ** 2
        rms_dx, rms_g = np.sqrt(edx2 + eps), np.sqrt(eg2 + eps)
        dx = -(rms_dx / rms_g) * g
        edx2 = rho * edx2 + (1 - rho) * dx ** 2
        p = p + lr * dx
    return p


def ref_adam(p, grads, lr, beta1, beta2, eps):
    """Kingma & Ba (2015), Algorithm 1."""
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


# name -> (reference, hyperparameters passed explicitly, the documented defaults or None)
OPTIMIZERS = {
    "sgd": (ref_sgd, (0.1,), None),
    "momentum": (ref_momentum, (0.05, 0.8), (0.05, 0.9)),
    "nesterov": (ref_nesterov, (0.05, 0.8), (0.05, 0.9)),
    "adagrad": (ref_adagrad, (0.3, 1e-3), (1e-2, 1e-8)),
    "rmsprop": (ref_rmsprop, (0.01, 0.8, 1e-4), (1e-3, 0.9, 1e-8)),
    "adadelta": (ref_adadelta, (0.5, 0.9, 1e-4), (1.0, 0.95, 1e-6)),
    "adam": (ref_adam, (0.01, 0.8, 0.99, 1e-6), (1e-3, 0.9, 0.999, 1e-8)),
}
KIND = {name: i for i, name in enumerate(OPTIMIZERS)}


def run_python(name, p, grads, hyper):
    """Call the optimizer from Python, as a user would; None means use the defaults."""
    p = p.copy()
    if name == "sgd":
        state = ()
    elif name in ("adadelta", "adam"):
        state = getattr(optim, f"{name}_init")(p)
    else:
        state = (getattr(optim, f"{name}_init")(p),)
    step = getattr(optim, f"{name}_step")
    for t, g in enumerate(grads, start=1):
        extra = (t,) if name == "adam" else ()
        if hyper is None:  # defaults, except the learning rate where there is none
            lr = () if name in ("adagrad", "rmsprop", "adadelta", "adam") else (0.05,)
            step(p, g, *state, *extra, *lr)
        else:
            step(p, g, *state, *extra, *hyper)
    return p


@numba.njit
def run_njit(kind, p, grads, h):
    """The same from inside compiled code: kind selects the optimizer, h its hyperparameters
    (the order of OPTIMIZERS and of their tuples)."""
    p = p.copy()
    velocity = optim.momentum_init(p)
    cache = optim.adagrad_init(p)
    s1, s2 = optim.adam_init(p)
    for t in range(grads.shape[0]):
        g = grads[t]
        if kind == 0:
            optim.sgd_step(p, g, h[0])
        elif kind == 1:
            optim.momentum_step(p, g, velocity, h[0], h[1])
        elif kind == 2:
            optim.nesterov_step(p, g, velocity, h[0], mu=h[1])
        elif kind == 3:
            optim.adagrad_step(p, g, cache, h[0], h[1])
        elif kind == 4:
            optim.rmsprop_step(p, g, cache, h[0], h[1], h[2])
        elif kind == 5:
            optim.adadelta_step(p, g, s1, s2, h[0], h[1], h[2])
        else:
            optim.adam_step(p, g, s1, s2, t + 1, h[0], h[1], h[2], h[3])
    return p


def problem(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), rng.normal(size=(STEPS,) + shape)


@pytest.mark.parametrize("shape", SHAPES, ids=["2d", "1d"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_from_python(name, shape):
    ref, hyper, defaults = OPTIMIZERS[name]
    p0, grads = problem(shape, KIND[name])
    expected = ref(p0, grads, *hyper)
    np.testing.assert_allclose(run_python(name, p0, grads, hyper), expected, rtol=1e-12,
                               atol=1e-14)
    assert not np.allclose(expected, p0)
    if defaults is not None:
        np.testing.assert_allclose(run_python(name, p0, grads, None), ref(p0, grads, *defaults),
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_inside_njit(name):
    ref, hyper, _ = OPTIMIZERS[name]
    p0, grads = problem((3, 4), 10 + KIND[name])
    got = run_njit(KIND[name], p0, grads, np.array(hyper, dtype=np.float64))
    np.testing.assert_allclose(got, ref(p0, grads, *hyper), rtol=1e-12, atol=1e-14)


def test_state_arrays_and_in_place_update():
    p = np.ones((2, 3))
    m, v = optim.adam_init(p)
    assert m.shape == v.shape == p.shape and m is not v and not m.any()
    alias = p
    optim.adam_step(p, np.ones((2, 3)), m, v, 1, 0.1)
    assert alias is p
    np.testing.assert_allclose(p, 0.9)  # Adam's first step moves every entry by lr
    p32 = np.ones(4, dtype=np.float32)  # float32 parameters stay float32
    optim.momentum_step(p32, np.ones(4, dtype=np.float32), optim.momentum_init(p32), 0.5)
    assert p32.dtype == np.float32
    np.testing.assert_allclose(p32, 0.5)


def test_nesterov_matches_sutskever_look_ahead():
    """On f(theta) = 1/2 theta^T A theta, Sutskever et al.'s iteration with the gradient at the
    look-ahead point theta + mu v, and nesterov_step fed the gradient at its own parameters,
    follow the same path: param == theta + mu v at every step."""
    rng = np.random.default_rng(1)
    B = rng.normal(size=(4, 4))
    A = B @ B.T + np.eye(4)
    lr, mu = 0.05, 0.9
    theta = rng.normal(size=4)
    v = np.zeros(4)
    phi, velocity = theta.copy(), optim.nesterov_init(theta)
    for _ in range(30):
        v = mu * v - lr * (A @ (theta + mu * v))
        theta = theta + v
        optim.nesterov_step(phi, A @ phi, velocity, lr, mu)
        np.testing.assert_allclose(phi, theta + mu * v, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(velocity, v, rtol=1e-10, atol=1e-12)


# ---- schedules and early stopping ----

def ref_plateau(metrics, lr, factor, patience, min_lr, threshold):
    best, bad, lrs = np.inf, 0, []
    for x in metrics:
        if x < best - threshold:
            best, bad = x, 0
        else:
            bad += 1
            if bad > patience:
                lr, bad = max(lr * factor, min_lr), 0
        lrs.append(lr)
    return lrs


METRICS = np.array([1.0, 0.9, 0.95, 0.93, 0.92, 0.91, 0.89, 0.95, 0.96, 0.97, 0.98, 0.99,
                    0.999, 0.97, 0.98])


@numba.njit
def schedules_in_njit(metrics):
    n = metrics.shape[0]
    out = np.empty((5, n))
    plateau = optim.plateau_init(0.1)
    stopper = optim.early_stopping_init()
    for t in range(n):
        out[0, t] = optim.exponential_decay(0.1, 0.3, t)
        out[1, t] = optim.step_decay(0.1, 0.5, 4, t)
        out[2, t] = optim.reduce_on_plateau(plateau, metrics[t], 0.5, 2, 0.02)
        improved, stop = optim.early_stopping(stopper, metrics[t], 5)
        out[3, t] = improved
        out[4, t] = stop
    return out


def test_schedules():
    t = np.arange(15)
    # lr0 * exp(-rate * t) against exp correctly rounded (NumPy's exp on an array takes a
    # SIMD path that depends on the CPU): exponential_decay's libm exp (under 1 ulp) and its
    # product, and the reference's product, are within 2 ulp together; 1e-15 is at least 4.5
    decayed = 0.1 * correctly_rounded("exp", -0.3 * t)
    np.testing.assert_allclose([optim.exponential_decay(0.1, 0.3, k) for k in t], decayed,
                               rtol=1e-15)
    assert [optim.step_decay(0.1, 0.5, 4, k) for k in (0, 3, 4, 7, 8, 12)] == \
        [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]
    out = schedules_in_njit(METRICS)
    np.testing.assert_allclose(out[0], decayed, rtol=1e-15)
    np.testing.assert_allclose(out[1], 0.1 * 0.5 ** (t // 4), rtol=1e-15)
    np.testing.assert_allclose(out[2], ref_plateau(METRICS, 0.1, 0.5, 2, 0.02, 0.0))


def test_reduce_on_plateau():
    state = optim.plateau_init(0.1)
    lrs = [optim.reduce_on_plateau(state, m, 0.5, 2, 0.02) for m in METRICS]
    # improvements at epochs 0, 1, 6; a reduction after 3 bad epochs in a row: at 4, at 9,
    # and at 12 (0.025 * 0.5 clipped to min_lr 0.02)
    expected = [0.1] * 4 + [0.05] * 5 + [0.025] * 3 + [0.02] * 3
    np.testing.assert_allclose(lrs, expected)
    assert state[0] == 0.02 and state[1] == 0.89
    # a threshold demands improvements of at least that much
    lrs = [optim.reduce_on_plateau(optim.plateau_init(1.0), m, 0.1, 0, 0.0, 0.05)
           for m in (1.0, 0.97)]
    assert lrs == [1.0, 1.0]
    state = optim.plateau_init(1.0)
    assert [optim.reduce_on_plateau(state, m, 0.1, 0, 0.0, 0.05) for m in (1.0, 0.97)] == \
        [1.0, pytest.approx(0.1)]
    np.testing.assert_allclose(ref_plateau(METRICS, 0.1, 0.5, 2, 0.02, 0.0), expected)


def test_early_stopping():
    state = optim.early_stopping_init()
    results = [optim.early_stopping(state, m, 5) for m in METRICS]
    improved = [r[0] for r in results]
    stop = [r[1] for r in results]
    assert improved == [True, True, False, False, False, False, True] + [False] * 8
    assert stop.index(True) == 11  # 5 epochs after the last improvement (epoch 6)
    assert state[0] == 0.89
    out = schedules_in_njit(METRICS)
    assert list(out[3].astype(bool)) == improved and list(out[4].astype(bool)) == stop
    state = optim.early_stopping_init()  # min_delta: small gains do not count
    assert [optim.early_stopping(state, m, 2, 0.05)[0] for m in (1.0, 0.97, 0.9)] == \
        [True, False, True]


# ---- minibatches ----

def test_permutation_and_batches():
    perm = data.permutation(10, 0)
    assert perm.dtype == np.int64 and sorted(perm) == list(range(10))
    np.testing.assert_array_equal(data.permutation(10, 0), perm)
    assert not np.array_equal(data.permutation(1000, 1), data.permutation(1000, 2))
    assert data.num_batches(10, 3) == 4 and data.num_batches(10, 3, True) == 3
    assert data.num_batches(9, 3) == 3 and data.num_batches(9, 3, True) == 3
    batches = [data.batch_indices(perm, b, 3) for b in range(data.num_batches(10, 3))]
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    np.testing.assert_array_equal(np.concatenate(batches), perm)
    sb = data.shuffled_batches(10, 3, 5)
    assert sb.shape == (3, 3) and len(set(sb.ravel())) == 9 and sb.max() < 10
    np.testing.assert_array_equal(sb.ravel(), data.permutation(10, 5)[:9])
    sample = data.sample_batch(100, 20, 3)
    assert len(set(sample)) == 20 and sample.min() >= 0 and sample.max() < 100
    data.seed(4)  # a negative seed continues from the generator's state
    a, b = data.permutation(50), data.permutation(50)
    data.seed(4)
    np.testing.assert_array_equal(data.permutation(50), a)
    assert not np.array_equal(a, b)


@numba.njit
def counts_in_njit(n, batch_size, epochs, seed):
    """How often each example is seen, and the mean of each epoch's first batch."""
    data.seed(seed)
    counts = np.zeros(n, dtype=np.int64)
    firsts = np.empty(epochs)
    for e in range(epochs):
        perm = data.permutation(n)
        for b in range(data.num_batches(n, batch_size)):
            idx = data.batch_indices(perm, b, batch_size)
            counts[idx] += 1
            if b == 0:
                firsts[e] = np.mean(idx.astype(np.float64))
    return counts, firsts


def test_minibatches_inside_njit():
    counts, firsts = counts_in_njit(23, 5, 4, 0)
    np.testing.assert_array_equal(counts, 4)  # every example once per epoch
    assert len(set(firsts)) == 4  # a new shuffle each epoch
    np.testing.assert_array_equal(counts_in_njit(23, 5, 4, 0)[1], firsts)


@numba.njit
def fit_linear(X, y, w, epochs, batch_size, lr, patience, seed):
    """Least squares with Adam on shuffled minibatches, reduce-on-plateau and early stopping
    on a held-out quarter; the gradient is hand-written (no adcompile here)."""
    n_val = X.shape[0] // 4
    Xv, yv, Xt, yt = X[:n_val], y[:n_val], X[n_val:], y[n_val:]
    m, v = optim.adam_init(w)
    plateau = optim.plateau_init(lr)
    stopper = optim.early_stopping_init()
    best = w.copy()
    data.seed(seed)
    t = 0
    for epoch in range(epochs):
        batches = data.shuffled_batches(Xt.shape[0], batch_size)
        for b in range(batches.shape[0]):
            idx = batches[b]
            r = Xt[idx] @ w - yt[idx]
            t += 1
            optim.adam_step(w, 2.0 * Xt[idx].T @ r / idx.shape[0], m, v, t, lr)
        val = np.mean((Xv @ w - yv) ** 2)
        lr = optim.reduce_on_plateau(plateau, val, 0.5, 2, 1e-4)
        improved, stop = optim.early_stopping(stopper, val, 6, 1e-9)
        if improved:
            best[:] = w
        if stop:
            return best, epoch
    return best, epochs


def test_training_loop_inside_njit():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    w_true = np.array([1.0, -2.0, 0.5])
    y = X @ w_true + 0.01 * rng.normal(size=200)
    w, epochs = fit_linear(X, y, np.zeros(3), 500, 16, 0.05, 6, 0)
    np.testing.assert_allclose(w, np.linalg.lstsq(X, y, rcond=None)[0], atol=5e-3)
    assert epochs < 500  # early stopping ended the run


# ---- end to end: an MLP trained by each optimizer inside one njit function ----

def mlp_loss(W1, b1, W2, b2, X, labels, lam):
    H = nn.tanh(X @ W1 + b1)
    logits = H @ W2 + b2
    return nn.softmax_cross_entropy_int(logits, labels) + lam * (nn.l2(W1) + nn.l2(W2))


VG = ad.value_and_grad(mlp_loss, wrt=(0, 1, 2, 3))
LR = {"sgd": 0.5, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.1, "rmsprop": 0.01,
      "adadelta": 1.0, "adam": 0.02}
THRESHOLD = 0.2  # final loss / initial loss, for every optimizer


@numba.njit
def train(kind, W1, b1, W2, b2, X, labels, lam, steps, lr):
    """Full-batch training with optimizer `kind` (the order of OPTIMIZERS); returns the loss
    before each step."""
    losses = np.empty(steps)
    a1, c1 = optim.adam_init(W1)  # one or two state arrays per parameter, as kind needs
    a2, c2 = optim.adam_init(b1)
    a3, c3 = optim.adam_init(W2)
    a4, c4 = optim.adam_init(b2)
    for t in range(steps):
        losses[t], (dW1, db1, dW2, db2) = VG(W1, b1, W2, b2, X, labels, lam)
        if kind == 0:
            optim.sgd_step(W1, dW1, lr)
            optim.sgd_step(b1, db1, lr)
            optim.sgd_step(W2, dW2, lr)
            optim.sgd_step(b2, db2, lr)
        elif kind == 1:
            optim.momentum_step(W1, dW1, a1, lr)
            optim.momentum_step(b1, db1, a2, lr)
            optim.momentum_step(W2, dW2, a3, lr)
            optim.momentum_step(b2, db2, a4, lr)
        elif kind == 2:
            optim.nesterov_step(W1, dW1, a1, lr)
            optim.nesterov_step(b1, db1, a2, lr)
            optim.nesterov_step(W2, dW2, a3, lr)
            optim.nesterov_step(b2, db2, a4, lr)
        elif kind == 3:
            optim.adagrad_step(W1, dW1, a1, lr)
            optim.adagrad_step(b1, db1, a2, lr)
            optim.adagrad_step(W2, dW2, a3, lr)
            optim.adagrad_step(b2, db2, a4, lr)
        elif kind == 4:
            optim.rmsprop_step(W1, dW1, a1, lr)
            optim.rmsprop_step(b1, db1, a2, lr)
            optim.rmsprop_step(W2, dW2, a3, lr)
            optim.rmsprop_step(b2, db2, a4, lr)
        elif kind == 5:
            optim.adadelta_step(W1, dW1, a1, c1, lr)
            optim.adadelta_step(b1, db1, a2, c2, lr)
            optim.adadelta_step(W2, dW2, a3, c3, lr)
            optim.adadelta_step(b2, db2, a4, c4, lr)
        else:
            optim.adam_step(W1, dW1, a1, c1, t + 1, lr)
            optim.adam_step(b1, db1, a2, c2, t + 1, lr)
            optim.adam_step(W2, dW2, a3, c3, t + 1, lr)
            optim.adam_step(b2, db2, a4, c4, t + 1, lr)
    return losses


def blobs(n, rng):
    """Three Gaussian blobs in the plane, labels 0, 1, 2."""
    labels = np.arange(n) % 3
    centers = np.array([[0.0, 2.0], [-1.8, -1.0], [1.8, -1.0]])
    return centers[labels] + 0.6 * rng.normal(size=(n, 2)), labels


def test_mlp_gradient_against_finite_differences():
    X, labels = blobs(12, np.random.default_rng(1))
    params = [nn.xavier_normal(2, 5, 3), 0.1 * np.ones(5), nn.xavier_normal(5, 3, 4),
              np.zeros(3)]
    value, grads = VG(*params, X, labels, 1e-2)
    assert value == pytest.approx(mlp_loss(*params, X, labels, 1e-2), rel=1e-12)
    expected = finite_differences(mlp_loss, params + [X, labels, 1e-2], (0, 1, 2, 3))
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_mlp_trains_with_each_optimizer(name):
    X, labels = blobs(60, np.random.default_rng(0))
    params = [nn.xavier_normal(2, 16, 1), np.zeros(16), nn.xavier_normal(16, 3, 2), np.zeros(3)]
    initial = mlp_loss(*params, X, labels, 1e-3)
    losses = train(KIND[name], *params, X, labels, 1e-3, 100, LR[name])
    assert losses[0] == pytest.approx(initial, rel=1e-12)
    assert np.all(np.isfinite(losses))
    assert losses[-1] < THRESHOLD * losses[0], f"{name}: {losses[0]:.3f} -> {losses[-1]:.3f}"
    logits = nn.tanh(X @ params[0] + params[1]) @ params[2] + params[3]
    assert np.mean(np.argmax(logits, axis=1) == labels) > 0.95
