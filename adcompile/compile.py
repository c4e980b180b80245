"""Pass `compile`: module text -> a callable, through a content-hashed file in the cache.

The text is written once to `<cache>/<function>_<hash>.py` and imported under a stable
module name; `numba.njit(cache=True)` then keeps the machine code beside it, so a second
process asking for the same derivative loads it instead of compiling. A file whose content
does not match its name's hash (a truncated or edited entry) is rewritten, never imported.

Users' own `@numba.njit(cache=True)` functions call a derivative through a small wrapper
module (`<function>_<hash>_njit.py`, see `_njit_wrapper`) and keep the derivative's machine
code in their own cache entries, which name the generated modules. Only the modules this
process generated can be imported under those names: any other (an entry compiled against a
derivative that has changed since) is refused by `_StaleDerivativeFinder`, which makes Numba
compile the caller afresh.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.util
import inspect
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import StaleDerivativeError

ENV_CACHE = "ADCOMPILE_CACHE_DIR"
# LLVM may reassociate sums and products, ignore the sign of zero, and fuse multiply-adds in
# generated code: a reversed loop's adjoint update `dv = -dv * v1 + 4 * (dv * v2)` becomes one
# multiply on the loop-carried chain (`dv * (4 * v2 - v1)`), and reductions vectorize. Results
# change in the last bits only; NaN and inf are still honoured (no `nnan`, `ninf`).
FASTMATH = frozenset({"reassoc", "nsz", "contract"})
PREFIX = "_adcompile_"  # generated modules are imported as _adcompile_<function>_<hash>
NJIT_SUFFIX = "_njit"  # ... and their wrappers for njit callers as _adcompile_<stem>_njit
_loaded: dict[tuple[str, bool], Callable] = {}
_compiled: dict[str, Callable] = {}  # stem -> the derivative's Numba dispatcher
_njit_entries: dict[str, Callable] = {}  # stem -> what users' njit code calls instead


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
    stem = f"{function}_{_digest(text)}"
    path = cache_dir() / f"{stem}.py"
    key = (str(path), jit)
    if key in _loaded:
        return _loaded[key], path
    _write_if_changed(path, text)
    module = _import(PREFIX + stem, path)
    fn = getattr(module, function)
    if jit:
        import numba

        from .numba_pipeline import KeepBranches

        fn = numba.njit(cache=True, fastmath=set(FASTMATH), pipeline_class=KeepBranches)(fn)
        _compiled[stem] = fn
        _njit_entries[stem] = _njit_wrapper(stem, function, inspect.signature(fn.py_func))
    _loaded[key] = fn
    return fn, path


def _digest(text: str) -> str:
    """The hash naming a generated module: of its text and of the Numba settings that change
    its machine code, which Numba's cache index does not key on (it checks the file's bytecode
    and time stamp only), the compiler pipeline (`numba_pipeline.py`) among them. `NUMBA_BOUNDSCHECK=1` thus gets derivatives compiled with bounds
    checks, not machine code cached without them."""
    from numba.core import config

    settings = f"fastmath={sorted(FASTMATH)} boundscheck={config.BOUNDSCHECK} pipeline=1"
    return hashlib.sha256(f"{text}\0{settings}".encode()).hexdigest()[:20]


def compiled(stem: str) -> Callable:
    """The compiled derivative of a generated module (what its njit wrapper calls)."""
    return _compiled[stem]


def njit_entry(path: Path) -> Callable | None:
    """What users' njit code calls for the derivative at `path`: its wrapper (None when the
    derivative was made with jit=False)."""
    return _njit_entries.get(Path(path).stem)


# Calls from users' njit code go through this wrapper. Compiled code cannot say which of its
# lines raised, and no Python runs between the user's njit function and the derivative: on an
# error, the wrapper leaves nopython code (numba.objmode, in a separate function so that the
# call itself stays inlinable and costs nothing) to let adcompile replay the generated code as
# Python, which raises a GradCallError naming the user's line. If the replay does not fail,
# the call is repeated so that Numba's own error propagates.
_WRAPPER = '''\
# Generated by adcompile: users' @numba.njit code calls {function} through this module, so
# that an error inside the derivative names the source line. Do not edit.
import numba

from adcompile.api import njit_failure
from adcompile.compile import compiled

derivative = compiled("{stem}")


@numba.njit(cache=True)
def report(args):
    with numba.objmode():
        njit_failure("{stem}", args)


@numba.njit(cache=True)
def {function}({params}):
    try:
        return derivative({params})
    except Exception:  # Numba cannot bind the exception: replay the call outside nopython
        pass
    report({args})
    return derivative({params})
'''


def _njit_wrapper(stem: str, function: str, signature: inspect.Signature) -> Callable:
    params = ", ".join(signature.parameters)
    text = _WRAPPER.format(function=function, stem=stem, params=params,
                           args=f"({params},)" if params else "()")
    path = cache_dir() / f"{stem}{NJIT_SUFFIX}.py"
    _write_if_changed(path, text)
    return getattr(_import(PREFIX + stem + NJIT_SUFFIX, path), function)


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


class _StaleDerivativeFinder(importlib.abc.MetaPathFinder):
    """Refuses to import a generated module this process did not generate.

    Generated modules are imported by `load`, never found on sys.path; the only other import of
    their names is Numba's, while it loads a cache entry of a user's njit function that calls a
    derivative (the entry's environments name the modules of the code it embeds:
    numba/core/environment.py, `_rebuild_env`). A name that is not in sys.modules then belongs
    to a derivative this process does not use: the function it was differentiated from has
    changed, and the entry's machine code is the old derivative's. Numba internals relied on:
    that import happening while the entry loads, and an OSError there counting as a missing
    entry (see StaleDerivativeError); tests/test_cache.py checks both with real processes.
    """

    def find_spec(self, name, path=None, target=None):
        if name.startswith(PREFIX):  # other names: not ours to find (None)
            raise StaleDerivativeError(_stale_message(name[len(PREFIX):]))


def _stale_message(stem: str) -> str:
    stem = stem.removesuffix(NJIT_SUFFIX)
    function = stem.rsplit("_", 1)[0]
    origin = ""
    try:
        header = (cache_dir() / f"{stem}.py").read_text().splitlines()[0]
        origin = " (" + header.removeprefix("# Generated by adcompile from ").rstrip(".") + ")"
    except (OSError, IndexError, CacheError):
        pass
    index = _loading_index()
    what = f"{index} and the .nbc files beside it" if index else (
        "the Numba cache files (__pycache__/*.nbi, *.nbc, or those under NUMBA_CACHE_DIR) of "
        "the @numba.njit(cache=True) functions that call it")
    return (f"adcompile: Numba's cache holds machine code that calls an older version of the "
            f"derivative {function}{origin}: the differentiated function has changed since it "
            f"was compiled, and Numba did not compile it afresh by itself: delete {what}, and "
            f"run again.")


def _loading_index() -> str | None:
    """The index file of the cache entry Numba is loading, if a caller's frame shows it."""
    frame = sys._getframe(1)
    while frame is not None:
        index = getattr(frame.f_locals.get("self"), "_index_path", None)
        if isinstance(index, str):
            return index
        frame = frame.f_back
    return None


def _install_finder() -> None:
    # by name: a reloaded adcompile.compile must not install a second one
    if not any(type(f).__name__ == "_StaleDerivativeFinder" for f in sys.meta_path):
        sys.meta_path.append(_StaleDerivativeFinder())


_install_finder()
