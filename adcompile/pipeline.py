"""The passes, in order. Set `ADCOMPILE_DUMP=normalize,reverse` to print the code after them.

    parse      source.py     function -> ast.FunctionDef, names resolvable, source lines
    check      check.py      rejects constructs outside the supported language
    normalize  normalize.py  -> ir.Function in A-normal form
    analyze    analysis.py   -> activity, what the backward sweep reads, what must be saved
    reverse    reverse.py    -> the forward and backward sweeps
    emit       emit.py       -> module text
    compile    compile.py    -> content-hashed file -> import -> numba.njit(cache=True)
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import emit, ir
from .analysis import analyze
from .check import check
from .compile import load
from .naming import Namer
from .normalize import to_anf
from .reverse import differentiate
from .source import ParsedFunction, parse

PASSES = ("parse", "check", "normalize", "analyze", "reverse", "emit", "compile")


@dataclass
class Transformed:
    parsed: ParsedFunction
    module: emit.Module
    fn: Callable
    path: Path


def reverse_mode(fun: Callable, wrt: list[str] | None, as_tuple: bool, with_value: bool,
                 jit: bool) -> Transformed:
    """Run every pass; `wrt=None` means the first parameter."""
    parsed = parse(fun)
    check(parsed)
    fn_ir = to_anf(parsed)
    _dump("normalize", lambda: emit.primal_source(fn_ir))
    wrt = wrt if wrt is not None else parsed.params[:1]
    facts = analyze(fn_ir, wrt)
    derivative = differentiate(fn_ir, facts, wrt, as_tuple, with_value, Namer(fn_ir.names))
    kind = "value_and_grad" if with_value else "grad"
    last = max(parsed.lines)
    imports = [i for s in ir.walk(fn_ir.body) if isinstance(s, ir.Assign) and s.rule
               for i in s.rule.imports]
    module = emit.module_source(derivative, parsed.name, kind, Path(parsed.filename).name,
                                parsed.tree.lineno, last, fn_ir.temps, imports)
    _dump("reverse", lambda: module.text)
    compiled, path = load(module.text, module.function, jit)
    return Transformed(parsed, module, compiled, path)


def _dump(pass_name: str, text: Callable[[], str]) -> None:
    wanted = os.environ.get("ADCOMPILE_DUMP", "")
    if pass_name in {p.strip() for p in wanted.split(",")}:
        print(f"# ---- after {pass_name} ----", file=sys.stderr)
        print(text(), file=sys.stderr)


__all__ = ["PASSES", "reverse_mode", "ir"]
