"""Reverse mode through a long scalar loop: adcompile's tape against a hand-written adjoint.

Two recurrences, each run for N = 1,000 and 100,000 steps; the gradient is d(final)/d(start):

- the logistic map `v = 4 v (1 - v)`: values stay in [0, 1] but the derivative grows like 2^N,
  so it overflows float64 past N ~ 1,000 (the timing is still the cost of the sweep);
- a contraction `h = 0.9 sin(h) + 0.1 x`, whose derivative stays finite.

Rows: adcompile's `grad` called from Python; the hand-written Numba adjoint (a forward loop
storing the state in a preallocated array, then a reverse loop), the baseline; the same adjoint
flushing adjoints smaller than the smallest normal float64 to zero, which shows what subnormal
arithmetic costs (the contraction's adjoint decays like 0.867^k, and once subnormal it stays
there: rounding to nearest turns 3 units of the smallest subnormal times 0.867 back into 3);
JAX `lax.fori_loop` under `jit(grad)` and PyTorch eager, when installed. Times are per call
and per iteration. The script also reports what adcompile's derivative pushes on its tape per
iteration, read from `adcompile.source`.

    python benchmarks/scalar_loop.py
"""

import re

from _harness import NOT_INSTALLED, best_times, calls, optional, ratio, table  # pins threads

# isort: split
import numba  # after _harness, which has set the thread counts
import numpy as np

import adcompile as ad

SIZES = (1_000, 100_000)
START = 0.3
BASELINE = "hand-written Numba adjoint"
FLUSHED = "hand-written Numba adjoint flushing subnormal adjoints to zero"
JAX = "JAX jit(grad(fori_loop))"
TINY = np.finfo(np.float64).tiny  # the smallest normal float64; below it, subnormals


def logistic(v, n):
    for _ in range(n):
        v = 4.0 * v * (1.0 - v)
    return v


def contraction(x, n):
    h = x
    for _ in range(n):
        h = 0.9 * np.sin(h) + 0.1 * x
    return h


@numba.njit
def logistic_adjoint(v, n):
    tape = np.empty(n)
    for i in range(n):
        tape[i] = v
        v = 4.0 * v * (1.0 - v)
    dv = 1.0
    for i in range(n - 1, -1, -1):
        dv *= 4.0 - 8.0 * tape[i]
    return dv


@numba.njit
def contraction_adjoint(x, n):
    tape = np.empty(n)
    h = x
    for i in range(n):
        tape[i] = h
        h = 0.9 * np.sin(h) + 0.1 * x
    dh, dx = 1.0, 0.0
    for i in range(n - 1, -1, -1):
        dx += 0.1 * dh
        dh *= 0.9 * np.cos(tape[i])
    return dx + dh  # h starts as x: its adjoint joins x's


@numba.njit
def logistic_adjoint_flushed(v, n):
    """logistic_adjoint, with |adjoint| < TINY set to 0 (here it grows, so never: the row
    measures the test's own cost)."""
    tape = np.empty(n)
    for i in range(n):
        tape[i] = v
        v = 4.0 * v * (1.0 - v)
    dv = 1.0
    for i in range(n - 1, -1, -1):
        dv *= 4.0 - 8.0 * tape[i]
        if abs(dv) < TINY:
            dv = 0.0
    return dv


@numba.njit
def contraction_adjoint_flushed(x, n):
    """contraction_adjoint, with |adjoint| < TINY set to 0: where the decaying adjoint would
    turn subnormal (and stay so) it is exactly zero, and arithmetic on zeros is full speed."""
    tape = np.empty(n)
    h = x
    for i in range(n):
        tape[i] = h
        h = 0.9 * np.sin(h) + 0.1 * x
    dh, dx = 1.0, 0.0
    for i in range(n - 1, -1, -1):
        dx += 0.1 * dh
        dh *= 0.9 * np.cos(tape[i])
        if abs(dh) < TINY:
            dh = 0.0
    return dx + dh


# ---- optional libraries -----------------------------------------------------------------

def jax_grads(jax):
    jax.config.update("jax_enable_x64", True)
    jnp, lax = jax.numpy, jax.lax

    def logistic_jax(v, n):
        return lax.fori_loop(0, n, lambda i, v: 4.0 * v * (1.0 - v), v)

    def contraction_jax(x, n):
        return lax.fori_loop(0, n, lambda i, h: 0.9 * jnp.sin(h) + 0.1 * x, x)

    def compiled(f):  # n static: fori_loop then becomes a scan, which reverse mode needs
        g = jax.jit(jax.grad(f), static_argnums=1)
        return lambda x, n: float(g(x, n))  # float() waits for the result

    return {"logistic": compiled(logistic_jax), "contraction": compiled(contraction_jax)}


def torch_grads(torch):
    torch.set_num_threads(1)

    def eager(step):
        def g(x0, n):
            x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
            h = x
            for _ in range(n):
                h = step(h, x)
            return torch.autograd.grad(h, x)[0].item()
        return g

    return {"logistic": eager(lambda v, x: 4.0 * v * (1.0 - v)),
            "contraction": eager(lambda h, x: 0.9 * torch.sin(h) + 0.1 * x)}


# ---- checks, tape, table ----------------------------------------------------------------

def implementations():
    """{implementation: {recurrence: grad(x0, n)} or None when not installed}."""
    jax, torch = optional("jax"), optional("torch")
    return {
        BASELINE: {"logistic": logistic_adjoint, "contraction": contraction_adjoint},
        FLUSHED: {"logistic": logistic_adjoint_flushed,
                  "contraction": contraction_adjoint_flushed},
        "adcompile grad, called from Python": {"logistic": ad.grad(logistic),
                                               "contraction": ad.grad(contraction)},
        "adcompile grad(flush_subnormals=True)": {
            "logistic": ad.grad(logistic, flush_subnormals=True),
            "contraction": ad.grad(contraction, flush_subnormals=True)},
        JAX: jax and jax_grads(jax),
        "PyTorch eager (CPU)": torch and torch_grads(torch),
    }


def check_agree(impls):
    """All agree where the derivative is well conditioned. The logistic map's is checked at
    N = 20: further on, one rounding difference in the trajectory grows like 2^N."""
    for recurrence, n in (("logistic", 20), ("contraction", SIZES[0]), ("contraction", SIZES[-1])):
        ref = impls[BASELINE][recurrence](START, n)
        for name, grads in impls.items():
            if grads is not None:
                got = grads[recurrence](START, n)
                assert np.isclose(got, ref, rtol=1e-9), (name, recurrence, n, got, ref)


# A value stored on a tape: `x_saved.append(x)` (a list) or `x_saved[k] = x` (a buffer).
TAPE_WRITE = re.compile(r"\b\w+_saved(?:\.append\((\w+)\)|\[[^\]\n]*\] = (\w+))")


def tape_report(g, state):
    """What the generated derivative stores per iteration (each a float64 scalar here)."""
    pushed = [a or b for a, b in TAPE_WRITE.findall(ad.source(g))]
    return (f"{g.__name__}: {len(pushed)} value(s) per iteration ({', '.join(pushed)}) x 8 B = "
            f"{8 * len(pushed)} B/iteration; the hand-written adjoint stores {state}: 8 B")


def timing_table(impls):
    rows = []
    for recurrence in ("logistic", "contraction"):
        for n in SIZES:
            runners = {name: calls(grads[recurrence], START, n)
                       for name, grads in impls.items() if grads is not None}
            times = best_times(runners, rounds=7)
            for name in impls:
                rows.append([recurrence, f"{n:,}", name, *timing_cells(times.get(name), n),
                             ratio(times.get(name), times[BASELINE]),
                             ratio(times.get(name), times.get(JAX))])
    return table(["recurrence", "N", "implementation", "time per call (us)", "ns per iteration",
                  "ratio vs hand-written Numba", "ratio vs JAX"], rows)


def timing_cells(seconds, n):
    if seconds is None:
        return [NOT_INSTALLED, "-"]
    return [f"{seconds * 1e6:,.1f}", f"{seconds / n * 1e9:,.2f}"]


def subnormal_steps(n):
    """How many of the contraction's backward steps have a subnormal adjoint."""
    h, hs = START, []
    for _ in range(n):
        hs.append(h)
        h = 0.9 * np.sin(h) + 0.1 * START
    dh, count = 1.0, 0
    for h in reversed(hs):
        dh *= 0.9 * np.cos(h)
        count += 0 < abs(dh) < TINY
    return count


def main():
    impls = implementations()
    check_agree(impls)
    ours = impls["adcompile grad, called from Python"]
    print("## Reverse mode through a scalar loop (gradient of the final state)\n")
    for n in SIZES:
        values = {name: g["logistic"](START, n) for name, g in impls.items() if g is not None}
        print(f"logistic map, N = {n:,}: d v_N / d v_0 =",
              ", ".join(f"{v:.4g} ({name.split(',')[0]})" for name, v in values.items()))
    print()
    print(timing_table(impls), end="\n\n")
    print("Backward steps of the contraction with a subnormal adjoint: "
          + ", ".join(f"{subnormal_steps(n):,} of {n:,}" for n in SIZES), end="\n\n")
    print("Tape (adcompile.source):")
    print("  " + tape_report(ours["logistic"], "v"))
    print("  " + tape_report(ours["contraction"], "h"))


if __name__ == "__main__":
    main()
