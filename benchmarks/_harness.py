"""What the benchmark scripts share: thread pinning, timing, optional imports, tables.

Import this module before numpy: on import it pins every thread pool to one thread, so the
numbers measure the code rather than how two cores get scheduled.
"""

import importlib
import os
import time

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
for _var in THREAD_VARS:
    os.environ[_var] = "1"
# JAX's CPU backend (XLA) has its own thread pools. Recent jaxlib ignores the XLA flags below
# and sizes its pools from PJRT_NPROC (else one thread per core): set both.
XLA_THREAD_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {XLA_THREAD_FLAGS}".strip()
os.environ["PJRT_NPROC"] = "1"

NOT_INSTALLED = "not installed"


def optional(name):
    """The module `name`, or None when it is not installed (JAX and PyTorch are optional)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def calls(fn, *args):
    """A runner for `best_times`: `run(n)` calls `fn(*args)` n times from Python."""
    def run(n):
        for _ in range(n):
            fn(*args)
    return run


def best_times(runners, rounds=11, min_time=0.05, budget=10.0):
    """{name: seconds per call} for {name: run}, where `run(n)` makes n calls.

    Each runner's n grows until one timing lasts `min_time`, so timer resolution and loop
    overhead vanish. Rounds interleave the runners, so a burst of load from elsewhere on the
    machine hits all of them alike, and each keeps its best round, the least disturbed one.
    Slow runners get fewer rounds, so that each stays within about `budget` seconds.
    """
    sizes, best, count = {}, {}, {}
    for name, run in runners.items():
        n = 1
        while (t := _timed(run, n)) < min_time:
            n = max(2 * n, int(n * 1.2 * min_time / max(t, 1e-9)))
        sizes[name], best[name] = n, t / n
        count[name] = max(2, min(rounds, int(budget / t)))
    for i in range(rounds):
        for name, run in runners.items():
            if i < count[name]:
                best[name] = min(best[name], _timed(run, sizes[name]) / sizes[name])
    return best


def _timed(run, n):
    start = time.perf_counter()
    run(n)
    return time.perf_counter() - start


def table(headers, rows):
    """A markdown table with padded columns (readable as plain text too)."""
    cells = [list(map(str, headers))] + [list(map(str, r)) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def duration(seconds):
    """A time in the unit that suits it: `850.3 µs`, `12.41 ms`."""
    if seconds >= 1e-3:
        return f"{seconds * 1e3:,.2f} ms"
    return f"{seconds * 1e6:,.1f} µs"


def ratio(seconds, baseline):
    """`seconds / baseline` as `1.23x`, or `-` when either is missing."""
    return "-" if seconds is None or baseline is None else f"{seconds / baseline:,.2f}x"


def timing_row(name, seconds, baseline):
    """A row `name | us per call | ratio`; `seconds` None means the library is missing."""
    if seconds is None:
        return [name, NOT_INSTALLED, "-"]
    return [name, f"{seconds * 1e6:,.1f}", f"{seconds / baseline:,.2f}x"]
