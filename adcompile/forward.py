"""Pass `forward`: `ir.Function` -> its forward-mode (tangent) program.

Gives a `Derivative` whose single sweep runs each primal statement followed by the statement
computing its tangent `x_dot` from the rule table's forward rules: the sum, over the active
inputs, of each input's term. Control flow is the primal's own, so branches, loops, `break`
and array writes need nothing more: a tangent rides along with its value.
"""

from __future__ import annotations

import ast

from . import ir
from .analysis import active_vars
from .naming import Namer
from .normalize import NEW_TAPE
from .reverse import Derivative, _assign, _call, _method, _range_args, _with_comments
from .templates import atom, instantiate, name, primal

DERIVATIVE, JVP, TANGENT = "derivative", "jvp", "tangent"  # what the function returns


def tangents(fn: ir.Function, wrt: list[str], kind: str, namer: Namer) -> Derivative:
    """The forward-mode program of `fn` for tangents of `wrt`.

    JVP takes the arguments then one tangent per `wrt` entry and returns (value, tangent);
    TANGENT returns only the tangent; DERIVATIVE seeds each `wrt` tangent with 1."""
    writer = _Tangents(active_vars(fn, wrt), namer)
    seeds = [writer.dot(p) for p in wrt]
    prelude = [_assign(d, _call("like", ast.Constant(1.0), name(p)))
               for p, d in zip(wrt, seeds)] if kind == DERIVATIVE else []
    # a parameter outside `wrt` that a loop makes active (`x0 = x0 - v`) starts at zero
    prelude += [_assign(writer.dot(p), _call("zeros_like", name(p)))
                for p in fn.params if p in writer.active and p not in wrt]
    *body, ret = fn.body
    code = prelude + writer.block(body)
    value = atom(ret.value)
    if isinstance(ret.value, ir.Var) and ret.value.name in writer.active:
        tangent = name(writer.dot(ret.value.name))
    else:
        tangent = _call("zeros_like", value)
    returned = ast.Tuple(elts=[value, tangent], ctx=ast.Load()) if kind == JVP else tangent
    params = fn.params + (seeds if kind != DERIVATIVE else [])
    return Derivative(fn.name, params, code, [], [], returned)


class _Tangents:
    def __init__(self, active: set[str], namer: Namer) -> None:
        self.active = active
        self.namer = namer
        self._dots: dict[str, str] = {}

    def dot(self, var: str) -> str:
        if var not in self._dots:
            self._dots[var] = self.namer.exact_or_fresh(var + "_dot")
        return self._dots[var]

    def block(self, body: list) -> list[ast.stmt]:
        return _with_comments(body, self.stmt)

    def stmt(self, s) -> list[ast.stmt]:
        if isinstance(s, ir.Assign):
            return [_assign(s.target, primal(s))] + self.assign(s)
        if isinstance(s, ir.GetItem):
            read = ast.Subscript(value=atom(s.array), slice=atom(s.index), ctx=ast.Load())
            code = [_assign(s.target, read)]
            if s.target in self.active and s.array.name in self.active:
                code.append(_assign(self.dot(s.target), ast.Subscript(
                    value=name(self.dot(s.array.name)), slice=atom(s.index), ctx=ast.Load())))
            elif s.target in self.active:  # read from constants: no tangent flows
                code.append(_assign(self.dot(s.target), _call("zeros_like", name(s.target))))
            return code
        if isinstance(s, ir.SetItem):
            return self.setitem(s)
        if isinstance(s, (ir.Push, ir.Pop)):
            return self.stack(s)
        if isinstance(s, ir.If):
            return [ast.If(test=atom(s.test), body=self.block(s.body) or [ast.Pass()],
                           orelse=self.block(s.orelse))]
        if isinstance(s, ir.For):
            return [ast.For(target=ast.Name(id=s.index, ctx=ast.Store()),
                            iter=_call("range", *_range_args(s)), body=self.block(s.body) or [ast.Pass()],
                            orelse=[], lineno=0)]
        if isinstance(s, ir.While):
            test = self.block(s.test_block)
            return test + [ast.While(test=atom(s.test), body=self.block(s.body) + test,
                                     orelse=[])]
        if isinstance(s, ir.Break):
            return [ast.Break()]
        raise AssertionError(f"unexpected statement {s}")

    def assign(self, s: ir.Assign) -> list[ast.stmt]:
        if s.target not in self.active:
            return []
        if s.rule is NEW_TAPE:  # the tangents of a tape's values ride on a tape of their own
            return [_assign(self.dot(s.target), ast.List(elts=[], ctx=ast.Load()))]
        terms = self.terms(s)
        if not terms:  # an active variable set from constants: its tangent is zero
            return [_assign(self.dot(s.target), _call("zeros_like", name(s.target)))]
        total = terms[0]
        for t in terms[1:]:
            total = ast.BinOp(left=total, op=ast.Add(), right=t)
        return [_assign(self.dot(s.target), total)]

    def terms(self, s: ir.Assign) -> list[ast.expr]:
        if s.rule is None:
            src = s.args[0]
            return [name(self.dot(src.name))] if self._is_active(src) else []
        if not s.rule.differentiable:
            return []
        binding = {p: atom(a) for p, a in zip(s.rule.params, s.args)}
        binding["out"] = name(s.target)
        terms = []
        for p, a in zip(s.rule.params, s.args):
            if p in s.rule.wrt and self._is_active(a):
                binding[p + "_dot"] = name(self.dot(a.name))
                term = instantiate(s.rule.jvp_exprs[p], binding)
                others = [b for q, b in zip(s.rule.params, s.args) if q in s.rule.wrt and q != p]
                if all(isinstance(b, ir.Const) for b in others):
                    term = _unbroadcast_free(term)  # `x - 1.0` has x's shape already
                terms.append(term)
        return terms

    def setitem(self, s: ir.SetItem) -> list[ast.stmt]:
        write = ast.Assign(targets=[ast.Subscript(value=atom(s.array), slice=atom(s.index),
                                                  ctx=ast.Store())],
                           value=atom(s.value), lineno=0)
        if s.array.name not in self.active:
            return [write]
        value = name(self.dot(s.value.name)) if self._is_active(s.value) else ast.Constant(0.0)
        return [write, ast.Assign(targets=[ast.Subscript(value=name(self.dot(s.array.name)),
                                                         slice=atom(s.index), ctx=ast.Store())],
                                  value=value, lineno=0)]

    def stack(self, s: ir.Push | ir.Pop) -> list[ast.stmt]:
        stack = s.stack.name
        if isinstance(s, ir.Pop):
            code = [_assign(s.target, _method(stack, "pop"))]
            if s.target in self.active:
                code.append(_assign(self.dot(s.target), _method(self.dot(stack), "pop")))
            return code
        code = [ast.Expr(value=_method(stack, "append", atom(s.value)))]
        if stack in self.active:
            dot = name(self.dot(s.value.name)) if self._is_active(s.value) else \
                _call("zeros_like", atom(s.value))
            code.append(ast.Expr(value=_method(self.dot(stack), "append", dot)))
        return code

    def _is_active(self, a) -> bool:
        return isinstance(a, ir.Var) and a.name in self.active


def _unbroadcast_free(term: ast.expr) -> ast.expr:
    """`broadcast_like(t, out)` is `t` when every other operand is a constant."""
    if isinstance(term, ast.Call) and isinstance(term.func, ast.Name) and \
            term.func.id == "broadcast_like":
        return term.args[0]
    return term
