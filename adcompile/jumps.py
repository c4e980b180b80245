"""Part of `normalize`: rewrite `break`, `continue` and early `return` into flags.

Takes a function body (Python syntax), gives one where the only jump left is a `break` as the
last statement of a loop body, guarded by its flag. The statements after a jump move to where
control goes on when it is not taken: the other branch of `if c: return a` (copied into each
such place when a branch only may jump), or `if not <flag>:` after a loop that may return
from inside a loop. So the backward sweep re-takes exactly the path the forward sweep took by
replaying those tests like any other branch. `return e` becomes `<result> = e` plus a flag,
and the caller appends the single final `return <result>`.

In a helper inlined inside a loop (`hoist`), a `return` inside the helper's own loop only sets
the flag, and `<result> = e` follows that loop (nothing runs between the two, so `e` has the
same value): every path to the final `return <result>` then plainly assigns `<result>`, and
the loop around the call does not see it carried from one iteration to the next.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable

_CONTINUE = "\0continue"  # a `continue` sets no variable: what follows it just never runs


class Jumps:
    def __init__(self, fresh: Callable[[str], str], hoist: bool = False) -> None:
        self.fresh = fresh
        self.hoist = hoist  # assign returns from inside loops after them (see the module doc)
        self.result: str | None = None  # the variable early returns assign
        self.returning: str | None = None  # the flag they set
        self.sites: list[tuple[str, ast.expr, ast.stmt]] = []  # returns inside a loop
        self.site_flags: list[str] = []  # which of several returns in a loop was taken
        self.lone_sites: set[str] = set()  # flags no test reads: dropped
        self.guards: list[ast.If] = []

    def function_body(self, body: list[ast.stmt]) -> list[ast.stmt]:
        """Lower every jump in a function body. If any `return` is not the final statement,
        returns go through `self.result`."""
        early = _has_early_return(body)
        if early:
            self.result = self.fresh("result")
            self.returning = self.fresh("returning")
        lowered, _, _ = self.block(body, loop=None)
        lowered = self.tidy(lowered)
        if not early:
            return lowered
        flags = [_copy_loc(_set(f, False), body[0]) for f in [self.returning] + self.site_flags]
        return flags + lowered + [
            _copy_loc(ast.Return(value=ast.Name(self.result, ast.Load())), body[-1])]

    def loop_body(self, node: ast.For | ast.While) -> list[ast.stmt]:
        """The body of a loop with its own `break`/`continue` lowered."""
        loop = _Loop(self.fresh("breaking") if _has(node.body, ast.Break) else None)
        body, flags, _ = self.block(node.body, loop)
        stop = [f for f in (loop.breaking, self.returning) if f and f in flags]
        if stop:
            leave = ast.If(test=_any(stop), body=[_copy_loc(ast.Break(), node)], orelse=[])
            body.append(_copy_loc(leave, node))
        node.body = body or [_copy_loc(ast.Pass(), node)]
        return [_copy_loc(_set(loop.breaking, False), node)] if loop.breaking else []

    def block(self, body: list[ast.stmt], loop) -> tuple[list[ast.stmt], set[str], list]:
        """Lower one block. Also the flags it may set and, when it sets any, the lists whose
        end is where control goes on with none set (what follows the block goes there)."""
        out: list[ast.stmt] = []
        for k, stmt in enumerate(body):
            code, flags, sinks = self.stmt(stmt, loop)
            out.extend(code)
            if not flags:
                continue
            if len(sinks) > 1 and not self.hoist and _CONTINUE not in flags and body[k + 1:]:
                guard = self.guard(flags, body[k + 1])  # one copy of what follows, tested
                out.append(guard)
                sinks = [guard.body]
            ends: list = []
            # copied before any is lowered: lowering rewrites the statements in place
            sources = [copy.deepcopy(body[k + 1:]) for _ in sinks[1:]]
            for sink, source in zip(sinks, [body[k + 1:]] + sources):
                rest, more, inner = self.block(source, loop)
                sink.extend(rest)
                flags = flags | more
                ends += inner if more else [sink]
            return out, flags, ends
        return out, set(), []

    def stmt(self, stmt: ast.stmt, loop) -> tuple[list[ast.stmt], set[str], list]:
        """The lowered statement, the flags it may set, and where control goes on when it
        sets none (empty: never)."""
        if isinstance(stmt, ast.Return) and self.result:
            return self.return_(stmt, loop), {self.returning}, []
        if isinstance(stmt, ast.Break) and loop is not None:
            return [_copy_loc(_set(loop.breaking, True), stmt)], {loop.breaking}, []
        if isinstance(stmt, ast.Continue) and loop is not None:
            return [], {_CONTINUE}, []
        if isinstance(stmt, ast.If):
            body, f1, s1 = self.block(stmt.body, loop)
            orelse, f2, s2 = self.block(stmt.orelse, loop)
            stmt.body, stmt.orelse = body or [_copy_loc(ast.Pass(), stmt)], orelse
            sinks = (s1 if f1 else [stmt.body]) + (s2 if f2 else [stmt.orelse])
            return [stmt], f1 | f2, sinks if f1 | f2 else []
        if isinstance(stmt, (ast.For, ast.While)):
            return self.loop(stmt, loop)
        return [stmt], set(), []

    def return_(self, stmt: ast.Return, loop) -> list[ast.stmt]:
        raised = [_copy_loc(_set(self.returning, True), stmt)]
        if loop is None or not self.hoist:
            return [_copy_loc(ast.Assign(targets=[ast.Name(self.result, ast.Store())],
                                         value=stmt.value), stmt)] + raised
        site = self.fresh("returned")  # dropped again if the loop has no other return
        self.sites.append((site, stmt.value, stmt))
        return raised + [_copy_loc(_set(site, True), stmt)]

    def loop(self, stmt: ast.For | ast.While, loop) -> tuple[list[ast.stmt], set[str], list]:
        # only an early return leaves the loop with a flag the enclosing code must see
        if not (self.returning and _has(stmt.body, ast.Return)):
            return self.loop_body(stmt) + [stmt], set(), []
        if loop is not None or not self.hoist:  # the outermost loop assigns the result
            before = self.loop_body(stmt)
            guard = self.guard({self.returning}, stmt)
            return before + [stmt, guard], {self.returning}, [guard.body]
        outer_sites, self.sites = self.sites, []
        before = self.loop_body(stmt)
        assign = self.assign_result(self.sites)
        names = [site for site, _, _ in self.sites]
        self.site_flags += names[:-1]
        self.lone_sites |= set(names[-1:])  # the last return is the one no flag named
        self.sites = outer_sites
        after = _copy_loc(ast.If(test=ast.Name(self.returning, ast.Load()), body=assign,
                                 orelse=[]), stmt)
        return before + [stmt, after], {self.returning}, [after.orelse]

    def guard(self, flags: set[str], node: ast.stmt) -> ast.If:
        """`if not <any flag>:`, to hold what follows `node` (dropped if nothing does)."""
        test = ast.UnaryOp(op=ast.Not(), operand=_any(sorted(flags)))
        guard = _copy_loc(ast.If(test=test, body=[], orelse=[]), node)
        self.guards.append(guard)
        return guard

    def assign_result(self, sites: list) -> list[ast.stmt]:
        """`result = e` of the return taken inside the loop (tested by its flag when there
        are several)."""
        (site, value, node), rest = sites[0], sites[1:]
        assign = _copy_loc(ast.Assign(targets=[ast.Name(self.result, ast.Store())],
                                      value=value), node)
        if not rest:
            return [assign]
        return [_copy_loc(ast.If(test=ast.Name(site, ast.Load()), body=[assign],
                                 orelse=self.assign_result(rest)), node)]

    def tidy(self, body: list[ast.stmt]) -> list[ast.stmt]:
        """Without the guards after an inner loop that nothing followed, and without the
        flags of returns that were alone in their loop."""
        out = []
        for s in body:
            if isinstance(s, ast.If):
                s.body = self.tidy(s.body) or [_copy_loc(ast.Pass(), s)]
                s.orelse = self.tidy(s.orelse)
                if any(s is g for g in self.guards) and \
                        all(isinstance(b, ast.Pass) for b in s.body) and not s.orelse:
                    continue
            elif isinstance(s, (ast.For, ast.While)):
                s.body = self.tidy(s.body) or [_copy_loc(ast.Pass(), s)]
            elif isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and \
                    s.targets[0].id in self.lone_sites:
                continue
            out.append(s)
        return out


class _Loop:
    def __init__(self, breaking: str | None) -> None:
        self.breaking = breaking


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


def falls_through(body: list[ast.stmt]) -> bool:
    """Whether control can reach the end of `body` (a `for` may run no iteration; only a
    `while True:` without `break` never ends)."""
    for stmt in body:
        if isinstance(stmt, (ast.Return, ast.Raise)):
            return False
        if isinstance(stmt, ast.If) and not (falls_through(stmt.body) or
                                              falls_through(stmt.orelse)):
            return False
        if isinstance(stmt, ast.While) and isinstance(stmt.test, ast.Constant) and \
                stmt.test.value and not _has(stmt.body, ast.Break):
            return False
    return True


def ends_without_return(body: list[ast.stmt]) -> bool:
    """A body with a `return` whose end is reachable: there Python returns None."""
    return _has(body, ast.Return) and falls_through(body)


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
