"""The command line: print or export generated derivatives, and manage the cache.

    python -m adcompile show FILE.py:FUNCTION [--wrt NAME,...] [--mode rev|fwd|hvp]
    python -m adcompile export FILE.py:FUNCTION -o OUT.py [--wrt ...] [--mode ...]
    python -m adcompile cache info | cache clear
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import shutil
import sys
from pathlib import Path

from . import kernels, numba_pipeline, runtime
from .compile import FASTMATH, cache_dir
from .errors import UnsupportedError

MODES = ("rev", "fwd", "hvp")


class CommandError(Exception):
    """A mistake on the command line, reported in one line."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except CommandError as exc:
        print(f"adcompile: error: {exc}", file=sys.stderr)
    except UnsupportedError as exc:
        loc = exc.location
        where = f"{loc.filename}:{loc.line}: " if loc else ""
        hint = f" (hint: {exc.hint})" if exc.hint else ""
        print(f"adcompile: error: {where}unsupported: {exc.construct}{hint}", file=sys.stderr)
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m adcompile",
                                     description="Generated derivatives as Python code.")
    sub = parser.add_subparsers(required=True, metavar="command")
    for name, run, text in (("show", _show, "print the generated derivative"),
                            ("export", _export, "write a standalone module (NumPy + Numba only)")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("target", metavar="FILE.py:FUNCTION")
        cmd.add_argument("--wrt", default=None, help="parameter names, comma-separated")
        cmd.add_argument("--mode", choices=MODES, default="rev")
        if name == "export":
            cmd.add_argument("-o", "--output", required=True, metavar="OUT.py")
        cmd.set_defaults(run=run)
    cache = sub.add_parser("cache", help="inspect or clear the cache of generated code")
    cache.add_argument("action", choices=("info", "clear"))
    cache.set_defaults(run=_cache)
    return parser


def _derivative(args):
    from . import api

    fun = _load(args.target)
    wrt = tuple(args.wrt.split(",")) if args.wrt else 0
    make = {"rev": api.grad, "fwd": api.jvp, "hvp": api.hvp}[args.mode]
    try:
        return make(fun, wrt=wrt, jit=False)
    except (ValueError, TypeError) as exc:
        raise CommandError(str(exc).removeprefix("adcompile: ")) from None


def _show(args) -> int:
    print(_derivative(args).source, end="")
    return 0


def _export(args) -> int:
    g = _derivative(args)
    Path(args.output).write_text(standalone(g.source, g.__name__))
    print(f"wrote {args.output}: {g.__name__}")
    return 0


def standalone(text: str, function: str) -> str:
    """The generated module with the runtime helpers written into it and the function
    compiled with Numba: it imports nothing from adcompile."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("from adcompile.runtime"))
    end = start + 1
    if lines[start].endswith("("):
        end = next(i for i in range(start, len(lines)) if lines[i] == ")") + 1
    body = lines[:start] + ["import numba", "", "# ---- adcompile runtime helpers ----"] + \
        runtime_source() + ["", "# ---- the derivative ----", ""] + lines[end:]
    at = body.index(f"def {function}(" + body[body.index(next(
        ln for ln in body if ln.startswith(f"def {function}(")))][len(f"def {function}("):])
    flags = ", ".join(repr(f) for f in sorted(FASTMATH))
    body.insert(at, f"@numba.njit(cache=True, fastmath={{{flags}}}, pipeline_class=KeepBranches)")
    return "\n".join(body) + "\n"


def runtime_source() -> list[str]:
    """The lines of adcompile.kernels then adcompile.runtime, with runtime's imports from the
    kernels turned into assignments (`fast_exp = exp`), so they run in one module."""
    kernels_text = Path(kernels.__file__).read_text()
    text = Path(runtime.__file__).read_text()
    lines = text.splitlines()
    for node in reversed(ast.parse(text).body):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module == "kernels":
            lines[node.lineno - 1:node.end_lineno] = [
                f"{a.asname or a.name} = {a.name}" for a in node.names]
    pipeline = [ln for ln in Path(numba_pipeline.__file__).read_text().splitlines()
                if ln != "from __future__ import annotations"]
    return kernels_text.splitlines() + ["", ""] + lines + ["", ""] + pipeline


def _load(target: str):
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name:
        raise CommandError(f"expected FILE.py:FUNCTION, got {target!r}")
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"no such file: {path}")
    try:
        module = _import_file(file.resolve())
    except Exception as exc:  # noqa: BLE001  (the user's module failed to import)
        raise CommandError(f"importing {path} failed: {type(exc).__name__}: {exc}") from None
    fun = getattr(module, name, None)
    if fun is None:
        raise CommandError(f"{path} has no function {name!r}")
    return fun


def _import_file(file: Path):
    """Import a file as the module it is inside its package (so relative imports work)."""
    parts = [file.stem]
    root = file.parent
    while (root / "__init__.py").exists():
        parts.insert(0, root.name)
        root = root.parent
    sys.path.insert(0, str(root))
    return importlib.import_module(".".join(parts))


def _cache(args) -> int:
    root = cache_dir()
    files = sorted(root.glob("*.py"))
    if args.action == "clear":
        for f in files:
            f.unlink()
        shutil.rmtree(root / "__pycache__", ignore_errors=True)
        print(f"cleared {len(files)} generated modules from {root}")
        return 0
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    print(f"cache: {root}\ngenerated modules: {len(files)}\nsize: {size / 1e6:.1f} MB")
    return 0
