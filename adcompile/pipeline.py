"""The passes, in order. Set `ADCOMPILE_DUMP=normalize,reverse` to print the code after them.

    parse      source.py     function -> ast.FunctionDef, names resolvable, source lines
    check      check.py      rejects constructs outside the supported language
    normalize  normalize.py  -> ir.Function in A-normal form
    analyze    analysis.py   -> activity, what the backward sweep reads, what must be saved
    reverse    reverse.py    -> the forward and backward sweeps (reverse mode)
    forward    forward.py    -> values and tangents in one sweep (forward mode)
    emit       emit.py       -> module text
    compile    compile.py    -> content-hashed file -> import -> numba.njit(cache=True)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import emit, ir
from .analysis import analyze
from .check import check
from .compile import load
from .forward import tangents
from .naming import Namer
from .normalize import to_anf
from .reverse import differentiate
from .source import ParsedFunction, parse

PASSES = ("parse", "check", "normalize", "analyze", "reverse", "forward", "emit", "compile")


@dataclass
class Transformed:
    parsed: ParsedFunction
    module: emit.Module
    fn: Callable
    path: Path


def reverse_mode(fun: Callable, wrt: list[str], as_tuple: bool, with_value: bool,
                 jit: bool, cotangent: bool = False,
                 flush_subnormals: bool = False) -> Transformed:
    """Run every pass for the gradient (and value) of `fun` with respect to `wrt`; with
    `cotangent`, the output's adjoint is an extra argument instead of 1."""
    parsed, fn_ir = _front(fun)
    facts = analyze(fn_ir, wrt)
    derivative = differentiate(fn_ir, facts, wrt, as_tuple, with_value, Namer(fn_ir.names),
                               cotangent, flush_subnormals)
    kind = "vjp" if cotangent else "value_and_grad" if with_value else "grad"
    return _back(parsed, fn_ir, derivative, kind, "reverse", jit)


def forward_mode(fun: Callable, wrt: list[str], kind: str, jit: bool) -> Transformed:
    """Run every pass for a forward-mode derivative (`forward.JVP`, `TANGENT`, `DERIVATIVE`)."""
    parsed, fn_ir = _front(fun)
    derivative = tangents(fn_ir, wrt, kind, Namer(fn_ir.names))
    return _back(parsed, fn_ir, derivative, kind, "forward", jit)


def _front(fun: Callable):
    parsed = parse(fun)
    check(parsed)
    fn_ir = to_anf(parsed)
    _dump("normalize", lambda: emit.primal_source(fn_ir))
    return parsed, fn_ir


def _back(parsed: ParsedFunction, fn_ir: ir.Function, derivative, kind: str, pass_name: str,
          jit: bool) -> Transformed:
    imports = [i for s in ir.walk(fn_ir.body) if isinstance(s, ir.Assign) and s.rule
               for i in s.rule.imports]
    module = emit.module_source(derivative, parsed.name, kind, Path(parsed.filename).name,
                                parsed.tree.lineno, max(parsed.lines), fn_ir.temps, imports)
    _dump(pass_name, lambda: module.text)
    compiled, path = load(module.text, module.function, jit)
    return Transformed(parsed, module, compiled, path)


def _dump(pass_name: str, text: Callable[[], str]) -> None:
    wanted = os.environ.get("ADCOMPILE_DUMP", "")
    if pass_name in {p.strip() for p in wanted.split(",")}:
        print(f"# ---- after {pass_name} ----", file=sys.stderr)
        print(text(), file=sys.stderr)


__all__ = ["PASSES", "forward_mode", "reverse_mode"]
