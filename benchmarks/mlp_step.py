"""One value-and-gradient step of a tiny MLP loss: adcompile against hand-written backprop.

The loss: a 2-16-16-2 tanh MLP on a batch of 32, float64, softmax cross-entropy (stable
logsumexp) plus L2 weight decay. Rows of the table:

- adcompile's `value_and_grad`, called inside an njit loop and from Python;
- the classic backprop written by hand, in Numba (the baseline) and in NumPy;
- JAX `jit(value_and_grad)` and PyTorch eager, when installed.

A second table gives the time from process start to the first gradient with an empty (cold)
and a filled (warm) adcompile cache, each measured in a fresh subprocess, next to a process
that runs the derivative uncompiled (the transform alone) and one that only imports (the floor).

    python benchmarks/mlp_step.py
"""

import itertools
import os
import subprocess
import sys
import tempfile
import time

from _harness import best_times, calls, optional, table, timing_row  # pins the threads

# isort: split
import numba  # after _harness, which has set the thread counts
import numpy as np

import adcompile as ad


def loss(W1, b1, W2, b2, W3, b3, X, Y, lam):
    H1 = np.tanh(X @ W1 + b1)
    H2 = np.tanh(H1 @ W2 + b2)
    Z = H2 @ W3 + b3
    m = np.max(Z, axis=1, keepdims=True)
    log_p = Z - m - np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True))
    nll = -np.mean(np.sum(Y * log_p, axis=1))
    return nll + 0.5 * lam * (np.sum(W1 ** 2) + np.sum(W2 ** 2) + np.sum(W3 ** 2))


vg = ad.value_and_grad(loss, wrt=(0, 1, 2, 3, 4, 5))
BASELINE = "hand-written Numba, njit loop (baseline)"


def make_problem(batch=32, sizes=(2, 16, 16, 2), seed=0):
    """(W1, b1, W2, b2, W3, b3, X, Y, lam): random weights, inputs and one-hot labels."""
    rng = np.random.default_rng(seed)
    args = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        args += [rng.normal(size=(fan_in, fan_out)) / np.sqrt(fan_in), rng.normal(size=fan_out)]
    X = rng.normal(size=(batch, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    return (*args, X, Y, 1e-3)


# ---- hand-written backprop --------------------------------------------------------------

def log_softmax_numpy(Z):
    m = np.max(Z, axis=1, keepdims=True)
    return Z - m - np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True))


@numba.njit
def log_softmax_rows(Z):
    """Scalar loops, as one writes Numba: no temporaries, and Numba's `max` has no `axis`."""
    out = np.empty_like(Z)
    for i in range(Z.shape[0]):
        m = Z[i, 0]
        for j in range(1, Z.shape[1]):
            m = max(m, Z[i, j])
        s = 0.0
        for j in range(Z.shape[1]):
            s += np.exp(Z[i, j] - m)
        lse = m + np.log(s)
        for j in range(Z.shape[1]):
            out[i, j] = Z[i, j] - lse
    return out


def make_backprop(log_softmax):
    """The textbook backprop of `loss`, for one-hot Y; NumPy and Numba differ only in the
    log-softmax."""
    def backprop(W1, b1, W2, b2, W3, b3, X, Y, lam):
        H1 = np.tanh(X @ W1 + b1)
        H2 = np.tanh(H1 @ W2 + b2)
        log_p = log_softmax(H2 @ W3 + b3)
        n = X.shape[0]
        l2 = np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3)
        value = -np.sum(Y * log_p) / n + 0.5 * lam * l2
        dZ = (np.exp(log_p) - Y) / n  # softmax minus one-hot
        dA2 = (dZ @ W3.T) * (1.0 - H2 * H2)
        dA1 = (dA2 @ W2.T) * (1.0 - H1 * H1)
        return value, (X.T @ dA1 + lam * W1, np.sum(dA1, axis=0),
                       H1.T @ dA2 + lam * W2, np.sum(dA2, axis=0),
                       H2.T @ dZ + lam * W3, np.sum(dZ, axis=0))
    return backprop


backprop_numpy = make_backprop(log_softmax_numpy)
backprop_numba = numba.njit(make_backprop(log_softmax_rows))


def njit_loop(f):
    """An njit function calling `f` n times: the per-call cost with no Python in between."""
    @numba.njit
    def loop(n, args):
        total = 0.0
        for _ in range(n):
            value, grads = f(*args)
            total += value + grads[0][0, 0]  # use the result, so nothing is optimized away
        return total
    return loop


# ---- optional libraries -----------------------------------------------------------------

def jax_value_and_grad(jax):
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def loss_jax(W1, b1, W2, b2, W3, b3, X, Y, lam):
        H1 = jnp.tanh(X @ W1 + b1)
        H2 = jnp.tanh(H1 @ W2 + b2)
        Z = H2 @ W3 + b3
        m = jnp.max(Z, axis=1, keepdims=True)
        log_p = Z - m - jnp.log(jnp.sum(jnp.exp(Z - m), axis=1, keepdims=True))
        nll = -jnp.mean(jnp.sum(Y * log_p, axis=1))
        return nll + 0.5 * lam * (jnp.sum(W1 ** 2) + jnp.sum(W2 ** 2) + jnp.sum(W3 ** 2))

    f = jax.jit(jax.value_and_grad(loss_jax, argnums=(0, 1, 2, 3, 4, 5)))
    return lambda *args: jax.block_until_ready(f(*args)), lambda args: map(jnp.asarray, args)


def torch_value_and_grad(torch):
    torch.set_num_threads(1)

    def vg_torch(W1, b1, W2, b2, W3, b3, X, Y, lam):
        H1 = torch.tanh(X @ W1 + b1)
        H2 = torch.tanh(H1 @ W2 + b2)
        Z = H2 @ W3 + b3
        m = torch.amax(Z, dim=1, keepdim=True)
        log_p = Z - m - torch.log(torch.sum(torch.exp(Z - m), dim=1, keepdim=True))
        nll = -torch.mean(torch.sum(Y * log_p, dim=1))
        value = nll + 0.5 * lam * (torch.sum(W1 ** 2) + torch.sum(W2 ** 2) + torch.sum(W3 ** 2))
        return value, torch.autograd.grad(value, (W1, b1, W2, b2, W3, b3))

    def prepare(args):  # copies, so the benchmark's arrays stay untouched
        tensors = [torch.from_numpy(np.array(a)) for a in args]
        return [t.requires_grad_(i < 6) for i, t in enumerate(tensors)]  # the 6 parameters

    return vg_torch, prepare


def optional_candidates():
    """{name: (value_and_grad, prepare the arguments) or None when not installed}."""
    jax, torch = optional("jax"), optional("torch")
    return {"JAX jit(value_and_grad)": jax and jax_value_and_grad(jax),
            "PyTorch eager (CPU)": torch and torch_value_and_grad(torch)}


def to_numpy(result):
    value, grads = result
    plain = [g.detach() if hasattr(g, "detach") else g for g in (value, *grads)]  # PyTorch's
    return float(plain[0]), [np.asarray(g) for g in plain[1:]]


def check_agree(reference, results):
    """Every implementation's value and gradients match adcompile's."""
    ref_value, ref_grads = to_numpy(reference)
    for name, result in results.items():
        value, grads = to_numpy(result)
        assert np.isclose(value, ref_value, rtol=1e-12), name
        for g, r in zip(grads, ref_grads):
            np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-12, err_msg=name)


# ---- the two tables ---------------------------------------------------------------------

def per_call_table():
    args = make_problem()
    loop_ad, loop_hand = njit_loop(vg), njit_loop(backprop_numba)
    loop_ad(1, args), loop_hand(1, args)  # compile before timing
    runners = {
        BASELINE: lambda n: loop_hand(n, args),
        "hand-written Numba, called from Python": calls(backprop_numba, *args),
        "adcompile value_and_grad, njit loop": lambda n: loop_ad(n, args),
        "adcompile value_and_grad, called from Python": calls(vg, *args),
        "hand-written NumPy": calls(backprop_numpy, *args),
    }
    results = {"hand-written NumPy": backprop_numpy(*args), "hand Numba": backprop_numba(*args)}
    missing = []
    for name, impl in optional_candidates().items():
        if impl is None:
            missing.append(name)
            continue
        f, prepare = impl
        prepared = list(prepare(args))
        results[name] = f(*prepared)
        runners[name] = calls(f, *prepared)
    check_agree(vg(*args), results)

    times = best_times(runners)
    rows = [timing_row(name, t, times[BASELINE]) for name, t in times.items()]
    rows += [timing_row(name, None, None) for name in missing]
    return table(["implementation", "time per call (us)", "ratio vs hand-written Numba"], rows)


# What the child process does before printing the time: (command-line flag, its row).
FIRST_CALL = ("--first-call", "")
NO_JIT = ("--no-jit", "transform only: `jit=False`, the derivative run as plain Python")
IMPORTS = ("--imports", "imports only (Python, NumPy, Numba, SciPy, adcompile): the floor")


def first_gradient_seconds(cache, mode=FIRST_CALL):
    """Wall time from launching a fresh Python process to its first gradient."""
    env = dict(os.environ, ADCOMPILE_CACHE_DIR=cache)
    start = time.time()
    out = subprocess.run([sys.executable, __file__, mode[0]], env=env, check=True,
                         capture_output=True, text=True).stdout
    return float(out.split()[-1]) - start


def first_call_table():
    with tempfile.TemporaryDirectory(prefix="adcompile-bench-") as cache:
        cold = first_gradient_seconds(cache)
        warm = first_gradient_seconds(cache)
    with tempfile.TemporaryDirectory(prefix="adcompile-bench-") as cache:
        no_jit = first_gradient_seconds(cache, NO_JIT)
        imports = first_gradient_seconds(cache, IMPORTS)
    rows = [["cold: empty cache (transform + Numba compile)", f"{cold:.2f}"],
            ["warm: cache filled by the cold run", f"{warm:.2f}"],
            [f"cold, {NO_JIT[1]}", f"{no_jit:.2f}"], [IMPORTS[1], f"{imports:.2f}"]]
    return table(["process start to first gradient (adcompile)", "seconds"], rows)


def main():
    if FIRST_CALL[0] in sys.argv[1:]:  # child processes of first_gradient_seconds
        vg(*make_problem())
    elif NO_JIT[0] in sys.argv[1:]:
        ad.value_and_grad(loss, wrt=(0, 1, 2, 3, 4, 5), jit=False)(*make_problem())
    if {FIRST_CALL[0], NO_JIT[0], IMPORTS[0]} & set(sys.argv[1:]):
        print(time.time())
        return
    print("## MLP loss: value and gradient, 2-16-16-2 tanh, batch 32, float64\n")
    print(per_call_table(), end="\n\n")
    print(first_call_table())


if __name__ == "__main__":
    main()
