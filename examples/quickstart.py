"""adcompile in one file: differentiate a small MLP's loss, read the generated derivative,
check it against finite differences, then train the net inside a `@numba.njit` loop.

    python examples/quickstart.py [--quick]

The net is 2-16-16-2 with tanh, trained on two interleaved moons with softmax cross-entropy
(a numerically stable logsumexp) plus L2 weight decay. The first run compiles (about 30 s);
later runs load the compiled code from the cache and take a few seconds.
"""

import itertools
import sys

import numba
import numpy as np

import adcompile as ad


def loss(W1, b1, W2, b2, W3, b3, X, Y, lam):
    H1 = np.tanh(X @ W1 + b1)
    H2 = np.tanh(H1 @ W2 + b2)
    Z = H2 @ W3 + b3
    m = np.max(Z, axis=1, keepdims=True)  # subtract the row max: exp never overflows
    log_p = Z - m - np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True))
    nll = -np.mean(np.sum(Y * log_p, axis=1))
    return nll + 0.5 * lam * (np.sum(W1 ** 2) + np.sum(W2 ** 2) + np.sum(W3 ** 2))


NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")
LAM = 1e-3
vg = ad.value_and_grad(loss, wrt=(0, 1, 2, 3, 4, 5))  # -> (value, (dW1, db1, ..., db3))


def make_moons(n, rng, noise=0.15):
    """Two interleaved half circles, centred; labels one-hot."""
    label = rng.integers(0, 2, n)
    t = rng.uniform(0.0, np.pi, n)
    x = np.where(label == 0, np.cos(t), 1.0 - np.cos(t)) - 0.5
    y = np.where(label == 0, np.sin(t), 0.5 - np.sin(t)) - 0.25
    X = np.stack((x, y), axis=1) + noise * rng.normal(size=(n, 2))
    return X, np.eye(2)[label]


def init_params(rng, sizes=(2, 16, 16, 2)):
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        params += [rng.normal(size=(fan_in, fan_out)) / np.sqrt(fan_in), np.zeros(fan_out)]
    return params


def check_gradients(params, X, Y, eps=1e-6, tol=1e-6):
    """Central differences on every entry; error relative to the parameter's largest entry."""
    _, grads = vg(*params, X, Y, LAM)
    ok = True
    for name, p, g in zip(NAMES, params, grads):
        fd = np.empty_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            up = loss(*params, X, Y, LAM)
            p[i] = old - eps
            down = loss(*params, X, Y, LAM)
            p[i] = old
            fd[i] = (up - down) / (2 * eps)
        err = np.max(np.abs(g - fd)) / max(np.max(np.abs(fd)), 1e-12)
        print(f"  d{name:3s} max rel. error {err:.1e}")
        ok = ok and err < tol
    return ok


# cache=True: compiling this loop re-links the whole derivative (~8 s); cached, later runs skip
# it. When the loss changes, adcompile makes Numba compile the loop again against the new
# derivative (docs/compilation.md).
@numba.njit(cache=True)
def train(W1, b1, W2, b2, W3, b3, X, Y, lam, steps, lr):
    """Full-batch gradient descent, in place; returns the loss at every step."""
    losses = np.empty(steps)
    for step in range(steps):
        losses[step], (dW1, db1, dW2, db2, dW3, db3) = vg(W1, b1, W2, b2, W3, b3, X, Y, lam)
        W1 -= lr * dW1
        b1 -= lr * db1
        W2 -= lr * dW2
        b2 -= lr * db2
        W3 -= lr * dW3
        b3 -= lr * db3
    return losses


def accuracy(W1, b1, W2, b2, W3, b3, X, Y):
    Z = np.tanh(np.tanh(X @ W1 + b1) @ W2 + b2) @ W3 + b3
    return np.mean(np.argmax(Z, axis=1) == np.argmax(Y, axis=1))


def main(quick=False):
    rng = np.random.default_rng(0)
    X, Y = make_moons(200, rng)
    params = init_params(rng)
    print(ad.source(vg))

    print("gradient check against central finite differences:")
    if not check_gradients(params, X, Y):
        print("gradient check: FAILED")
        return 1
    print("gradient check: OK")

    steps = 100 if quick else 500
    losses = train(*params, X, Y, LAM, steps, 0.5)
    for step in range(0, steps, steps // 5):
        print(f"step {step:4d}  loss {losses[step]:.4f}")
    print(f"final loss {losses[-1]:.4f}, training accuracy {accuracy(*params, X, Y):.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(quick="--quick" in sys.argv[1:]))
