"""The examples run, in their quick mode, as a user would run them."""

import re
import subprocess
import sys
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name), "--quick", *args],
                            check=False, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def test_quickstart():
    out = run_example("quickstart.py")
    assert "gradient check: OK" in out
    assert "def loss_value_and_grad(" in out
    assert "training accuracy" in out


def assert_written(since: float, *names: str) -> None:
    """The PNGs exist and were written by this run (not left over from an earlier one)."""
    for name in names:
        path = EXAMPLES / "out" / name
        assert path.exists() and path.stat().st_mtime >= since - 1.0, f"{path} not written"


def test_optimizers():
    start = time.time()
    out = run_example("optimizers.py")
    # the lecture's trajectories of gradient descent on w**2 from w0 = 2
    assert re.search(r"step size 0\.25 *: 2, 1, 0\.5, 0\.25, 0\.125, 0\.0625\n", out), out
    assert re.search(r"step size 0\.5 *: 2, 0, 0, 0, 0, 0\n", out), out
    assert re.search(r"step size 1 *: 2, -2, 2, -2, 2, -2\n", out), out
    for name in ("SGD", "momentum", "RMSProp", "Adam"):
        assert re.search(rf"{name} +lr [\d.]+ +-> w = ", out), out
    assert_written(start, "optimizers_w2.png", "optimizers_paths.png")


def test_playground():
    start = time.time()
    out = run_example("playground.py")
    header = next(line for line in out.splitlines() if line.startswith("test accuracy"))
    assert header.split()[2:] == ["SGD", "momentum", "Nesterov", "AdaGrad", "RMSProp",
                                  "Adadelta", "Adam"]
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]]
            for line in out.splitlines()
            if line.split()[:1] in (["circle"], ["xor"], ["gaussians"], ["spiral"], ["ring"])}
    assert set(rows) == {"circle", "xor", "gaussians", "spiral", "ring"}
    for easy in ("circle", "xor", "gaussians"):  # learnt by every optimizer even in quick mode
        assert min(rows[easy]) >= 0.9, rows
    assert all(len(accs) == 7 for accs in rows.values())
    assert re.search(r"adcompile, compiled loop +[\d,]+\n", out), out
    assert re.search(r"NumPy, hand-written +[\d,]+", out), out
    assert re.search(r"PyTorch +(not installed|[\d,]+)\n", out), out
    assert_written(start, "playground_boundaries.png", "playground_losses.png")


def test_digits():
    out = run_example("digits.py")
    last = out.rstrip("\n").splitlines()[-1]
    match = re.fullmatch(r"test accuracy: (0\.\d{4})", last)
    assert match, last
    assert float(match.group(1)) > 0.85


def test_saliency():
    start = time.time()
    out = run_example("saliency.py")
    error = re.search(r"saliency vs\. central differences, max rel\. error: (\S+)\n", out)
    assert error and float(error.group(1)) < 1e-5, out
    assert "class of each synthesized image:" in out
    assert_written(start, "saliency.png")
