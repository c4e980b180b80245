"""The intermediate form: a function in A-normal form (one primitive per statement).

`normalize` builds it from the Python syntax tree; `analysis`, `reverse` and `emit` read it.
Operands are atoms (a variable or a constant), so every intermediate value has a name the
backward sweep can refer to, save, or restore. Control flow stays structured (`If`, `For`,
`While`), which is what lets the reverse pass replay loops backwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import Location

if TYPE_CHECKING:
    from .rules import Rule


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Const:
    value: object  # float, int, bool, None, or a tuple of these


Atom = Var | Const


@dataclass(frozen=True)
class Slice:
    lower: Atom | None
    upper: Atom | None
    step: Atom | None


@dataclass(frozen=True)
class Index:
    """The subscript of `x[i, 1:3]`: one entry per axis (an atom, a slice, or None for newaxis)."""

    items: tuple


@dataclass
class Assign:
    """`target = rule(*args)`; `rule is None` means a plain copy `target = args[0]`.
    Only non-differentiable calls keep keyword arguments (`np.zeros(n, dtype=...)`)."""

    target: str
    rule: Rule | None
    args: tuple
    loc: Location
    kwargs: tuple = ()  # (name, atom) pairs


@dataclass
class GetItem:
    """`target = array[index]`."""

    target: str
    array: Var
    index: Index
    loc: Location


@dataclass
class SetItem:
    """`array[index] = value`: an in-place write into a local array."""

    array: Var
    index: Index
    value: Atom
    loc: Location


@dataclass
class Push:
    """`stack.append(value)`. Lists appear only in derivative code being differentiated
    again, where they are the tapes of saved values (pushed forward, popped backward)."""

    stack: Var
    value: Atom
    loc: Location


@dataclass
class Pop:
    """`target = stack.pop()`."""

    target: str
    stack: Var
    loc: Location


@dataclass
class If:
    test: Atom
    body: list
    orelse: list
    loc: Location


@dataclass
class For:
    """`for index in range(start, stop, step)`; `trips` names the trip count the forward
    sweep records so the backward sweep can replay the iterations in reverse."""

    index: str
    start: Atom
    stop: Atom
    step: Atom
    body: list
    loc: Location
    trips: str = ""
    counted: bool = False  # has a `break`: count iterations instead of len(range(...))


@dataclass
class While:
    """`while test: body`; `test_block` recomputes `test` (before the loop and after each
    iteration). `trips` counts the iterations taken."""

    test_block: list
    test: Atom
    body: list
    loc: Location
    trips: str = ""


@dataclass
class Break:
    """Leave the innermost loop (only as a loop body's guarded last statement)."""

    loc: Location


@dataclass
class Return:
    value: Atom
    loc: Location


@dataclass
class Function:
    name: str
    params: list[str]
    body: list
    loc: Location
    names: set[str] = field(default_factory=set)  # every name in use, for fresh names
    temps: set[str] = field(default_factory=set)  # names the normalizer made up


Stmt = Assign | GetItem | SetItem | Push | Pop | If | For | While | Break | Return


def walk(body: list):
    """Every statement of a body, nested ones included, in program order."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, If):
            yield from walk(stmt.body)
            yield from walk(stmt.orelse)
        elif isinstance(stmt, For):
            yield from walk(stmt.body)
        elif isinstance(stmt, While):
            yield from walk(stmt.test_block)
            yield from walk(stmt.body)


def atom_vars(atoms) -> list[str]:
    """Names of the variables among atoms, slices and indices (constants dropped)."""
    out: list[str] = []
    for a in atoms:
        if isinstance(a, Var):
            out.append(a.name)
        elif isinstance(a, Slice):
            out.extend(atom_vars([a.lower, a.upper, a.step]))
        elif isinstance(a, Index):
            out.extend(atom_vars(a.items))
    return out


def reads(stmt) -> list[str]:
    """Variables a simple statement (or a compound statement's header) reads."""
    if isinstance(stmt, Assign):
        return atom_vars(stmt.args) + atom_vars(v for _, v in stmt.kwargs)
    if isinstance(stmt, GetItem):
        return [stmt.array.name, *atom_vars(stmt.index.items)]
    if isinstance(stmt, SetItem):
        return [stmt.array.name, *atom_vars(stmt.index.items), *atom_vars([stmt.value])]
    if isinstance(stmt, Push):
        return [stmt.stack.name, *atom_vars([stmt.value])]
    if isinstance(stmt, Pop):
        return [stmt.stack.name]
    if isinstance(stmt, If):
        return atom_vars([stmt.test])
    if isinstance(stmt, For):
        return atom_vars([stmt.start, stmt.stop, stmt.step])
    if isinstance(stmt, While):
        return atom_vars([stmt.test])
    if isinstance(stmt, Return):
        return atom_vars([stmt.value])
    return []


def writes(stmt) -> list[str]:
    """Variables a statement assigns (a For assigns its index)."""
    if isinstance(stmt, (Assign, GetItem, Pop)):
        return [stmt.target]
    if isinstance(stmt, For):
        return [stmt.index]
    return []
