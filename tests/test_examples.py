"""The examples run, in their quick mode, as a user would run them."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name), "--quick", *args],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def test_quickstart():
    out = run_example("quickstart.py")
    assert "gradient check: OK" in out
    assert "def loss_value_and_grad(" in out
    assert "training accuracy" in out
