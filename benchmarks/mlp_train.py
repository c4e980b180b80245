"""One training step (forward, backward, SGD update) of a tanh MLP, at three sizes.

The model is `mlp_step.py`'s loss: two tanh hidden layers, softmax cross-entropy with a stable
logsumexp, plus L2 weight decay, float64. Sizes: tiny 2-16-16-2 (batch 32), medium
784-128-128-10 (batch 64), large 784-512-512-10 (batch 256). Each step trains on the same
batch. Rows:

- hand-written NumPy backprop, one Python call per step;
- hand-written Numba (GEMMs with `@`, elementwise work fused in loops), the whole loop in one
  njit call: the Numba baseline;
- adcompile `value_and_grad` with `adcompile.optim.sgd_step`, the whole loop in one njit call;
  and the same derivative called from Python once per step;
- JAX `jit(value_and_grad + SGD)` once per step, and the whole loop in one `jit`
  (`lax.fori_loop`), the JAX baseline; PyTorch eager; when installed.

Before timing, every implementation takes the same steps from the same weights and must give
the same losses, gradients and updated weights. After the tables: the large step's GEMMs timed
alone (the bound a step cannot beat), a breakdown of where adcompile's step spends its time,
a float32 run of the large size, and a plot, docs/images/mlp_train.png.

    python benchmarks/mlp_train.py
"""

import itertools
import sys
import types
from pathlib import Path

from _harness import best_times, calls, duration, optional, ratio, table  # pins the threads

# isort: split
import numba  # after _harness, which has set the thread counts
import numpy as np
from mlp_step import backprop_numpy, loss, make_problem, njit_loop, torch_value_and_grad, vg

from adcompile import optim, source

SIZES = {  # name: (layer widths, batch)
    "tiny": ((2, 16, 16, 2), 32),
    "medium": ((784, 128, 128, 10), 64),
    "large": ((784, 512, 512, 10), 256),
}
LR = 0.01
PLOT = Path(__file__).resolve().parent.parent / "docs" / "images" / "mlp_train.png"

NUMPY = "hand-written NumPy"
HAND = "hand-written Numba, njit loop"
AD_LOOP = "adcompile value_and_grad, njit loop"
AD_PY = "adcompile value_and_grad, called from Python"
JAX_STEP = "JAX jit(value_and_grad + SGD) per step"
JAX_LOOP = "JAX whole loop in one jit (fori_loop)"
TORCH = "PyTorch eager (CPU)"
NAMES = (NUMPY, HAND, AD_LOOP, AD_PY, JAX_STEP, JAX_LOOP, TORCH)


# ---- hand-written Numba: GEMMs by `@`, every elementwise pass fused into one loop ----------

@numba.njit
def bias_tanh(A, b):
    """A <- tanh(A + b), in place."""
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            A[i, j] = np.tanh(A[i, j] + b[j])


@numba.njit
def softmax_xent(Z, b, Y):
    """Mean cross-entropy of logits Z + b against one-hot Y; Z <- its gradient (p - Y) / n."""
    n, k = Z.shape
    total = 0.0
    for i in range(n):
        m = Z[i, 0] + b[0]
        for j in range(1, k):
            m = max(m, Z[i, j] + b[j])
        s = Z.dtype.type(0.0)
        for j in range(k):
            s += np.exp(Z[i, j] + b[j] - m)
        lse = m + np.log(s)
        for j in range(k):
            log_p = Z[i, j] + b[j] - lse
            total -= Y[i, j] * log_p
            Z[i, j] = (np.exp(log_p) - Y[i, j]) / n
    return total / n


@numba.njit
def tanh_backward(dA, H, db):
    """dA <- dA * (1 - H^2), the pre-activation gradient; db <- its column sums."""
    db[:] = 0.0
    for i in range(dA.shape[0]):
        for j in range(dA.shape[1]):
            d = dA[i, j] - dA[i, j] * H[i, j] * H[i, j]
            dA[i, j] = d
            db[j] += d


@numba.njit
def column_sums(A, out):
    out[:] = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            out[j] += A[i, j]


@numba.njit
def sgd_l2(W, G, lam, lr):
    """W <- W - lr (G + lam W): the L2 term's gradient joins the update."""
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            W[i, j] -= lr * (G[i, j] + lam * W[i, j])


@numba.njit
def sgd(b, g, lr):
    for j in range(b.shape[0]):
        b[j] -= lr * g[j]


@numba.njit
def squares(W):
    s = 0.0
    for x in W.flat:
        s += x * x
    return s


@numba.njit
def hand_step(W1, b1, W2, b2, W3, b3, X, Y, lam, lr):
    """One SGD step; returns the loss before it. Each gradient is used before its weight moves."""
    l2 = 0.5 * lam * (squares(W1) + squares(W2) + squares(W3))
    H1 = X @ W1
    bias_tanh(H1, b1)
    H2 = H1 @ W2
    bias_tanh(H2, b2)
    dZ = H2 @ W3
    value = softmax_xent(dZ, b3, Y) + l2
    db3, db2, db1 = np.empty_like(b3), np.empty_like(b2), np.empty_like(b1)
    dA2 = dZ @ W3.T
    sgd_l2(W3, H2.T @ dZ, lam, lr)
    column_sums(dZ, db3)
    sgd(b3, db3, lr)
    tanh_backward(dA2, H2, db2)
    sgd(b2, db2, lr)
    dA1 = dA2 @ W2.T
    sgd_l2(W2, H1.T @ dA2, lam, lr)
    tanh_backward(dA1, H1, db1)
    sgd(b1, db1, lr)
    sgd_l2(W1, X.T @ dA1, lam, lr)
    return value


@numba.njit
def hand_loop(W1, b1, W2, b2, W3, b3, X, Y, lam, lr, steps):
    value = 0.0
    for _ in range(steps):
        value = hand_step(W1, b1, W2, b2, W3, b3, X, Y, lam, lr)
    return value


@numba.njit
def sgd_all(params, grads, lr):
    """adcompile.optim.sgd_step on each of the six parameters."""
    W1, b1, W2, b2, W3, b3 = params
    dW1, db1, dW2, db2, dW3, db3 = grads
    optim.sgd_step(W1, dW1, lr)
    optim.sgd_step(b1, db1, lr)
    optim.sgd_step(W2, dW2, lr)
    optim.sgd_step(b2, db2, lr)
    optim.sgd_step(W3, dW3, lr)
    optim.sgd_step(b3, db3, lr)


@numba.njit
def adcompile_loop(W1, b1, W2, b2, W3, b3, X, Y, lam, lr, steps):
    """The training loop a user writes: adcompile's derivative, then adcompile.optim's SGD."""
    value = 0.0
    for _ in range(steps):
        value, grads = vg(W1, b1, W2, b2, W3, b3, X, Y, lam)
        sgd_all((W1, b1, W2, b2, W3, b3), grads, lr)
    return value


# ---- implementations: each is (train, weights): train(n) takes n steps, returns the last loss

def njit_trainer(loop, problem):
    params, data = [p.copy() for p in problem[:6]], problem[6:]
    dtype = params[0].dtype.type
    return (lambda n: loop(*params, *data[:2], dtype(data[2]), dtype(LR), n)), lambda: params


def python_trainer(value_and_grad, problem):
    """One value-and-gradient call from Python per step, then an in-place NumPy update."""
    params, data = [p.copy() for p in problem[:6]], problem[6:]

    def train(n):
        for _ in range(n):
            value, grads = value_and_grad(*params, *data)
            for p, g in zip(params, grads):
                p -= LR * g
        return value
    return train, lambda: params


def jax_trainers(jax):
    """{name: make(problem) -> (train, weights)}: one jit call per step, or one for the loop."""
    jax.config.update("jax_enable_x64", True)
    jnp, lax = jax.numpy, jax.lax
    loss_jax = types.FunctionType(loss.__code__, {"np": jnp})  # the same loss, np -> jax.numpy
    value_and_grad = jax.value_and_grad(loss_jax, argnums=(0, 1, 2, 3, 4, 5))

    def step(params, X, Y, lam):
        value, grads = value_and_grad(*params, X, Y, lam)
        return value, tuple(p - LR * g for p, g in zip(params, grads))

    def loop(params, X, Y, lam, n):
        return lax.fori_loop(0, n, lambda i, c: step(c[1], X, Y, lam), (jnp.zeros(()), params))

    jit_step, jit_loop = jax.jit(step, donate_argnums=0), jax.jit(loop, donate_argnums=0)

    def make(per_step):
        def trainer(problem):
            state = [tuple(jnp.array(p) for p in problem[:6])]
            data = [jnp.asarray(a) for a in problem[6:]]

            def train(n):
                params = state[0]
                if per_step:
                    for _ in range(n):
                        value, params = jit_step(params, *data)
                else:
                    value, params = jit_loop(params, *data, n)
                state[0] = jax.block_until_ready(params)
                return float(value)
            return train, lambda: [np.asarray(p) for p in state[0]]
        return trainer
    return {JAX_STEP: make(True), JAX_LOOP: make(False)}


def torch_trainer(torch):
    value_and_grad, prepare = torch_value_and_grad(torch)  # mlp_step's: sets one thread

    def trainer(problem):
        tensors = prepare(problem)
        params = tensors[:6]

        def train(n):
            for _ in range(n):
                value, grads = value_and_grad(*tensors)
                with torch.no_grad():
                    for p, g in zip(params, grads):
                        p.sub_(g, alpha=LR)
            return value.item()
        return train, lambda: [p.detach().numpy() for p in params]
    return trainer


def trainers():
    """{name: make(problem) -> (train, weights)}, None for a library that is not installed."""
    jax, torch = optional("jax"), optional("torch")
    makers = {
        NUMPY: lambda p: python_trainer(backprop_numpy, p),
        HAND: lambda p: njit_trainer(hand_loop, p),
        AD_LOOP: lambda p: njit_trainer(adcompile_loop, p),
        AD_PY: lambda p: python_trainer(vg, p),
        JAX_STEP: None, JAX_LOOP: None, TORCH: None,
    }
    if jax is not None:
        makers.update(jax_trainers(jax))
    if torch is not None:
        makers[TORCH] = torch_trainer(torch)
    return makers


# ---- agreement -------------------------------------------------------------------------

def first_steps(make, problem):
    """Loss before the first step, the first gradients (from the update) and weights after 3."""
    train, weights = make(problem)
    before = [p.copy() for p in problem[:6]]
    value = train(1)
    grads = [(b - np.asarray(p, dtype=b.dtype)) / LR for b, p in zip(before, weights())]
    train(2)
    return value, grads, [np.array(p) for p in weights()]


def check_agree(makers, problem, reference, rtol, atol):
    """Every implementation's loss, gradients and weights after 3 steps match `reference`'s;
    raises AssertionError otherwise."""
    ref_value, ref_grads, ref_weights = first_steps(makers[reference], problem)
    for name, make in makers.items():
        value, grads, weights = first_steps(make, problem)
        assert np.isclose(value, ref_value, rtol=rtol), (name, value, ref_value)
        for got, want in zip(grads, ref_grads):  # tolerance for the subtraction (b - p) / LR
            np.testing.assert_allclose(got, want, rtol=100 * rtol, atol=atol / LR, err_msg=name)
        for got, want in zip(weights, ref_weights):
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=name)


# ---- timing ----------------------------------------------------------------------------

def time_steps(makers, problem, budget):
    """{name: seconds per step} for each installed implementation, interleaved best-of-rounds."""
    runners = {name: make(problem)[0] for name, make in makers.items() if make is not None}
    for train in runners.values():
        train(1)  # compile (JAX: the per-step and the loop functions) before timing
    return best_times(runners, rounds=7, budget=budget)


def size_table(times):
    base_jax, base_hand = times.get(JAX_LOOP), times[HAND]
    rows = []
    for name in NAMES:
        t = times.get(name)
        cell = "not installed" if t is None else duration(t)
        rows.append([name, cell, ratio(t, base_jax), ratio(t, base_hand)])
    return table(["implementation", "time per step", "vs JAX whole-loop jit",
                  "vs hand-written Numba loop"], rows)


def describe(size):
    widths, batch = SIZES[size]
    return f"{'-'.join(map(str, widths))}, batch {batch}"


def problem_of(size, dtype=np.float64):
    widths, batch = SIZES[size]
    problem = make_problem(batch=batch, sizes=widths)
    return tuple(np.asarray(a, dtype) for a in problem[:-1]) + (dtype(problem[-1]),)


# ---- the large step's GEMMs, and where adcompile's step spends its time ----------------

def step_gemms(problem):
    """{label: (A, B)}: each matrix product of one step, with the operands' real layouts."""
    W1, _, W2, _, W3, _, X, _, _ = problem
    n = X.shape[0]
    H1, H2 = np.tanh(X @ W1), np.tanh(X @ W1 @ W2)
    dZ, dA2, dA1 = np.ones((n, W3.shape[1])), np.ones((n, W2.shape[1])), np.ones(H1.shape)
    return {
        "forward X @ W1": (X, W1), "forward H1 @ W2": (H1, W2), "forward H2 @ W3": (H2, W3),
        "weight grad X.T @ dA1": (X.T, dA1), "weight grad H1.T @ dA2": (H1.T, dA2),
        "weight grad H2.T @ dZ": (H2.T, dZ),
        "input grad dZ @ W3.T": (dZ, W3.T), "input grad dA2 @ W2.T": (dA2, W2.T),
    }


@numba.njit
def numba_matmuls(A, B, n):
    """A @ B with Numba's `@` (SciPy's BLAS, as generated code calls it), n times."""
    s = 0.0
    for _ in range(n):
        s += (A @ B)[0, 0]
    return s


def numba_gemms(pairs, n):
    """Each of the step's GEMMs n times, in Numba (one call per GEMM, not per product)."""
    for A, B in pairs:
        numba_matmuls(A, B, n)


def tanh_passes(tanh):
    """An njit function applying `tanh` to both hidden layers, n times (allocating, as the
    generated code does)."""
    @numba.njit
    def passes(H1, H2, n):
        s = 0.0
        for _ in range(n):
            s += tanh(H1)[0, 0] + tanh(H2)[0, 0]
        return s
    return passes


def generated_tanh():
    """(tanh, its name): the tanh generated code calls. adcompile.kernels' vectorized loop once
    the generated code uses it, else Numba's np.tanh (one libm call per element)."""
    kernels = optional("adcompile.kernels")
    if kernels is not None and "fast_tanh(" in source(vg):
        return kernels.tanh, "adcompile.kernels.tanh"
    return np.tanh, "Numba np.tanh"


@numba.njit
def sgd_updates(params, grads, lr, n):
    """adcompile.optim.sgd_step on the six parameters, n times."""
    for _ in range(n):
        sgd_all(params, grads, lr)


VG_ALONE = "adcompile value_and_grad alone (njit loop, no update)"
SGD_ALONE = "the six optim.sgd_step updates alone"
GEMMS = "the step's 8 GEMMs alone (Numba @, as generated code calls it)"
TANH = "tanh of both hidden layers alone ({}, as generated code calls it)"
TANH_LIBM = "tanh of both hidden layers alone (Numba np.tanh: libm, one call per element)"
TANH_NUMPY = "tanh of both hidden layers alone (NumPy np.tanh, vectorized)"
REST = "value_and_grad minus GEMMs and tanh: other elementwise passes, allocation"
WHOLE = (AD_LOOP, HAND, JAX_LOOP)


def piece_runners(problem):
    """{piece: run(n)}: parts of adcompile's step, each timed alone."""
    W1, b1, W2, b2, X = *problem[:4], problem[6]
    H1 = X @ W1 + b1
    H2 = np.tanh(H1) @ W2 + b2
    params = tuple(p.copy() for p in problem[:6])
    grads = vg(*problem)[1]
    pairs = tuple(step_gemms(problem).values())
    vg_loop = njit_loop(vg)
    tanh, name = generated_tanh()
    gen_tanh, libm_tanh = tanh_passes(tanh), tanh_passes(np.tanh)
    runners = {
        VG_ALONE: lambda n: vg_loop(n, problem),
        SGD_ALONE: lambda n: sgd_updates(params, grads, 0.0, n),
        GEMMS: lambda n: numba_gemms(pairs, n),
        TANH: lambda n: gen_tanh(H1, H2, n),
        TANH_LIBM: lambda n: libm_tanh(H1, H2, n),
        TANH_NUMPY: calls(lambda: (np.tanh(H1), np.tanh(H2))),
    }
    if tanh is np.tanh:
        del runners[TANH_LIBM]  # the same as TANH
    for run in runners.values():
        run(1)  # compile before timing
    return {key.format(name): run for key, run in runners.items()}


def breakdown(makers, problem, each_gemm=False):
    """{name: seconds}: the whole steps of `WHOLE` and the pieces of adcompile's step, in one
    interleaved session so that their ratios hold; with `each_gemm`, each GEMM with NumPy's `@`
    too."""
    runners = {name: makers[name](problem)[0] for name in WHOLE if makers.get(name)}
    for train in runners.values():
        train(1)
    runners.update(piece_runners(problem))
    if each_gemm:
        runners.update({label: calls(np.matmul, A, B)  # results dropped: no memory build-up
                        for label, (A, B) in step_gemms(problem).items()})
    best = best_times(runners, rounds=7, budget=1.5)
    tanh = TANH.format(generated_tanh()[1])
    best[REST] = best[VG_ALONE] - best[GEMMS] - best[tanh]
    return best


def breakdown_table(best):
    whole = best[AD_LOOP]
    names = [VG_ALONE, GEMMS, TANH.format(generated_tanh()[1]), REST, SGD_ALONE, TANH_LIBM,
             TANH_NUMPY]
    rows = [[name, duration(best[name]), f"{best[name] / whole:.0%}"]
            for name in names if name in best]
    rows += [[name + " (whole step)", duration(best[name]), f"{best[name] / whole:.0%}"]
             for name in WHOLE if name in best]
    return table(["piece of the step", "time", "share of adcompile's step"], rows)


def gemm_table(problem, best):
    """Each GEMM of the step alone with NumPy's `@`, their sum (the bound), and the steps."""
    rows = [[label, f"{A.shape[0]}x{A.shape[1]} @ {B.shape[0]}x{B.shape[1]}",
             duration(best[label]), ""] for label, (A, B) in step_gemms(problem).items()]
    bound = sum(best[label] for label in step_gemms(problem))
    rows.append(["sum: the GEMM bound", "", duration(bound), "1.00x"])
    rows.append([GEMMS, "", duration(best[GEMMS]), f"{best[GEMMS] / bound:.2f}x"])
    rows += [[name, "whole step", duration(best[name]), f"{best[name] / bound:.2f}x"]
             for name in WHOLE if name in best]
    return table(["GEMM", "shape", "NumPy @, single thread", "vs the GEMM bound"], rows)


# ---- float32, plot, main ---------------------------------------------------------------

def float32_table():
    """The large size in float32 and float64: adcompile's njit loop and the hand-written one,
    all four timed in one session."""
    problem32, problem64 = problem_of("large", np.float32), problem_of("large")
    makers = {AD_LOOP: lambda p: njit_trainer(adcompile_loop, p),
              HAND: lambda p: njit_trainer(hand_loop, p)}
    check_agree(makers, problem32, HAND, rtol=2e-4, atol=1e-6)
    reference = first_steps(makers[HAND], problem64)  # float64 weights after 3 steps
    for got, want in zip(first_steps(makers[AD_LOOP], problem32)[2], reference[2]):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5, err_msg="float32 vs 64")
    runners = {(name, p[0].dtype.name): make(p)[0]
               for name, make in makers.items() for p in (problem32, problem64)}
    best = best_times(runners, rounds=7, budget=3.0)
    rows = [[name, duration(best[name, "float64"]), duration(best[name, "float32"]),
             f"{best[name, 'float64'] / best[name, 'float32']:.2f}x"] for name in makers]
    return table(["large, " + describe("large"), "float64", "float32",
                  "float64 / float32 (speed-up)"], rows)


def plot(all_times):
    """Time per step against the number of parameters (log-log), and the same relative to the
    baseline (JAX's whole loop, else hand-written Numba); False without matplotlib."""
    matplotlib = optional("matplotlib")
    if matplotlib is None:
        return False
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    params = {s: sum(a * b + b for a, b in itertools.pairwise(w)) for s, (w, _) in SIZES.items()}
    base = JAX_LOOP if all(all_times[s].get(JAX_LOOP) for s in SIZES) else HAND
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    for name in NAMES:
        sizes = [s for s in SIZES if all_times[s].get(name) is not None]
        if not sizes:
            continue  # not installed
        x = [params[s] for s in sizes]
        style = {"linewidth": 2.8 if name == AD_LOOP else 1.2, "label": name}
        left.plot(x, [all_times[s][name] * 1e6 for s in sizes], "o-", **style)
        right.plot(x, [all_times[s][name] / all_times[s][base] for s in sizes], "o-", **style)
    left.set(yscale="log", ylabel="time per training step (µs)")
    right.set(yscale="log", ylabel=f"time per step / {base}")
    for ax in (left, right):
        ax.set(xscale="log", xlabel="parameters")
        ax.set_xticks(list(params.values()), [f"{s}\n{params[s]:,}" for s in SIZES])
        ax.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=8)
    fig.suptitle("One SGD step of a tanh MLP, float64, one thread")
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)
    return True


def main():
    makers = trainers()
    present = {name: make for name, make in makers.items() if make is not None}
    print("## One training step of a tanh MLP (forward, backward, SGD), float64\n")
    all_times = {}
    for size in SIZES:
        problem = problem_of(size)
        check_agree(present, problem, AD_LOOP, rtol=1e-9, atol=1e-12)
        all_times[size] = time_steps(present, problem, budget=4.0 if size == "large" else 3.0)
        print(f"### {size}: {describe(size)}\n")
        print(size_table(all_times[size]), end="\n\n")
    print("Each table below is its own interleaved session: its whole-step times are measured "
          "again, next to the pieces.\n")
    for size in SIZES:
        best = breakdown(present, problem_of(size), each_gemm=size == "large")
        if size == "large":
            print(f"### The large step's GEMMs, each timed alone ({describe(size)})\n")
            print(gemm_table(problem_of(size), best), end="\n\n")
        print(f"### Where adcompile's step goes: {size} ({describe(size)})\n")
        print(breakdown_table(best), end="\n\n")
    print("### float32 against float64, large\n")
    print(float32_table(), end="\n\n")
    where = PLOT.relative_to(PLOT.parent.parent.parent)
    print(f"plot: {where}" if plot(all_times) else "plot: skipped, matplotlib not installed")


if __name__ == "__main__":
    sys.exit(main())
