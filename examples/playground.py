"""The TensorFlow playground (playground.tensorflow.org) as compiled code: a 2-8-8-2 tanh
network on the playground's datasets and the lecture's "1 <= norm <= 2" ring, trained by each
optimizer in `adcompile.optim`, then the same training step timed against plain NumPy.

    python examples/playground.py [--quick]

One `@numba.njit` function runs the whole minibatch training loop, choosing the optimizer by
an integer code, so it compiles once for all seven. Prints the test accuracies and the steps
per second; writes examples/out/playground_boundaries.png (a decision boundary for every
dataset and optimizer) and examples/out/playground_losses.png (the training loss curves).
"""

import importlib.util
import itertools
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: BLAS threads only cost

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numba
import numpy as np

import adcompile as ad
from adcompile import data, nn, optim

OUT = Path(__file__).resolve().parent / "out"
SIZES = (2, 8, 8, 2)  # the playground's widest layers: 8 neurons
BATCH = 16


def forward(W1, b1, W2, b2, W3, b3, X):
    H1 = nn.tanh(X @ W1 + b1)
    H2 = nn.tanh(H1 @ W2 + b2)
    return H2 @ W3 + b3


def loss(W1, b1, W2, b2, W3, b3, X, labels):
    return nn.softmax_cross_entropy_int(forward(W1, b1, W2, b2, W3, b3, X), labels)


vg = ad.value_and_grad(loss, wrt=(0, 1, 2, 3, 4, 5))

# name: (code for `update`, learning rate); each rate was picked by hand for these datasets
OPTIMIZERS = {
    "SGD": (0, 0.3),
    "momentum": (1, 0.03),
    "Nesterov": (2, 0.03),
    "AdaGrad": (3, 0.1),
    "RMSProp": (4, 0.01),
    "Adadelta": (5, 1.0),
    "Adam": (6, 0.01),
}


@numba.njit(cache=True)
def update(opt, p, g, s1, s2, t, lr):
    """One step of optimizer `opt` on parameter p; s1, s2 are its state (unused ones stay 0)."""
    if opt == 0:
        optim.sgd_step(p, g, lr)
    elif opt == 1:
        optim.momentum_step(p, g, s1, lr)
    elif opt == 2:
        optim.nesterov_step(p, g, s1, lr)
    elif opt == 3:
        optim.adagrad_step(p, g, s1, lr)
    elif opt == 4:
        optim.rmsprop_step(p, g, s1, lr)
    elif opt == 5:
        optim.adadelta_step(p, g, s1, s2, lr)
    else:
        optim.adam_step(p, g, s1, s2, t, lr)


@numba.njit(cache=True)
def fit(opt, W1, b1, W2, b2, W3, b3, X, y, epochs, lr):
    """Shuffled minibatches of BATCH, in place; returns the mean training loss of each epoch."""
    sW1, rW1 = optim.adam_init(W1)  # two zero arrays per parameter: room for any optimizer
    sb1, rb1 = optim.adam_init(b1)
    sW2, rW2 = optim.adam_init(W2)
    sb2, rb2 = optim.adam_init(b2)
    sW3, rW3 = optim.adam_init(W3)
    sb3, rb3 = optim.adam_init(b3)
    losses = np.zeros(epochs)
    t = 0
    for epoch in range(epochs):
        batches = data.shuffled_batches(X.shape[0], BATCH)
        for b in range(batches.shape[0]):
            idx = batches[b]
            value, (dW1, db1, dW2, db2, dW3, db3) = vg(W1, b1, W2, b2, W3, b3, X[idx], y[idx])
            t += 1
            update(opt, W1, dW1, sW1, rW1, t, lr)
            update(opt, b1, db1, sb1, rb1, t, lr)
            update(opt, W2, dW2, sW2, rW2, t, lr)
            update(opt, b2, db2, sb2, rb2, t, lr)
            update(opt, W3, dW3, sW3, rW3, t, lr)
            update(opt, b3, db3, sb3, rb3, t, lr)
            losses[epoch] += value / batches.shape[0]
    return losses


# --- the datasets: (n, 2) points and integer labels, in the playground's [-6, 6] box -------

def circle(n, rng):
    """A disk of class 1 inside a ring of class 0."""
    y = rng.integers(0, 2, n)
    r = np.where(y == 1, rng.uniform(0.0, 2.5, n), rng.uniform(3.5, 5.0, n))
    return polar(r, rng.uniform(0.0, 2 * np.pi, n), rng), y


def xor(n, rng):
    """Quadrants: class 1 in the first and third, class 0 in the second and fourth."""
    X = rng.uniform(-5.0, 5.0, (n, 2))
    X += np.sign(X) * 0.3  # a margin around the axes, as in the playground
    return X, (X[:, 0] * X[:, 1] > 0).astype(np.int64)


def gaussians(n, rng):
    """Two Gaussian blobs centred at (2, 2) and (-2, -2)."""
    y = rng.integers(0, 2, n)
    centre = np.where(y[:, None] == 1, 2.0, -2.0)
    return centre + rng.normal(0.0, 1.0, (n, 2)), y


def spiral(n, rng):
    """Two interleaved spiral arms."""
    y = rng.integers(0, 2, n)
    s = rng.uniform(0.0, 1.0, n)
    return polar(5.0 * s, 1.75 * 2 * np.pi * s + np.pi * y, rng), y


def ring(n, rng):
    """The lecture's class 1: 1 <= L2 norm <= 2 (scaled by 2 to fill the box); class 0: the
    rest of a disk of radius 3."""
    r = 3.0 * np.sqrt(rng.uniform(0.0, 1.0, n))  # uniform over the disk's area
    y = ((r >= 1.0) & (r <= 2.0)).astype(np.int64)
    return 2.0 * polar(r, rng.uniform(0.0, 2 * np.pi, n), rng, noise=0.0), y


def polar(r, theta, rng, noise=0.15):
    X = np.stack((r * np.cos(theta), r * np.sin(theta)), axis=1)
    return X + noise * rng.normal(size=X.shape)


DATASETS = {"circle": circle, "xor": xor, "gaussians": gaussians, "spiral": spiral,
            "ring": ring}


def init_params(rng):
    params = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        params += [nn.xavier_normal(fan_in, fan_out, rng), np.zeros(fan_out)]
    return params


def accuracy(params, X, y):
    return np.mean(np.argmax(forward(*params, X), axis=1) == y)


def train_all(epochs, n_train=300, n_test=200):
    """Every optimizer on every dataset, from the same initial weights for each dataset."""
    results = {}  # (dataset, optimizer) -> (params, losses, test accuracy)
    for dname, make in DATASETS.items():
        rng = np.random.default_rng(1)
        X, y = make(n_train + n_test, rng)
        X = X / 2.0  # the box to [-3, 3]: tanh units then bend sharply enough for the spiral
        init = init_params(rng)
        for oname, (code, lr) in OPTIMIZERS.items():
            params = [p.copy() for p in init]
            data.seed(0)  # the same shuffles for every optimizer
            losses = fit(code, *params, X[:n_train], y[:n_train], epochs, lr)
            results[dname, oname] = params, losses, accuracy(params, X[n_train:], y[n_train:])
        results[dname] = X, y, n_train
    return results


def print_table(results):
    print(f"\ntest accuracy {'':>2}" + "".join(f"{o:>10s}" for o in OPTIMIZERS))
    for d in DATASETS:
        print(f"{d:15s}" + "".join(f"{results[d, o][2]:10.3f}" for o in OPTIMIZERS))


def plot_boundaries(results):
    """Rows: datasets; columns: optimizers; colour: P(class 1); dots: the test points."""
    g = np.linspace(-3.0, 3.0, 120)
    grid = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    fig, axes = plt.subplots(len(DATASETS), len(OPTIMIZERS), figsize=(2 * len(OPTIMIZERS),
                             2 * len(DATASETS)), sharex=True, sharey=True)
    for i, d in enumerate(DATASETS):
        X, y, n_train = results[d]
        for j, o in enumerate(OPTIMIZERS):
            params, _, acc = results[d, o]
            p1 = nn.softmax(forward(*params, grid))[:, 1].reshape(len(g), len(g))
            ax = axes[i, j]
            ax.imshow(p1, extent=(-3, 3, -3, 3), origin="lower", cmap="RdBu", vmin=0.0,
                      vmax=1.0, alpha=0.6)  # paler than the dots, as in the playground
            ax.contour(g, g, p1, levels=[0.5], colors="k", linewidths=0.5)
            ax.scatter(X[n_train:, 0], X[n_train:, 1], c=y[n_train:], cmap="RdBu", s=4,
                       edgecolors="k", linewidths=0.2)
            ax.set_title(f"{o} {acc:.0%}", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[i, 0].set_ylabel(d)
    fig.subplots_adjust(left=0.03, right=0.99, bottom=0.01, top=0.96, wspace=0.05, hspace=0.2)
    fig.savefig(OUT / "playground_boundaries.png", dpi=80)
    plt.close(fig)


def plot_losses(results):
    fig, axes = plt.subplots(1, len(DATASETS), figsize=(4 * len(DATASETS), 3.5))
    for ax, d in zip(axes, DATASETS):
        for o in OPTIMIZERS:
            ax.semilogy(results[d, o][1], label=o, linewidth=1)
        ax.set(title=d, xlabel="epoch")
    axes[0].set_ylabel("training loss")
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "playground_losses.png", dpi=80)
    plt.close(fig)


# --- speed: the same SGD training, compiled vs. one NumPy step per Python iteration ----------

def numpy_fit(W1, b1, W2, b2, W3, b3, X, y, epochs, lr, rng):
    """Hand-written backprop of `loss`, one minibatch step per Python iteration."""
    for _ in range(epochs):
        order = rng.permutation(X.shape[0])
        for b in range(X.shape[0] // BATCH):
            idx = order[b * BATCH:(b + 1) * BATCH]
            x, labels = X[idx], y[idx]
            H1 = np.tanh(x @ W1 + b1)
            H2 = np.tanh(H1 @ W2 + b2)
            Z = H2 @ W3 + b3
            P = np.exp(Z - Z.max(axis=1, keepdims=True))
            P /= P.sum(axis=1, keepdims=True)
            P[np.arange(BATCH), labels] -= 1.0  # d(mean cross-entropy)/dZ, times BATCH
            dZ = P / BATCH
            dA2 = (dZ @ W3.T) * (1.0 - H2 ** 2)
            dA1 = (dA2 @ W2.T) * (1.0 - H1 ** 2)
            W3 -= lr * (H2.T @ dZ)
            b3 -= lr * dZ.sum(axis=0)
            W2 -= lr * (H1.T @ dA2)
            b2 -= lr * dA2.sum(axis=0)
            W1 -= lr * (x.T @ dA1)
            b1 -= lr * dA1.sum(axis=0)


def steps_per_second(run, steps, min_time=0.5):
    """Repeat `run` (which takes `steps` steps) until min_time has passed."""
    start, reps = time.perf_counter(), 0
    while (elapsed := time.perf_counter() - start) < min_time or reps == 0:
        run()
        reps += 1
    return reps * steps / elapsed


def benchmark(epochs):
    rng = np.random.default_rng(0)
    X, y = spiral(300, rng)
    X = X / 2.0
    params = init_params(rng)
    steps = epochs * (X.shape[0] // BATCH)
    compiled = steps_per_second(lambda: fit(0, *params, X, y, epochs, 0.1), steps)
    plain = steps_per_second(lambda: numpy_fit(*params, X, y, epochs, 0.1, rng), steps)
    print(f"\nsteps per second ({'-'.join(map(str, SIZES))} tanh, batch {BATCH}, SGD):")
    print(f"  adcompile, compiled loop  {compiled:10,.0f}")
    print(f"  NumPy, hand-written       {plain:10,.0f}   ({compiled / plain:.1f}x slower)")
    if importlib.util.find_spec("torch") is None:
        print("  PyTorch                   not installed")
    else:
        print(f"  PyTorch                   {torch_steps_per_second(X, y, epochs):10,.0f}")


def torch_steps_per_second(X, y, epochs):
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8),
                              torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def run():
        for _ in range(epochs):
            order = torch.randperm(Xt.shape[0])
            for b in range(Xt.shape[0] // BATCH):
                idx = order[b * BATCH:(b + 1) * BATCH]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(net(Xt[idx]), yt[idx]).backward()
                opt.step()

    return steps_per_second(run, epochs * (Xt.shape[0] // BATCH))


def main(quick=False):
    OUT.mkdir(exist_ok=True)
    epochs = 100 if quick else 500
    start = time.perf_counter()
    results = train_all(epochs)
    print(f"trained {len(DATASETS)} datasets x {len(OPTIMIZERS)} optimizers, {epochs} epochs "
          f"of batch {BATCH} each, in {time.perf_counter() - start:.1f} s (compiling included "
          "on a first run)")
    print_table(results)
    plot_boundaries(results)
    plot_losses(results)
    benchmark(epochs=5 if quick else 20)
    print(f"\nwrote {OUT / 'playground_boundaries.png'} and {OUT / 'playground_losses.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(quick="--quick" in sys.argv[1:]))
