"""Part of `normalize`: rewrite `break`, `continue` and early `return` into flags.

Takes a function body (Python syntax), gives one where the only jump left is a `break` as the
last statement of a loop body, guarded by its flag. Statements after a jump run under
`if not <flag>:`, so the backward sweep re-takes exactly the path the forward sweep took by
replaying those tests like any other branch. `return e` becomes `<result> = e` plus a flag;
the caller appends the single final `return <result>`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable


class Jumps:
    def __init__(self, fresh: Callable[[str], str]) -> None:
        self.fresh = fresh
        self.result: str | None = None  # the variable early returns assign
        self.returning: str | None = None  # the flag they set

    def function_body(self, body: list[ast.stmt]) -> list[ast.stmt]:
        """Lower every jump in a function body. If any `return` is not the final statement,
        returns go through `self.result`."""
        early = _has_early_return(body)
        if early:
            self.result = self.fresh("result")
            self.returning = self.fresh("returning")
        lowered, _ = self.block(body, loop=None)
        if not early:
            return lowered
        return [_copy_loc(_set(self.returning, False), body[0])] + lowered + [
            _copy_loc(ast.Return(value=ast.Name(self.result, ast.Load())), body[-1])]

    def loop_body(self, node: ast.For | ast.While) -> list[ast.stmt]:
        """The body of a loop with its own `break`/`continue` lowered."""
        loop = _Loop(self.fresh("breaking") if _has(node.body, ast.Break) else None,
                     self.fresh("continuing") if _has(node.body, ast.Continue) else None)
        body, flags = self.block(node.body, loop)
        if loop.continuing:
            body.insert(0, _copy_loc(_set(loop.continuing, False), node))
        stop = [f for f in (loop.breaking, self.returning) if f and f in flags]
        if stop:
            leave = ast.If(test=_any(stop), body=[_copy_loc(ast.Break(), node)], orelse=[])
            body.append(_copy_loc(leave, node))
        node.body = body
        return [_copy_loc(_set(loop.breaking, False), node)] if loop.breaking else []

    def block(self, body: list[ast.stmt], loop) -> tuple[list[ast.stmt], set[str]]:
        """Lower one block; also the flags it may set, which guard whatever follows it."""
        out: list[ast.stmt] = []
        for k, stmt in enumerate(body):
            code, flags = self.stmt(stmt, loop)
            out.extend(code)
            if flags:
                rest, more = self.block(body[k + 1:], loop)
                if rest:
                    guard = ast.If(test=ast.UnaryOp(op=ast.Not(), operand=_any(sorted(flags))),
                                   body=rest, orelse=[])
                    out.append(_copy_loc(guard, body[k + 1]))
                return out, flags | more
        return out, set()

    def stmt(self, stmt: ast.stmt, loop) -> tuple[list[ast.stmt], set[str]]:
        if isinstance(stmt, ast.Return) and self.result:
            return [_copy_loc(ast.Assign(targets=[ast.Name(self.result, ast.Store())],
                                         value=stmt.value), stmt),
                    _copy_loc(_set(self.returning, True), stmt)], {self.returning}
        if isinstance(stmt, ast.Break) and loop is not None:
            return [_copy_loc(_set(loop.breaking, True), stmt)], {loop.breaking}
        if isinstance(stmt, ast.Continue) and loop is not None:
            return [_copy_loc(_set(loop.continuing, True), stmt)], {loop.continuing}
        if isinstance(stmt, ast.If):
            body, f1 = self.block(stmt.body, loop)
            orelse, f2 = self.block(stmt.orelse, loop)
            stmt.body, stmt.orelse = body or [ast.Pass()], orelse
            return [stmt], f1 | f2
        if isinstance(stmt, (ast.For, ast.While)):
            # only an early return leaves the loop with a flag the enclosing code must see
            escaping = {self.returning} if self.returning and _has(stmt.body, ast.Return) else set()
            before = self.loop_body(stmt)
            return before + [stmt], escaping
        return [stmt], set()


class _Loop:
    def __init__(self, breaking: str | None, continuing: str | None) -> None:
        self.breaking = breaking
        self.continuing = continuing


def _has(body: list[ast.stmt], kind: type) -> bool:
    """Whether `body` holds a `kind` statement of its own: `break`/`continue` inside a nested
    loop belong to that loop, `return` belongs to the function wherever it is."""
    for stmt in body:
        if isinstance(stmt, kind):
            return True
        if isinstance(stmt, ast.If) and (_has(stmt.body, kind) or _has(stmt.orelse, kind)):
            return True
        if isinstance(stmt, (ast.For, ast.While)) and kind is ast.Return and \
                _has(stmt.body, kind):
            return True
    return False


def _has_early_return(body: list[ast.stmt]) -> bool:
    """A `return` anywhere but as the function's last statement."""
    rest = body[:-1] if body and isinstance(body[-1], ast.Return) else body
    return any(isinstance(n, ast.Return) for s in rest for n in ast.walk(s))


def _set(flag: str, value: bool) -> ast.stmt:
    return ast.Assign(targets=[ast.Name(flag, ast.Store())], value=ast.Constant(value))


def _any(flags: list[str]) -> ast.expr:
    names = [ast.Name(f, ast.Load()) for f in flags]
    return names[0] if len(names) == 1 else ast.BoolOp(op=ast.Or(), values=names)


def _copy_loc(new: ast.stmt, old: ast.stmt) -> ast.stmt:
    return ast.copy_location(new, old)
