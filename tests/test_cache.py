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
