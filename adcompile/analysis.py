"""Pass `analyze`: typed facts about an `ir.Function` that the reverse pass needs.

Gives an `Analysis`:
- `active`: variables that depend on a `wrt` parameter through differentiable operations;
- `useful`: variables the returned value depends on through differentiable operations;
- `needs`: per statement, the primal variables its backward code reads;
- `replayed`, `carried`: a loop without array writes is reversed by recomputation: the
  forward sweep saves only the state its body carries from one iteration to the next, and
  the backward sweep restores that state, recomputes the iteration, and reverses it (so
  a scalar recurrence costs one saved value per iteration, like hand-written code);
- `saves`: per statement, which of those must be saved in the forward sweep because the
  variable is overwritten before the backward sweep reaches the statement (assigned later
  in its region: the function body, or the body of a replayed loop), or assigned anywhere in
  an enclosing loop that is not replayed, whose next iteration overwrites it: such a loop
  tapes (a list the backward sweep pops), elsewhere a single slot suffices;
- `defined_before`: per `If`, which variables hold a value when it starts, so that a branch
  that leaves an adjoint zero can make a real zero of the right shape;
- `scalar_sums`: full sums of elementwise temporaries, whose adjoint stays a scalar;
- `list_tapes`: in derivative code differentiated again, the tapes that are lists of arrays;
- `dtypes`: the join of the types of each variable's values (`dtypes.py`), for tapes.

Facts are keyed by `id(statement)`; nothing is written onto the statements themselves. The
analysis is flow-insensitive where that is simplest and still exact enough: a name is active
if any assignment to it is.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from . import ir
from .dtypes import Join, check_ranks, joins
from .errors import UnsupportedError


@dataclass(frozen=True)
class Save:
    var: str
    after: bool  # saved after the statement runs (its result) or before (its inputs)
    tape: bool  # inside a loop: a list pushed every iteration; else one slot


@dataclass
class Analysis:
    active: set[str]
    useful: set[str]
    needs: dict[int, list[str]] = field(default_factory=dict)
    saves: dict[int, list[Save]] = field(default_factory=dict)
    has_reverse: set[int] = field(default_factory=set)  # statements with backward code
    overwrites: set[int] = field(default_factory=set)  # SetItems whose old slot is saved
    looped: set[int] = field(default_factory=set)  # statements taped per iteration
    replayed: set[int] = field(default_factory=set)  # loops whose iterations are recomputed
    carried: dict[int, list[str]] = field(default_factory=dict)  # replayed loop -> its state
    # If -> (variables surely set, set on some path, set in a loop) when it starts
    defined_before: dict[int, tuple] = field(default_factory=dict)
    live_at: Callable[[object], set[str]] = lambda s: set()  # `LiveAt`
    scalar_sums: set[int] = field(default_factory=set)  # sums whose argument's adjoint is scalar
    list_tapes: set[str] = field(default_factory=set)  # `new_tape` lists, in derivative code
    dtypes: dict[str, Join] = field(default_factory=dict)  # the join of each variable's values
    written: set[str] = field(default_factory=set)  # arrays written with subscripts

    def differentiated(self, stmt) -> bool:
        return id(stmt) in self.has_reverse


def active_vars(fn: ir.Function, wrt: list[str]) -> set[str]:
    """Variables that depend on `wrt` through differentiable operations."""
    active = _active(fn, set(wrt))
    _check_tuple_values(fn, active)
    check_ranks(fn)
    return active


def analyze(fn: ir.Function, wrt: list[str]) -> Analysis:
    active = active_vars(fn, wrt)
    useful = _useful(fn, active)
    facts = Analysis(active, useful, dtypes=joins(fn), written=_written(fn))
    _mark_reverse(fn.body, facts)
    _needs(fn.body, facts)
    _mark_overwrites(fn.body, facts)
    _mark_replayed(fn.body, facts)
    _saves(fn.body, facts)
    facts.defined_before = _defined_before(fn)
    facts.live_at = LiveAt(fn)
    facts.scalar_sums = _scalar_sums(fn.body)
    facts.list_tapes = {s.target for s in ir.walk(fn.body) if isinstance(s, ir.Assign) and
                        s.rule is not None and s.rule.name == "new_tape"}
    return facts


# ---------------------------------------------------------------- activity


def defined(stmt) -> str:
    """The variable whose value a simple statement sets (in place, for a SetItem)."""
    if isinstance(stmt, (ir.SetItem, ir.Push)):
        return stmt.stack.name if isinstance(stmt, ir.Push) else stmt.array.name
    return stmt.target


def diff_args(stmt) -> list[str]:
    """Variables among a statement's differentiable operands."""
    if isinstance(stmt, ir.GetItem):
        return [stmt.array.name]
    if isinstance(stmt, (ir.SetItem, ir.Push)):
        return ir.atom_vars([stmt.value])
    if isinstance(stmt, ir.Pop):
        return [stmt.stack.name]
    if isinstance(stmt, ir.Assign):
        if stmt.rule is None:
            return ir.atom_vars(stmt.args)
        params = stmt.rule.params
        return [a.name for p, a in zip(params, stmt.args) if p in stmt.rule.wrt and
                isinstance(a, ir.Var)]
    return []


_SIMPLE = (ir.Assign, ir.GetItem, ir.SetItem, ir.Push, ir.Pop)
_MUTATIONS = (ir.SetItem, ir.Push, ir.Pop)


def _simple(body: list):
    return [s for s in ir.walk(body) if isinstance(s, _SIMPLE)]


def _active(fn: ir.Function, seeds: set[str]) -> set[str]:
    active = set(seeds)
    stmts = _simple(fn.body)
    changed = True
    while changed:  # loops make the dependence cyclic: iterate to a fixed point
        changed = False
        for s in stmts:
            if defined(s) not in active and any(v in active for v in diff_args(s)):
                active.add(defined(s))
                changed = True
    return active


_VIEWS = {"transpose", "reshape", "reshape_like"}  # rules whose result may share x's memory


def _written(fn: ir.Function) -> set[str]:
    """Arrays written with subscripts, and the names that share them (`z = z3` before
    `z[0] = y`: z3's array is written too; so is a slice or a transpose of z, taken before)."""
    written = {s.array.name for s in ir.walk(fn.body) if isinstance(s, ir.SetItem)}
    copies = [(s.target, s.args[0].name) for s in ir.walk(fn.body) if isinstance(s, ir.Assign)
              and (s.rule is None or s.rule.name in _VIEWS) and isinstance(s.args[0], ir.Var)]
    copies += [(s.target, s.array.name) for s in ir.walk(fn.body) if isinstance(s, ir.GetItem)]
    changed = True
    while changed:
        changed = False
        for a, b in copies:
            if (a in written) != (b in written):
                written |= {a, b}
                changed = True
    return written


def _check_tuple_values(fn: ir.Function, active: set[str]) -> None:
    """A tuple built as a value (an argument, a result) has no adjoint: refuse it when it
    holds a value being differentiated, rather than lose that value's derivative."""
    for s in ir.walk(fn.body):
        if isinstance(s, ir.Assign) and s.rule is not None and s.rule.name == "tuple":
            held = [v for v in ir.atom_vars(s.args) if v in active]
            if held:
                raise UnsupportedError(
                    "a tuple of values being differentiated, used as one value (returned, "
                    "or passed to a NumPy function)", s.loc,
                    "return a scalar (or an array, for jvp/vjp); pass the tuple's elements "
                    "separately, or index it where it is used")


def _useful(fn: ir.Function, active: set[str]) -> set[str]:
    useful = {r.value.name for r in ir.walk(fn.body)
              if isinstance(r, ir.Return) and isinstance(r.value, ir.Var)} & active
    stmts = _simple(fn.body)
    changed = True
    while changed:
        changed = False
        for s in stmts:
            if defined(s) in useful:
                for v in diff_args(s):
                    if v in active and v not in useful:
                        useful.add(v)
                        changed = True
    return useful


def _mark_reverse(body: list, facts: Analysis) -> bool:
    """Mark statements that have backward code; a compound statement has it if its body does."""
    any_marked = False
    for s in body:
        if isinstance(s, (ir.Assign, ir.GetItem)):
            marked = s.target in facts.useful
        elif isinstance(s, ir.SetItem):
            marked = s.array.name in facts.active
        elif isinstance(s, (ir.Push, ir.Pop)):
            # every push and pop of a useful stack moves one adjoint, zero or not, so that
            # the adjoint stack stays in step with the stack
            marked = s.stack.name in facts.useful
        elif isinstance(s, ir.If):
            marked = _mark_reverse(s.body, facts) | _mark_reverse(s.orelse, facts)
        elif isinstance(s, (ir.For, ir.While)):
            marked = _mark_reverse(s.body, facts)
        else:
            marked = False
        if marked:
            facts.has_reverse.add(id(s))
            any_marked = True
    return any_marked


# ---------------------------------------------------------------- what the backward sweep reads


def _rule_reads(stmt: ir.Assign, active: set[str]) -> list[str]:
    """Primal variables read by the adjoint expressions of the statement's active inputs."""
    rule = stmt.rule
    if rule is None:
        return []
    binding = {p: a for p, a in zip(rule.params, stmt.args)}
    binding["out"] = ir.Var(stmt.target)
    names: list[str] = []
    for p, a in binding.items():
        if p not in rule.wrt or not (isinstance(a, ir.Var) and a.name in active):
            continue
        for node in ast.walk(rule.vjp_exprs[p]):
            if isinstance(node, ast.Name) and isinstance(binding.get(node.id), ir.Var):
                name = binding[node.id].name
                if name not in names:
                    names.append(name)
    return names


def _needs(body: list, facts: Analysis) -> None:
    for s in ir.walk(body):
        if not facts.differentiated(s):
            continue
        if isinstance(s, ir.Assign):
            needed = _rule_reads(s, facts.active)
        elif isinstance(s, ir.GetItem):
            needed = [s.array.name, *ir.atom_vars(s.index.items)]
        elif isinstance(s, ir.SetItem):
            needed = [*ir.atom_vars(s.index.items), *ir.atom_vars([s.value])]
        elif isinstance(s, ir.Pop):
            needed = [s.target]  # the shape of a zero adjoint
        elif isinstance(s, ir.If):
            needed = ir.atom_vars([s.test])
        elif isinstance(s, ir.For):
            needed = ir.atom_vars([s.start, s.step]) + [s.trips]
        elif isinstance(s, ir.While):
            needed = [s.trips]
        else:
            needed = []
        facts.needs[id(s)] = needed


def _mark_overwrites(body: list, facts: Analysis) -> None:
    """A write into an array the backward sweep reads (or differentiates) saves the values
    it overwrites, and the backward sweep puts them back: the array then holds, at each
    point of the backward sweep, what it held at the same point of the forward sweep."""
    read = {v for needed in facts.needs.values() for v in needed} | facts.active
    for s in ir.walk(body):
        if isinstance(s, ir.SetItem) and s.array.name in read:
            facts.overwrites.add(id(s))
            if id(s) not in facts.has_reverse:
                facts.has_reverse.add(id(s))
                facts.needs[id(s)] = ir.atom_vars(s.index.items)
                _mark_enclosing(body, s, facts)
            # the old entries go back into the array the write changed, even if the name
            # is bound to another array by then (`z[0] = y; z = np.tanh(z)`)
            facts.needs[id(s)].append(s.array.name)


def _mark_enclosing(body: list, target, facts: Analysis) -> bool:
    """Mark the compound statements around `target` as having backward code."""
    for s in body:
        if s is target:
            return True
        inner = []
        if isinstance(s, ir.If):
            inner = [s.body, s.orelse]
        elif isinstance(s, (ir.For, ir.While)):
            inner = [s.body]
        if any(_mark_enclosing(b, target, facts) for b in inner):
            if id(s) not in facts.has_reverse:
                facts.has_reverse.add(id(s))
                if isinstance(s, ir.If):
                    facts.needs[id(s)] = ir.atom_vars([s.test])
                elif isinstance(s, ir.For):
                    facts.needs[id(s)] = ir.atom_vars([s.start, s.step]) + [s.trips]
                else:
                    facts.needs[id(s)] = [s.trips]
            return True
    return False


# ---------------------------------------------------------------- loops reversed by recomputation


def _mark_replayed(body: list, facts: Analysis) -> None:
    for s in ir.walk(body):
        if not isinstance(s, (ir.For, ir.While)) or not facts.differentiated(s):
            continue
        if any(isinstance(t, _MUTATIONS) for t in ir.walk(s.body)):
            continue  # recomputing would need the array or stack as it was: tape instead
        live = live_in(s.body) - ({s.index} if isinstance(s, ir.For) else set())
        written = _assigned(s.body)
        facts.replayed.add(id(s))
        facts.carried[id(s)] = sorted(live & written)
        needed = facts.needs[id(s)]
        needed += [v for v in sorted(live - written) if v not in needed]


def live_in(body: list) -> set[str]:
    """Variables a body may read before assigning them (its inputs). Two `If`s on the same
    test (derivative code reverses a branch under the branch's own test) take the same
    branch: what one branch assigned, the same branch of the other may read. A flag set
    `True` (a `return` or `break` lowered inside loops) is true only where one of its `True`s
    ran: `if flag:` may read what was defined at each of them."""
    return _Liveness().run(body)


class _Liveness:
    """`live_in`'s walk. Besides what is defined, it carries the flags' state along each path:
    flag -> what was defined at each `True` since a `False` (None: false here); a flag not in
    the state is unknown; the state of a path that ran `break` is None (it went on after the
    loop)."""

    def __init__(self):
        self.live: set[str] = set()
        self.defined: list[set[str]] = [set()]
        self.branches: dict[str, list[set[str]]] = {}  # test variable -> each branch's defined
        self.flags: dict | None = {}
        self.breaks: list[list] = []  # per enclosing loop: the states its `break`s left with

    def run(self, body: list) -> set[str]:
        self.block(body)
        return self.live

    def block(self, stmts: list) -> None:
        for s in stmts:
            self.live.update(n for n in ir.reads(s) if n not in self.defined[-1])
            for v in ir.writes(s):
                self.branches.pop(v, None)
                if _sets_flag(s) is None and self.flags is not None:
                    self.flags.pop(v, None)
            if isinstance(s, (ir.Assign, ir.GetItem, ir.Pop)):
                self.assign(s)
            elif isinstance(s, ir.If):
                self.if_(s)
            elif isinstance(s, (ir.For, ir.While)):
                self.loop(s)
            elif isinstance(s, ir.Break):
                if self.breaks:  # (a region's own loop's `break` leaves the region)
                    self.breaks[-1].append((self.flags, self.defined[-1]))
                self.flags = None

    def assign(self, s) -> None:
        value = _sets_flag(s)
        if self.flags is not None and value is False:
            self.flags[s.target] = None
        elif self.flags is not None and value and s.target in self.flags:
            seen = self.flags[s.target]
            self.flags[s.target] = set(self.defined[-1]) if seen is None \
                else seen & self.defined[-1]
        self.defined[-1] = self.defined[-1] | {s.target}

    def if_(self, s) -> None:
        test = s.test.name if isinstance(s.test, ir.Var) else None
        known = self.branches.get(test, [set(), set()])
        reachable, start = self.flags is not None, self.flags or {}
        flags = [dict(start), dict(start)]
        if start.get(test) is not None:  # a flag set `True` earlier on every path to here
            known = [known[0] | start[test], known[1]]
        if test in start:
            flags[1][test] = None  # false in the `else`
        outcomes, ends = [], []
        for branch, defined, state in zip((s.body, s.orelse), known, flags):
            self.flags = state if reachable else None
            self.defined.append(self.defined[-1] | defined)
            self.block(branch)
            outcomes.append(self.defined.pop())
            ends.append(self.flags)
        self.flags = _merge_flags(*ends)
        self.defined[-1] = outcomes[0] & outcomes[1]
        if test is not None and not any(test in ir.writes(t) for t in ir.walk(s.body + s.orelse)):
            self.branches[test] = outcomes

    def loop(self, s) -> None:
        if isinstance(s, _Once):
            return self.once(s)
        saved = dict(self.branches)
        inner = s.body + (s.test_block if isinstance(s, ir.While) else [])
        entry = self.flags
        state = entry
        while True:  # to a fixed point: a trip starts with what the trip before ended with
            self.branches.clear()
            self.flags = dict(state) if state is not None else None
            self.breaks.append([])
            self.defined.append(self.defined[-1] | (
                {s.index} if isinstance(s, ir.For) else set()))
            self.block(inner)
            self.defined.pop()
            broke = self.breaks.pop()
            following = _merge_flags(entry, self.flags)
            if following == state:
                break
            state = following
        # none of its trips ran, or it ended, or broke
        self.flags = _merge_flags(state, *(flags for flags, _ in broke))
        self.branches.update(saved)
        for t in ir.walk([s]):
            for v in ir.writes(t):
                self.branches.pop(v, None)


    def once(self, s) -> None:
        """A `_Once` region: what follows it starts from one of its `break`s."""
        self.breaks.append([])
        self.block(s.body)
        broke = self.breaks.pop()
        self.flags = _merge_flags(*(flags for flags, _ in broke)) if broke else None
        if broke:
            self.defined[-1] = set.intersection(*(set(d) for _, d in broke))


def _merge_flags(*states):
    """The flags' state after any one of several paths (None: a path that does not go on)."""
    going = [st for st in states if st is not None]
    if not going:
        return None
    merged = dict(going[0])
    for st in going[1:]:
        for f in list(merged):
            if f not in st:
                del merged[f]
            elif merged[f] is None:
                merged[f] = st[f]
            elif st[f] is not None:
                merged[f] = merged[f] & st[f]
    return merged


def _sets_flag(s) -> bool | None:
    """True or False for `v = True` / `v = False`, else None."""
    if isinstance(s, ir.Assign) and s.rule is None and isinstance(s.args[0], ir.Const) \
            and isinstance(s.args[0].value, bool):
        return s.args[0].value
    return None


# ---------------------------------------------------------------- what must be saved


def assigned_in(loop) -> set[str]:
    """Variables a loop's body (and `while` test) assigns."""
    inner = loop.body + (loop.test_block if isinstance(loop, ir.While) else [])
    return {v for t in ir.walk(inner) for v in ir.writes(t)}


def _assigned(body: list) -> set[str]:
    names = set()
    for s in ir.walk(body):
        names.update(ir.writes(s))
        if isinstance(s, (ir.For, ir.While)):
            names.add(s.trips)
    return names


def _saves(body: list, facts: Analysis) -> None:
    """Walk a region in program order, tracking what its taped loops assign and what comes
    later; the body of each replayed loop is a region of its own."""
    order = list(_positions(body, facts))
    later_writes: dict[int, set[str]] = {}
    seen: set[str] = set()
    for stmt, _ in reversed(order):  # names assigned after each statement, in program order
        later_writes[id(stmt)] = set(seen)
        seen.update(ir.writes(stmt))
        if isinstance(stmt, (ir.For, ir.While)):
            seen.add(stmt.trips)
            if id(stmt) in facts.replayed:  # its body is not in this region's order
                seen.update(_assigned(stmt.body))
    for stmt, loops in order:
        if loops:
            facts.looped.add(id(stmt))
        needed = facts.needs.get(id(stmt))
        if not needed:
            continue
        in_loop_writes = set().union(*(_assigned(lp.body) for lp in loops)) if loops else set()
        restored = {lp.index for lp in loops if isinstance(lp, ir.For)}
        saves = []
        for var in needed:
            overwritten = var in later_writes[id(stmt)] or var in in_loop_writes
            if var in restored or not overwritten:
                continue
            after = (isinstance(stmt, (ir.Assign, ir.GetItem, ir.Pop)) and var == stmt.target) or \
                (isinstance(stmt, (ir.For, ir.While)) and var == stmt.trips)
            saves.append(Save(var, after, tape=bool(loops)))
        if saves:
            facts.saves[id(stmt)] = saves
    for stmt, _ in order:
        if id(stmt) in facts.replayed:
            _saves(stmt.body, facts)


def _positions(body: list, facts: Analysis, loops: tuple = ()):
    """(statement, enclosing taped loops) in program order, not entering replayed loops."""
    for s in body:
        yield s, loops
        if isinstance(s, ir.If):
            yield from _positions(s.body, facts, loops)
            yield from _positions(s.orelse, facts, loops)
        elif isinstance(s, (ir.For, ir.While)) and id(s) not in facts.replayed:
            inner = s.body + (s.test_block if isinstance(s, ir.While) else [])
            yield from _positions(inner, facts, loops + (s,))


# ---------------------------------------------------------------- branches and sums


def _defined_before(fn: ir.Function) -> dict[int, tuple[set[str], set[str], set[str]]]:
    """For each `If`: the variables that surely hold a value when it starts (on every path),
    those assigned earlier on some path, and those assigned in a loop around it or in an
    earlier loop (which hold a value unless that loop ran no iteration)."""
    result: dict[int, tuple[set[str], set[str], set[str]]] = {}
    maybe = set(fn.params)
    in_loops: set[str] = set()

    def block(body: list, sure: set[str], loops: set[str]) -> set[str]:
        for st in body:
            if isinstance(st, ir.If):
                result[id(st)] = (set(sure), set(maybe), loops | in_loops)
                sure = block(st.body, set(sure), loops) & block(st.orelse, set(sure), loops)
            elif isinstance(st, (ir.For, ir.While)):
                inner = st.body + (st.test_block if isinstance(st, ir.While) else [])
                assigned = assigned_in(st)
                block(inner, sure | set(ir.writes(st)), loops | assigned | set(ir.writes(st)))
                in_loops.update(assigned | set(ir.writes(st)))
            else:
                sure = sure | set(ir.writes(st))
            maybe.update(v for t in ir.walk([st]) for v in ir.writes(t))
        return sure

    block(fn.body, set(fn.params), set())
    return result


class LiveAt:
    """For an `If`, the variables some path from its start reads before assigning them; for
    a loop, those from the start of a trip. Where a variable is not live, its adjoint is zero
    and nothing reads it: the backward sweep drops it there, rather than make a zero shaped
    like a value that may not exist (a variable of a loop that ran no trip). Each is the
    `live_in` of the statement's continuation (what runs from there to the end, later trips
    of its loops included), with the flags `live_in` follows; computed when asked."""

    def __init__(self, fn: ir.Function) -> None:
        self.continuations: dict[int, Callable[[], list]] = {}
        self.found: dict[int, set[str]] = {}
        self.visit(fn.body, lambda rest: rest)

    def __call__(self, s) -> set[str]:
        if id(s) not in self.found:
            self.found[id(s)] = live_in(self.continuations[id(s)]())
        return self.found[id(s)]

    def visit(self, body: list, then: Callable[[list], list]) -> None:
        """`then(rest)`: the continuation of statements `rest` run where `body` is."""
        for k, st in enumerate(body):
            after = body[k + 1:]
            if isinstance(st, ir.If):
                self.continuations[id(st)] = lambda k=k, then=then: then(body[k:])
                for branch in (st.body, st.orelse):
                    self.visit(branch, lambda rest, after=after, then=then: then(rest + after))
            elif isinstance(st, (ir.For, ir.While)):
                def trip(rest, st=st, after=after, then=then):
                    # the rest of this trip, then the loop's next trips (a `break` in `rest`
                    # leaves both), then what follows the loop
                    return then([_Once([], ir.Const(True), rest + [st, ir.Break(st.loc)],
                                       st.loc)] + after)
                self.continuations[id(st)] = lambda st=st, trip=trip: trip(list(st.body))
                self.visit(st.body, trip)
                if isinstance(st, ir.While):
                    self.visit(st.test_block, lambda rest, st=st, trip=trip: trip(
                        rest + [ir.If(st.test, list(st.body), [ir.Break(st.loc)], st.loc)]))


class _Once(ir.While):
    """A region that runs once and leaves through a `break` on every path (`LiveAt`)."""


# rules whose adjoints multiply `dout` by an operand-shaped factor or pass it to `unbroadcast`,
# so that a scalar `dout` gives adjoints of the operands' shapes
_ELEMENTWISE = {"add", "subtract", "multiply", "divide", "power", "exp", "log", "log1p", "expm1",
                "sin", "cos", "tan", "tanh", "arctan", "sqrt", "square", "abs"}


def _scalar_sums(body: list) -> set[int]:
    """Full sums and means (`np.sum(t)`) of a temporary `t` that an elementwise statement
    just before computed and nothing else reads: `t`'s adjoint can stay a scalar, which the
    elementwise rule spreads over the operands' shapes (no array of copies of one number)."""
    reads: dict[str, int] = {}
    for st in ir.walk(body):
        for v in ir.reads(st):
            reads[v] = reads.get(v, 0) + 1
    found: set[int] = set()
    for block in _blocks(body):
        defs: dict[str, ir.Assign] = {}
        for st in block:
            if isinstance(st, ir.Assign) and st.rule is not None:
                if _full_reduction(st) and isinstance(st.args[0], ir.Var) and \
                        reads.get(st.args[0].name) == 1 and st.args[0].name in defs:
                    found.add(id(st))
                if _one_operand_elementwise(st):
                    defs[st.target] = st
            for v in ir.writes(st):
                if not (isinstance(st, ir.Assign) and st.rule is not None and
                        _one_operand_elementwise(st) and v == st.target):
                    defs.pop(v, None)
    return found


def _one_operand_elementwise(s: ir.Assign) -> bool:
    """`f(x)`, `x ** 2`, `c * x`: every adjoint factor then has x's shape, which is the
    result's (with two array operands, one may be broadcast and its factor smaller)."""
    return s.rule.name in _ELEMENTWISE and len(ir.atom_vars(s.args)) == 1


def _blocks(body: list):
    yield body
    for st in body:
        for inner in (getattr(st, "body", None), getattr(st, "orelse", None),
                      getattr(st, "test_block", None)):
            if isinstance(inner, list):
                yield from _blocks(inner)


def _full_reduction(s: ir.Assign) -> bool:
    plain = all(isinstance(a, ir.Const) and (a.value is None or a.value is False)
                for a in s.args[1:])  # `axis=0` is no full reduction, though 0 == False
    return s.rule.name in ("sum", "mean") and plain
