"""Run every benchmark, each in its own subprocess, and print their tables: the one command.

    python benchmarks/run_all.py

Exits non-zero if any benchmark fails (for example when implementations disagree).
"""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("mlp_step.py", "mlp_train.py", "scalar_loop.py", "second_order.py")


def run(script):
    """Run one script, its output going straight to ours; True if it succeeded."""
    print(f"# benchmarks/{script}\n", flush=True)
    start = time.perf_counter()
    code = subprocess.run([sys.executable, str(HERE / script)], check=False).returncode
    status = "ok" if code == 0 else f"FAILED, exit code {code}"
    print(f"\n({script}: {status}, {time.perf_counter() - start:.0f} s)\n", flush=True)
    return code == 0


def main():
    failed = [script for script in SCRIPTS if not run(script)]
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
