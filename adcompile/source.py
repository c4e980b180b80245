"""Pass `parse`: a Python function -> its `ast.FunctionDef` and the facts later passes need.

Gives a `ParsedFunction`: the syntax tree (line numbers relative to the real file), the
file name, the source lines for error messages and generated comments, and a resolver that
turns a free name into the object it names (module globals, closure cells, builtins).
"""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import Location, UnsupportedError

_MISSING = object()


@dataclass
class ParsedFunction:
    fun: Callable
    tree: ast.FunctionDef
    filename: str
    lines: dict[int, str]
    namespace: dict[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        return self.tree.name

    @property
    def params(self) -> list[str]:
        return [a.arg for a in self.tree.args.args]

    def location(self, node: ast.AST) -> Location:
        line = getattr(node, "lineno", self.tree.lineno)
        col = getattr(node, "col_offset", 0) + self._dedent
        return Location(self.filename, line, col, self.lines.get(line, ""))

    def resolve(self, name: str) -> Any:
        """The object a free name refers to, or `_MISSING`."""
        if name in self.namespace:
            return self.namespace[name]
        return getattr(builtins, name, _MISSING)

    _dedent: int = 0


def parse(fun: Callable) -> ParsedFunction:
    """Parse `fun`'s source. Raises UnsupportedError when there is no source to read."""
    fun = inspect.unwrap(fun)
    if not inspect.isfunction(fun):
        raise UnsupportedError(
            f"differentiating {type(fun).__name__!s} objects",
            None,
            "pass a plain Python function defined with `def` in a file",
        )
    try:
        lines, first = inspect.getsourcelines(fun)
        filename = inspect.getsourcefile(fun) or fun.__code__.co_filename
    except (OSError, TypeError) as exc:
        raise UnsupportedError(
            f"function {fun.__name__!r}: its source code is not available ({exc})",
            None,
            "define the function in a .py file (functions typed at an interactive prompt "
            "or made by exec have no source to transform)",
        ) from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    tree = ast.parse(dedented)
    ast.increment_lineno(tree, first - 1)
    fdef = tree.body[0]
    if not isinstance(fdef, ast.FunctionDef):
        raise UnsupportedError(
            "lambda functions", Location(filename, first, 0, lines[0]), "write it with `def`"
        )
    fdef.decorator_list = []
    parsed = ParsedFunction(
        fun=fun,
        tree=fdef,
        filename=filename,
        lines={first + i: ln.rstrip("\n") for i, ln in enumerate(lines)},
        namespace=_namespace(fun),
    )
    parsed._dedent = len(lines[0]) - len(lines[0].lstrip())
    return parsed


def _namespace(fun: Callable) -> dict[str, Any]:
    ns = dict(fun.__globals__)
    if fun.__closure__:
        for name, cell in zip(fun.__code__.co_freevars, fun.__closure__):
            try:
                ns[name] = cell.cell_contents
            except ValueError:  # an empty cell: the name is assigned later
                pass
    return ns
