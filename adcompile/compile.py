"""Pass `compile`: module text -> a callable, through a content-hashed file in the cache.

The text is written once to `<cache>/<function>_<hash>.py` and imported under a stable
module name; `numba.njit(cache=True)` then keeps the machine code beside it, so a second
process asking for the same derivative loads it instead of compiling. A file whose content
does not match its name's hash (a truncated or edited entry) is rewritten, never imported.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ENV_CACHE = "ADCOMPILE_CACHE_DIR"
# LLVM may reassociate sums and products, ignore the sign of zero, and fuse multiply-adds in
# generated code: a reversed loop's adjoint update `dv = -dv * v1 + 4 * (dv * v2)` becomes one
# multiply on the loop-carried chain (`dv * (4 * v2 - v1)`), and reductions vectorize. Results
# change in the last bits only; NaN and inf are still honoured (no `nnan`, `ninf`).
FASTMATH = frozenset({"reassoc", "nsz", "contract"})
_loaded: dict[tuple[str, bool], Callable] = {}


def cache_dir() -> Path:
    """`$ADCOMPILE_CACHE_DIR`, else `$XDG_CACHE_HOME/adcompile`, else `~/.cache/adcompile`."""
    explicit = os.environ.get(ENV_CACHE)
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(base) / "adcompile"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _check_private(path)
    return path


def _check_private(path: Path) -> None:
    """Generated code is imported and run: a directory others can write to is refused."""
    info = path.stat()
    if info.st_mode & 0o022 or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        raise CacheError(
            f"adcompile: refusing the cache directory {path}: it is writable by other users or "
            f"owned by another user (mode {stat.filemode(info.st_mode)}), and adcompile imports "
            f"code from it. Run `chmod 700 {path}`, or set {ENV_CACHE} to a private directory.")


class CacheError(RuntimeError):
    """The cache directory is not safe to import generated code from."""


def load(text: str, function: str, jit: bool) -> tuple[Callable, Path]:
    """Import `function` from `text` (compiled with Numba when `jit`)."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    stem = f"{function}_{digest}"
    path = cache_dir() / f"{stem}.py"
    key = (str(path), jit)
    if key in _loaded:
        return _loaded[key], path
    _write_if_changed(path, text)
    module = _import(f"_adcompile_{stem}", path)
    fn = getattr(module, function)
    if jit:
        import numba

        fn = numba.njit(cache=True, fastmath=set(FASTMATH))(fn)
    _loaded[key] = fn
    return fn, path


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text() == text:
            return  # keep the file (and its mtime, which Numba's cache index checks)
    except (OSError, UnicodeDecodeError):
        pass
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp_", suffix=".py")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the new one


def _import(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
