"""The command line: show, export (a module that runs without adcompile), cache, errors."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "adcompile", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)


def test_show_prints_each_mode():
    rev = run("show", "tests/programs/seeds.py:logistic3")
    assert rev.returncode == 0 and "def logistic3_grad(v):" in rev.stdout
    fwd = run("show", "tests/programs/seeds.py:logistic3", "--mode", "fwd")
    assert "v_dot = " in fwd.stdout and "return (v, v_dot)" in fwd.stdout
    hvp = run("show", "tests/programs/mlp.py:relu_mlp_mse", "--wrt", "W1", "--mode", "hvp")
    assert hvp.returncode == 0 and "W1_dot" in hvp.stdout


def test_errors_are_one_line_with_a_nonzero_status():
    for args in (["show", "tests/programs/seeds.py:nope"], ["show", "missing.py:f"],
                 ["show", "no-colon"], ["show", "tests/error_cases.py:uses_try"],
                 ["show", "tests/programs/seeds.py:square", "--wrt", "z"]):
        result = run(*args)
        assert result.returncode != 0, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("adcompile: error: ")


def test_exported_module_runs_without_adcompile(tmp_path):
    out = tmp_path / "rnn_grad.py"
    result = run("export", "tests/programs/loops.py:rnn", "--wrt", "W,U", "-o", str(out))
    assert result.returncode == 0, result.stderr
    check = textwrap.dedent(f"""
        import sys
        class Refuse:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "adcompile":
                    raise ImportError("adcompile is not available here")
        sys.meta_path.insert(0, Refuse())
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        import rnn_grad
        rng = np.random.default_rng(0)
        args = [rng.normal(size=s) for s in [(3, 3), (3, 2), (3,), (5, 2)]]
        dW, dU = rnn_grad.rnn_grad(*args)
        print(repr(dW.sum()), repr(dU.sum()))
    """)
    fresh = subprocess.run([sys.executable, "-I", "-c", check], capture_output=True, text=True,
                           cwd=tmp_path, check=False)
    assert fresh.returncode == 0, fresh.stderr
    import numpy as np

    import adcompile as ad
    from tests.programs.loops import rnn

    rng = np.random.default_rng(0)
    args = [rng.normal(size=s) for s in [(3, 3), (3, 2), (3,), (5, 2)]]
    dW, dU = ad.grad(rnn, wrt=("W", "U"))(*args)
    assert fresh.stdout.split() == [repr(dW.sum()), repr(dU.sum())]


def test_cache_info_and_clear(tmp_path):
    env_dir = tmp_path / "cache"
    import os

    env = dict(os.environ, ADCOMPILE_CACHE_DIR=str(env_dir))
    show = subprocess.run([sys.executable, "-m", "adcompile", "show",
                           "tests/programs/seeds.py:square"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    assert show.returncode == 0
    info = subprocess.run([sys.executable, "-m", "adcompile", "cache", "info"], env=env,
                          capture_output=True, text=True, check=False)
    assert "generated modules: 1" in info.stdout
    clear = subprocess.run([sys.executable, "-m", "adcompile", "cache", "clear"], env=env,
                           capture_output=True, text=True, check=False)
    assert clear.returncode == 0 and not list(env_dir.glob("*.py"))
