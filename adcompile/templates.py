"""Building expressions for generated code: atoms to syntax, rule templates instantiated with
the program's names, small algebraic clean-ups, and float constants that keep float32 code in
float32 (Numba upcasts `float32_array * 2.0` to float64, so constants go through `like`).
"""

from __future__ import annotations

import ast
import copy
import operator

import numpy as np

from . import ir

_FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
         ast.Div: operator.truediv, ast.Pow: operator.pow}


def name(n: str) -> ast.Name:
    return ast.Name(id=n, ctx=ast.Load())


def atom(a) -> ast.expr:
    """Syntax for an atom, a slice or an index."""
    if a is None:
        return ast.Constant(None)
    if isinstance(a, ir.Var):
        return name(a.name)
    if isinstance(a, ir.Slice):
        return ast.Slice(*(None if p is None else atom(p) for p in (a.lower, a.upper, a.step)))
    if isinstance(a, ir.Index):
        items = [atom(i) for i in a.items]
        return items[0] if len(items) == 1 else ast.Tuple(elts=items, ctx=ast.Load())
    value = a.value
    if isinstance(value, type) and issubclass(value, np.generic):
        return ast.Attribute(value=name("np"), attr=value.__name__, ctx=ast.Load())
    if isinstance(value, tuple):
        return ast.Tuple(elts=[atom(ir.Const(v)) for v in value], ctx=ast.Load())
    return number(value)


def number(value) -> ast.expr:
    """A constant; a negative number is written `-c`, so `(-0.5) ** 2` keeps its parentheses."""
    if type(value) in (int, float) and (value < 0 or (value == 0 and str(value)[0] == "-")):
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-value))
    return ast.Constant(value)


def primal(stmt: ir.Assign) -> ast.expr:
    """The forward expression of an assignment."""
    if stmt.rule is None:
        return atom(stmt.args[0])
    expr = stmt.rule.primal(*[atom(a) for a in stmt.args])
    if stmt.kwargs and isinstance(expr, ast.Call):
        expr.keywords = [ast.keyword(arg=k, value=atom(v)) for k, v in stmt.kwargs]
    return keep_dtype(expr)


def instantiate(template: ast.expr, binding: dict[str, ast.expr]) -> ast.expr:
    """A copy of a rule's expression with its parameter names replaced."""

    class Substitute(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return copy.deepcopy(binding[node.id]) if node.id in binding else node

    expr = Substitute().visit(copy.deepcopy(template))
    return keep_dtype(simplify(expr))


def simplify(expr: ast.expr) -> ast.expr:
    """Fold constant arithmetic and drop `* 1` and `** 1` (so `x ** (2 - 1)` reads `x`)."""

    class Simplify(ast.NodeTransformer):
        def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
            self.generic_visit(node)
            left, right = node.left, node.right
            fold = _FOLD.get(type(node.op))
            if fold and _is_number(left) and _is_number(right):
                try:
                    return number(fold(_value(left), _value(right)))
                except (ZeroDivisionError, OverflowError):
                    return node
            if isinstance(node.op, (ast.Mult, ast.Pow, ast.Div)) and _is_one(right):
                return left
            if isinstance(node.op, ast.Mult) and _is_one(left):
                return right
            return node

        def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
            self.generic_visit(node)
            inner = _value(node.operand)
            if isinstance(node.op, ast.USub) and inner is not None and inner < 0:
                return ast.Constant(-inner)
            return node

    return Simplify().visit(expr)


def keep_dtype(expr: ast.expr) -> ast.expr:
    """Route float constants that meet an array through `like(c, x)`."""

    class Keep(ast.NodeTransformer):
        def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
            self.generic_visit(node)
            if _is_float(node.left) and not _is_number(node.right):
                node.left = _like(node.left, node.right)
            elif _is_float(node.right) and not _is_number(node.left):
                node.right = _like(node.right, node.left)
            return node

        def visit_Call(self, node: ast.Call) -> ast.expr:
            self.generic_visit(node)
            if _is_numpy(node.func):
                others = [a for a in node.args if not _is_number(a)]
                if others:
                    node.args = [_like(a, others[0]) if _is_float(a) else a for a in node.args]
            return node

    return Keep().visit(expr)


def _like(const: ast.Constant, other: ast.expr) -> ast.expr:
    ref = next((n for n in ast.walk(other) if isinstance(n, ast.Name) and n.id != "np"), None)
    if ref is None:
        return const
    return ast.Call(func=name("like"), args=[const, name(ref.id)], keywords=[])


def _value(node: ast.expr):
    """The number a constant (or a negated constant) stands for, else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _value(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    return None


def _is_number(node: ast.expr) -> bool:
    return _value(node) is not None


def _is_float(node: ast.expr) -> bool:
    return type(_value(node)) is float


def _is_one(node: ast.expr) -> bool:
    return _value(node) == 1


def _is_numpy(func: ast.expr) -> bool:
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
        func.value.id == "np"
