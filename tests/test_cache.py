"""The cache of generated code: private, verified, self-repairing, safe under concurrency."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = textwrap.dedent("""
    import sys
    import numpy as np
    import adcompile as ad
    from tests.programs.seeds import logistic3
    g = ad.grad(logistic3)
    print(repr(g(0.3)), g.path)
""")


def run(cache: Path, program: str = PROGRAM) -> subprocess.Popen:
    env = dict(os.environ, ADCOMPILE_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", program], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return out


def test_cache_directory_is_private(tmp_path):
    cache = tmp_path / "fresh"
    finish(run(cache))
    assert cache.stat().st_mode & 0o777 == 0o700


def test_cache_writable_by_others_is_refused(tmp_path):
    cache = tmp_path / "shared"
    cache.mkdir()
    cache.chmod(0o777)
    proc = run(cache)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode != 0
    assert "refusing the cache directory" in err and "chmod 700" in err


def test_corrupt_entry_is_regenerated_not_imported(tmp_path):
    cache = tmp_path / "cache"
    value, path = finish(run(cache)).split()
    Path(path).write_text("raise SystemExit('corrupt cache entry was imported')\n")
    value_again, _ = finish(run(cache)).split()
    assert value_again == value
    assert "corrupt" not in Path(path).read_text()
    Path(path).write_text(Path(path).read_text()[:40])  # truncated
    assert finish(run(cache)).split()[0] == value


def test_two_processes_compiling_at_once_both_succeed(tmp_path):
    cache = tmp_path / "race"
    first, second = run(cache), run(cache)
    assert finish(first).split()[0] == finish(second).split()[0]


def test_permissions_check_names_the_directory(tmp_path, monkeypatch):
    from adcompile.compile import CacheError, cache_dir

    bad = tmp_path / "bad"
    bad.mkdir()
    bad.chmod(0o775)
    monkeypatch.setenv("ADCOMPILE_CACHE_DIR", str(bad))
    with pytest.raises(CacheError, match=str(bad)):
        cache_dir()


# ---- a user's njit(cache=True) function calling a derivative whose source changed --------

LOSS = """\
import numpy as np


def loss(w, x):
    return np.sin(w * x) * w
"""
EDITED = LOSS.replace("* w\n", "* w + 0.5 * w * w\n")  # a regularizer term

TRAIN = """\
import numba

import adcompile
from loss import loss

vg = adcompile.value_and_grad(loss)


@numba.njit(cache=True)
def train(w, x):
    value, grad = vg(w, x)
    return value, grad


print(*(repr(float(v)) for v in train(0.7, 1.3)))
"""


def run_train(project: Path) -> tuple[tuple[float, float], str]:
    """Run train.py in a new process: the (value, gradient) it prints, and its output, where
    NUMBA_DEBUG_CACHE reports which cache entries Numba loaded."""
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{project}", NUMBA_DEBUG_CACHE="1",
               ADCOMPILE_CACHE_DIR=str(project / "adcompile-cache"),
               NUMBA_CACHE_DIR=str(project / "numba-cache"))
    proc = subprocess.run([sys.executable, "train.py"], cwd=project, env=env, text=True, check=False,
                          capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = [line for line in proc.stdout.splitlines() if not line.startswith("[cache]")]
    value, grad = (float(v) for v in printed[-1].split())
    return (value, grad), proc.stdout + proc.stderr


def autograd_value_and_grad(source: str, w: float, x: float) -> tuple[float, float]:
    import autograd
    import autograd.numpy as anp

    namespace = {}
    exec(source.replace("import numpy as np", ""), {"np": anp}, namespace)  # noqa: S102
    return namespace["loss"](w, x), autograd.grad(namespace["loss"])(w, x)


def test_njit_caller_cache_is_recompiled_after_the_loss_changes(tmp_path):
    """Process 1 caches train's machine code, which embeds the derivative; after loss.py is
    edited, process 2 must run the new derivative (Numba compiles train afresh), and process 3
    loads that new entry from the cache."""
    (tmp_path / "loss.py").write_text(LOSS)
    (tmp_path / "train.py").write_text(TRAIN)
    first, _ = run_train(tmp_path)
    assert first == pytest.approx(autograd_value_and_grad(LOSS, 0.7, 1.3), rel=1e-12)

    (tmp_path / "loss.py").write_text(EDITED)
    second, log = run_train(tmp_path)
    assert "index loaded from" in log and "train.train" in log  # the stale entry was found
    assert second == pytest.approx(autograd_value_and_grad(EDITED, 0.7, 1.3), rel=1e-12)
    assert second != pytest.approx(first)

    third, log = run_train(tmp_path)
    assert third == second
    assert any("data loaded from" in line and "train.train" in line
               for line in log.splitlines()), log  # the new entry is used, not recompiled


def test_numba_treats_a_stale_derivative_as_a_missing_cache_entry(tmp_path):
    """The Numba internal the above relies on: an entry whose loading imports a generated
    module this process did not generate loads as None (a miss, so Numba compiles), because
    adcompile raises an OSError from that import and IndexDataCacheFile.load catches those."""
    import importlib

    from numba.core.caching import IndexDataCacheFile

    import adcompile.compile  # noqa: F401  (installs the finder)

    class NeedsOldDerivative:
        def __reduce__(self):
            return importlib.import_module, ("_adcompile_loss_grad_00000000000000000000",)

    cache_file = IndexDataCacheFile(str(tmp_path), "train", ("stamp", 1))
    cache_file.save("key", NeedsOldDerivative())
    assert cache_file.load("key") is None


def test_stale_derivative_error_says_what_to_delete(tmp_path, monkeypatch):
    """Should Numba stop treating it as a miss, the error itself names the derivative, where
    it came from and what to delete."""
    import importlib

    from adcompile.errors import StaleDerivativeError

    monkeypatch.setenv("ADCOMPILE_CACHE_DIR", str(tmp_path))
    stem = "loss_value_and_grad_0123456789abcdef0123"
    (tmp_path / f"{stem}.py").write_text(
        "# Generated by adcompile from loss.py, function loss (lines 4-5).\n")
    with pytest.raises(StaleDerivativeError) as info:
        importlib.import_module(f"_adcompile_{stem}_njit")
    message = str(info.value)
    assert isinstance(info.value, OSError)
    assert "derivative loss_value_and_grad (loss.py, function loss (lines 4-5))" in message
    assert "has changed" in message and "delete" in message and ".nbi" in message


def test_current_derivatives_still_import(tmp_path, monkeypatch):
    import importlib

    import adcompile as ad
    from tests.programs.seeds import logistic3

    monkeypatch.setenv("ADCOMPILE_CACHE_DIR", str(tmp_path))
    g = ad.grad(logistic3)
    module = importlib.import_module(f"_adcompile_{g.path.stem}")
    assert module.__file__ == str(g.path)


def test_numba_settings_are_part_of_the_name(monkeypatch):
    """Numba's cache index does not key on compile options: NUMBA_BOUNDSCHECK=1 must get
    derivatives compiled with bounds checks, not machine code cached without them."""
    from numba.core import config

    from adcompile.compile import _digest

    plain = _digest("text")
    monkeypatch.setattr(config, "BOUNDSCHECK", 1)
    assert _digest("text") != plain
