"""Minibatches: shuffled index arrays, as `@numba.njit` functions callable from Python or from
inside a compiled training loop.

Randomness comes from Numba's generator (`np.random` inside njit code, separate from NumPy's
global one); `seed(s)` seeds it, as do the `seed=` arguments below (a negative seed leaves it
alone, so successive calls give fresh shuffles)::

    from adcompile import data

    @numba.njit
    def epoch(W, X, y, batch_size, lr):
        perm = data.permutation(X.shape[0])
        for b in range(data.num_batches(X.shape[0], batch_size)):
            idx = data.batch_indices(perm, b, batch_size)
            loss, dW = vg(W, X[idx], y[idx])    # X[idx]: the rows of this batch (a copy)
            W -= lr * dW
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "batch_indices",
    "num_batches",
    "permutation",
    "sample_batch",
    "seed",
    "shuffled_batches",
]

_jit = numba.njit(cache=True)


@_jit
def seed(s):
    """Seed Numba's random generator (used by np.random inside njit code, by this module and
    by `adcompile.nn.dropout_mask`)."""
    np.random.seed(s)


@_jit
def permutation(n, seed=-1):
    """A random permutation of 0..n-1 (int64); seeds Numba's generator first if seed >= 0."""
    if seed >= 0:
        np.random.seed(seed)
    return np.random.permutation(n)


@_jit
def num_batches(n, batch_size, drop_last=False):
    """How many batches of batch_size cover n examples; the last one is shorter unless
    drop_last, which drops it."""
    if drop_last:
        return n // batch_size
    return (n + batch_size - 1) // batch_size


@_jit
def batch_indices(perm, b, batch_size):
    """The indices of batch b: perm[b * batch_size : (b + 1) * batch_size] (shorter at the
    end). A view of perm; index your data with it: X[idx]."""
    start = b * batch_size
    return perm[start:min(start + batch_size, perm.shape[0])]


@_jit
def shuffled_batches(n, batch_size, seed=-1):
    """One epoch of shuffled minibatches as a (n // batch_size, batch_size) int64 array: row b
    holds batch b's indices. The n % batch_size examples left over are dropped (a fresh
    shuffle each epoch gives every example the same chance over epochs)."""
    k = n // batch_size
    return permutation(n, seed)[:k * batch_size].reshape((k, batch_size))


@_jit
def sample_batch(n, batch_size, seed=-1):
    """batch_size distinct indices drawn at random from 0..n-1 (sampling a minibatch without
    keeping track of epochs)."""
    return permutation(n, seed)[:batch_size].copy()
