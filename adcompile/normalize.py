"""Pass `normalize`: `ParsedFunction` -> `ir.Function` in A-normal form.

Every statement applies one primitive to atoms; nested expressions get temporaries named after
the variable they compute (`H1`, `H2`). `x += y` becomes `x = x + y`, tuple assignment becomes
one assignment per name, `a if c else b` and short-circuit `and`/`or` become `If` statements,
methods and attributes (`x.sum()`, `x.T`) become calls of their rule. Calls are resolved here:
a call with no rule is an UnsupportedError naming the function.
"""

from __future__ import annotations

import ast
import dataclasses
import operator
import types
from typing import Any

import numpy as np

from . import ir
from .check import _generated, check
from .errors import UnsupportedError
from .jumps import Jumps, ends_without_return
from .naming import Namer
from .rules import ATTRIBUTES, METHODS, Rule, lookup
from .source import _MISSING, ParsedFunction, parse
from .tuples import TUPLE, TupleLowering, TupleVars, check_tuple_names

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow, ast.MatMult: operator.matmul,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.BitAnd: operator.and_,
           ast.BitOr: operator.or_}
_CMPOPS = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
           ast.Eq: operator.eq, ast.NotEq: operator.ne}
# `t = []`: a tape of saved values, in derivative code being differentiated again
NEW_TAPE = Rule(name="list", params=(), defaults={},
                primal=lambda: ast.List(elts=[], ctx=ast.Load()), result="promote")
RESERVED = {"np", "numba"}
_PLACEHOLDER = "\0"


def to_anf(fn: ParsedFunction) -> ir.Function:
    """Lower the checked function to A-normal form."""
    return _Normalizer(fn).function()


class _Normalizer(TupleLowering):
    def __init__(self, fn: ParsedFunction, namer: Namer | None = None, stack: tuple = (),
                 tuples: TupleVars | None = None) -> None:
        self.fn = fn
        self.tuples = tuples or TupleVars()  # shared with inlined helpers
        self.locals = set(fn.params) | _assigned_names(fn.tree)
        taken = {n.id for n in ast.walk(fn.tree) if isinstance(n, ast.Name)} | set(fn.params)
        self.namer = namer or Namer(taken | RESERVED | _runtime_names())
        self.source_names = set(self.namer.taken)
        self.stack = stack + (fn.fun,)  # functions being inlined, to reject recursion
        self.return_target: str | None = None  # set when inlined: where `return e` goes
        self.return_base = ""  # and what its temporaries are named after
        self.loops = 0  # loops around the statement being normalized (the caller's included)
        self.tapes = _generated(fn)  # derivative code keeps saved values on lists

    def function(self) -> ir.Function:
        self.check_ends(self.fn.tree.body)
        lowered = Jumps(self.namer.exact_or_fresh).function_body(self.fn.tree.body)
        self.locals |= _assigned_names(ast.Module(body=lowered, type_ignores=[]))
        body = self.block(lowered)
        if not body or not isinstance(body[-1], ir.Return):
            raise UnsupportedError("a function that does not end with `return`",
                                   self.fn.location(self.fn.tree),
                                   "end the function with `return <scalar>`")
        check_tuple_names(body, self.tuples)
        check_writes(body, self.fn.params, self.namer.taken - self.source_names)
        return ir.Function(self.fn.name, list(self.fn.params), body,
                           self.fn.location(self.fn.tree), self.namer.taken,
                           self.namer.taken - self.source_names)

    # ------------------------------------------------------------------ statements

    def block(self, stmts: list[ast.stmt]) -> list:
        out: list = []
        for node in stmts:
            self.stmt(node, out)
        return out

    def stmt(self, node: ast.stmt, out: list) -> None:
        loc = self.fn.location(node)
        if isinstance(node, ast.Assign):
            self.assign(node.targets, node.value, out, loc)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript):
            array, index = self.subscript_target(node.target, out, loc)
            old = self.namer.fresh(array.name)
            self.locals.add(old)
            out.append(ir.GetItem(old, array, index, loc))
            value = ast.BinOp(left=ast.Name(old, ast.Load()), op=node.op, right=node.value)
            new = self.atom(ast.copy_location(value, node), array.name, out, loc)
            out.append(ir.SetItem(array, index, new, loc))
        elif isinstance(node, ast.AugAssign):
            value = ast.BinOp(left=ast.Name(node.target.id, ast.Load()), op=node.op,
                              right=node.value)
            ast.copy_location(value, node)
            self.assign([node.target], value, out, loc)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self.assign([node.target], node.value, out, loc)
        elif isinstance(node, ast.Return) and self.return_target:
            self.expr_into(node.value, self.return_target, out, loc, self.return_base)
        elif isinstance(node, ast.Return):
            if isinstance(node.value, ast.Name) and node.value.id in self.locals and \
                    node.value.id not in self.tuples.elements:
                out.append(ir.Return(ir.Var(node.value.id), loc))
            else:
                target = self.namer.exact_or_fresh("out")
                self.expr_into(node.value, target, out, loc)
                if target in self.tuples.elements:  # a tuple returned as a value
                    target = self.as_value(self.tuples.items(target), "out", out, loc).name
                out.append(ir.Return(ir.Var(target), loc))
        elif isinstance(node, ast.If):
            test = self.atom(node.test, "cond", out, loc)
            out.append(ir.If(test, self.block(node.body), self.block(node.orelse), loc))
        elif isinstance(node, ast.For):
            args = [self.atom(a, node.target.id, out, loc) for a in node.iter.args]
            start, stop, step = ((ir.Const(0), args[0], ir.Const(1)) if len(args) == 1 else
                                 (args[0], args[1], ir.Const(1)) if len(args) == 2 else args)
            index = node.target.id
            trips = self.namer.exact_or_fresh("n_" + index if index.strip("_") else "n_iterations")
            counted = any(isinstance(s, ast.Break) for s in ast.walk(node))
            out.append(ir.For(node.target.id, start, stop, step, self.loop_block(node.body),
                              loc, trips, counted))
        elif isinstance(node, ast.While):
            if node.orelse:
                self.unsupported("`while ... else`", node, "use a flag variable")
            test_block: list = []
            self.loops += 1  # the test is also evaluated in the loop
            test = self.atom(node.test, "cond", test_block, loc)
            self.loops -= 1
            out.extend(_copy_block(test_block))  # its own statements: facts are per statement
            trips = self.namer.fresh("n_while")
            out.append(ir.While(test_block, test, self.loop_block(node.body), loc, trips))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            pass  # the docstring
        elif isinstance(node, ast.Pass):
            pass
        elif isinstance(node, ast.Break):  # left by jump lowering, guarded, last in its loop
            out.append(ir.Break(loc))
        elif isinstance(node, ast.Expr) and self.tape_method(node.value, "append", 1):
            stack = ir.Var(node.value.func.value.id)
            value = self.atom(node.value.args[0], stack.name, out, loc)
            out.append(ir.Push(stack, value, loc))
        elif isinstance(node, ast.Expr) and self.tapes and isinstance(node.value, ast.Call):
            # derivative code checks a value (`scalar_seed(out)`) or drops a popped adjoint
            self.expr_into(node.value, self.namer.fresh("unused"), out, loc)
        elif isinstance(node, ast.Expr):
            self.unsupported("expression statements", node,
                             "assign the result to a variable; calls for their effect "
                             "(printing, in-place updates) have no derivative")
        else:
            self.unsupported(f"`{type(node).__name__}` statements", node,
                             "see docs/language.md for the supported statements")

    def loop_block(self, stmts: list[ast.stmt]) -> list:
        self.loops += 1
        try:
            return self.block(stmts)
        finally:
            self.loops -= 1

    def assign(self, targets: list[ast.expr], value: ast.expr, out: list, loc) -> None:
        first, *rest = targets
        self.assign_one(first, value, out, loc)
        for t in rest:  # `a = b = value`
            self.assign_one(t, first, out, loc)

    def tape_method(self, node: ast.expr, method: str, nargs: int) -> bool:
        """`t.append(v)` or `t.pop()` on a tape of generated derivative code."""
        return (self.tapes and isinstance(node, ast.Call) and
                isinstance(node.func, ast.Attribute) and node.func.attr == method and
                isinstance(node.func.value, ast.Name) and node.func.value.id in self.locals and
                len(node.args) == nargs and not node.keywords)

    def assign_one(self, target: ast.expr, value: ast.expr, out: list, loc) -> None:
        if isinstance(target, ast.Name) and self.tapes and isinstance(value, ast.List):
            out.append(ir.Assign(target.id, NEW_TAPE, (), loc))
        elif isinstance(target, ast.Name):
            start = len(out)
            self.expr_into(value, target.id, out, loc)
            if _reads_own_target(out[start:], target.id):
                # `x = x * y` would make one name mean two values in the backward sweep
                temp = self.namer.fresh(target.id)
                _rename_last(out, start, target.id, temp)
                out.append(ir.Assign(target.id, None, (ir.Var(temp),), loc))
        elif isinstance(target, (ast.Tuple, ast.List)):
            names = [t.id if isinstance(t, ast.Name) else "t" for t in target.elts]
            if isinstance(value, (ast.Tuple, ast.List)):
                if len(value.elts) != len(target.elts):
                    self.unsupported("tuple assignment with mismatched lengths", value,
                                     "give one value per name")
                # evaluate every right-hand side before assigning any target (`a, b = b, a`)
                parts = [self.temp(e, n, out, loc) for e, n in zip(value.elts, names)]
            else:
                whole = self.value_of(value, "_".join(names), out, loc)
                if isinstance(whole, list) and len(whole) != len(names):
                    self.unsupported(f"unpacking a tuple of {len(whole)} into {len(names)} "
                                     "names", value, "give one name per element")
                # a tuple's elements directly; anything else is indexed at run time
                parts = whole if isinstance(whole, list) else []
                for k, n in enumerate([] if isinstance(whole, list) else names):
                    t = self.namer.fresh(n)
                    self.locals.add(t)
                    out.append(ir.GetItem(t, whole, ir.Index((ir.Const(k),)), loc))
                    parts.append(ir.Var(t))
            for t, part in zip(target.elts, parts):
                self.assign_one(t, ast.Name(part.name, ast.Load()), out, loc)
        elif isinstance(target, ast.Subscript):
            array, index = self.subscript_target(target, out, loc)
            value_atom = self.atom(value, array.name, out, loc)
            if value_atom == array:  # `z[0:1] = z`: NumPy reads all of z before writing
                copy = self.namer.fresh(array.name)
                self.locals.add(copy)
                out.append(ir.Assign(copy, lookup(np.copy), (array,), loc))
                value_atom = ir.Var(copy)
            out.append(ir.SetItem(array, index, value_atom, loc))
        else:
            self.unsupported(f"assignment to {type(target).__name__}", target,
                             "assign to names, tuples of names, or subscripts of local arrays")

    def subscript_target(self, target: ast.Subscript, out: list, loc) -> tuple:
        if not (isinstance(target.value, ast.Name) and target.value.id in self.locals):
            self.unsupported("assignment into a subscript of anything but a local array", target,
                             "allocate the array in the function (np.zeros) and write into it")
        if target.value.id in self.fn.params:
            self.unsupported(f"writing into the argument `{target.value.id}`", target,
                             f"copy it first: `{target.value.id} = {target.value.id}.copy()` "
                             "at the top of the function")
        return ir.Var(target.value.id), self.index(target.slice, target.value.id, out, loc)

    # ------------------------------------------------------------------ expressions

    def atom(self, node: ast.expr, base: str, out: list, loc) -> ir.Atom:
        """An atom for `node`, emitting the statements that compute it into a temporary."""
        simple = self.simple_atom(node)
        if simple is not None:
            return simple
        return self.as_value(self.value_of(node, base, out, loc), base, out, loc)

    def temp(self, node: ast.expr, base: str, out: list, loc) -> ir.Var:
        stmt_start = len(out)
        self.expr_into(node, _PLACEHOLDER, out, loc, base)
        name = self.namer.fresh(base)  # numbered after the parts it depends on
        _rename_last(out, stmt_start, _PLACEHOLDER, name)
        if _PLACEHOLDER in self.tuples.elements:  # it computed a tuple
            self.tuples.elements[name] = self.tuples.elements.pop(_PLACEHOLDER)
            self.tuples.where[name] = self.tuples.where.pop(_PLACEHOLDER)
        self.locals.add(name)
        return ir.Var(name)

    def simple_atom(self, node: ast.expr) -> ir.Atom | None:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (str, bytes)):
                self.unsupported("strings", node, "keep strings outside the function")
            return ir.Const(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant) and \
                isinstance(node.op, (ast.USub, ast.UAdd)) and \
                isinstance(node.operand.value, (int, float)):
            v = node.operand.value
            return ir.Const(-v if isinstance(node.op, ast.USub) else v)
        if isinstance(node, ast.Name):
            if node.id in self.tuples.elements:
                return None  # not one value: see tuples.py
            if node.id in self.locals or node.id in self.tuples.names:
                return ir.Var(node.id)
            return ir.Const(self.global_value(node))
        if isinstance(node, ast.Attribute) and not self.is_local_base(node):
            value = self.resolve(node)
            if isinstance(value, (int, float, bool)) or value is None:
                return ir.Const(value)  # np.pi, np.newaxis
            if isinstance(value, type) and issubclass(value, np.generic):
                return ir.Const(value)  # np.float32 as a dtype argument
            self.unsupported(f"the value `{ast.unparse(node)}`", node,
                             "pass it in as an argument")
        return None

    def expr_into(self, node: ast.expr, target: str, out: list, loc, base: str = "") -> None:
        """Emit statements computing `node` with the last one assigning `target`; temporaries
        are named after `base` (default: the target)."""
        base = base or target
        if self.is_tuple_expr(node):
            value = self.value_of(node, base, out, loc)
            if isinstance(value, list):
                self.bind_tuple(target, value, out, loc, base)
            else:
                out.append(ir.Assign(target, None, (value,), loc))
            return
        simple = self.simple_atom(node)
        if simple is not None:
            out.append(ir.Assign(target, None, (simple,), loc))
        elif self.tape_method(node, "pop", 0):
            out.append(ir.Pop(target, ir.Var(node.func.value.id), loc))
        elif isinstance(node, ast.BinOp):
            fn = _BINOPS.get(type(node.op))
            if fn is None:
                self.unsupported(f"the operator `{_op_text(node.op)}`", node,
                                 "supported: + - * / ** @ // % and unary -")
            args = (self.atom(node.left, base, out, loc), self.atom(node.right, base, out, loc))
            if fn is operator.mul and args[0] == args[1] and isinstance(args[0], ir.Var):
                fn, args = operator.pow, (args[0], ir.Const(2))  # one adjoint pass, not two
            out.append(ir.Assign(target, lookup(fn), args, loc))
        elif isinstance(node, ast.UnaryOp):
            fn = {ast.USub: operator.neg, ast.Not: operator.not_}.get(type(node.op))
            operand = self.atom(node.operand, base, out, loc)
            if isinstance(node.op, ast.UAdd):
                out.append(ir.Assign(target, None, (operand,), loc))
            elif fn is None:
                self.unsupported(f"the operator `{_op_text(node.op)}`", node,
                                 "supported: + - * / ** @ // % and unary -")
            else:
                out.append(ir.Assign(target, lookup(fn), (operand,), loc))
        elif isinstance(node, ast.Compare):
            self.compare(node, target, out, loc, base)
        elif isinstance(node, (ast.BoolOp, ast.IfExp)) and target != _PLACEHOLDER:
            # lowered to an If: compute into a temporary so the target is assigned once
            temp = self.temp(node, base, out, loc)
            items = self.tuples.items(temp.name)
            if items is not None:
                self.bind_tuple(target, items, out, loc, base)
            else:
                out.append(ir.Assign(target, None, (temp,), loc))
        elif isinstance(node, ast.BoolOp):
            self.boolop(node, target, out, loc, base)
        elif isinstance(node, ast.IfExp):
            test = self.atom(node.test, "cond", out, loc)
            body, orelse = [], []
            self.expr_into(node.body, target, body, loc, base)
            self.expr_into(node.orelse, target, orelse, loc, base)
            out.append(ir.If(test, body, orelse, loc))
        elif isinstance(node, ast.Call):
            self.call(node, target, out, loc, base)
        elif isinstance(node, ast.Attribute):
            rule = ATTRIBUTES.get(node.attr)
            if rule is None:
                self.unsupported(f"the attribute `.{node.attr}`", node,
                                 "supported: .T, .shape, .size, .ndim")
            receiver = self.atom(node.value, base, out, loc)
            out.append(ir.Assign(target, rule, (receiver,), loc))
        elif isinstance(node, ast.Subscript):
            receiver = self.value_of(node.value, base, out, loc)
            if isinstance(receiver, list):  # a helper's tuple: `h(x)[0]`
                value = self.subscript_items(receiver, node, base, out, loc)
                if isinstance(value, list):
                    self.bind_tuple(target, value, out, loc, base)
                else:
                    out.append(ir.Assign(target, None, (value,), loc))
                return
            if not isinstance(receiver, ir.Var):
                self.unsupported("subscripts of constants", node, "index a variable")
            index = self.index(node.slice, base, out, loc)
            out.append(ir.GetItem(target, receiver, index, loc))
        else:
            self.unsupported(_construct_name(node), node,
                             "see docs/language.md for the supported expressions")

    def compare(self, node: ast.Compare, target: str, out: list, loc, base: str) -> None:
        left = node.left
        parts = []
        for op, right in zip(node.ops, node.comparators):
            parts.append(ast.Compare(left=left, ops=[op], comparators=[right]))
            left = right
        if len(parts) > 1:  # `a < b < c` is `a < b and b < c`
            self.boolop(ast.BoolOp(op=ast.And(), values=parts), target, out, loc, base)
            return
        args = (self.atom(node.left, base, out, loc),
                self.atom(node.comparators[0], base, out, loc))
        out.append(ir.Assign(target, lookup(_CMPOPS[type(node.ops[0])]), args, loc))

    def boolop(self, node: ast.BoolOp, target: str, out: list, loc, base: str) -> None:
        """Short-circuit: `t = a and b` is `t = a; if t: t = b` (guards like `i < n and x[i]`)."""
        self.expr_into(node.values[0], target, out, loc, base)
        rest = node.values[1:]
        if not rest:
            return
        tail = ast.BoolOp(op=node.op, values=rest) if len(rest) > 1 else rest[0]
        inner: list = []
        self.expr_into(tail, target, inner, loc, base)
        taken, skipped = (inner, []) if isinstance(node.op, ast.And) else ([], inner)
        out.append(ir.If(ir.Var(target), taken, skipped, loc))

    def call(self, node: ast.Call, target: str, out: list, loc, base: str) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and self.is_local_base(func):
            rule = METHODS.get(func.attr)
            if rule is None:
                self.unsupported(f"the method `.{func.attr}()`", node,
                                 "supported methods: " + ", ".join(sorted(METHODS)))
            receiver = self.atom(func.value, base, out, loc)
            args = [receiver] + [self.atom(a, base, out, loc) for a in node.args]
            if rule.name == "reshape" and len(args) > 2:  # x.reshape(m, n)
                t = self.namer.fresh(base)
                out.append(ir.Assign(t, TUPLE, tuple(args[1:]), loc))
                args = [receiver, ir.Var(t)]
        else:
            fn = self.resolve(func)
            if fn is len and len(node.args) == 1 and not node.keywords:
                value = self.value_of(node.args[0], base, out, loc)
                if isinstance(value, list):  # the length of a tuple is known here
                    out.append(ir.Assign(target, None, (ir.Const(len(value)),), loc))
                else:
                    out.append(ir.Assign(target, lookup(len), (value,), loc))
                return
            rule = lookup(fn)
            if rule is None:
                fn = getattr(fn, "py_func", fn)  # a @numba.njit helper: inline its Python body
                if isinstance(fn, types.FunctionType):
                    self.inline(fn, node, target, out, loc, base)
                    return
                self.no_rule(fn, func)
            args = [self.atom(a, base, out, loc) for a in node.args]
        kwargs = {k.arg: self.atom(k.value, base, out, loc) for k in node.keywords}
        if rule.differentiable:
            out.append(ir.Assign(target, rule, self.bind(rule, args, kwargs, node), loc))
        else:  # non-differentiable calls keep their keywords (dtype=...)
            out.append(ir.Assign(target, rule, tuple(args), loc, tuple(kwargs.items())))

    def inline(self, fn: types.FunctionType, node: ast.Call, target: str, out: list, loc,
               base: str) -> None:
        """Inline a call of the user's own Python function: its body is normalized in place,
        its locals renamed apart, its result assigned to `target`."""
        if fn in self.stack:
            self.unsupported(f"recursion (`{fn.__name__}` calls itself)", node,
                             "write the recursion as a loop")
        callee = parse(fn)
        check(callee)
        args = [self.element(a, base, out, loc) for a in node.args]  # tuples stay tuples
        kwargs = {k.arg: self.element(k.value, base, out, loc) for k in node.keywords}
        child = _Normalizer(callee, self.namer, self.stack, self.tuples)
        child.return_target, child.return_base = target, base
        child.loops = self.loops
        out.extend(child.inlined_body(self.bind_call(callee, fn, args, kwargs, node), loc))

    def bind_call(self, callee: ParsedFunction, fn, args: list, kwargs: dict, node) -> dict:
        params = callee.params
        if len(args) > len(params) or any(k not in params for k in kwargs):
            self.unsupported(f"this call of `{fn.__name__}{inspect_signature(fn)}`", node,
                             "pass the arguments its signature names")
        bound = dict(zip(params, args)) | kwargs
        defaults = dict(zip(reversed(params), reversed(fn.__defaults__ or ())))
        for p in params:
            if p not in bound:
                if p not in defaults:
                    self.unsupported(f"a call of `{fn.__name__}` without `{p}`", node,
                                     f"pass `{p}`")
                bound[p] = ir.Const(defaults[p])
        return bound

    def inlined_body(self, bound: dict, loc) -> list:
        """The callee's body with its locals renamed to fresh names of the caller."""
        tree = self.fn.tree
        assigned = _assigned_names(tree)
        rename = {}
        for name in sorted(self.locals):
            if name in bound and name not in assigned and isinstance(bound[name], ir.Var):
                rename[name] = bound[name].name  # read-only parameter: use the caller's variable
            else:
                rename[name] = self.namer.exact_or_fresh(name)
        body = _Rename(rename, {p: a for p, a in bound.items() if isinstance(a, ir.Const)
                                and p not in assigned}).visit_body(tree.body)
        self.locals = set(rename.values())
        out: list = []
        for p, a in bound.items():
            if p not in assigned:
                continue
            if self.tuples.is_tuple(a):
                self.bind_tuple(rename[p], self.tuples.items(a.name), out, loc)
            else:
                out.append(ir.Assign(rename[p], None, (a,), loc))
        self.check_ends(tree.body)
        lowered = Jumps(self.namer.exact_or_fresh, hoist=self.loops > 0).function_body(body)
        self.locals |= _assigned_names(ast.Module(body=lowered, type_ignores=[]))
        out.extend(self.block(lowered))
        return out

    def bind(self, rule: Rule, args: list, kwargs: dict, node: ast.AST) -> tuple:
        """Arguments in the order of the rule's parameters, defaults filled in."""
        if len(args) > len(rule.params):
            self.unsupported(f"{len(args)} arguments to {rule.name}", node,
                             f"{rule.name} takes ({', '.join(rule.params)})")
        bound = dict(zip(rule.params, args))
        for k, v in kwargs.items():
            if k not in rule.params or k in bound:
                self.unsupported(f"the keyword argument `{k}=` of {rule.name}", node,
                                 f"{rule.name} takes ({', '.join(rule.params)})")
            bound[k] = v
        for p in rule.params:
            if p not in bound:
                if p not in rule.defaults:
                    self.unsupported(f"a call of {rule.name} without `{p}`", node,
                                     f"pass `{p}`")
                bound[p] = ir.Const(rule.defaults[p])
        return tuple(bound[p] for p in rule.params)

    def index(self, node: ast.expr, base: str, out: list, loc) -> ir.Index:
        elts = node.elts if isinstance(node, ast.Tuple) else [node]
        items = []
        for e in elts:
            if isinstance(e, ast.Slice):
                items.append(ir.Slice(*(None if p is None else self.atom(p, base, out, loc)
                                        for p in (e.lower, e.upper, e.step))))
            else:
                items.append(self.atom(e, base, out, loc))
        return ir.Index(tuple(items))

    # ------------------------------------------------------------------ names

    def is_local_base(self, node: ast.Attribute) -> bool:
        inner = node.value
        while isinstance(inner, ast.Attribute):
            inner = inner.value
        return not isinstance(inner, ast.Name) or inner.id in self.locals

    def resolve(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Name):
            if node.id in self.locals:
                self.unsupported(f"calling the local variable `{node.id}`", node,
                                 "call module-level functions by name")
            value = self.fn.resolve(node.id)
            if value is _MISSING:
                self.unsupported(f"the undefined name `{node.id}`", node,
                                 "define it at module level or pass it as an argument")
            return value
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            value = getattr(base, node.attr, _MISSING)
            if value is _MISSING:
                self.unsupported(f"`{ast.unparse(node)}`, which does not exist", node,
                                 "check the spelling")
            return value
        self.unsupported(f"calling {_construct_name(node)}", node, "call functions by name")

    def global_value(self, node: ast.Name) -> Any:
        value = self.resolve(node)
        if isinstance(value, (bool, int, float)) and not isinstance(value, np.ndarray):
            return value
        if isinstance(value, np.ndarray):
            hint = "pass arrays in as arguments (global arrays would be frozen into the code)"
        else:
            hint = "only numbers may be read from module globals; pass other values in"
        self.unsupported(f"the global `{node.id}` ({type(value).__name__})", node, hint)

    def no_rule(self, fn: Any, node: ast.expr) -> None:
        name = ast.unparse(node)
        from .api import GradFunction  # the API module imports this one

        if isinstance(fn, GradFunction):
            self.unsupported(f"calling `{name}`, a derivative made by adcompile, inside a "
                             "differentiated function (a second derivative)", node,
                             "differentiate the original function, or compute the derivative "
                             "outside and pass it in as an argument")
        if isinstance(fn, types.FunctionType):
            self.unsupported(f"calls to the Python function `{name}`", node,
                             "inline its body, or register a rule with adcompile.defvjp")
        self.unsupported(f"`{name}`: it has no derivative rule", node,
                         "use a supported NumPy function (see docs/numpy.md) or register one "
                         "with adcompile.defvjp")

    def check_ends(self, body: list) -> None:
        if ends_without_return(body):
            self.unsupported("a function that can end without `return` (Python returns None "
                             "there)", body[-1],
                             f"end every path through `{self.fn.name}` with a `return`")

    def unsupported(self, construct: str, node: ast.AST, hint: str):
        raise UnsupportedError(construct, self.fn.location(node), hint)


class _Rename(ast.NodeTransformer):
    """Rename an inlined function's locals; read-only parameters bound to constants become
    those constants."""

    def __init__(self, names: dict[str, str], consts: dict[str, ir.Const]) -> None:
        self.names = names
        self.consts = consts

    def visit_body(self, body: list[ast.stmt]) -> list[ast.stmt]:
        import copy
        return [self.visit(copy.deepcopy(s)) for s in body]

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.consts and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Constant(self.consts[node.id].value), node)
        if node.id in self.names:
            node.id = self.names[node.id]
        return node


def inspect_signature(fn) -> str:
    import inspect
    return str(inspect.signature(fn))


def check_writes(body: list, params: list[str], temps: set[str]) -> None:
    """Arrays written with subscripts must not be aliased under another name, and a slice of
    one kept in a variable must not be read after a later write into the array: NumPy views
    would see that write, which the derivative does not follow."""
    written = {s.array.name for s in ir.walk(body) if isinstance(s, ir.SetItem)}
    if not written:
        return
    order = list(_with_loops(body))
    for k, (s, loops) in enumerate(order):
        if isinstance(s, ir.Assign) and s.rule is None and isinstance(s.args[0], ir.Var):
            src = s.args[0].name
            shared = {n for n in (src, s.target) if not _rebound_before_written(body, s, n)}
            if (src in written or s.target in written) and src not in temps and \
                    (src in params or _read_after(order, k, src, loops)) and \
                    _written_after(order, k, shared, loops):
                raise UnsupportedError(
                    f"`{s.target} = {src}`: an array written with subscripts shared under "
                    "two names", s.loc, f"make a copy: `{s.target} = {src}.copy()`")
        elif isinstance(s, ir.GetItem) and s.array.name in written and \
                _is_view(s.index) and _read_after_write(order, k, s, loops):
            raise UnsupportedError(
                f"keeping the slice `{s.target} = {s.array.name}[...]` of an array that is "
                "written with subscripts", s.loc,
                f"copy the slice (`{s.array.name}[...].copy()`) or index it where it is used")


def _read_after(order: list, k: int, name: str, loops: tuple) -> bool:
    """Whether `name` is read after statement k (later, or in a loop around it): an array
    whose old name is never read again may be shared with the new one."""
    return any(name in ir.reads(s) and (j > k or set(loops) & set(around))
               for j, (s, around) in enumerate(order))


def _rebound_before_written(body: list, copy: ir.Assign, name: str) -> bool:
    """Whether `name`, one of the two sharing an array after `copy`, is bound to another value
    later in the same block before anything writes into it: later writes through that name
    cannot reach the shared array."""
    block = _block_of(body, copy)
    after = block[next(i for i, t in enumerate(block) if t is copy) + 1:]
    for t in after:
        if any(isinstance(w, ir.SetItem) and w.array.name == name for w in ir.walk([t])):
            return False
        if isinstance(t, (ir.Assign, ir.GetItem, ir.Pop)) and t.target == name:
            return True
    return False


def _block_of(body: list, stmt) -> list:
    if any(t is stmt for t in body):
        return body
    for t in body:
        for inner in (getattr(t, f, None) for f in ("body", "orelse", "test_block")):
            if isinstance(inner, list) and any(u is stmt for u in ir.walk(inner)):
                return _block_of(inner, stmt)
    raise AssertionError("statement not in body")


def _read_after_write(order: list, k: int, view: ir.GetItem, loops: tuple) -> bool:
    """Whether the view may be read after a write into its array: later in program order,
    or in a later iteration of a loop around both. A `while` test block is both before its
    loop and in it: a read after the test's own re-evaluation of the view sees a fresh view."""
    writes = [j for j, (s, _) in enumerate(order)
              if isinstance(s, ir.SetItem) and s.array.name == view.array.name]
    reads = [j for j, (s, _) in enumerate(order) if view.target in _value_reads(s)]
    again = [j for j, (s, _) in enumerate(order) if s == view and j != k]  # its copy
    if any(k < w < r and not any(w < j < r for j in again) for w in writes for r in reads):
        return True
    return any(set(loops) & set(order[w][1]) and _carried_to(order, k, r, loops, again)
               for w in writes for r in reads if r < k)


def _carried_to(order: list, k: int, r: int, loops: tuple, again: list) -> bool:
    """Whether the view made at k may reach the read at r < k in a later trip of a loop
    around both: not if a copy of the view is made afresh, in that loop, before r."""
    common = set(loops) & set(order[r][1])
    return bool(common) and not any(j < r and common <= set(order[j][1]) for j in again)


def _written_after(order: list, k: int, names: set[str], loops: tuple) -> bool:
    """Whether one of `names` is written with subscripts after statement k, or in a loop
    around it (in the next iteration)."""
    return any(isinstance(s, ir.SetItem) and s.array.name in names and
               (j > k or set(loops) & set(around)) for j, (s, around) in enumerate(order))


# helper parameters read only for their shape and dtype (`unbroadcast(g, x)`), not values
_SHAPE_ONLY = {"unbroadcast": "x", "broadcast_like": "out_like", "sum_adjoint": "x",
               "mean_adjoint": "x", "zeros_like": "x", "like": "x", "reshape_like": "x",
               "as_gradient": "x"}


def _value_reads(s) -> list[str]:
    """The variables whose values a statement reads."""
    if isinstance(s, ir.Assign) and s.rule is not None and s.rule.name in _SHAPE_ONLY:
        shape = _SHAPE_ONLY[s.rule.name]
        return ir.atom_vars(a for p, a in zip(s.rule.params, s.args) if p != shape)
    return ir.reads(s)


def _with_loops(body: list, loops: tuple = ()):
    for s in body:
        yield s, loops
        if isinstance(s, ir.If):
            yield from _with_loops(s.body, loops)
            yield from _with_loops(s.orelse, loops)
        elif isinstance(s, (ir.For, ir.While)):
            inner = s.body + (s.test_block if isinstance(s, ir.While) else [])
            yield from _with_loops(inner, loops + (id(s),))


def _copy_block(body: list) -> list:
    """Fresh statement objects (atoms and rules shared), nested blocks copied too."""
    out = []
    for s in body:
        nested = {f: _copy_block(getattr(s, f)) for f in ("body", "orelse", "test_block")
                  if isinstance(getattr(s, f, None), list)}
        out.append(dataclasses.replace(s, **nested))
    return out


def _is_view(index: ir.Index) -> bool:
    return any(isinstance(i, ir.Slice) or i == ir.Const(None) for i in index.items)


def _assigned_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _rename_last(out: list, start: int, old: str, new: str) -> None:
    """Give the placeholder target (always the last statement written, maybe inside an If made
    for `a if c else b`) its real name."""
    for stmt in ir.walk(out[start:]):
        if isinstance(stmt, (ir.Assign, ir.GetItem, ir.Pop)) and stmt.target == old:
            stmt.target = new
        elif isinstance(stmt, ir.If) and stmt.test == ir.Var(old):
            stmt.test = ir.Var(new)


def _reads_own_target(stmts: list, name: str) -> bool:
    return any(isinstance(s, (ir.Assign, ir.GetItem)) and s.target == name and name in ir.reads(s)
               for s in ir.walk(stmts))


def _runtime_names() -> set[str]:
    from . import runtime
    return set(getattr(runtime, "__all__", ()))


def _op_text(op: ast.AST) -> str:
    return {ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
            ast.RShift: ">>", ast.Invert: "~", ast.FloorDiv: "//", ast.Mod: "%"}.get(type(op),
                                                                                  type(op).__name__)


def _construct_name(node: ast.AST) -> str:
    return f"{type(node).__name__} expressions"
