"""Part of pass `analyze`: the dtype each variable can hold, joined over all its assignments.

A variable assigned `1` and later `out * a` holds an int, then a float. Storage made for it
before a loop (a tape of its values) must hold the join of every value it takes, as NumPy's
promotion and Numba's unification at the loop's head both do; typed from the first value, it
would truncate the floats. Parameter types are known only when the derivative is called, so
the join is kept symbolic: the parameters whose dtypes it depends on, and the least kind
(bool < int < float) that the function's own constants and operations force. Generated code
passes these to `new_tape`, which resolves the join for the actual argument types.

Each rule says what its result's dtype is (`Rule.result`): the join of its inputs
("promote"), at least a float ("float"), a fixed kind ("bool", "int"), or the `dtype` it is
given ("dtype"). The join over-approximates: storage may be wider than a value, never
narrower.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import ir

NONE, BOOL, INT, FLOAT = -1, 0, 1, 2


@dataclass(frozen=True)
class Join:
    params: frozenset[str] = frozenset()
    kind: int = NONE  # the least kind forced by constants and operations

    def __or__(self, other: Join) -> Join:
        return Join(self.params | other.params, max(self.kind, other.kind))


_FIXED = {"bool": Join(kind=BOOL), "int": Join(kind=INT), "float": Join(kind=FLOAT)}


def joins(fn: ir.Function) -> dict[str, Join]:
    """The join of every variable's values, from its assignments (a fixed point: loops)."""
    found = {p: Join(frozenset({p})) for p in fn.params}
    stmts = [s for s in ir.walk(fn.body) if isinstance(s, (ir.Assign, ir.GetItem, ir.Pop,
                                                            ir.Push, ir.For, ir.While))]
    changed = True
    while changed:
        changed = False
        for s in stmts:
            for var, join in _results(s, found):
                new = found.get(var, Join()) | join
                if new != found.get(var):
                    found[var] = new
                    changed = True
    return found


def _results(s, found: dict[str, Join]):
    """(variable, join of the value the statement gives it)."""
    if isinstance(s, ir.For):
        yield s.index, Join(kind=INT)
        yield s.trips, Join(kind=INT)
    elif isinstance(s, ir.While):
        yield s.trips, Join(kind=INT)
    elif isinstance(s, ir.GetItem):
        yield s.target, found.get(s.array.name, Join())
    elif isinstance(s, ir.Pop):
        yield s.target, found.get(s.stack.name, Join())
    elif isinstance(s, ir.Push):  # a list holds the join of what is pushed
        yield s.stack.name, _of(s.value, found)
    elif isinstance(s, ir.Assign):
        yield s.target, _assigned(s, found)


def _assigned(s: ir.Assign, found: dict[str, Join]) -> Join:
    atoms = list(s.args) + [v for _, v in s.kwargs]
    result = "promote" if s.rule is None else s.rule.result
    if result in _FIXED:
        return _FIXED[result] | (_inputs(atoms, found) if result == "float" else Join())
    if result == "dtype":
        kinds = [_dtype_kind(a.value) for a in atoms if isinstance(a, ir.Const)]
        return Join(kind=max([k for k in kinds if k is not None], default=FLOAT))
    return _inputs(atoms, found)


def _inputs(atoms: list, found: dict[str, Join]) -> Join:
    join = Join()
    for a in atoms:
        join = join | _of(a, found)
    return join


def _of(a, found: dict[str, Join]) -> Join:
    if isinstance(a, ir.Var):
        return found.get(a.name, Join())
    if isinstance(a, ir.Const):
        return Join(kind=_const_kind(a.value))
    return Join()


def _const_kind(value) -> int:
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, (int, np.integer)):
        return INT
    if isinstance(value, (float, np.floating)):
        return FLOAT
    if isinstance(value, tuple):
        return max((_const_kind(v) for v in value), default=NONE)
    return NONE  # None, a dtype given as an argument


def _dtype_kind(value) -> int | None:
    if isinstance(value, type) and issubclass(value, np.generic):
        kind = np.dtype(value).kind
        return {"b": BOOL, "i": INT, "u": INT, "f": FLOAT}.get(kind, FLOAT)
    return None


def witnesses(var: str, join: Join) -> list[ir.Atom]:
    """Values whose types, with `var`'s own, give the join: its parameters, and a constant
    of the least kind."""
    atoms: list[ir.Atom] = [ir.Var(p) for p in sorted(join.params) if p != var]
    if join.kind == FLOAT:
        atoms.append(ir.Const(0.0))
    elif join.kind == INT:
        atoms.append(ir.Const(0))
    return atoms


# ---------------------------------------------------------------- ranks that have no join

_SCALAR_RESULT = {"float", "int", "bool", "len", "size", "ndim", "argmax", "argmin"}
_FULL_REDUCTIONS = {"sum", "mean", "max", "min"}
_ALLOCATIONS = {"zeros", "ones", "empty", "full"}


def check_ranks(fn: ir.Function) -> None:
    """Refuse a variable given a scalar in one assignment and an array (or arrays of two
    ranks) in another, where both ranks are plain from the code (`y = 0.0` and
    `y = np.zeros(3)`): no type holds both. Ranks that depend on the arguments are checked
    by Numba when the derivative is compiled."""
    lengths = {s.target: len(s.args) for s in ir.walk(fn.body)
               if isinstance(s, ir.Assign) and s.rule is not None and s.rule.name == "tuple"}
    seen: dict[str, tuple[int, ir.Assign, int]] = {}
    for s, block in _with_blocks(fn.body):
        rank = _known_rank(s, lengths) if isinstance(s, ir.Assign) else None
        if rank is None:
            continue
        earlier = seen.setdefault(s.target, (rank, s, block))
        # one after the other in one block is two versions (Numba types each on its own);
        # in different blocks, both may reach the same later read
        if earlier[0] != rank and earlier[2] != block:
            from .errors import UnsupportedError
            raise UnsupportedError(
                f"`{s.target}` holding values of two types with no join (rank {earlier[0]} at "
                f"{earlier[1].loc.short}, rank {rank} here)", s.loc,
                "give it the same kind of value everywhere (an array of one rank, or a "
                "scalar), or use two names")


def _with_blocks(body: list):
    """(statement, id of the statement list it is in), nested blocks included."""
    for s in body:
        yield s, id(body)
        for inner in (getattr(s, f, None) for f in ("body", "orelse", "test_block")):
            if isinstance(inner, list):
                yield from _with_blocks(inner)


def _known_rank(s: ir.Assign, lengths: dict[str, int]) -> int | None:
    if s.rule is None:
        return 0 if isinstance(s.args[0], ir.Const) and s.args[0].value is not None else None
    name = s.rule.name
    if name in _SCALAR_RESULT:
        return 0
    if name in _FULL_REDUCTIONS and all(isinstance(a, ir.Const) and
                                        (a.value is None or a.value is False)
                                        for a in s.args[1:]):
        return 0
    if name in _ALLOCATIONS and s.args:
        shape = s.args[0]
        if isinstance(shape, ir.Var):
            return lengths.get(shape.name)
        if isinstance(shape, ir.Const):
            return len(shape.value) if isinstance(shape.value, tuple) else 1
    return None
