"""Unit visualization via backprop: the gradient of a class score with respect to the input
image, for a digit classifier.

    python examples/saliency.py [--quick]

Trains the network of examples/digits.py briefly (its compiled loop, loaded from the cache),
then differentiates the score of class c with respect to the image x, d score_c / d x: a
saliency map of how much each pixel raises or lowers the score. The same derivative, plus an
L2 penalty, drives gradient ascent on x from a blank image: the input that the network finds
most like each digit (argmax_x score_c(x) - lam ||x||^2). Writes examples/out/saliency.png.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see digits.py: small matrices

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from digits import predict, train  # examples/digits.py, beside this file

import adcompile as ad
from adcompile import nn

OUT = Path(__file__).resolve().parent / "out"


def objective(x, W1, b1, W2, b2, c, lam):
    """The logit of class c for one image x (64 pixels), minus lam ||x||^2."""
    z = nn.relu(x @ W1 + b1) @ W2 + b2
    return z[c] - lam * nn.l2(x)


dobjective = ad.grad(objective, wrt="x")  # the saliency map when lam = 0


def saliency(params, x, c):
    return dobjective(x, *params, c, 0.0)


def check_saliency(params, x, c, eps=1e-6):
    """Largest difference between the saliency map and central differences of the score."""
    fd = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = eps
        fd[i] = (objective(x + e, *params, c, 0.0) - objective(x - e, *params, c, 0.0)) / (2 * eps)
    return np.max(np.abs(saliency(params, x, c) - fd)) / np.max(np.abs(fd))


def dream(params, c, steps, lr=0.05, lam=0.3):
    """Gradient ascent on the input from a blank image, kept within the pixel range [0, 1]."""
    x = np.zeros(64)
    for _ in range(steps):
        x = np.clip(x + lr * dobjective(x, *params, c, lam), 0.0, 1.0)
    return x


def plot(images, maps, dreams, labels):
    fig, axes = plt.subplots(3, 10, figsize=(12, 4.2))
    for c in range(10):
        lim = np.max(np.abs(maps[c]))
        axes[0, c].imshow(images[c].reshape(8, 8), cmap="gray_r")
        axes[0, c].set_title(f"label {labels[c]}", fontsize=9)
        axes[1, c].imshow(maps[c].reshape(8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
        axes[2, c].imshow(dreams[c].reshape(8, 8), cmap="gray_r", vmin=0.0, vmax=1.0)
    for ax, name in zip(axes[:, 0], ("image", "d score / d x", "argmax_x score")):
        ax.set_ylabel(name, fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(OUT / "saliency.png", dpi=100)
    plt.close(fig)


def main(quick=False):
    OUT.mkdir(exist_ok=True)
    params, _, (_, _, Xte, yte) = train(epochs=10 if quick else 40)
    print(f"classifier test accuracy: {np.mean(predict(params, Xte) == yte):.4f}")

    first = [np.flatnonzero(yte == c)[0] for c in range(10)]  # one test image per class
    images, labels = Xte[first], yte[first]
    maps = [saliency(params, x, c) for x, c in zip(images, labels)]
    print(f"saliency vs. central differences, max rel. error: "
          f"{check_saliency(params, images[3], labels[3]):.1e}")
    for c, m in enumerate(maps):
        top = np.argsort(-m)[:3]
        print(f"class {c}: pixels that raise the score most (row, col): "
              + ", ".join(f"({p // 8}, {p % 8})" for p in top))

    dreams = [dream(params, c, steps=50 if quick else 200) for c in range(10)]
    guessed = predict(params, np.array(dreams))
    print("class of each synthesized image: " + " ".join(str(g) for g in guessed))
    plot(images, maps, dreams, labels)
    print(f"wrote {OUT / 'saliency.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(quick="--quick" in sys.argv[1:]))
