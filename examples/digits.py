"""Handwritten digits: a 64-256-10 ReLU network on scikit-learn's bundled 8x8 digits (1797
images, no download), trained with Adam, dropout, L2 weight decay and an exponentially
decaying learning rate, the whole loop one `@numba.njit` function.

    python examples/digits.py [--quick]

The dropout masks are drawn inside the compiled loop (`nn.dropout_mask`) and passed to the
loss, which applies them with `nn.dropout`. The last line printed is the accuracy on the
held-out quarter of the images.
"""

import os
import sys
import time

# One BLAS thread: on matrices this small OpenBLAS's threads cost more than they save, and on a
# busy machine they made each step up to 70 times slower. Set before NumPy and SciPy load.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numba
import numpy as np
from sklearn.datasets import load_digits

import adcompile as ad
from adcompile import data, nn, optim

HIDDEN = 256


def logits(W1, b1, W2, b2, X, mask, rate):
    H = nn.dropout(nn.relu(X @ W1 + b1), mask, rate)
    return H @ W2 + b2


def loss(W1, b1, W2, b2, X, labels, mask, rate, lam):
    Z = logits(W1, b1, W2, b2, X, mask, rate)
    return nn.softmax_cross_entropy_int(Z, labels) + lam * (nn.l2(W1) + nn.l2(W2))


vg = ad.value_and_grad(loss, wrt=(0, 1, 2, 3))


@numba.njit(cache=True)
def fit(W1, b1, W2, b2, X, y, epochs, batch_size, lr0, decay, lam, rate):
    """Adam on shuffled minibatches, in place; returns the mean training loss of each epoch."""
    mW1, vW1 = optim.adam_init(W1)
    mb1, vb1 = optim.adam_init(b1)
    mW2, vW2 = optim.adam_init(W2)
    mb2, vb2 = optim.adam_init(b2)
    losses = np.zeros(epochs)
    t = 0
    for epoch in range(epochs):
        lr = optim.exponential_decay(lr0, decay, epoch)
        batches = data.shuffled_batches(X.shape[0], batch_size)
        for b in range(batches.shape[0]):
            idx = batches[b]
            mask = nn.dropout_mask((batch_size, W1.shape[1]), rate)  # fresh for every batch
            value, (dW1, db1, dW2, db2) = vg(W1, b1, W2, b2, X[idx], y[idx], mask, rate, lam)
            t += 1
            optim.adam_step(W1, dW1, mW1, vW1, t, lr)
            optim.adam_step(b1, db1, mb1, vb1, t, lr)
            optim.adam_step(W2, dW2, mW2, vW2, t, lr)
            optim.adam_step(b2, db2, mb2, vb2, t, lr)
            losses[epoch] += value / batches.shape[0]
    return losses


def load_split(seed=0, test_fraction=0.25):
    """Pixels scaled from 0..16 to [0, 1]; a seeded shuffle, the last quarter held out."""
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(len(y) * test_fraction)
    train, test = order[n_test:], order[:n_test]
    return X[train], y[train], X[test], y[test]


def init_params(rng, hidden=HIDDEN):
    return [nn.he_normal(64, hidden, rng), np.zeros(hidden), nn.xavier_normal(hidden, 10, rng),
            np.zeros(10)]


def predict(params, X):
    """Class labels, without dropout (rate 0, a mask of ones: the network's expected output)."""
    return np.argmax(logits(*params, X, 1.0, 0.0), axis=1)


def train(epochs, seed=0):
    """A fresh, seeded network trained on the training split; returns (params, split)."""
    Xtr, ytr, Xte, yte = load_split()
    params = init_params(np.random.default_rng(seed))
    data.seed(seed)  # Numba's generator: the shuffles and the dropout masks
    losses = fit(*params, Xtr, ytr, epochs, 32, 2e-3, 0.04, 1e-4, 0.3)
    return params, losses, (Xtr, ytr, Xte, yte)


def main(quick=False):
    epochs = 10 if quick else 80
    start = time.perf_counter()
    params, losses, (Xtr, ytr, Xte, yte) = train(epochs)
    print(f"{len(ytr)} training and {len(yte)} test images; trained {epochs} epochs in "
          f"{time.perf_counter() - start:.1f} s (compiling included on a first run)")
    for epoch in range(0, epochs, max(epochs // 8, 1)):
        print(f"epoch {epoch:3d}  training loss {losses[epoch]:.4f}")
    print(f"training accuracy: {np.mean(predict(params, Xtr) == ytr):.4f}")
    print(f"test accuracy: {np.mean(predict(params, Xte) == yte):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(quick="--quick" in sys.argv[1:]))
