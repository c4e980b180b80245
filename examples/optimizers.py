"""Gradient descent, step by step: the lecture's L(w) = w**2 from w0 = 2 with step sizes 0.25,
0.5 and 1, then SGD, momentum, RMSProp and Adam on an elongated 2-D bowl, drawn over its
contour lines.

    python examples/optimizers.py [--quick]

Both derivatives come from adcompile (`grad` of a plain function); the 2-D paths run inside
one `@numba.njit` function that calls the derivative and the `adcompile.optim` step functions.
Writes examples/out/optimizers_w2.png and examples/out/optimizers_paths.png.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numba
import numpy as np

import adcompile as ad
from adcompile import optim

OUT = Path(__file__).resolve().parent / "out"


def square(w):
    return w ** 2


def bowl(w):
    """The lecture's a w1^2 + b w2^2 + c w1 w2: a valley 12 times steeper across than along."""
    return 0.5 * w[0] ** 2 + 3.5 * w[1] ** 2 + 2.0 * w[0] * w[1]


dsquare = ad.grad(square)  # dL/dw = 2 w, as generated code
dbowl = ad.grad(bowl)

OPTIMIZERS = {  # name: (code, learning rate)
    "SGD": (0, 0.23),
    "momentum": (1, 0.02),
    "RMSProp": (2, 0.05),
    "Adam": (3, 0.15),
}


def descend_1d(w0, lr, steps):
    """w_(k+1) = w_(k) - lr * dL/dw at w_(k), as on the slides."""
    ws = [w0]
    for _ in range(steps):
        ws.append(ws[-1] - lr * dsquare(ws[-1]))
    return ws


@numba.njit(cache=True)
def descend_2d(opt, w0, lr, steps):
    """The path of optimizer `opt` (a code from OPTIMIZERS) from w0; row t is w after t steps."""
    w = w0.copy()
    s1, s2 = optim.adam_init(w)  # zeros: the state of whichever optimizer runs
    path = np.empty((steps + 1, 2))
    path[0] = w
    for t in range(1, steps + 1):
        g = dbowl(w)
        if opt == 0:
            optim.sgd_step(w, g, lr)
        elif opt == 1:
            optim.momentum_step(w, g, s1, lr, 0.9)
        elif opt == 2:
            optim.rmsprop_step(w, g, s1, lr, 0.9)
        else:
            optim.adam_step(w, g, s1, s2, t, lr)
        path[t] = w
    return path


def plot_1d(trajectories):
    fig, axes = plt.subplots(1, len(trajectories), figsize=(4 * len(trajectories), 3.5))
    grid = np.linspace(-2.5, 2.5, 200)
    for ax, (lr, ws) in zip(axes, trajectories.items()):
        ws = np.array(ws)
        ax.plot(grid, grid ** 2, color="0.7")
        ax.plot(ws, ws ** 2, "o-", color="C3", markersize=4)
        ax.set_title(f"L(w) = w², α = {lr}")
        ax.set_xlabel("w")
    fig.tight_layout()
    fig.savefig(OUT / "optimizers_w2.png", dpi=100)
    plt.close(fig)


def plot_2d(paths):
    w1, w2 = np.meshgrid(np.linspace(-4.5, 4.5, 200), np.linspace(-2.5, 2.5, 200))
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.contour(w1, w2, bowl(np.stack((w1, w2))), levels=np.geomspace(0.01, 40, 15),
               colors="0.75", linewidths=0.8)
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], ".-", label=name, markersize=3, linewidth=1)
    ax.plot(0, 0, "k*", markersize=12)
    ax.set(xlabel="w1", ylabel="w2", title="0.5 w1² + 3.5 w2² + 2 w1 w2")
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "optimizers_paths.png", dpi=100)
    plt.close(fig)


def main(quick=False):
    OUT.mkdir(exist_ok=True)
    print("gradient descent on L(w) = w**2 from w0 = 2, dL/dw by adcompile:")
    trajectories = {lr: descend_1d(2.0, lr, 5) for lr in (0.25, 0.5, 1.0)}
    for lr, ws in trajectories.items():
        print(f"  step size {lr:<4g}: " + ", ".join(f"{w:g}" for w in ws))
    plot_1d(trajectories)

    steps = 60 if quick else 150
    w0 = np.array([-4.0, 2.2])
    print(f"\n{steps} steps on the bowl from w0 = (-4, 2.2):")
    paths = {}
    for name, (code, lr) in OPTIMIZERS.items():
        paths[name] = descend_2d(code, w0, lr, steps)
        w = paths[name][-1]
        print(f"  {name:9s} lr {lr:<5} -> w = ({w[0]: .4f}, {w[1]: .4f}), L = {bowl(w):.2e}")
    plot_2d(paths)
    print(f"\nwrote {OUT / 'optimizers_w2.png'} and {OUT / 'optimizers_paths.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(quick="--quick" in sys.argv[1:]))
