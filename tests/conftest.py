"""Shared test setup: one on-disk cache for compiled derivatives, under pytest's cache
directory, so a second run of the suite loads machine code instead of compiling it."""

import os
from pathlib import Path

_root = Path(__file__).resolve().parent.parent
os.environ.setdefault("ADCOMPILE_CACHE_DIR", str(_root / ".pytest_cache" / "adcompile"))
