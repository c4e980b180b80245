"""Pass `differentiate`: `ir.Function` + `Analysis` -> the reverse-mode derivative.

Gives a `Derivative`: one Python function (syntax tree with comment markers) that runs the
forward sweep, saving what the analysis says, then the backward sweep: statements in reverse
order, loops replayed backwards from their recorded trip counts, branches re-taken from their
recorded tests, each statement's rule inlined from the rule table.

Adjoint bookkeeping is static: `_Adjoints` knows at each point of the backward sweep whether an
adjoint is still zero (its first contribution is written `dx = ...`), holds an array of its own
(`dx += ...` may update it in place) or may alias another adjoint (`dx = dx + ...` rebinds it).
Branches and loops reconcile these states by writing `dx = zeros_like(x)` where they differ.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from . import ir
from .analysis import Analysis, assigned_in
from .dtypes import Join, witnesses
from .naming import Namer
from .templates import atom, instantiate, name, primal, simplify

OWNED, ALIAS = "owned", "alias"
_ALIAS_HELPERS = {"unbroadcast", "reshape_like", "broadcast_like"}  # may return their first argument


class Comment(str):
    """A comment line in generated code; `loc` is the source line it quotes."""

    loc = None


def comment(text: str, loc=None) -> ast.stmt:
    c = Comment(text)
    c.loc = loc
    return ast.Expr(value=ast.Constant(c))


@dataclass
class Derivative:
    name: str
    params: list[str]
    forward: list[ast.stmt]
    backward: list[ast.stmt]
    tapes: list[str]
    returned: ast.expr  # what the generated function returns
    recomputed: set[str] = field(default_factory=set)  # names replayed loops assign again


def differentiate(fn: ir.Function, facts: Analysis, wrt: list[str], as_tuple: bool,
                  with_value: bool, namer: Namer, cotangent: bool = False,
                  flush_subnormals: bool = False) -> Derivative:
    """Build the forward and backward sweeps of `fn` with respect to `wrt`; `cotangent` adds
    a parameter holding the output's adjoint (any shape) instead of seeding a scalar with 1;
    `flush_subnormals` sets the adjoints a reversed loop carries to zero once they fall below
    the smallest normal number (which the CPU multiplies slowly)."""
    fwd = _Forward(facts, namer)
    *body, ret = fn.body
    forward = fwd.block(body)
    back = _Backward(facts, namer, fwd, flush_subnormals)
    seed: list[ast.stmt] = []
    ret_ast = atom(ret.value)
    params = list(fn.params)
    if cotangent:
        params.append(namer.exact_or_fresh("cotangent"))
    if isinstance(ret.value, ir.Var):
        call = ast.Call(func=name("scalar_seed"), args=[ret_ast], keywords=[])
        if cotangent and ret.value.name in facts.useful:
            seed.append(_assign(namer.adjoint(ret.value.name), name(params[-1])))
            back.adj.state[ret.value.name] = ALIAS  # the caller's array: never update it
        elif cotangent:
            pass
        elif ret.value.name in facts.useful:
            seed.append(_assign(namer.adjoint(ret.value.name), call))
            back.adj.state[ret.value.name] = OWNED
        else:  # nothing to differentiate, but the result must still be a scalar
            seed.append(ast.Expr(value=call))
    backward = back.block(body)
    if backward and getattr(backward[0].value, "value", None) == _quote(ret.loc):
        backward[1:1] = seed  # under the comment quoting the return statement
    else:
        backward[0:0] = [comment(_quote(ret.loc), ret.loc)] + seed
    if with_value and isinstance(ret.value, ir.Var):
        ret_ast = _keep_value(ret.value.name, forward, backward, namer)
    grads = [_call("as_gradient", _returned_adjoint(p, back.adj.state, namer), like)
             for p, like in zip(wrt, _arguments(fn, wrt, forward, namer))]
    grads_ast = grads[0] if not as_tuple else \
        ast.Tuple(elts=grads, ctx=ast.Load())
    returned = ast.Tuple(elts=[ret_ast, grads_ast], ctx=ast.Load()) if with_value else grads_ast
    return Derivative(fn.name, params, forward, backward, fwd.tapes, returned, back.recomputed)


def _arguments(fn: ir.Function, wrt: list[str], forward: list, namer: Namer) -> list[ast.expr]:
    """What each gradient takes its shape and dtype from: the argument as passed. A parameter
    the function assigns is kept aside first (`x = x[0] * np.ones(3)` would give a gradient of
    another shape)."""
    assigned = {v for s in ir.walk(fn.body) for v in ir.writes(s)}
    out = []
    for p in wrt:
        if p in assigned:
            kept = namer.exact_or_fresh(p + "_arg")
            forward.insert(0, _assign(kept, name(p)))
            p = kept
        out.append(name(p))
    return out


def _keep_value(var: str, forward: list, backward: list, namer: Namer) -> ast.expr:
    """The returned value as the forward sweep left it. The backward sweep restores variables
    to earlier versions (`l = l_saved`) and puts overwritten entries back (`l[i] = l_old`):
    a returned variable it touches is kept aside first, copied if written in place."""
    rebound = written = False
    for node in ast.walk(ast.Module(body=backward, type_ignores=[])):
        if isinstance(node, ast.Name) and node.id == var and isinstance(node.ctx, ast.Store):
            rebound = True
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and \
                isinstance(node.value, ast.Name) and node.value.id == var:
            written = True
    if not (rebound or written):
        return name(var)
    kept = namer.exact_or_fresh("value")
    forward.append(_assign(kept, _call("copy_of", name(var)) if written else name(var)))
    return name(kept)


def _returned_adjoint(param: str, state: dict, namer: Namer) -> ast.expr:
    """The adjoint handed to the user: zero if nothing flowed back, a copy if it may share
    memory with another gradient (users update gradients in place)."""
    if param not in state:
        return ast.Constant(0.0)
    adjoint = name(namer.adjoint(param))
    return _call("copy_of", adjoint) if state[param] == ALIAS else adjoint


def _quote(loc) -> str:
    return f"{loc.short}  {loc.text.strip()}"


def _assign(target: str, value: ast.expr) -> ast.stmt:
    return ast.Assign(targets=[ast.Name(id=target, ctx=ast.Store())], value=value, lineno=0)


def _range_args(s: ir.For) -> list[ast.expr]:
    """`range(n)` rather than `range(0, n, 1)`."""
    bounds = [atom(s.start), atom(s.stop), atom(s.step)]
    if s.step == ir.Const(1):
        bounds = bounds[1:2] if s.start == ir.Const(0) else bounds[:2]
    return bounds


def _on_lists(loop, facts: Analysis) -> bool:
    """A `while` loop (unknown length), or a loop inside a taped loop (whose every trip must
    keep its own values), saves its iterations' state on lists rather than an array."""
    return isinstance(loop, ir.While) or id(loop) in facts.looped


def iteration(s: ir.For) -> ast.expr:
    """The position of the current iteration: `i` for `range(n)`, `(i - a) // s` in general."""
    if s.start == ir.Const(0) and s.step == ir.Const(1):
        return name(s.index)
    offset = ast.BinOp(left=name(s.index), op=ast.Sub(), right=atom(s.start))
    return simplify(ast.BinOp(left=offset, op=ast.FloorDiv(), right=atom(s.step)))


def _subscript(s: ir.SetItem, ctx: ast.expr_context) -> ast.expr:
    return ast.Subscript(value=atom(s.array), slice=atom(s.index), ctx=ctx)


def _increment(var: str) -> ast.stmt:
    return ast.AugAssign(target=ast.Name(id=var, ctx=ast.Store()), op=ast.Add(),
                         value=ast.Constant(1))


def _call(fn: str, *args: ast.expr) -> ast.expr:
    return ast.Call(func=name(fn), args=list(args), keywords=[])


def _method(obj: str, meth: str, *args: ast.expr) -> ast.expr:
    return ast.Call(func=ast.Attribute(value=name(obj), attr=meth, ctx=ast.Load()),
                    args=list(args), keywords=[])


def _with_comments(body: list, emit_one) -> list[ast.stmt]:
    """Emit each statement, with a comment quoting its source line when the line changes."""
    out: list[ast.stmt] = []
    last = None
    for stmt in body:
        code = emit_one(stmt)
        if not code:
            continue
        if stmt.loc != last:
            out.append(comment(_quote(stmt.loc), stmt.loc))
            last = stmt.loc
        out.extend(code)
    return out


# ---------------------------------------------------------------- forward sweep


TAPED, PLAIN, REPLAY = "taped", "plain", "replay"


class _Forward:
    """Writes forward code in one of three modes: TAPED saves what the backward sweep needs;
    PLAIN only computes (the body of a replayed loop, which the backward sweep recomputes);
    REPLAY is TAPED without the loop's own `break` (it runs inside the reversed loop)."""

    def __init__(self, facts: Analysis, namer: Namer) -> None:
        self.facts = facts
        self.namer = namer
        self.saved: dict[tuple[int, str], str] = {}  # (statement, variable) -> slot or tape
        self.tapes: list[str] = []
        self.tape_of: dict[tuple, str] = {}
        self.iteration_tapes: dict[int, list[str]] = {}  # replayed for-loop -> its tapes
        self.written = facts.written

    def block(self, body: list, mode: str = TAPED) -> list[ast.stmt]:
        return _with_comments(body, lambda s: self.stmt(s, mode))

    def stmt(self, s, mode: str) -> list[ast.stmt]:
        before, after = self.saves(s) if mode != PLAIN else ([], [])
        if isinstance(s, ir.Assign):
            code = [_assign(s.target, primal(s))]
        elif isinstance(s, ir.GetItem):
            code = [_assign(s.target, ast.Subscript(value=atom(s.array), slice=atom(s.index),
                                                    ctx=ast.Load()))]
        elif isinstance(s, ir.SetItem):
            code = self.overwrite(s, mode)
        elif isinstance(s, ir.Push):
            code = [ast.Expr(value=_method(s.stack.name, "append", atom(s.value)))]
        elif isinstance(s, ir.Pop):
            code = [_assign(s.target, _method(s.stack.name, "pop"))]
        elif isinstance(s, ir.If):
            body, orelse = self.block(s.body, mode), self.block(s.orelse, mode)
            code = [ast.If(test=atom(s.test), body=body, orelse=orelse)] if body or orelse else []
        elif isinstance(s, (ir.For, ir.While)):
            code = self.loop(s, mode)
        elif isinstance(s, ir.Break):
            code = [] if mode == REPLAY else [ast.Break()]
        else:
            raise TypeError(f"unexpected statement {s}")
        return before + code + after

    def loop(self, s, mode: str) -> list[ast.stmt]:
        taped = mode != PLAIN and self.facts.differentiated(s)
        replayed = id(s) in self.facts.replayed
        body = self.block(s.body, PLAIN if replayed or not taped else TAPED)
        if not (taped and replayed):
            return self.for_(s, body, taped) if isinstance(s, ir.For) else \
                self.while_(s, body, taped, mode)
        # save the state each iteration starts from
        carried = self.facts.carried[id(s)]
        if _on_lists(s, self.facts):
            body[0:0] = [ast.Expr(value=_method(self.slot(v + "_saved", (id(s), v)), "append",
                                                name(v))) for v in carried]
            return self.for_(s, body, taped) if isinstance(s, ir.For) else \
                self.while_(s, body, taped, mode)
        tapes = [self.namer.exact_or_fresh(v + "_saved") for v in carried]
        self.iteration_tapes[id(s)] = tapes
        body[0:0] = [ast.Assign(targets=[ast.Subscript(value=name(t), slice=iteration(s),
                                                       ctx=ast.Store())],
                                value=name(v), lineno=0) for v, t in zip(carried, tapes)]
        code = self.for_(s, body, taped)
        size = self.capacity(s) if s.counted else name(s.trips)
        allocate = [_assign(t, _call("new_tape", name(v), size, *map(atom, self.like(v))))
                    for v, t in zip(carried, tapes)]
        return code[:-1] + allocate + code[-1:]

    def like(self, var: str) -> list[ir.Atom]:
        """What a tape of `var` takes its type from, beside `var`'s value before the loop."""
        return witnesses(var, self.facts.dtypes.get(var, Join()))

    def for_(self, s: ir.For, body: list, taped: bool) -> list[ast.stmt]:
        bounds = _range_args(s)
        loop = ast.For(target=ast.Name(id=s.index, ctx=ast.Store()), iter=_call("range", *bounds),
                       body=body, orelse=[], lineno=0)
        if not taped:
            return [loop]
        if s.counted:  # a `break` may end it early: count the iterations that start
            body.insert(0, _increment(s.trips))
            return [_assign(s.trips, ast.Constant(0)), loop]
        return [_assign(s.trips, _call("len", _call("range", *bounds))), loop]

    def capacity(self, s: ir.For) -> ast.expr:
        """Room for every iteration a loop that may `break` could run."""
        return _call("len", _call("range", *_range_args(s)))

    def while_(self, s: ir.While, body: list, taped: bool, mode: str) -> list[ast.stmt]:
        test = self.block(s.test_block, PLAIN if mode == PLAIN else TAPED)
        if taped:
            body.insert(0, _increment(s.trips))
        loop = ast.While(test=atom(s.test), body=body + test, orelse=[])
        return ([_assign(s.trips, ast.Constant(0))] if taped else []) + [loop]

    def overwrite(self, s: ir.SetItem, mode: str) -> list[ast.stmt]:
        """`a[i] = v`, first saving the values it overwrites when the backward sweep needs
        them back."""
        write = ast.Assign(targets=[_subscript(s, ast.Store())], value=atom(s.value), lineno=0)
        if id(s) not in self.facts.overwrites or mode == PLAIN:
            return [write]
        old = _call("copy_of", _subscript(s, ast.Load()))
        tape = id(s) in self.facts.looped
        slot = self.slot(s.array.name + "_old", (id(s), "") if tape else None)
        self.saved[(id(s), "")] = slot
        push = ast.Expr(value=_method(slot, "append", old)) if tape else _assign(slot, old)
        return [push, write]

    def slot(self, base: str, tape_key: tuple | None) -> str:
        """The list of one statement's saves (`tape_key`: the statement and variable), or a
        fresh variable. One list per statement keeps each list's items of one type."""
        if tape_key is None:
            return self.namer.exact_or_fresh(base)
        if tape_key not in self.tape_of:
            self.tape_of[tape_key] = self.namer.exact_or_fresh(base)
            self.tapes.append(self.tape_of[tape_key])
        return self.tape_of[tape_key]

    def saves(self, s) -> tuple[list[ast.stmt], list[ast.stmt]]:
        before: list[ast.stmt] = []
        after: list[ast.stmt] = []
        for save in self.facts.saves.get(id(s), []):
            key = (id(s), save.var)
            if key not in self.saved:  # a replayed body is written once per emission: reuse
                self.saved[key] = self.slot(save.var + "_saved", key if save.tape else None)
            tape = self.saved[key]
            value = name(save.var)
            if save.var in self.written:  # an alias would see the writes (and be refused
                value = _call("copy_of", value)  # when this code is differentiated again)
            if save.tape:
                code = ast.Expr(value=_method(tape, "append", value))
            else:
                code = _assign(tape, value)
            (after if save.after else before).append(code)
        return before, after


# ---------------------------------------------------------------- backward sweep


class _Adjoints:
    """Static state of every adjoint: absent (zero), OWNED or ALIAS."""

    def __init__(self, namer: Namer) -> None:
        self.namer = namer
        self.state: dict[str, str] = {}

    def d(self, var: str) -> str:
        return self.namer.adjoint(var)

    def contribute(self, var: str, expr: ast.expr, out: list) -> None:
        kind = self.state.get(var)
        dvar = self.d(var)
        if kind is None:
            out.append(_assign(dvar, expr))
            self.state[var] = ALIAS if _may_alias(expr) else OWNED
        elif kind == OWNED:
            out.append(ast.AugAssign(target=ast.Name(id=dvar, ctx=ast.Store()), op=ast.Add(),
                                     value=expr))
        else:  # rebinding leaves whatever dvar aliases untouched
            out.append(_assign(dvar, ast.BinOp(left=name(dvar), op=ast.Add(), right=expr)))
            self.state[var] = OWNED

    def contribute_item(self, var: str, index: ast.expr, expr: ast.expr, out: list) -> None:
        kind = self.state.get(var)
        dvar = self.d(var)
        if kind is None:
            self.materialize(var, out)
        elif kind == ALIAS:
            out.append(_assign(dvar, _method(dvar, "copy")))
        self.state[var] = OWNED
        target = ast.Subscript(value=name(dvar), slice=index, ctx=ast.Store())
        out.append(ast.AugAssign(target=target, op=ast.Add(), value=expr))

    def materialize(self, var: str, out: list) -> None:
        out.append(_assign(self.d(var), _call("zeros_like", name(var))))
        self.state[var] = OWNED

    def reset(self, var: str) -> None:
        self.state.pop(var, None)


def _may_alias(expr: ast.expr) -> bool:
    if isinstance(expr, ast.Name):
        return True
    if isinstance(expr, ast.Attribute) and expr.attr == "T":
        return _may_alias(expr.value)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and \
            expr.func.id in _ALIAS_HELPERS:
        return _may_alias(expr.args[0])
    return False


def _join(a: str | None, b: str | None) -> str | None:
    return ALIAS if ALIAS in (a, b) else (a or b)


class _Backward:
    def __init__(self, facts: Analysis, namer: Namer, forward: _Forward,
                 flush_subnormals: bool) -> None:
        self.recomputed: set[str] = set()
        self.facts = facts
        self.namer = namer
        self.forward = forward
        self.saved = forward.saved
        self.tapes = forward.tapes
        self.adj = _Adjoints(namer)
        self.flush_subnormals = flush_subnormals

    def block(self, body: list) -> list[ast.stmt]:
        return _with_comments(list(reversed(body)), self.stmt)

    def stmt(self, s) -> list[ast.stmt]:
        if not self.facts.differentiated(s):
            return []
        code = self.restores(s)
        if isinstance(s, ir.Assign):
            self.assign(s, code)
        elif isinstance(s, ir.GetItem):
            self.getitem(s, code)
        elif isinstance(s, ir.SetItem):
            self.setitem(s, code)
        elif isinstance(s, ir.Push):
            self.push(s, code)
        elif isinstance(s, ir.Pop):
            self.pop(s, code)
        elif isinstance(s, ir.If):
            code += self.if_(s)
        elif isinstance(s, (ir.For, ir.While)):
            code += self.loop(s)
        return code

    def restores(self, s) -> list[ast.stmt]:
        """Give saved variables back the values the statement saw, last saved first."""
        code = []
        for save in reversed(self.facts.saves.get(id(s), [])):
            slot = self.saved[(id(s), save.var)]
            value = _method(slot, "pop") if save.tape else name(slot)
            code.append(_assign(save.var, value))
        return code

    def assign(self, s: ir.Assign, code: list) -> None:
        if s.target not in self.adj.state:  # nothing flows back through this statement
            return
        dout = name(self.adj.d(s.target))
        self.adj.reset(s.target)
        if s.rule is None:
            src = s.args[0]
            if isinstance(src, ir.Var) and src.name in self.facts.useful:
                self.adj.contribute(src.name, dout, code)
            return
        if id(s) in self.facts.scalar_sums and s.args[0].name in self.facts.useful:
            self.adj.contribute(s.args[0].name, _spread(s, dout), code)
            return
        binding = {p: atom(a) for p, a in zip(s.rule.params, s.args)}
        binding.update(out=name(s.target), dout=dout)
        for p, a in zip(s.rule.params, s.args):
            if p in s.rule.wrt and isinstance(a, ir.Var) and a.name in self.facts.useful:
                self.adj.contribute(a.name, instantiate(s.rule.vjp_exprs[p], binding), code)

    def getitem(self, s: ir.GetItem, code: list) -> None:
        if s.target not in self.adj.state:
            return
        dout = name(self.adj.d(s.target))
        self.adj.reset(s.target)
        self.adj.contribute_item(s.array.name, atom(s.index), dout, code)

    def setitem(self, s: ir.SetItem, code: list) -> None:
        """The overwritten entries pass their adjoint to the value written, then start afresh
        (zero) for the values they held before; the old values are put back."""
        array = s.array.name
        if array in self.adj.state:
            darray = self.adj.d(array)
            if self.adj.state[array] == ALIAS:
                code.append(_assign(darray, _method(darray, "copy")))
                self.adj.state[array] = OWNED
            entries = ast.Subscript(value=name(darray), slice=atom(s.index), ctx=ast.Load())
            if isinstance(s.value, ir.Var) and s.value.name in self.facts.useful:
                grad = _call("unbroadcast", _call("copy_of", entries), atom(s.value))
                self.adj.contribute(s.value.name, grad, code)
            # a tape of arrays is a list: its entries are replaced, not filled
            zero = _call("zeros_like", entries) if array in self.facts.list_tapes else ast.Constant(0.0)
            code.append(ast.Assign(targets=[ast.Subscript(value=name(darray), slice=atom(s.index),
                                                          ctx=ast.Store())],
                                   value=zero, lineno=0))
        slot = self.saved.get((id(s), ""))
        if slot is not None:
            value = _method(slot, "pop") if self._in_loop(slot) else name(slot)
            code.append(ast.Assign(targets=[_subscript(s, ast.Store())], value=value, lineno=0))

    def push(self, s: ir.Push, code: list) -> None:
        """The adjoint of a pushed value is the one its pop pushed on the adjoint stack."""
        popped = _method(self.adjoint_stack(s.stack.name), "pop")
        if isinstance(s.value, ir.Var) and s.value.name in self.facts.useful:
            self.adj.contribute(s.value.name, popped, code)
        else:
            code.append(ast.Expr(value=popped))

    def pop(self, s: ir.Pop, code: list) -> None:
        """Hand the popped value's adjoint (a zero if none flowed back) to its push."""
        kind = self.adj.state.get(s.target)
        dout = name(self.adj.d(s.target))
        value = _call("zeros_like", name(s.target)) if kind is None else \
            _call("copy_of", dout) if kind == ALIAS else dout
        self.adj.reset(s.target)
        code.append(ast.Expr(value=_method(self.adjoint_stack(s.stack.name), "append", value)))

    def adjoint_stack(self, stack: str) -> str:
        dstack = self.adj.d(stack)
        if dstack not in self.tapes:
            self.tapes.append(dstack)
        return dstack

    def _in_loop(self, slot: str) -> bool:
        return slot in self.tapes

    def if_(self, s: ir.If) -> list[ast.stmt]:
        before = dict(self.adj.state)
        body = self.block(s.body)
        after_body, self.adj.state = self.adj.state, dict(before)
        orelse = self.block(s.orelse)
        after_else = self.adj.state
        merged: dict[str, str] = {}
        sure, maybe, looped = self.facts.defined_before[id(s)]
        live = self.facts.live_at(s)
        for var in sorted(set(after_body) | set(after_else)):
            if var not in (maybe | looped) & live:
                continue  # assigned only in here, or not read before it is assigned again:
                # nothing above the branch uses its adjoint
            for branch, state in ((body, after_body), (orelse, after_else)):
                if var not in state:  # zero on this path: make it a real zero
                    zero = self.zero_at_merge(var, before, sure | looped)
                    if zero is not None:
                        branch.append(_assign(self.adj.d(var), zero))
            merged[var] = _join(after_body.get(var, OWNED), after_else.get(var, OWNED))
        self.adj.state = merged
        return [ast.If(test=atom(s.test), body=body or [ast.Pass()], orelse=orelse)]

    def zero_at_merge(self, var: str, before: dict, has_value: set[str]) -> ast.expr | None:
        """A zero adjoint for a branch that leaves `var`'s adjoint zero: shaped like the adjoint
        the branch started with, or like the variable where it surely has a value. Otherwise
        none: the variable is a temporary of the other branch (the branches of derivative
        code follow those of its forward sweep), and its adjoint is read only where it is set."""
        if var in before:
            return _call("zeros_like", name(self.adj.d(var)))
        return _call("zeros_like", name(var)) if var in has_value else None

    def loop(self, s) -> list[ast.stmt]:
        """Replay the iterations backwards. The adjoint state at the top of the reversed body
        must be the same every iteration: adjoints first written inside the loop are zeroed
        before it, adjoints the body leaves zero are zeroed at its end."""
        replay = self.recompute(s) if id(s) in self.facts.replayed else []
        outside = dict(self.adj.state)
        pre: list[ast.stmt] = []
        entry = dict(outside)
        owned_before: set[str] = set()
        live = self.facts.live_at(s)
        for _ in range(6):
            self.adj.state = dict(entry)
            body = self.block(s.body)
            # an adjoint the body starts but no earlier trip's value takes (the variable is
            # assigned before it is read in every trip) is dropped, not zeroed before the loop
            exit_ = self.adj.state = {v: k for v, k in self.adj.state.items()
                                      if v in entry or v in live}
            grow = [v for v in sorted(exit_) if v not in entry]
            # an aliased adjoint the body updates: copy it once here, not every iteration
            shared = [v for v in sorted(entry) if entry[v] == ALIAS and exit_.get(v) != ALIAS
                      and v not in owned_before]
            joined = {v: _join(entry[v], exit_.get(v, OWNED)) for v in entry}
            if not grow and not shared and joined == entry:
                break
            for v in grow:
                self.adj.materialize(v, pre)  # records OWNED in self.adj.state
                entry[v] = OWNED
            entry.update({v: k for v, k in joined.items()})
            for v in shared:
                pre.append(_assign(self.adj.d(v), _call("copy_of", name(self.adj.d(v)))))
                entry[v] = OWNED
                owned_before.add(v)
        state = assigned_in(s)  # loop state, not accumulators of adjoints from outside
        for v in sorted(entry):
            if v not in exit_:
                body.append(_assign(self.adj.d(v), _call("zeros_like", name(v))))
            elif self.flush_subnormals and v in state:
                body.append(_assign(self.adj.d(v), _call("flush_subnormal", name(self.adj.d(v)))))
        self.adj.state = entry
        body[0:0] = replay
        return pre + [ast.For(target=ast.Name(id=self._index(s), ctx=ast.Store()),
                              iter=self._reversed_range(s), body=body or [ast.Pass()],
                              orelse=[], lineno=0)]

    def recompute(self, s) -> list[ast.stmt]:
        """Restore the state the iteration started from, then run it again, saving what its
        backward code needs."""
        carried = self.facts.carried[id(s)]
        if not _on_lists(s, self.facts):
            restore = [_assign(v, ast.Subscript(value=name(t), slice=iteration(s), ctx=ast.Load()))
                       for v, t in zip(carried, self.forward.iteration_tapes[id(s)])]
        else:
            restore = [_assign(v, _method(self.forward.slot(v + "_saved", (id(s), v)), "pop"))
                       for v in reversed(carried)]
        replay = self.forward.block(s.body, REPLAY)
        self.recomputed.update(n.id for st in replay for n in ast.walk(st)
                               if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
        return restore + replay + [comment("---- reversed ----")]

    def _index(self, s) -> str:
        return s.index if isinstance(s, ir.For) else "_"

    def _reversed_range(self, s) -> ast.expr:
        trips = name(s.trips)
        if isinstance(s, ir.While):
            return _call("range", trips)
        start, step = atom(s.start), atom(s.step)
        last = ast.BinOp(left=start, op=ast.Add(),
                         right=ast.BinOp(left=ast.BinOp(left=trips, op=ast.Sub(),
                                                        right=ast.Constant(1)),
                                         op=ast.Mult(), right=step))
        stop = ast.BinOp(left=start, op=ast.Sub(), right=step)
        neg = ast.UnaryOp(op=ast.USub(), operand=step)
        parts = [_drop_zero(simplify(e)) for e in (last, stop, neg)]
        return _call("range", *parts)


def _spread(s: ir.Assign, dout: ast.expr) -> ast.expr:
    """The adjoint of the summed array, as a scalar in its float type."""
    x = atom(s.args[0])
    if s.rule.name == "mean":
        dout = ast.BinOp(left=dout, op=ast.Div(), right=_call("np.size", x))
    return _call("like", dout, x)


def _drop_zero(expr: ast.expr) -> ast.expr:
    """`0 + (n - 1)` reads `n - 1`."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub)) and \
            isinstance(expr.left, ast.Constant) and expr.left.value == 0:
        return expr.right if isinstance(expr.op, ast.Add) else \
            ast.UnaryOp(op=ast.USub(), operand=expr.right)
    return expr
