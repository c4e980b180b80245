"""Part of `normalize`: tuples become one variable per element.

A tuple is not a runtime value of the derivative: `x = a, b, c` binds `x`'s elements to
variables of their own (`x0`, `x1`, `x2`), `x[-1]` reads `x2`, `u, v = x` copies elements, a
helper returning `(p, q)` binds its caller's target the same way, and `x[i]` with a run-time
`i` selects an element by branches on `i`. Every element then has an adjoint like any other
variable, through loops, branches and inlined helpers, with no rule for tuples at all.

Where a tuple must exist as a value (an argument of a NumPy function: `np.zeros((n, m))`),
it is built from its elements with the non-differentiable `tuple` rule; the analysis refuses
such a tuple when it holds a value being differentiated. A name that holds a tuple in one
place and another value elsewhere has no single type: it is refused (`check_tuple_names`).
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field

import numpy as np

from . import ir, runtime
from .errors import Location, UnsupportedError
from .rules import lookup, nondiff

TUPLE = nondiff(tuple, params=("items",), name="tuple",
                primal=lambda *items: ast.Tuple(elts=list(items), ctx=ast.Load()))
INDEX = lookup(runtime.tuple_index)

Items = list  # element atoms; a `ir.Var` naming a tuple variable is a nested tuple


@dataclass
class TupleVars:
    """Shared by a function and the helpers inlined into it (their names are distinct)."""

    elements: dict[str, list[str]] = field(default_factory=dict)  # tuple variable -> elements
    where: dict[str, Location] = field(default_factory=dict)  # where it first got a tuple
    names: set[str] = field(default_factory=set)  # every element variable

    def items(self, name: str) -> Items | None:
        names = self.elements.get(name)
        return None if names is None else [ir.Var(n) for n in names]

    def is_tuple(self, atom) -> bool:
        return isinstance(atom, ir.Var) and atom.name in self.elements


class TupleLowering:
    """Methods of the normalizer that lower tuple expressions (see the module docstring)."""

    def is_tuple_expr(self, node: ast.expr) -> bool:
        """Syntax that is surely a tuple, or a subscript of one (a call may return one too,
        which is known once it is inlined)."""
        if isinstance(node, ast.Tuple):
            return True
        if isinstance(node, ast.Name):
            return node.id in self.tuples.elements
        if isinstance(node, ast.Subscript):
            return self.is_tuple_expr(node.value)
        return False

    def value_of(self, node: ast.expr, base: str, out: list, loc) -> Items | ir.Atom:
        """Evaluate `node` once: its elements if it is a tuple, else an atom."""
        if isinstance(node, ast.Tuple):
            return [self.element(e, base, out, loc) for e in node.elts]
        if isinstance(node, ast.Name) and node.id in self.tuples.elements:
            return self.tuples.items(node.id)
        if isinstance(node, ast.Subscript) and self.is_tuple_expr(node.value):
            inner = self.value_of(node.value, base, out, loc)
            if isinstance(inner, list):
                return self.subscript_items(inner, node, base, out, loc)
            if not isinstance(inner, ir.Var):
                self.unsupported("subscripts of constants", node, "index a variable")
            name = self.namer.fresh(base)  # an array held in a tuple: index the array
            self.locals.add(name)
            out.append(ir.GetItem(name, inner, self.index(node.slice, base, out, loc), loc))
            return ir.Var(name)
        simple = self.simple_atom(node)
        if simple is not None:
            return simple
        var = self.temp(node, base, out, loc)
        return self.tuples.items(var.name) or var

    def element(self, node: ast.expr, base: str, out: list, loc) -> ir.Atom:
        """An element of a tuple being built: an atom, or a tuple variable for a nested one."""
        value = self.value_of(node, base, out, loc)
        if isinstance(value, list):
            name = self.namer.fresh(base)
            self.bind_tuple(name, value, out, loc)
            return ir.Var(name)
        return value

    def as_value(self, value: Items | ir.Atom, base: str, out: list, loc) -> ir.Atom:
        """An atom for a tuple needed as a value (an argument of a NumPy function)."""
        if not isinstance(value, list):
            return value
        items = tuple(self.as_value(self.tuples.items(a.name), base, out, loc)
                      if self.tuples.is_tuple(a) else a for a in value)
        name = self.namer.fresh(base)
        self.locals.add(name)
        out.append(ir.Assign(name, TUPLE, items, loc))
        return ir.Var(name)

    def subscript_items(self, items: Items, node: ast.Subscript, base: str, out: list,
                        loc) -> Items | ir.Atom:
        """`t[k]`, `t[-1]`, `t[1:]` on a tuple's elements; `t[i]` with a run-time `i`."""
        index = node.slice
        if isinstance(index, ast.Slice):
            bounds = [self.simple_atom(p) if p is not None else ir.Const(None)
                      for p in (index.lower, index.upper, index.step)]
            if not all(isinstance(b, ir.Const) and (b.value is None or type(b.value) is int)
                       for b in bounds):
                self.unsupported("slicing a tuple with bounds computed at run time", node,
                                 "use constant bounds (`t[1:]`) or index one element")
            return items[slice(*(b.value for b in bounds))]
        k = self.simple_atom(index)
        if isinstance(k, ir.Const):
            if type(k.value) is not int and not isinstance(k.value, np.integer):
                self.unsupported(f"indexing a tuple with {k.value!r}", node,
                                 "index tuples with integers")
            if not -len(items) <= k.value < len(items):
                self.unsupported(f"index {k.value} of a tuple of {len(items)} elements", node,
                                 f"use an index in range({-len(items)}, {len(items)})")
            picked = items[k.value]
            return self.tuples.items(picked.name) if self.tuples.is_tuple(picked) else picked
        if any(self.tuples.is_tuple(a) for a in items):
            self.unsupported("a run-time index into a tuple of tuples", node,
                             "index with a constant, or unpack the inner tuples first")
        position = self.atom(index, "k", out, loc)
        k = self.namer.fresh("k")
        self.locals.add(k)
        out.append(ir.Assign(k, INDEX, (position, ir.Const(len(items))), loc))
        target = self.namer.fresh(base)
        self.locals.add(target)
        out.extend(self.select(target, items, k, 0, loc))
        return ir.Var(target)

    def select(self, target: str, items: Items, k: str, j: int, loc) -> list:
        """`target = items[k]` as branches: `if k == 0: ... else: if k == 1: ...`."""
        take = [ir.Assign(target, None, (items[j],), loc)]
        if j == len(items) - 1:
            return take
        cond = self.namer.fresh("cond")
        self.locals.add(cond)
        test = ir.Assign(cond, lookup(operator.eq), (ir.Var(k), ir.Const(j)), loc)
        return [test, ir.If(ir.Var(cond), take, self.select(target, items, k, j + 1, loc), loc)]

    def bind_tuple(self, target: str, items: Items, out: list, loc, base: str = "") -> None:
        """`target = (items...)`: assign each element variable of `target`."""
        names = self.tuples.elements.get(target)
        if names is None:
            stem = base or target
            sep = "e" if stem[-1].isdigit() else ""
            names = [self.namer.exact_or_fresh(f"{stem}{sep}{k}") for k in range(len(items))]
            self.tuples.elements[target] = names
            self.tuples.where[target] = loc
            self.tuples.names.update(names)
        elif len(names) != len(items):
            first = self.tuples.where[target]
            raise UnsupportedError(
                f"a variable that holds tuples of two lengths (`{target}`: {len(items)} here, "
                f"{len(names)} at {first.short})", loc,
                "a variable has one type: give each tuple a name of its own")
        # evaluate every element before assigning any (`t = t[1], t[0]`)
        assigned = set(_flat(names, self.tuples))
        items = [self.keep(a, out, loc) if self.reads_any(a, assigned) else a for a in items]
        for name, item in zip(names, items):
            if self.tuples.is_tuple(item):
                self.bind_tuple(name, self.tuples.items(item.name), out, loc)
            else:
                out.append(ir.Assign(name, None, (item,), loc))

    def reads_any(self, atom, names: set[str]) -> bool:
        if not isinstance(atom, ir.Var):
            return False
        return bool(set(_flat([atom.name], self.tuples)) & names)

    def keep(self, atom: ir.Var, out: list, loc) -> ir.Var:
        """A copy of an element (or nested tuple) that is about to be overwritten."""
        name = self.namer.fresh(atom.name)
        if self.tuples.is_tuple(atom):
            self.bind_tuple(name, self.tuples.items(atom.name), out, loc)
        else:
            self.locals.add(name)
            out.append(ir.Assign(name, None, (atom,), loc))
        return ir.Var(name)


def _flat(names: list[str], tuples: TupleVars):
    for n in names:
        yield n
        yield from _flat(tuples.elements.get(n, []), tuples)


def check_tuple_names(body: list, tuples: TupleVars) -> None:
    """A tuple variable never appears in the lowered code: where it does, the same name was
    also given a value of another kind (or read before it held a tuple)."""
    for s in ir.walk(body):
        for name in set(ir.reads(s)) | set(ir.writes(s)):
            if name in tuples.elements:
                first = tuples.where[name]
                raise UnsupportedError(
                    f"a variable that holds a tuple (`{name}`, at {first.short}) and another "
                    "kind of value (here)", s.loc,
                    "a variable has one type: give the tuple a name of its own")
