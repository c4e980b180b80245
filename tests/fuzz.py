"""Random programs in adcompile's language, differentiated and checked against each other.

    python -m tests.fuzz --programs 2000 --seed 1                  # uncompiled (jit=False)
    python -m tests.fuzz --programs 30 --seed 1 --jit-every 1      # every program also compiled
    python -m tests.fuzz --programs 1000 --seed 1 --jit-every 1 --small --workers 2
    python -m tests.fuzz --programs 500 --seed 3 --show --minimize # print (shrunk) failures
    python -m tests.fuzz --programs 300 --focus tuples             # one family of constructs

The generator (`generate`) writes a module of Python source: a few module constants, up to two
helper functions and the function `f` that returns a scalar. It composes elementwise NumPy
functions (each argument kept inside its domain: `np.log(1.0 + np.square(e))`,
`e / (1.5 + np.tanh(d))`), broadcasting arithmetic, reductions with `axis`/`keepdims`, matmul,
transposes, reshapes, subscript reads, `if`/`elif`/`else` and conditional expressions on runtime
values, `for` loops over `range` (0, 1 or several trips, negative steps), `while` loops bounded by
a counter, `break`/`continue`, early returns, subscript writes into arrays made with `np.zeros`,
`np.zeros_like` or `.copy()`, tuple assignments and calls of the helpers (inlined by
adcompile). Every expression carries an upper bound of its magnitude; assignments whose bound
grows past `CAP` are wrapped in `np.tanh`, so values stay O(1) and finite differences mean
something. Shapes are small (1..4 per axis). Python's `x += y` updates an array in place
where adcompile rebinds `x`: the generator uses it only on arrays no other name can see
(`Var.augmentable`), copying them where a view would be taken.

Families of constructs (`FAMILIES`; each construct is in `AVOIDABLE`):
  * int-init: accumulators that start as ints (`out = 1`, `acc = 0`, then `out = out * e`,
    `acc += e` in loops, branches or straight), int counters (`c = 0`, `c += 1` in a loop, maybe
    under an `if`) and loop indices in float arithmetic (`y = y * c`, `x0[0] * k`), int
    literals as values (a variable that is an int in one branch and a float in the other),
    helpers that return an int on one path. `E.maybe_int` follows what may be an int; f may
    return one (an int-valued return is valid: its gradient is zero).
  * float32: float32 arguments (arrays, and np.float32 scalars), `np.zeros(...,
    dtype=np.float32)` (then written into) and `np.ones(..., dtype=np.float32)`, mixed with
    float64 by NumPy's promotion rules (adcompile has no `.astype` or `np.float32(...)`).
    `retyped-argument` (in both families), an argument of f rebound to a value of another type
    (float32 / float64 / int), is its own construct.
  * tuples: packed (`t = a, b`, `t = (a, b, c)`), unpacked (`u, v = t`), read at constant indices
    (`t[1]`, `t[-1]`, `t[0][2]`), tuples of one shape read at run-time indices (a loop index,
    a counter, the int argument, `len(t) - 1 - i`, `i - 3`, `n % len(t)`, `len(x0) - 2`, loops
    `for i in range(len(t))`), tuples returned by helpers (`t = h0(x0)`, `u, v = h0(x0)`,
    `h0(x0)[1]`, helpers that return a tuple from an early return too), and tuples as
    loop-carried state (`t = (t[1], t[0] + e)`). A tuple indexed at run time holds one type
    (no float32, no ints, new arrays): Numba indexes only such tuples.
  * reassigned-return: `l = np.sum(...)` then `l = l + 0.1 * np.sum(w ** 2)`, `l += e`,
    `l /= d`, straight, in branches, in loops, with early `return l` between them, in helpers
    and in f, and `return l` (any variable assigned more than once) at the end. Left out
    (`--avoid reassigned-return`), f never ends with `return v` of such a variable: it returns
    `+v`.
`--avoid A,B` leaves constructs (or whole families) out; `--focus A,B` makes them `FOCUS` times
as frequent and leaves the other families out. Left out, the families draw no random numbers:
the programs are those of the generator without them.

The check (`check_program`), on random inputs:
  * reverse mode (`grad` w.r.t. every float argument) against central finite differences
    (step 1e-6; |got - fd| <= 1e-6 * max(1, |fd|max) + 1e-4 |fd|),
  * `value_and_grad`: its value equals f's (|got - f| <= 1e-12 max(1, |f|): the same
    operations, which compiled code may reassociate), its gradients equal grad's (1e-10),
  * forward mode (`jvp` along a random direction u): its value equals f's (as above), and its
    tangent equals <grad, u> to 1e-8 relative,
  * the derivatives leave their inputs unchanged, and gradients have their arguments' shapes
    and, for arrays, dtypes.
Compiled (`--jit-every`), `value_and_grad` stands in for `grad` (its gradients are checked
against finite differences): one Numba compilation fewer. Programs to be compiled are made
within compiled code's language: an array variable is not rebound to an array of another dtype
inside a branch or loop (`Generator.meets`), since Numba gives it one dtype where paths meet. Any exception from adcompile, when
the derivative is made or called, is an error; a wrong value is a mismatch like a wrong
gradient.

float32 programs (`Program.float32`): finite differences of the float32 program itself would be
noise (float32 resolves ~1e-7, the step is 1e-6, and x + h is rounded). They are taken of the
program's float64 twin (`_promote`: `np.float32` replaced by `np.float64`) at the same inputs
cast to float64, which is the same function without its rounding; adcompile differentiates
rounding to float32 as the identity, so its gradient should match that of the twin up to float32
error. A sample is rejected unless the twin takes the same side of every switch (below) as the
float32 program. Tolerances (`TOL32`): gradients 1e-5 * max(1, |fd|max) + 1e-3 |fd| (measured
errors stay below 3e-7 of the scale), jvp tangents 1e-4, values 2e-5 * max(1, |f|) plus ten
times the program's own float32 error |f - f_twin| (a derivative may compute some of f in a
different float type than NumPy does: Numba promotes `float32_array * 2.0` to float64).

Kinks and branches: finite differences are only meaningful when the stencil does not cross a
switching point. Each program is also run through a *traced* copy of its source
(`traced_module`), in
which every comparison (branch tests, `while` tests, conditions of `np.where` and of
conditional expressions), `np.abs`, `np.maximum`/`np.minimum`, `np.clip`, max/min reductions
and `np.sign` record which side of its switch each entry is on. A sample is rejected, and new
inputs drawn, when any finite-difference evaluation point sees a different pattern than the
base point. As a second guard, a disagreement with finite differences at step 1e-6 only counts
when finite differences at step 1e-5 agree with those at 1e-6; otherwise the sample is
discarded as ambiguous (counted in the "skipped" line).

Failures are listed with a one-line signature and grouped at the end; `--show` prints each
failing program with its inputs, `--minimize` also shrinks it (`shrink`: statements and
subexpressions are dropped while the same failure persists at the same inputs). `--avoid`
leaves out constructs that hit a known compiler bug (`AVOIDABLE`), to look past it. Programs
that do not run as plain Python are generator bugs, counted as "invalid".
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import importlib.util
import itertools
import math
import os
import re
import signal
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CAP = 4.0  # magnitude above which an assigned value is squashed with np.tanh
PARAM_BOUND = 2.0  # helpers' parameters are at most this large
MAX_NEST = 2  # nesting depth of compound statements


# ====================================================================== the generator


@dataclass
class Var:
    name: str
    shape: tuple = ()
    bound: float = 1.0
    writable: bool = False  # made with np.zeros / zeros_like / copy: only subscript writes
    is_int: bool = False
    lo: int = 0  # value range of an integer
    hi: int = 0
    augmentable: bool = False  # an array never shared with another name: `+=` updates it
    f32: bool = False  # may hold float32 (set conservatively: once set, it stays)
    maybe_int: bool = False  # a float variable that may still hold a Python int (`acc = 0`)
    elems: tuple | None = None  # a tuple: its elements (Elem), and the variable is no float
    indexable: bool = False  # a tuple of one shape and dtype: indexed by run-time integers
    reassigned: bool = False  # assigned more than once (`l = ...; l = l + ...`)


@dataclass
class E:
    text: str
    bound: float
    views: frozenset = frozenset()  # variables whose memory the value may share
    maybe_int: bool = False  # may be a Python/NumPy int (int literals, `acc = 0`, ...)


@dataclass
class Elem:
    """One element of a tuple variable."""
    shape: tuple
    bound: float
    views: frozenset = frozenset()
    maybe_int: bool = False
    f32: bool = False


@dataclass
class Helper:
    name: str
    params: list  # [(name, shape)]
    ret: tuple | None  # the shape it returns; None for a tuple (`tret`)
    tret: tuple | None = None  # a helper returning a tuple: its elements' shapes
    maybe_int: bool = False  # some return may give an int
    indexable: bool = False  # its tuple has one shape and dtype


@dataclass
class Param:
    name: str
    kind: str  # "array", "scalar" (a Python float) or "int"
    shape: tuple = ()
    dtype: str = "float64"  # "float32": a float32 array, or an np.float32 scalar


@dataclass
class Program:
    source: str
    params: list  # [Param]

    @property
    def wrt(self) -> tuple:
        return tuple(p.name for p in self.params if p.kind != "int")

    @property
    def float32(self) -> bool:
        """Some input or intermediate is float32: checked with float32 tolerances, against
        finite differences of the program in float64 (`_promote`)."""
        return any(p.dtype == "float32" for p in self.params) or "np.float32" in self.source


def _f(c: float) -> str:
    """A float literal, parenthesized when negative."""
    text = repr(round(float(c), 2))
    return f"({text})" if c < 0 else text


def _shape_text(shape: tuple) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(map(str, shape))})"


class Generator:
    """One program from one random stream. Shapes come from three dims drawn per program."""

    def __init__(self, rng: np.random.Generator, avoid: frozenset = frozenset(),
                 small: bool = False, focus: frozenset = frozenset(),
                 compiled: bool = False) -> None:
        self.rng = rng
        # for Numba: an array variable keeps its dtype where paths meet (`meets`)
        self.compiled = compiled
        self.scopes: list[set[str]] = []  # names defined before each enclosing block
        self.avoid = avoid
        self.focus = focus  # constructs made FOCUS times as often
        self.small = small  # fewer statements (for programs that Numba compiles)
        self.counter = itertools.count()
        self.lines: list[str] = []
        self.indent = 1
        self.env: list[Var] = []
        self.helpers: list[Helper] = []
        self.callable_helpers: list[Helper] = []
        self.loops: list[dict] = []  # enclosing loops: {"trip": max trips}
        self.nest = 0
        self.in_helper: Helper | None = None
        d = [int(x) for x in rng.integers(1, 5, size=3)]
        self.dims = d
        self.shapes = [(), (d[0],), (d[1],), (d[0], d[1]), (d[1], d[2]), (d[0], d[2])]
        self.consts: list[str] = []
        self.f32_names: set[str] = set()  # variables and helpers that may give float32
        self.no_f32 = False  # building a run-time indexed tuple: no float32
        self.f_params: set[str] = set()  # f's parameters, once f is being written
        self.ret_mi = self.ret_f32 = False  # a return of the function being written may
        # give an int / float32
        # some expression may be an int: helpers' scalar parameters may receive one
        self.ints_on = any(self.on(c) for c in ("int-accum", "int-branch", "int-helper"))

    # ------------------------------------------------------------ small utilities

    def on(self, construct: str) -> float:
        """The weight factor of a construct of the new families: 0 when avoided."""
        if construct in self.avoid:
            return 0.0
        return FOCUS if construct in self.focus else 1.0

    def is_f32(self, text: str) -> bool:
        """Whether an expression may be float32: it names a float32 variable or helper."""
        return bool(self.f32_names) and any(
            w in self.f32_names for w in re.findall(r"[A-Za-z_]\w*", text))

    def mark_f32(self, v: Var, text: str) -> None:
        if self.is_f32(text):
            v.f32 = True
            self.f32_names.add(v.name)

    def r(self) -> float:
        return float(self.rng.random())

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def weighted(self, options):
        """options: [(weight, value)] with weight 0 meaning not applicable."""
        options = [(w, v) for w, v in options if w > 0]
        total = sum(w for w, _ in options)
        x = self.r() * total
        for w, v in options:
            x -= w
            if x <= 0:
                return v
        return options[-1][1]

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def floats(self, shape=None) -> list[Var]:
        return [v for v in self.env if not v.is_int and v.elems is None
                and (shape is None or v.shape == shape) and not (self.no_f32 and v.f32)]

    def ints(self) -> list[Var]:
        return [v for v in self.env if v.is_int]

    def tuples(self) -> list[Var]:
        return [v for v in self.env if v.elems is not None
                and not (self.no_f32 and v.f32)]

    def trip(self) -> int:
        return math.prod(max(1, lp["trip"]) for lp in self.loops)

    def squash(self, e: E, limit: float = CAP) -> E:
        if e.bound <= limit:
            return e
        fn = self.weighted([(4, "np.tanh"), (1, "np.sin"), (1, "np.arctan")])
        return E(f"{fn}({e.text})", 1.6 if fn == "np.arctan" else 1.0)

    # ------------------------------------------------------------ shapes

    def sub_shape(self, shape: tuple) -> tuple:
        """A shape that broadcasts against `shape` without changing it."""
        if shape == ():
            return ()
        options = [(6, shape), (2, ())]
        if len(shape) == 2:
            options += [(2, (shape[1],)), (1, (1, shape[1])), (1, (shape[0], 1))]
        return self.weighted(options)

    def index_for(self, size: int) -> str:
        """An integer index into an axis of length `size`: a loop counter when one fits."""
        fits = [v for v in self.ints() if v.hi < size and v.lo >= 0 and v.hi >= v.lo]
        fits_m1 = [v for v in self.ints() if v.hi - 1 < size and v.lo >= 1]
        options = [(2, "const"), (4 * bool(fits), "var"), (1 * bool(fits_m1), "var-1"),
                   (1 * bool(fits), "rev")]
        kind = self.weighted(options)
        if kind == "var":
            return self.pick(fits).name
        if kind == "var-1":
            return f"{self.pick(fits_m1).name} - 1"
        if kind == "rev":
            return f"{size - 1} - {self.pick(fits).name}"
        i = int(self.rng.integers(size))
        return str(i - size) if self.r() < 0.15 else str(i)

    # ------------------------------------------------------------ expressions

    def expr(self, shape: tuple, depth: int, top: bool = False) -> E:
        """An expression of exactly `shape`. `top`: its value may be bound to a name, so it is
        never a bare written array or a view of one."""
        if depth <= 0 or self.r() < 0.15:
            e = self.leaf(shape, top)
            if e is not None:
                return e
            if depth <= 0:
                return self.fallback(shape)
        maker = self.weighted(self.makers(shape))
        e = maker(shape, depth - 1)
        return e if e is not None else self.fallback(shape)

    def makers(self, shape: tuple) -> list:
        n = len(shape)
        return [
            (5, self.unary), (6, self.binary), (2, self.division), (1, self.power),
            (1.5, self.maxmin), (0 if n == 0 and "scalar-where" in self.avoid else 1, self.where),
            (0 if n == 0 and "scalar-clip" in self.avoid else 0.7, self.clip), (1, self.ifexp),
            (3 if n == 0 else 1.5, self.reduce), (2 if n >= 1 else 1, self.matmul),
            (1 if n == 2 else 0, self.transpose), (1 if n >= 1 else 0, self.reshape),
            (1.5 if self.callable_for(shape) else 0, self.call),
            (0.5 if n == 0 else 0, self.float_call), (0.5, self.sign),
            (1 if n == 0 and self.ints() else 0, self.int_mix),
            (self.on("int-counter") if n == 0 and self.ints() else 0, self.int_scale),
            (1.5 * self.on("tuple-helper") if self.tuple_callable_for(shape) else 0,
             self.call_index),
        ]

    def leaf(self, shape: tuple, top: bool) -> E | None:
        options = []
        for v in self.floats(shape):
            if not (top and v.writable):
                options.append((3, E(v.name, v.bound, self.view_of(v, shape),
                                    v.maybe_int)))
        for v in self.floats():
            if top and v.writable:
                continue
            for text in self.reads(v, shape):
                options.append((1.5, E(text, v.bound, self.view_of(v, shape))))
        for t in self.tuples():
            for k, el in enumerate(t.elems):
                if el.shape == shape:
                    w = 2 * self.on("tuple-const")
                    if w:
                        options.append((w, self.tuple_read(t, k, const=True)))
                    w = 3 * self.on("tuple-index") if t.indexable else 0
                    if w:
                        options.append((w, self.tuple_read(t, k, const=False)))
                elif el.shape[1:] == shape and self.on("tuple-const"):
                    options.append((0.5 * self.on("tuple-const"), E(
                        f"{t.name}[{k}][{self.index_for(el.shape[0])}]", el.bound, el.views)))
        if shape == ():
            c = float(self.rng.uniform(-1.5, 1.5))
            options.append((1, E(_f(c), abs(c))))
            if self.consts:
                options.append((0.5, E(self.pick(self.consts), 1.0)))
            if self.on("int-branch"):
                k = self.pick([0, 1, 2, 3, -1])
                options.append((0.4 * self.on("int-branch"), E(str(k) if k >= 0 else f"({k})",
                                                              abs(k), maybe_int=True)))
        if not options:
            return None
        return self.weighted(options)

    def tuple_read(self, t: Var, k: int, const: bool) -> E:
        """`t[k]` with the index written as a constant (`t[1]`, `t[-1]`), or as an integer
        computed at run time that equals k whenever this read runs, or (for a tuple of one
        shape) any in-range run-time integer."""
        el = t.elems[k]
        n = len(t.elems)
        if const:
            index = str(k - n) if self.r() < 0.3 else str(k)
            return E(f"{t.name}[{index}]", el.bound, el.views, el.maybe_int)
        index = self.runtime_index(t.name, n)
        return E(f"{t.name}[{index}]", max(e.bound for e in t.elems),
                 frozenset().union(*(e.views for e in t.elems)),
                 any(e.maybe_int for e in t.elems))

    def runtime_index(self, name: str, n: int) -> str:
        """An integer expression in range for a sequence of length n, computed at run time
        (from loop counters, counters, `len`, the int argument), negative ones included."""
        ints = [v for v in self.ints() if v.hi >= v.lo]
        fits = [v for v in ints if v.lo >= 0 and v.hi < n]
        nonneg = [v for v in ints if v.lo >= 0]
        arrays = [v for v in self.env if v.shape and v.elems is None and not v.is_int]
        kind = self.weighted([(4 * bool(fits), "var"), (1.5 * bool(fits), "neg"),
                              (1 * bool(fits), "rev"), (1 * bool(fits), "len-rev"),
                              (1 * bool(fits), "neg-rev"), (1.5 * bool(nonneg), "mod"),
                              (1, "len"), (1 * bool(arrays), "array-len")])
        if kind == "var":
            return self.pick(fits).name
        if kind == "neg":
            return f"{self.pick(fits).name} - {n}"
        if kind == "rev":
            return f"{n - 1} - {self.pick(fits).name}"
        if kind == "len-rev":
            return f"len({name}) - 1 - {self.pick(fits).name}"
        if kind == "neg-rev":
            return f"-1 - {self.pick(fits).name}"
        if kind == "mod":
            return f"{self.pick(nonneg).name} % {self.pick([n, f'len({name})'])}"
        j = int(self.rng.integers(n))
        if kind == "len":
            return f"len({name}) - {n - j}"
        a = self.pick(arrays)
        m = a.shape[0]
        return f"len({a.name}) - {m - j}" if m >= j else f"len({a.name}) - {m} + {j}"

    @staticmethod
    def view_of(v: Var, shape: tuple) -> frozenset:
        """Scalars are values; an array read from `v` may share its memory."""
        return frozenset([v.name]) if shape else frozenset()

    def reads(self, v: Var, shape: tuple) -> list[str]:
        """Subscript reads of `v` that have `shape`."""
        vs, out = v.shape, []
        if len(vs) >= 1 and vs[1:] == shape:
            out.append(f"{v.name}[{self.index_for(vs[0])}]")
        if len(vs) == 2 and shape == (vs[0],):
            out.append(f"{v.name}[:, {self.index_for(vs[1])}]")
        if len(vs) == 2 and shape == ():
            out.append(f"{v.name}[{self.index_for(vs[0])}, {self.index_for(vs[1])}]")
        if len(vs) >= 1 and len(shape) == len(vs) and shape[1:] == vs[1:] and shape[0] <= vs[0]:
            a = int(self.rng.integers(vs[0] - shape[0] + 1))
            b = a + shape[0]
            form = self.pick([f"{a}:{b}", f"{a}:{b}", f":{b}" if a == 0 else f"{a}:{b}",
                              f"{a}:" if b == vs[0] else f"{a}:{b}"])
            out.append(f"{v.name}[{form}]" if len(vs) == 1 else f"{v.name}[{form}, :]"
                       if self.r() < 0.3 else f"{v.name}[{form}]")
        if len(vs) == 2 and len(shape) == 2 and shape[0] == vs[0] and shape[1] <= vs[1]:
            a = int(self.rng.integers(vs[1] - shape[1] + 1))
            out.append(f"{v.name}[:, {a}:{a + shape[1]}]")
        if len(vs) == 1 and shape == (1, vs[0]):
            out.append(f"{v.name}[None, :]")
        return out

    def fallback(self, shape: tuple) -> E:
        """Any shape from what is in scope: a reduction broadcast to `shape`."""
        floats = self.floats()
        if not floats:  # all hidden (self.no_f32)
            inner, bound, mi = "0.5", 0.5, False
        else:
            v = self.pick(floats)
            red = self.pick(["np.mean", "np.sum", "np.max"]) if v.shape else ""
            inner = f"{red}({v.name})" if red else v.name
            bound = v.bound * (max(1, math.prod(v.shape)) if red == "np.sum" else 1)
            mi = v.maybe_int and not red
        if shape == ():
            return E(inner, bound, maybe_int=mi)
        dtype = ""
        if self.f32_names and self.on("float32") and not self.no_f32 and self.r() < 0.3:
            dtype = ", dtype=np.float32"
        return E(f"({inner} * np.ones({_shape_text(shape)}{dtype}))", bound)

    def unary(self, shape, d) -> E:
        kind = self.weighted([
            (3, "tanh"), (1, "sin"), (1, "cos"), (1, "arctan"), (1.5, "exp"), (0.5, "expm1"),
            (1, "log"), (0.5, "log2"), (0.5, "log1p"), (1, "sqrt"), (1, "abs"), (1, "square"),
            (0.7, "pow2"), (0.5, "pow3"), (0.5, "powf"), (1, "neg"), (0.5, "tan"),
            (0.5, "powpos"), (0.3, "copy")])
        a = self.expr(shape, d)
        t, b, mi = a.text, a.bound, a.maybe_int
        if kind == "copy" and mi:
            kind = "neg"  # np.copy(2) is a 0-d int array
        if kind in ("tanh", "sin", "cos", "arctan"):
            return E(f"np.{kind}({t})", min(b, 1.6) if kind == "arctan" else 1.0)
        if kind in ("exp", "expm1"):
            a = self.squash(a, 2.0)
            return E(f"np.{kind}({a.text})", math.exp(a.bound))
        if kind == "log":
            return E(f"np.log(1.0 + np.square({t}))", math.log1p(b * b))
        if kind == "log2":
            return E(f"np.log(2.0 + np.sin({t}))", 1.1)
        if kind == "log1p":
            return E(f"np.log1p(np.square({t}))", math.log1p(b * b))
        if kind == "sqrt":
            return E(f"np.sqrt(0.5 + np.square({t}))", math.sqrt(0.5 + b * b))
        if kind == "abs":
            return E(f"{self.pick(['np.abs', 'np.abs', 'abs'])}({t})", b, maybe_int=mi)
        if kind in ("square", "pow2", "pow3", "powf"):
            a = self.squash(a, 2.0)
            t, b, mi = self.atomic(a), a.bound, a.maybe_int
            if "neg-base" in self.avoid and (t[:1] == "(" and t[1:2] in "-." or t[:1] == "C"):
                kind = "square"
            return {"square": E(f"np.square({t})", b * b, maybe_int=mi),
                    "pow2": E(f"{t} ** 2", b * b, maybe_int=mi),
                    "pow3": E(f"{t} ** 3", b ** 3, maybe_int=mi),
                    "powf": E(f"{t} ** 2.0", b * b)}[kind]
        if kind == "neg":
            return E(self.pick([f"(-{t})", f"np.negative({t})"]), b, maybe_int=mi)
        if kind == "tan":
            return E(f"np.tan(0.7 * np.tanh({t}))", 0.85)
        if kind == "powpos":
            return E(f"(1.5 + np.tanh({t})) ** 1.5", 3.96)
        return E(f"np.copy({t})", b)

    def pair(self, shape, d) -> tuple[E, E]:
        a = self.expr(shape, d)
        b = self.expr(self.sub_shape(shape), d)
        return (a, b) if self.r() < 0.5 else (b, a)

    def binary(self, shape, d) -> E:
        a, b = self.pair(shape, d)
        op = self.weighted([(3, "+"), (2, "-"), (3, "*"), (0.4, "np.add"),
                            (0.4, "np.subtract"), (0.4, "np.multiply")])
        bound = a.bound * b.bound if "*" in op or "mul" in op else a.bound + b.bound
        mi = a.maybe_int and b.maybe_int
        if op.startswith("np."):
            return E(f"{op}({a.text}, {b.text})", bound, maybe_int=mi)
        return E(f"({a.text} {op} {b.text})", bound, maybe_int=mi)

    def denominator(self, shape, d, const=True, at_least_one=False) -> E:
        """An expression bounded away from zero (its E.bound is its smallest magnitude);
        `at_least_one`: never smaller than 1 (a repeated `x /= d` cannot grow x)."""
        small = 0 if at_least_one else 1
        kind = self.weighted([(3, "sq"), (2, "sin"), (2 * small, "tanh"), (small, "abs"),
                              (1, "sqrt"), (small, "exp"),
                              (1 if const or shape == () else 0, "const")])
        if kind == "const":
            c = float(self.pick([2.0, 3.0, -4.0] if at_least_one else [2.0, 0.5, 3.0, -4.0]))
            return E(_f(c), abs(c))
        e = self.expr(shape, d)
        t = e.text
        if kind == "exp":
            e = self.squash(e, 2.0)
            return E(f"np.exp({e.text})", math.exp(-e.bound))
        return {"sq": E(f"(1.0 + np.square({t}))", 1.0), "sin": E(f"(2.0 + np.sin({t}))", 1.0),
                "tanh": E(f"(1.5 + np.tanh({t}))", 0.5), "abs": E(f"(0.5 + np.abs({t}))", 0.5),
                "sqrt": E(f"np.sqrt(1.0 + np.square({t}))", 1.0)}[kind]

    def division(self, shape, d) -> E:
        if self.r() < 0.5:
            num, den = self.expr(shape, d), self.denominator(self.sub_shape(shape), d)
        else:
            num, den = self.expr(self.sub_shape(shape), d), self.denominator(shape, d, False)
        if self.r() < 0.15:
            return E(f"np.divide({num.text}, {den.text})", num.bound / den.bound)
        return E(f"({num.text} / {den.text})", num.bound / den.bound)

    def power(self, shape, d) -> E:
        shapes = [shape, self.sub_shape(shape)]
        if self.r() < 0.5:
            shapes.reverse()
        base = self.expr(shapes[0], d)
        expo = self.squash(self.expr(shapes[1], d), 1.5)
        b = (1.0 + min(base.bound, 2.0) ** 2) ** expo.bound
        base_t = f"(1.0 + np.square({self.squash(base, 2.0).text}))"
        if self.r() < 0.3:
            return E(f"np.power({base_t}, {expo.text})", b)
        return E(f"{base_t} ** {self.atomic(expo)}", b)

    def maxmin(self, shape, d) -> E:
        a, b = self.pair(shape, d)
        fn = self.pick(["np.maximum", "np.minimum"])
        return E(f"{fn}({a.text}, {b.text})", max(a.bound, b.bound),
                 maybe_int=a.maybe_int and b.maybe_int)

    def compare(self, shape, d) -> str:
        a = self.expr(shape, d)
        op = self.pick(["<", "<=", ">", ">="])
        if self.r() < 0.5:
            return f"{a.text} {op} {_f(self.rng.uniform(-0.5, 0.5))}"
        b = self.expr(self.sub_shape(shape), d)
        return f"{a.text} {op} {b.text}"

    def where(self, shape, d) -> E:
        c = self.compare(shape, d)
        a, b = self.expr(self.sub_shape(shape), d), self.expr(self.sub_shape(shape), d)
        if a.maybe_int and b.maybe_int:  # no int arrays (np.where gives arrays, 0-d ones too)
            a = E(f"float({a.text})", a.bound)
        return E(f"np.where({c}, {a.text}, {b.text})", max(a.bound, b.bound))

    def clip(self, shape, d) -> E:
        a = self.expr(shape, d)
        lo = float(self.rng.uniform(-1.0, 0.3))
        hi = lo + float(self.rng.uniform(0.2, 1.5))
        return E(f"np.clip({a.text}, {_f(lo)}, {_f(hi)})", max(abs(lo), abs(hi)))

    def ifexp(self, shape, d, top=False) -> E:
        a, b = self.expr(shape, d, top=True), self.expr(shape, d, top=True)
        return E(f"({a.text} if {self.cond(d)} else {b.text})", max(a.bound, b.bound),
                 a.views | b.views if shape else frozenset(), a.maybe_int or b.maybe_int)

    def reduce(self, shape, d) -> E | None:
        fn = self.weighted([(3, "sum"), (2, "mean"), (1.5, "max"), (1.5, "min")])
        n = len(shape)
        if n == 0:
            src = self.pick([s for s in self.shapes if s])
            axis, keep = None, False
        elif n == 1:
            k = self.pick(self.dims)
            src, axis = self.pick([((shape[0], k), 1), ((k, shape[0]), 0)])
            keep = False
        elif shape[0] == 1 or shape[1] == 1:
            axis = 0 if shape[0] == 1 else 1
            other = shape[1] if axis == 0 else shape[0]
            k = self.pick(self.dims)
            src = (k, other) if axis == 0 else (other, k)
            keep = True
        else:
            return None
        a = self.expr(src, d)
        count = math.prod(src) if axis is None else src[axis]
        bound = a.bound * count if fn == "sum" else a.bound
        args = []
        if axis is not None:
            args.append(f"axis={axis}" if self.r() < 0.7 or keep else str(axis))
        if keep:
            args.append("keepdims=True")
        elif axis is not None and self.r() < 0.1:
            args.append("keepdims=False")
        if self.r() < 0.35:
            return E(f"{self.atomic(a)}.{fn}({', '.join(args)})", bound)
        name = {"max": self.pick(["max", "amax"]), "min": self.pick(["min", "amin"])}.get(fn, fn)
        return E(f"np.{name}({', '.join([a.text] + args)})", bound)

    def matmul(self, shape, d) -> E | None:
        k = self.pick(self.dims)
        n = len(shape)
        if n == 0:
            a, b = self.expr((k,), d), self.expr((k,), d)
        elif n == 1:
            if self.r() < 0.5:
                a, b = self.expr((shape[0], k), d), self.expr((k,), d)
            else:
                a, b = self.expr((k,), d), self.expr((k, shape[0]), d)
        else:
            if self.r() < 0.25:
                a, b = self.expr((shape[0],), d), self.expr((shape[1],), d)
                return E(f"np.outer({a.text}, {b.text})", a.bound * b.bound)
            a, b = self.expr((shape[0], k), d), self.expr((k, shape[1]), d)
        bound = a.bound * b.bound * k
        form = self.weighted([(4, "@"), (1, "np.dot"), (1, "np.matmul"), (1, ".dot")])
        if form == "@":
            return E(f"({a.text} @ {b.text})", bound)
        if form == ".dot":
            return E(f"{self.atomic(a)}.dot({b.text})", bound)
        return E(f"{form}({a.text}, {b.text})", bound)

    @staticmethod
    def atomic(e: E) -> str:
        """`e` as something a method can be called on."""
        level = 0
        for ch in e.text:
            level += ch in "(["
            level -= ch in ")]"
            if level == 0 and ch == " " or e.text[0] == "-":
                return f"({e.text})"
        return e.text

    def transpose(self, shape, d) -> E:
        a = self.expr((shape[1], shape[0]), d)
        form = self.weighted([(4, ".T"), (1, "np.transpose"), (1, ".transpose()")])
        if form == "np.transpose":
            return E(f"np.transpose({a.text})", a.bound, a.views)
        return E(f"{self.atomic(a)}{form}", a.bound, a.views)

    def reshape(self, shape, d) -> E:
        size = math.prod(shape)
        sources = [(size,)] + [(p, size // p) for p in range(1, size + 1) if size % p == 0]
        src = self.pick(sources)
        if len(src) == 2 and self.r() < 0.3:  # a transposed (non-contiguous) source
            a = self.expr((src[1], src[0]), d)
            a = E(f"{self.atomic(a)}.T", a.bound, a.views)
        else:
            a = self.expr(src, d)
        target = _shape_text(shape)
        form = self.weighted([(3, "m"), (1, "np"), (1, "unpacked"), (0.5 if len(shape) == 1
                                                                     else 0, "-1")])
        if form == "np":
            return E(f"np.reshape({a.text}, {target})", a.bound, a.views)
        if form == "unpacked" and len(shape) == 2:
            return E(f"{self.atomic(a)}.reshape({shape[0]}, {shape[1]})", a.bound, a.views)
        if form == "-1":
            return E(f"{self.atomic(a)}.reshape(-1)", a.bound, a.views)
        return E(f"{self.atomic(a)}.reshape({target})", a.bound, a.views)

    def callable_for(self, shape) -> list[Helper]:
        return [h for h in self.callable_helpers if h.ret == shape and not (
            self.no_f32 and h.name in self.f32_names)]

    def tuple_callable_for(self, shape) -> list[Helper]:
        return [h for h in self.callable_helpers if h.tret and shape in h.tret and not (
            self.no_f32 and h.name in self.f32_names)]

    def call_text(self, h: Helper, d) -> tuple[str, frozenset]:
        args, views = [], frozenset()
        for _, pshape in h.params:
            a = self.squash(self.expr(pshape, d, top=True), PARAM_BOUND)
            args.append(a.text)
            views |= a.views
        return f"{h.name}({', '.join(args)})", views

    def call(self, shape, d) -> E:
        h = self.pick(self.callable_for(shape))
        text, views = self.call_text(h, d)
        return E(text, CAP, views if h.ret else frozenset(), h.maybe_int)

    def call_index(self, shape, d) -> E:
        """An element of the tuple a helper returns: `h0(x0, s)[1]`."""
        h = self.pick(self.tuple_callable_for(shape))
        text, views = self.call_text(h, d)
        k = self.pick([j for j, s in enumerate(h.tret) if s == shape])
        n = len(h.tret)
        index = str(k - n) if self.r() < 0.3 else str(k)
        return E(f"{text}[{index}]", CAP, views if shape else frozenset(), h.maybe_int)

    def float_call(self, shape, d) -> E:
        a = self.expr((), d)
        return E(f"float({a.text})", a.bound)

    def sign(self, shape, d) -> E:
        a, b = self.pair(shape, d)
        return E(f"(np.sign({a.text}) * {b.text})", b.bound,
                 maybe_int=a.maybe_int and b.maybe_int)

    def int_mix(self, shape, d) -> E:
        v = self.pick(self.ints())
        c = float(self.pick([0.5, 0.25, -0.3]))
        e = self.expr((), d)
        return E(f"({v.name} * {_f(c)} + {e.text})", max(abs(v.lo), abs(v.hi)) * abs(c) + e.bound)

    def int_scale(self, shape, d) -> E:
        """An integer (a counter, a loop index) in float arithmetic: `y * k`, `x0[0] * k`."""
        v = self.pick(self.ints())
        e = self.squash(self.expr((), d), 1.5)
        k = max(abs(v.lo), abs(v.hi), 1)
        if self.r() < 0.5:
            return E(f"({e.text} * {v.name})", e.bound * k, maybe_int=e.maybe_int)
        return E(f"({v.name} * {self.atomic(e)})", e.bound * k, maybe_int=e.maybe_int)

    def cond(self, d: int = 1) -> str:
        kind = self.weighted([(5, "cmp"), (1.5 if self.ints() else 0, "int"), (1, "and"),
                              (1, "or"), (0.7, "not")])
        if kind == "cmp":
            return self.compare((), d)
        if kind == "int":
            v = self.pick(self.ints())
            return self.pick([f"{v.name} % 2 == 0", f"{v.name} > {v.lo}",
                              f"{v.name} <= {(v.lo + v.hi) // 2}", f"{v.name} != {v.hi}"])
        if kind == "not":
            return f"not ({self.compare((), d)})"
        return f"({self.compare((), d)}) {kind} ({self.compare((), d)})"

    # ------------------------------------------------------------ statements

    def block(self, count: int) -> None:
        for _ in range(count):
            self.stmt()

    def body(self, count: int, extra=None) -> None:
        """An indented block, scoping the names it defines."""
        saved = list(self.env)
        self.scopes.append({v.name for v in saved})
        self.indent += 1
        self.nest += 1
        start = len(self.lines)
        if extra:
            extra()
        self.block(count)
        if len(self.lines) == start:
            self.emit("pass")
        self.nest -= 1
        self.indent -= 1
        self.scopes.pop()
        self.env = saved

    def depth(self) -> int:
        return int(self.rng.integers(1, 4))

    def stmt(self) -> None:
        compound = self.nest < MAX_NEST
        writable = [v for v in self.env if v.writable]
        rebindable = [v for v in self.floats() if not v.writable]
        kind = self.weighted([
            (4, "assign"), (3 if rebindable else 0, "rebind"), (2 * any(v.augmentable or not v.shape for v in rebindable), "aug"),
            (2.5 * compound, "if"), (2.5 * compound, "for"), (1 * compound, "while"),
            (1.5, "alloc"), (4 if writable else 0, "write"), (0.5, "tuple"),
            (0.5 if len(rebindable) >= 2 else 0, "swap"), (0.4, "shape"),
            (1.5 if self.loops else 0, "jump"),
            (0 if "early-return" in self.avoid or self.nested_return_avoided() else 0.6,
             "return"),
            # the newer families (FAMILIES): weight 0 when left out
            (1.0 * self.on("int-accum"), "accum"),
            (0.7 * self.on("int-counter") * compound, "counter"),
            (0.5 * self.on("int-branch"), "int_branch"),
            (0.4 * self.on("tuple-const"), "pack"),
            (0.4 * self.on("tuple-const") if self.tuples() else 0, "unpack"),
            (0.6 * self.on("tuple-index"), "pack_index"),
            (0.5 * self.on("tuple-loop") * compound, "tuple_loop"),
            (1.0 * self.on("tuple-loop") if self.updatable_tuples() else 0, "tuple_update"),
            (0.8 * self.on("tuple-helper") if any(h.tret for h in self.callable_helpers)
             else 0, "tuple_call"),
            (0.8 * self.on("reassigned-return"), "loss"),
            (0.6 * self.on("same-test"), "same_test"),
        ])
        getattr(self, "stmt_" + kind)()

    def nested_return_avoided(self) -> bool:
        return "helper-nested-return" in self.avoid and self.in_helper is not None \
            and len(self.loops) >= 2

    def unalias(self, e: E) -> E:
        """`e`, copied when it may share memory with an array that `+=` updates in place
        (Python would change both; adcompile's `x += y` rebinds)."""
        if any(v.augmentable and v.name in e.views for v in self.env):
            return E(f"np.copy({e.text})", e.bound)
        return e

    def new_var(self, shape, e: E, prefix="v") -> Var:
        e = self.unalias(self.squash(e))
        v = Var(self.fresh(prefix), shape, max(1.0, e.bound), maybe_int=e.maybe_int)
        v.augmentable = bool(shape) and not e.views and self.r() < 0.5
        self.mark_f32(v, e.text)
        self.emit(f"{v.name} = {e.text}")
        self.env.append(v)
        return v

    def stmt_assign(self) -> None:
        shape = self.pick(self.shapes + [v.shape for v in self.floats()])
        e = self.expr(shape, self.depth(), top=True)
        if e.text.isidentifier() and self.r() < 0.7:
            e = self.unary(shape, 1)
        self.new_var(shape, e)

    def rebind(self, v: Var, e: E) -> E:
        if self.loops:  # the bound must hold for any number of trips
            e = self.squash(e, v.bound)
        else:
            e = self.squash(e)
            v.bound = max(v.bound, e.bound)
        e = self.unalias(e)
        v.reassigned = True
        v.maybe_int = v.maybe_int or e.maybe_int
        self.mark_f32(v, e.text)
        if v.augmentable and e.views:
            return E(f"np.copy({e.text})", e.bound)
        return e

    def keeps_type(self, v: Var) -> bool:
        """retyped-argument avoided and v an argument of f: it keeps its type (a float32 one
        is never rebound, a float64 one only to float64 values, never to an int)."""
        return "retyped-argument" in self.avoid and v.name in self.f_params

    def keeps_dtype(self, v: Var) -> bool:
        return (self.keeps_type(v) or self.meets(v)) and bool(self.f32_names)

    def meets(self, v: Var) -> bool:
        """Compiled, whether rebinding array `v` here joins two of its values where paths meet
        (after a branch, at a loop's head), where Numba needs one dtype: v was defined before
        the innermost enclosing block."""
        return self.compiled and bool(v.shape) and bool(self.scopes) \
            and v.name in self.scopes[-1]

    def as_float(self, v: Var, e: E) -> E:
        return E(f"float({e.text})", e.bound) if e.maybe_int and self.keeps_type(v) else e

    @contextlib.contextmanager
    def float64_only(self, on: bool = True):
        saved, self.no_f32 = self.no_f32, self.no_f32 or on
        try:
            yield
        finally:
            self.no_f32 = saved

    def stmt_rebind(self) -> None:
        options = [v for v in self.floats() if not v.writable
                   and not (v.f32 and self.keeps_dtype(v))]
        if not options:
            return self.stmt_assign()
        v = self.pick(options)
        with self.float64_only(self.keeps_dtype(v)):
            e = self.rebind(v, self.as_float(v, self.expr(v.shape, self.depth(), top=True)))
        self.emit(f"{v.name} = {e.text}")

    def stmt_aug(self) -> None:
        options = [v for v in self.floats() if not v.writable and (v.augmentable or not v.shape)
                   and not (v.f32 and self.keeps_dtype(v))]
        if not options:
            return self.stmt_assign()
        v = self.pick(options)
        op = self.pick(["+=", "-=", "*=", "/="])
        with self.float64_only(self.keeps_dtype(v)):
            self.aug_rest(v, op)

    def aug_rest(self, v: Var, op: str) -> None:
        e = self.expr(self.sub_shape(v.shape), self.depth())
        if op == "/=":
            e = self.denominator(self.sub_shape(v.shape), self.depth() - 1,
                                 at_least_one=bool(self.loops))
            v.bound = v.bound / min(1.0, e.bound)
        elif op == "*=":
            e = self.squash(e, 1.0)
        else:
            e = self.squash(e, 1.0 if self.loops else CAP)
            v.bound += e.bound * self.trip()
        if v.bound > 3 * CAP:  # too large to keep growing: squash it instead
            self.emit(f"{v.name} = np.tanh({v.name})")
            v.bound = 1.0
        v.reassigned = True
        self.mark_f32(v, e.text)
        self.emit(f"{v.name} {op} {e.text}")

    def stmt_if(self, extra=None) -> None:
        self.emit(f"if {self.cond()}:")
        self.body(self.depth(), extra=extra)
        for _ in range(int(self.weighted([(3, 0), (1, 1), (0.4, 2)]))):
            self.emit(f"elif {self.cond()}:")
            self.body(self.depth())
        if self.r() < 0.6:
            self.emit("else:")
            self.body(self.depth())

    def range_spec(self) -> tuple[str, int, int, int]:
        """`range(...)` text, smallest and largest index, number of trips."""
        ints = [v for v in self.ints() if v.lo == v.hi or v.name == "n"]
        kind = self.weighted([(3, "k"), (1, "ab"), (1, "neg"), (0.5, "step"),
                              (1.5 if self.env_has("n") else 0, "n"),
                              (1, "shape"), (0.5 if ints else 0, "intvar"),
                              (1.5 * self.on("tuple-index") if self.tuples() else 0, "tuple")])
        if kind == "k":
            k = int(self.weighted([(1, 0), (2, 1), (3, 2), (3, 3), (2, 4)]))
            return f"range({k})", 0, k - 1, k
        if kind == "ab":
            a = int(self.rng.integers(0, 3))
            b = a + int(self.rng.integers(0, 3))
            return f"range({a}, {b})", a, b - 1, b - a
        if kind == "neg":
            b = int(self.rng.integers(0, 4))
            return f"range({b}, -1, -1)", 0, b, b + 1
        if kind == "step":
            k = int(self.rng.integers(1, 6))
            return f"range(0, {k}, 2)", 0, k - 1, (k + 1) // 2
        if kind == "n":
            return "range(n)", 0, 3, 3
        if kind == "intvar":
            v = self.pick(ints)
            return f"range({v.name})", 0, v.hi - 1, v.hi
        if kind == "tuple":
            t = self.pick(self.tuples())
            n = len(t.elems)
            return self.pick([f"range(len({t.name}))", f"range({n})"]), 0, n - 1, n
        arrays = [v for v in self.floats() if v.shape]
        if arrays:
            v = self.pick(arrays)
            k = v.shape[0]
            text = self.pick([f"range({v.name}.shape[0])", f"range(len({v.name}))"])
            if len(v.shape) == 2 and self.r() < 0.4:
                k = v.shape[1]
                text = f"range({v.name}.shape[1])"
            return text, 0, k - 1, k
        return "range(2)", 0, 1, 2

    def env_has(self, name: str) -> bool:
        return any(v.name == name for v in self.env)

    def stmt_for(self, extra=None) -> None:
        text, lo, hi, trips = self.range_spec()
        i = Var(self.fresh("i"), (), is_int=True, lo=lo, hi=max(lo, hi))
        if trips <= 0:
            i.lo, i.hi = 0, -1
        self.emit(f"for {i.name} in {text}:")
        self.loops.append({"trip": max(trips, 1)})

        def first():
            self.env.append(i)
            if extra:
                extra()

        self.body(self.depth(), extra=first)
        self.loops.pop()

    def stmt_while(self, extra=None) -> None:
        k = Var(self.fresh("k"), (), is_int=True, lo=1, hi=1)
        never = 0 if "zero-trip-while" in self.avoid else 1
        limit = int(self.weighted([(never, 0), (2, 1), (2, 2), (3, 3), (1, 4)]))
        k.hi = max(1, limit)
        self.emit(f"{k.name} = 0")
        test = f"{k.name} < {limit}"
        if self.r() < 0.5:
            saved = self.env
            if "while-slice" in self.avoid:
                self.env = [v for v in saved if not v.writable]
            data = self.compare((), 1)
            self.env = saved
            test = self.pick([f"{test} and {data}", f"{data} and {test}"])
        self.emit(f"while {test}:")
        self.loops.append({"trip": max(limit, 1)})

        def first():
            self.emit(self.pick([f"{k.name} += 1", f"{k.name} = {k.name} + 1"]))
            self.env.append(k)
            if extra:
                extra()

        self.body(self.depth(), extra=first)
        self.loops.pop()

    def stmt_jump(self) -> None:
        word = self.pick(["break", "continue"])
        if self.r() < 0.1:
            self.emit(word)
            return
        self.emit(f"if {self.cond()}:")
        self.indent += 1
        self.emit(word)
        self.indent -= 1

    def stmt_return(self) -> None:
        self.emit(f"if {self.cond()}:")
        self.indent += 1
        self.emit(f"return {self.return_value()}")
        self.indent -= 1

    def return_value(self) -> str:
        """What a `return` gives: an expression of the function's shape, a tuple for a helper
        that returns one, or (reassigned-return) a variable assigned more than once."""
        h = self.in_helper
        if h is not None and h.tret:
            same = [t for t in self.tuples() if tuple(el.shape for el in t.elems) == h.tret
                    and not any(el.maybe_int for el in t.elems)
                    and (t.indexable or not h.indexable)]
            if same and self.r() < 0.4:
                t = self.pick(same)
                self.ret_f32 |= t.f32
                return t.name
            return self.tuple_text([self.tuple_elem(s, h.indexable) for s in h.tret],
                                   returning=True)
        shape = h.ret if h else ()
        if self.on("reassigned-return"):
            again = [v for v in self.floats(shape) if v.reassigned and not v.writable]
            if again and self.r() < 0.5:
                v = self.pick(again)
                self.ret_mi |= v.maybe_int
                self.ret_f32 |= v.f32
                return v.name
        e = self.squash(self.expr(shape, self.depth(), top=True))
        self.ret_mi |= e.maybe_int
        self.ret_f32 |= self.is_f32(e.text)
        return e.text

    def stmt_alloc(self) -> None:
        shape = self.pick([s for s in self.shapes if s])
        same = [v for v in self.floats(shape) if not v.writable]
        name = self.fresh("Z")
        kind = self.weighted([(3, "zeros"), (1 if same else 0, "like"),
                              (1 if same else 0, "copy"), (1, "dims")])
        bound = 1.0
        # float32: `np.zeros(..., dtype=np.float32)`; zeros_like and copy keep their dtype
        dtype = ", dtype=np.float32" if self.on("float32") and self.r() < (
            0.3 if self.f32_names else 0.04) * self.on("float32") else ""
        if kind == "zeros":
            text = f"np.zeros({_shape_text(shape)}{dtype})"
        elif kind == "like":
            text = f"np.zeros_like({self.pick(same).name})"
        elif kind == "copy":
            src = self.pick(same)
            text, bound = f"{src.name}.copy()", src.bound
        else:
            arrays = [v for v in self.floats() if v.shape and v.shape[0] == shape[0]]
            first = f"{self.pick(arrays).name}.shape[0]" if arrays else str(shape[0])
            text = (f"np.zeros({first}{dtype})" if len(shape) == 1 and self.r() < 0.5
                    else f"np.zeros(({first},{' ' + str(shape[1]) if len(shape) == 2 else ''})"
                         f"{dtype})")
        self.emit(f"{name} = {text}")
        v = Var(name, shape, max(bound, CAP), writable=True)
        if dtype or self.is_f32(text):
            v.f32 = True
            self.f32_names.add(name)
        self.env.append(v)

    def stmt_write(self) -> None:
        w = self.pick([v for v in self.env if v.writable])
        s = w.shape
        forms = [("[i]", s[1:])]
        if len(s) == 2:
            forms += [("[i, j]", ()), ("[:, j]", (s[0],))]
        forms.append(("[a:b]", None))
        form, shape = self.pick(forms)
        if form == "[i]":
            target = f"{w.name}[{self.index_for(s[0])}]"
        elif form == "[i, j]":
            target = f"{w.name}[{self.index_for(s[0])}, {self.index_for(s[1])}]"
        elif form == "[:, j]":
            target = f"{w.name}[:, {self.index_for(s[1])}]"
        else:
            a = int(self.rng.integers(s[0]))
            b = int(self.rng.integers(a + 1, s[0] + 1))
            target = f"{w.name}[{a}:{b}]"
            shape = (b - a,) + s[1:]
        op = self.weighted([(4, "="), (2, "+="), (1, "-="), (1, "*=")])
        value_shape = self.sub_shape(shape) if self.r() < 0.3 else shape
        e = self.expr(value_shape, self.depth())
        if op == "=":
            e = self.squash(e, w.bound)
        elif op == "*=":
            e = self.squash(e, 1.0)
        else:
            e = self.squash(e, 1.0 if self.loops else CAP)
            w.bound += e.bound * self.trip()
        self.emit(f"{target} {op} {e.text}")

    def stmt_tuple(self) -> None:
        s1, s2 = self.pick(self.shapes), self.pick(self.shapes)
        e1 = self.unalias(self.squash(self.expr(s1, self.depth(), top=True)))
        e2 = self.unalias(self.squash(self.expr(s2, self.depth(), top=True)))
        v1 = Var(self.fresh("v"), s1, max(1.0, e1.bound), maybe_int=e1.maybe_int)
        v2 = Var(self.fresh("v"), s2, max(1.0, e2.bound), maybe_int=e2.maybe_int)
        self.mark_f32(v1, e1.text)
        self.mark_f32(v2, e2.text)
        self.emit(f"{v1.name}, {v2.name} = {e1.text}, {e2.text}")
        self.env += [v1, v2]

    def stmt_swap(self) -> None:
        # retyped-argument avoided: no float32 value, no int swapped
        keep = "retyped-argument" in self.avoid and (bool(self.f32_names) or self.ints_on)
        meets = any(self.meets(v) for v in self.floats())
        with self.float64_only((keep or meets) and bool(self.f32_names)):
            self.swap_rest(keep)

    def swap_rest(self, keep: bool = False) -> None:
        rebindable = [v for v in self.floats() if not v.writable and not (keep and v.maybe_int)]
        by_shape = {}
        for v in rebindable:
            by_shape.setdefault(v.shape, []).append(v)
        groups = [g for g in by_shape.values() if len(g) >= 2]
        if not groups:
            return self.stmt_assign()
        g = self.pick(groups)
        i, j = self.rng.choice(len(g), size=2, replace=False)
        a, b = g[int(i)], g[int(j)]
        e = self.expr(a.shape, 1)
        if keep and e.maybe_int:
            e = E(f"float({e.text})", e.bound)
        e = self.rebind(b, e)
        a.bound = b.bound = max(a.bound, b.bound)
        a.maybe_int = b.maybe_int = a.maybe_int or b.maybe_int
        a.reassigned = True
        if a.f32 or b.f32:
            a.f32 = b.f32 = True
            self.f32_names |= {a.name, b.name}
        first = b.name
        if a.shape and (a.augmentable or b.augmentable):
            first = f"np.copy({b.name})"
        self.emit(f"{a.name}, {b.name} = {first}, {e.text}")

    def stmt_shape(self) -> None:
        arrays = [v for v in self.floats() if len(v.shape) == 2]
        if not arrays:
            return self.stmt_assign()
        v = self.pick(arrays)
        m, n = Var(self.fresh("m"), (), is_int=True), Var(self.fresh("n"), (), is_int=True)
        m.lo = m.hi = v.shape[0]
        n.lo = n.hi = v.shape[1]
        self.emit(f"{m.name}, {n.name} = {v.name}.shape")
        self.env += [m, n]

    # ------------------------------------------------------------ int-initialized variables

    def stmt_accum(self) -> None:
        """`out = 1` / `acc = 0`, then `out = out * e` or `acc += e` in a loop, a branch or
        straight: a variable that starts as an int and becomes a float (or stays an int when
        the loop does not run)."""
        mul = self.r() < 0.4
        v = Var(self.fresh("out" if mul else self.pick(["acc", "s"])), (), 1.0, maybe_int=True)
        self.emit(f"{v.name} = {self.pick(['1', '1', '2']) if mul else '0'}")
        v.bound = 2.0 if mul else 1.0
        self.env.append(v)
        compound = self.nest < MAX_NEST
        where = self.weighted([(3 * compound, "for"), (1.5 * compound, "while"),
                               (1.5 * compound, "if"), (1, "flat")])

        def update():
            if self.r() < 0.3:
                self.stmt()
            self.accum_update(v, mul)

        if where == "flat":
            update()
        else:
            getattr(self, "stmt_" + where)(extra=update)

    def accum_update(self, v: Var, mul: bool) -> None:
        e = self.squash(self.expr((), self.depth()), 1.0)
        if mul:
            form = self.pick(["{v} = {v} * {a}", "{v} *= {e}", "{v} = {a} * {v}"])
        else:
            form = self.pick(["{v} += {e}", "{v} = {v} + {e}", "{v} -= {e}", "{v} = {e} + {v}",
                              "{v} = {v} - {a}"])
            v.bound += e.bound * self.trip()
        if v.bound > 3 * CAP:
            self.emit(f"{v.name} = np.tanh({v.name})")
            v.bound = 1.0
        v.reassigned = True
        self.mark_f32(v, e.text)
        self.emit(form.format(v=v.name, e=e.text, a=self.atomic(e)))

    def stmt_counter(self) -> None:
        """`c = 0` and a loop that counts with `c += 1` (maybe under an `if`): an int that
        float arithmetic (`y * c`), subscripts and tuple indices read, inside the loop and
        after it. c stays within [0, trips] everywhere."""
        c = Var(self.fresh("c"), (), is_int=True, lo=0, hi=0)
        self.emit(f"{c.name} = 0")

        def count():
            c.hi = self.loops[-1]["trip"]
            self.env.append(c)
            if self.r() < 0.4:
                self.stmt()
            step = self.pick([f"{c.name} += 1", f"{c.name} = {c.name} + 1"])
            if self.r() < 0.4:
                self.emit(f"if {self.cond()}:")
                self.indent += 1
                self.emit(step)
                self.indent -= 1
            else:
                self.emit(step)

        self.pick([self.stmt_for, self.stmt_for, self.stmt_while])(extra=count)
        self.env.append(c)
        scalars = [v for v in self.floats(()) if not v.writable]
        if scalars and self.r() < 0.5:  # `y = y * c`
            y = self.pick(scalars)
            e = self.rebind(y, E(f"{y.name} * {c.name}", y.bound * max(1, c.hi),
                                 maybe_int=y.maybe_int))
            self.emit(f"{y.name} = {e.text}")

    def stmt_int_branch(self) -> None:
        """A variable assigned an int in one branch and a float in the other (or in a
        conditional expression)."""
        k = self.pick(["0", "1", "2", "(-1)"])
        e = self.unalias(self.squash(self.expr((), self.depth(), top=True)))
        v = Var(self.fresh("v"), (), max(2.0, e.bound), maybe_int=True)
        self.mark_f32(v, e.text)
        form = self.weighted([(2 * (self.nest < MAX_NEST), "if"), (1, "ifexp"), (1, "before")])
        if form == "ifexp":
            a, b = (k, e.text) if self.r() < 0.5 else (e.text, k)
            self.emit(f"{v.name} = ({a} if {self.cond()} else {b})")
        elif form == "before":  # `v = 0` then `if c: v = e`
            v.reassigned = True
            self.emit(f"{v.name} = {k}")
            self.emit(f"if {self.cond()}:")
            self.indent += 1
            self.emit(f"{v.name} = {e.text}")
            self.indent -= 1
        else:
            first, second = (k, e.text) if self.r() < 0.5 else (e.text, k)
            self.emit(f"if {self.cond()}:")
            self.body(self.depth() - 1, extra=lambda: self.emit(f"{v.name} = {first}"))
            self.emit("else:")
            self.body(self.depth() - 1, extra=lambda: self.emit(f"{v.name} = {second}"))
        self.env.append(v)

    # ------------------------------------------------------------ tuples

    def tuple_elem(self, shape: tuple, indexable: bool) -> E:
        """An element of a tuple. Of a tuple indexed at run time, no float32 and no int (Numba
        indexes only tuples of one type), and arrays that are new (C-contiguous) ones."""
        saved, self.no_f32 = self.no_f32, self.no_f32 or indexable
        try:
            if indexable and shape:
                e = self.unary(shape, self.depth() - 1)
            else:
                e = self.expr(shape, self.depth(), top=True)
        finally:
            self.no_f32 = saved
        if indexable and e.maybe_int:
            e = E(f"float({e.text})", e.bound)
        return self.unalias(self.squash(e))

    def tuple_text(self, parts: list, returning: bool = False) -> str:
        texts = []
        for e in parts:
            if returning and e.maybe_int:
                e = E(f"float({e.text})", e.bound)
            if returning:
                self.ret_f32 |= self.is_f32(e.text)
            texts.append(e.text)
        body = ", ".join(texts)
        return body if self.r() < 0.4 else f"({body})"

    def new_tuple(self, elems: list, indexable: bool) -> Var:
        t = Var(self.fresh("t"), (), elems=tuple(elems), indexable=indexable)
        if any(el.f32 for el in elems):
            t.f32 = True
            self.f32_names.add(t.name)
        return t

    def stmt_pack(self, indexable: bool = False, n: int = 0) -> Var:
        """`t = a, b, c` or `t = (a, b)`: of any shapes, or of one shape (`indexable`)."""
        n = n or int(self.weighted([(3, 2), (2, 3), (1, 4)]))
        if indexable:
            shapes = [self.pick(self.shapes)] * n
        else:
            shapes = [self.pick(self.shapes) for _ in range(n)]
        parts = [self.tuple_elem(s, indexable) for s in shapes]
        elems = [Elem(s, max(1.0, e.bound), e.views, e.maybe_int, self.is_f32(e.text))
                 for s, e in zip(shapes, parts)]
        t = self.new_tuple(elems, indexable)
        self.emit(f"{t.name} = {self.tuple_text(parts)}")
        self.env.append(t)
        return t

    def stmt_pack_index(self) -> None:
        t = self.stmt_pack(indexable=True)
        if self.nest < MAX_NEST and self.r() < 0.4:  # `for i in range(len(t)): ... t[i]`
            n = len(t.elems)
            i = Var(self.fresh("i"), (), is_int=True, lo=0, hi=n - 1)
            self.emit(f"for {i.name} in {self.pick([f'range(len({t.name}))', f'range({n})'])}:")
            self.loops.append({"trip": n})
            self.body(self.depth(), extra=lambda: self.env.append(i))
            self.loops.pop()

    def stmt_unpack(self, t: Var | None = None) -> None:
        """`u, v = t`."""
        t = t or self.pick(self.tuples())
        names = []
        for el in t.elems:
            v = Var(self.fresh("u"), el.shape, max(1.0, el.bound), maybe_int=el.maybe_int,
                    f32=el.f32)
            if el.f32:
                self.f32_names.add(v.name)
            names.append(v)
        self.emit(f"{', '.join(v.name for v in names)} = {t.name}")
        self.env += names

    def updatable_tuples(self) -> list[Var]:
        return [t for t in self.tuples() if t.indexable]

    def stmt_tuple_loop(self) -> None:
        """A tuple as loop-carried state: `t = (t[1], t[0] + e)` in a loop."""
        t = self.stmt_pack(indexable=True, n=self.pick([2, 2, 3]))

        def first():
            if self.r() < 0.3:
                self.stmt()
            self.stmt_tuple_update(t)

        self.pick([self.stmt_for, self.stmt_for, self.stmt_while])(extra=first)

    def stmt_tuple_update(self, t: Var | None = None) -> None:
        """A new tuple from the old one's elements: rotated, swapped, one element changed."""
        t = t or self.pick(self.updatable_tuples())
        n, shape = len(t.elems), t.elems[0].shape
        bound = max(el.bound for el in t.elems)
        saved, self.no_f32 = self.no_f32, True
        try:
            e = self.expr(self.sub_shape(shape), self.depth() - 1)
        finally:
            self.no_f32 = saved
        form = self.weighted([(3, "rotate"), (1, "mul"), (1 if n == 2 else 0, "swap"),
                              (1, "one")])
        parts = [f"{t.name}[{j}]" for j in range(n)]
        if form == "swap":
            parts = parts[::-1]
            new = None
        elif form == "mul":
            e = self.squash(e, 1.0)
            new = E(f"{t.name}[0] * {self.atomic(e)}", bound * e.bound)
            parts = parts[1:] + [None]
        else:
            j = 0 if form == "rotate" else int(self.rng.integers(n))
            new = E(f"{t.name}[{j}] {self.pick(['+', '-'])} {self.atomic(e)}", bound + e.bound)
            parts = parts[1:] + [None] if form == "rotate" else parts[:j] + [None] + parts[j + 1:]
        if new is not None:
            new = self.squash(new, bound) if self.loops else self.squash(new)
            bound = max(bound, new.bound)
            parts = [new.text if p is None else p for p in parts]
        t.elems = tuple(Elem(shape, bound) for _ in range(n))
        t.reassigned = True
        body = ", ".join(parts)
        self.emit(f"{t.name} = {body}" if self.r() < 0.3 else f"{t.name} = ({body})")

    def stmt_tuple_call(self) -> None:
        """`t = h(...)` or `u, v = h(...)` of a helper that returns a tuple."""
        h = self.pick([h for h in self.callable_helpers if h.tret])
        text, views = self.call_text(h, self.depth())
        f32 = h.name in self.f32_names
        elems = [Elem(s, CAP, views if s else frozenset(), False, f32) for s in h.tret]
        t = self.new_tuple(elems, h.indexable and not f32)
        self.emit(f"{t.name} = {text}")
        self.env.append(t)
        if self.r() < 0.35:
            self.stmt_unpack(t)

    # ------------------------------------------------------------ a value on one path

    def stmt_same_test(self) -> None:
        """`b = x0[0] > 0.1`, `if b: t = e`, ..., `if b: v = v * np.tanh(t)`: a variable that
        exists only on one path (maybe in a loop that runs no trip, or in a trip that skips
        it), read under the same test."""
        b, t = self.fresh("b"), self.fresh("t")
        options = [v for v in self.floats() if not v.writable
                   and not (v.f32 and self.keeps_dtype(v))]
        if not options:
            return self.stmt_assign()
        v = self.pick(options)
        compound = self.nest < MAX_NEST
        where = self.weighted([(2 * compound, "for"), (1, "flat")])

        def both():
            self.emit(f"{b} = {self.cond()}")
            self.emit(f"if {b}:")
            self.indent += 1
            with self.float64_only(self.keeps_dtype(v)):
                e = self.squash(self.expr((), self.depth()), 1.0)
            self.emit(f"{t} = {e.text}")
            self.indent -= 1
            if self.r() < 0.5:
                self.block(1)
            self.emit(f"if {b}:")
            self.indent += 1
            e = self.rebind(v, E(f"{v.name} * np.tanh({t})", v.bound, maybe_int=v.maybe_int))
            self.emit(f"{v.name} = {e.text}")
            self.indent -= 1

        if where == "flat":
            both()
        else:
            self.stmt_for(extra=both)

    # ------------------------------------------------------------ reassigned returns

    def stmt_loss(self) -> None:
        """`l = np.sum(...)`, then `l = l + 0.1 * np.sum(w ** 2)`, `l += e`, ... straight, in
        branches and loops, with early `return l` in between; `return l` likely follows."""
        red = self.squash(self.reduce((), self.depth() - 1))
        l_ = Var(self.fresh("l"), (), max(1.0, red.bound))
        self.mark_f32(l_, red.text)
        self.emit(f"{l_.name} = {red.text}")
        self.env.append(l_)
        compound = self.nest < MAX_NEST
        can_return = not (self.in_helper and self.in_helper.ret != ()) \
            and "early-return" not in self.avoid and not self.nested_return_avoided()
        for _ in range(int(self.weighted([(3, 1), (2, 2), (1, 3)]))):
            where = self.weighted([(3, "flat"), (1.5 * compound, "if"), (1.5 * compound, "for"),
                                   (1 * can_return, "return")])
            if where == "flat":
                self.loss_update(l_)
            elif where == "return":
                self.emit(f"if {self.cond()}:")
                self.indent += 1
                self.emit(f"return {l_.name}")
                self.indent -= 1
                self.ret_f32 |= l_.f32
            else:
                getattr(self, "stmt_" + where)(extra=lambda: self.loss_update(l_))

    def loss_update(self, v: Var) -> None:
        arrays = [w for w in self.floats() if w.shape]
        form = self.weighted([(3 if arrays else 0, "reg"), (2, "add"), (1, "mul"), (1, "div"),
                              (1, "sub")])
        if v.bound > 3 * CAP:
            self.emit(f"{v.name} = np.tanh({v.name})")
            v.bound = 1.0
        if form == "reg":
            w = self.pick(arrays)
            c = self.pick([0.1, 0.01, 0.5])
            red = self.pick(["np.sum", "np.mean"])
            wb = min(w.bound, 2.0)
            text = w.name if w.bound <= 2.0 else f"np.tanh({w.name})"
            term = f"{c} * {red}({text} ** 2)"
            v.bound += c * wb * wb * (math.prod(w.shape) if red == "np.sum" else 1) * self.trip()
            line = self.pick([f"{v.name} = {v.name} + {term}", f"{v.name} += {term}"])
            self.mark_f32(v, w.name)
        elif form in ("add", "sub"):
            e = self.squash(self.expr((), self.depth()), 1.0 if self.loops else CAP)
            v.bound += e.bound * self.trip()
            op = "+" if form == "add" else "-"
            line = self.pick([f"{v.name} {op}= {e.text}",
                              f"{v.name} = {v.name} {op} {self.atomic(e)}"])
            self.mark_f32(v, e.text)
        elif form == "mul":
            e = self.squash(self.expr((), self.depth()), 1.0)
            line = self.pick([f"{v.name} *= {e.text}", f"{v.name} = {v.name} * {self.atomic(e)}"])
            self.mark_f32(v, e.text)
        else:
            e = self.denominator((), self.depth() - 1, at_least_one=True)
            line = self.pick([f"{v.name} /= {e.text}", f"{v.name} = {v.name} / {e.text}"])
            self.mark_f32(v, e.text)
        v.reassigned = True
        self.emit(line)

    # ------------------------------------------------------------ functions

    def helper(self, index: int) -> Helper:
        params = [(f"a{j}", self.pick(self.shapes)) for j in range(int(self.rng.integers(1, 4)))]
        h = Helper(f"h{index}", params, self.pick(self.shapes))
        if h.ret != () and self.on("int-helper") and self.r() < 0.25 * self.on("int-helper"):
            h.ret = ()
        if self.on("tuple-helper") and self.r() < 0.4 * self.on("tuple-helper"):
            # returns a tuple: of one shape (indexable at run time), or of several
            n = int(self.weighted([(3, 2), (1, 3)]))
            h.indexable = self.r() < 0.5
            h.tret = tuple([h.ret] * n if h.indexable else
                           [h.ret] + [self.pick(self.shapes) for _ in range(n - 1)])
            h.ret = None
        # int-helper: an int on one path (`if c: return 0`), a float on the other
        int_path = h.ret == () and self.on("int-helper") and \
            "early-return" not in self.avoid and self.r() < 0.5 * self.on("int-helper")
        self.lines.append(f"def {h.name}({', '.join(p for p, _ in params)}):")
        self.env = [Var(p, s, PARAM_BOUND, maybe_int=self.ints_on and s == ())
                    for p, s in params]
        self.in_helper = h
        self.ret_mi = self.ret_f32 = False
        count = int(self.rng.integers(0, 3))
        at = int(self.rng.integers(0, count + 1)) if int_path else -1
        last_int = int_path and self.r() < 0.3
        for j in range(count + 1):
            if j == at and not last_int:
                self.emit(f"if {self.cond()}:")
                self.indent += 1
                self.emit(f"return {self.int_value()}")
                self.indent -= 1
            elif j == at:  # a float before, the int at the end
                self.stmt_return()
            if j < count:
                self.stmt()
        if last_int:
            self.emit(f"return {self.int_value()}")
        else:
            self.emit(f"return {self.return_value()}")
        h.maybe_int = bool(self.ret_mi or int_path)
        if self.ret_f32:
            self.f32_names.add(h.name)
        self.in_helper = None
        self.lines += ["", ""]
        return h

    def int_value(self) -> str:
        """An int: a literal, or an int variable small enough."""
        small = [v for v in self.ints() if max(abs(v.lo), abs(v.hi)) <= CAP]
        if small and self.r() < 0.4:
            return self.pick(small).name
        return self.pick(["0", "1", "2", "-1"])

    def program(self) -> Program:
        rng = self.rng
        for _ in range(int(rng.integers(0, 3))):
            name = f"C{len(self.consts)}"
            self.lines.append(f"{name} = {round(float(rng.uniform(-1, 1)), 3)}")
            self.consts.append(name)
        self.lines += ["", ""]
        for index in range(int(self.weighted([(3, 0), (2, 1), (0 if self.small else 1, 2)]))):
            h = self.helper(index)
            self.helpers.append(h)
            self.callable_helpers = list(self.helpers)
        params = []
        for j in range(int(rng.integers(1, 4))):
            params.append(Param(f"x{j}", "array", self.pick([s for s in self.shapes if s])))
        if self.r() < 0.4:
            params.append(Param("s", "scalar"))
        if self.r() < 0.35:
            params.append(Param("n", "int"))
        order = rng.permutation(len(params))
        params = [params[int(k)] for k in order]
        if self.on("float32") and self.r() < 0.1 * self.on("float32"):
            # float32 inputs: each float argument with probability 1/2, one at least
            floats = [p for p in params if p.kind != "int"]
            chosen = [p for p in floats if self.r() < 0.5] or [self.pick(floats)]
            for p in chosen:
                p.dtype = "float32"
        self.f_params = {p.name for p in params}
        self.lines.append(f"def f({', '.join(p.name for p in params)}):")
        self.env = [Var(p.name, p.shape, 1.2, is_int=p.kind == "int", lo=0, hi=3,
                        augmentable=bool(p.shape) and self.r() < 0.5) for p in params]
        for p, v in zip(params, self.env):
            if p.dtype == "float32":
                v.f32 = True
                self.f32_names.add(p.name)
        self.block(int(rng.integers(1, 4) if self.small else rng.integers(2, 8)))
        again = [v for v in self.floats(()) if v.reassigned]
        if again and self.on("reassigned-return") and self.r() < 0.5:
            self.emit(f"return {self.pick(again).name}")  # `l = ...; l = l + ...; return l`
        else:
            e = self.expr((), self.depth(), top=True)
            if "reassigned-return" in self.avoid and any(
                    v.name == e.text and v.reassigned for v in self.env):
                e = E(f"+{e.text}", e.bound)  # the returned value is a new one
            self.emit(f"return {e.text}")
        header = '"""A program made by tests/fuzz.py."""\n\nimport numpy as np\n\n'
        return Program(header + "\n".join(self.lines) + "\n", params)


# Constructs the generator can leave out (`--avoid`), to look past a known bug.
AVOIDABLE = {
    "neg-base": "a negative constant as the base of `**` (`C0 ** 2` with C0 < 0)",
    "early-return": "`return` statements before the last one (in branches and loops)",
    "scalar-clip": "np.clip of a scalar",
    "while-slice": "`while` tests that read arrays written with subscripts",
    "scalar-where": "np.where whose operands are all scalars",
    "zero-trip-while": "`while k < 0` after `k = 0`: a loop Numba proves never runs, and prunes",
    "helper-nested-return": "a `return` inside two nested loops of a helper",
    # family int-init
    "int-accum": "accumulators initialized to an int (`out = 1`, `acc = 0`), updated in loops "
                 "and branches (`out = out * e`, `acc += e`)",
    "int-counter": "int counters (`c = 0`, `c += 1` in a loop) and loop indices in float "
                   "arithmetic (`y = y * c`, `x0[0] * k`)",
    "int-branch": "int literals as values: a variable assigned an int in one branch and a "
                  "float in the other",
    "int-helper": "helpers that return an int on one path and a float on another",
    # family float32
    "float32": "float32 arguments and `np.zeros(..., dtype=np.float32)` / `np.ones(..., "
               "dtype=np.float32)`, mixed with float64",
    "retyped-argument": "an argument of f rebound to a value of another type: float32 / "
                        "float64 (`x0 = x1`, `x0, x1 = x1, x0`), or an int (`s = 1`)",
    # family tuples
    "tuple-const": "tuples packed (`t = a, b`), unpacked (`u, v = t`), read at constant "
                   "indices (`t[0]`, `t[-1]`, `t[1][2]`)",
    "tuple-index": "tuples of one shape read at run-time indices (`t[i]`, `t[c - 3]`, "
                   "`t[len(t) - 1 - i]`, `t[n % 3]`)",
    "tuple-helper": "helpers that return tuples, unpacked or indexed (`t = h0(x0); t[1]`)",
    "tuple-loop": "tuples as loop-carried state (`t = (t[1], t[0] + e)`)",
    # family one-path
    "same-test": "a variable assigned under `if b:` and read under a later `if b:` (`b` a "
                 "saved test), maybe in a loop that runs no trip",
    # family reassigned-return
    "reassigned-return": "returning a variable assigned more than once (`l = np.sum(..); "
                         "l = l + 0.1 * np.sum(w ** 2); return l`), early returns of it",
}

# Families of constructs (`--avoid` and `--focus` take a family's name for all its constructs).
FAMILIES = {
    "int-init": ("int-accum", "int-counter", "int-branch", "int-helper", "retyped-argument"),
    "float32": ("float32", "retyped-argument"),
    "tuples": ("tuple-const", "tuple-index", "tuple-helper", "tuple-loop"),
    "reassigned-return": ("reassigned-return",),
    "one-path": ("same-test",),
}
FOCUS = 5.0  # --focus: the focused constructs are this much more frequent


def expand(names) -> frozenset:
    """Construct names, with each family's name replaced by its constructs."""
    out = set()
    for name in names:
        out |= set(FAMILIES.get(name, (name,)))
    return frozenset(out)


def resolve(avoid=(), focus=()) -> tuple[frozenset, frozenset]:
    """(avoid, focus) as construct names. Focusing on constructs leaves out the constructs of
    the other families (FAMILIES), unless focused too, so that a run looks at one family."""
    avoid, focus = expand(avoid), expand(focus)
    if focus:
        others = set().union(*FAMILIES.values()) - focus
        avoid |= others
    return frozenset(avoid), frozenset(focus - avoid)


def generate(seed: int, index: int, avoid=frozenset(), small: bool = False,
             focus=frozenset(), compiled: bool = False) -> Program:
    """Program `index` of the stream `seed` (each program has its own random stream).
    `avoid` and `focus` are construct names (see `resolve`); `compiled`: within what Numba
    compiles (`Generator.meets`)."""
    rng = np.random.default_rng([seed, index, 7] if small else [seed, index])
    return Generator(rng, frozenset(avoid), small, frozenset(focus), compiled).program()


def make_inputs(program: Program, rng: np.random.Generator) -> list:
    args = []
    for p in program.params:
        if p.kind == "array":
            x = rng.uniform(-1.2, 1.2, size=p.shape)
            args.append(x.astype(np.float32) if p.dtype == "float32" else x)
        elif p.kind == "scalar":
            x = float(rng.uniform(-1.2, 1.2))
            args.append(np.float32(x) if p.dtype == "float32" else x)
        else:
            args.append(int(rng.integers(0, 4)))
    return args


# ====================================================================== tracing kinks


class Trace:
    """Receives, from the traced copy of a program, which side of its switch each kink and
    comparison is on."""

    def __init__(self) -> None:
        self.log: list = []

    def _note(self, site: int, pattern) -> None:
        self.log.append((site, np.asarray(pattern).tobytes()))

    def cmp(self, site, op, a, b):
        out = {"Lt": a < b, "LtE": a <= b, "Gt": a > b, "GtE": a >= b, "Eq": a == b,
               "NotEq": a != b}[op]
        self._note(site, out)
        return out

    def abs(self, site, x):
        self._note(site, np.asarray(x) >= 0)
        return np.abs(x)

    def maximum(self, site, a, b):
        self._note(site, np.asarray(a) >= np.asarray(b))
        return np.maximum(a, b)

    def minimum(self, site, a, b):
        self._note(site, np.asarray(a) <= np.asarray(b))
        return np.minimum(a, b)

    def clip(self, site, x, lo, hi):
        self._note(site, (np.asarray(x) < lo) * 1 + (np.asarray(x) > hi) * 2)
        return np.clip(x, lo, hi)

    def sign(self, site, x):
        self._note(site, np.sign(x).astype(np.int8))  # the same bytes in float32 and float64
        return np.sign(x)

    def reduce(self, site, kind, x, axis=None, keepdims=False):
        arg = np.argmax(x, axis=axis) if kind == "max" else np.argmin(x, axis=axis)
        self._note(site, arg)
        fn = np.max if kind == "max" else np.min
        return fn(x, axis=axis, keepdims=keepdims)


_KINK_CALLS = {"abs": "abs", "absolute": "abs", "maximum": "maximum", "minimum": "minimum",
               "clip": "clip", "sign": "sign", "max": "max", "amax": "max", "min": "min",
               "amin": "min"}


class _Tracer(ast.NodeTransformer):
    def __init__(self) -> None:
        self.sites = itertools.count()

    def hook(self, name: str, args: list, keywords=()) -> ast.Call:
        func = ast.Attribute(value=ast.Name("_T", ast.Load()), attr=name, ctx=ast.Load())
        return ast.Call(func=func, args=[ast.Constant(next(self.sites))] + args,
                        keywords=list(keywords))

    def visit_Compare(self, node):
        self.generic_visit(node)
        assert len(node.ops) == 1, "the generator writes no chained comparisons"
        return self.hook("cmp", [ast.Constant(type(node.ops[0]).__name__), node.left,
                                 node.comparators[0]])

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        is_np = isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) \
            and f.value.id == "np"
        if is_np and f.attr in _KINK_CALLS:
            kind = _KINK_CALLS[f.attr]
            if kind in ("max", "min"):
                return self.hook("reduce", [ast.Constant(kind)] + node.args, node.keywords)
            return self.hook(kind, node.args, node.keywords)
        if isinstance(f, ast.Name) and f.id == "abs":
            return self.hook("abs", node.args)
        if isinstance(f, ast.Attribute) and f.attr in ("max", "min") and not is_np:
            return self.hook("reduce", [ast.Constant(f.attr), f.value] + node.args,
                             node.keywords)
        return node


def traced_module(source: str, filename: str, trace: Trace) -> dict:
    """The program's functions, rewritten to report to `trace` (run as plain Python)."""
    tree = ast.fix_missing_locations(_Tracer().visit(ast.parse(source)))
    namespace = {"_T": trace, "__name__": "traced"}
    exec(compile(tree, filename + ":traced", "exec"), namespace)  # noqa: S102
    return namespace


# ====================================================================== the check

H = 1e-6


@dataclass(frozen=True)
class Tolerances:
    fd_rtol: float  # gradients against finite differences: |got - fd| <= fd_atol *
    fd_atol: float  # max(1, |fd|max) + fd_rtol * |fd|
    fwd: float  # jvp's tangent against <grad, u>, relative to sum |grad * u|
    value: float  # value_and_grad's and jvp's value against f's, relative to max(1, |f|)
    grad: float  # value_and_grad's gradients against grad's (as fd_atol / fd_rtol)
    fwd_floor: float  # plus this times sum |u|: <grad, u> may cancel to ~0 from rounding


TOL64 = Tolerances(fd_rtol=1e-4, fd_atol=1e-6, fwd=1e-8, value=1e-12, grad=1e-10,
                   fwd_floor=1e-13)
# float32 programs: the finite differences are of the float64 twin (`_promote`), exact to
# ~1e-8, while a float32 gradient has relative errors of ~1e-7 times the conditioning
TOL32 = Tolerances(fd_rtol=1e-3, fd_atol=1e-5, fwd=1e-4, value=2e-5, grad=1e-4,
                   fwd_floor=1e-6)
FD_RTOL, FD_ATOL, FWD_RTOL = TOL64.fd_rtol, TOL64.fd_atol, TOL64.fwd


@dataclass
class Outcome:
    status: str  # ok, mismatch, error, skip, invalid
    detail: str = ""
    kind: str = ""  # for failures: a short signature used when shrinking
    args: list = field(default_factory=list)


class _Rejected(Exception):
    pass


def _finite_differences(fn, trace: Trace, args: list, wrt_idx: list, base_log, h: float):
    grads = []
    for k in wrt_idx:
        x = args[k]
        if np.ndim(x) == 0:
            g = np.zeros(())
            points = [((), x)]
        else:
            g = np.zeros(np.shape(x))
            points = [(i, x) for i in np.ndindex(g.shape)]
        for i, _ in points:
            vals = []
            for sign in (1.0, -1.0):
                if np.ndim(x) == 0:
                    xx = x + sign * h
                else:
                    xx = np.array(x, dtype=np.float64)
                    xx[i] += sign * h
                trial = _copy_args(args)
                trial[k] = xx
                trace.log = []
                vals.append(float(fn(*trial)))
                if trace.log != base_log:
                    raise _Rejected
            g[i] = (vals[0] - vals[1]) / (2 * h)
        grads.append(g)
    return grads


def _copy_args(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def _promote_args(args):
    """float32 arguments as float64 (the same numbers)."""
    return [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == np.float32
            else float(a) if isinstance(a, np.float32) else a for a in args]


def _promote(source: str) -> str:
    """The program with its float32 intermediates made float64: its float64 twin."""
    return source.replace("np.float32", "np.float64")


def _fmt_args(params, args) -> str:
    parts = []
    for p, a in zip(params, args):
        if isinstance(a, np.ndarray):
            dtype = ", dtype=np.float32" if a.dtype == np.float32 else ""
            text = f"np.array({np.asarray(a).tolist()!r}{dtype})"
        elif isinstance(a, np.float32):
            text = f"np.float32({float(a)!r})"
        else:
            text = repr(a)
        parts.append(f"{p.name}={text}")
    return ", ".join(parts)


def _import(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # program files are rewritten: never trust a cached .pyc
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = before
    return module


_NUMBA_KEYS = (">>> ", "Cannot unify", "Unknown attribute", "Invalid use of", "has no attribute",
               "NameError", "Cannot determine", "not supported", "No implementation", "reshape")


def _error_kind(exc: BaseException, raw: str = "") -> str:
    """A one-line signature of an exception; for a Numba failure, the line that says why."""
    for key in _NUMBA_KEYS:
        for line in raw.splitlines():
            if key in line:
                return "numba: " + re.sub(r" at 0x[0-9a-f]+", "", line.strip())[:120]
    first = next((ln for ln in str(exc).splitlines() if ln.strip().startswith("adcompile")),
                 str(exc).splitlines()[0] if str(exc) else "")
    first = re.sub(r"'([A-Za-z]+)\d*(_\d+)?(_dot)?'", r"'\1\3'", first.strip())
    first = first.replace("adcompile: the derivative of f failed for these arguments: ", "")
    return f"{type(exc).__name__}: {first[:120]}"


def _raw_failure(derivative, args) -> str:
    """adcompile reports a Numba failure in one line: call the compiled code itself for the
    full message."""
    try:
        derivative._fn(*args)
    except Exception as exc:  # noqa: BLE001
        return str(exc)
    return ""


def check_program(program: Program, path: Path, rng: np.random.Generator, jit: bool,
                  args: list | None = None) -> Outcome:
    """Differentiate the program at `path` (written from `program`) and compare."""
    import adcompile as ad

    name = f"_fuzz_{path.stem}"
    sys.modules.pop(name, None)
    single = program.float32
    tol = TOL32 if single else TOL64
    try:
        module = _import(path, name)
        f = module.f
        trace = Trace()
        traced = traced_module(program.source, str(path), trace)["f"]
        # the reference for finite differences: the same program in float64
        ref = traced_module(_promote(program.source), str(path) + ":float64", trace)["f"] \
            if single else traced
    except Exception as exc:  # noqa: BLE001
        return Outcome("invalid", f"the program does not load: {exc!r}")
    params = program.params
    wrt_idx = [k for k, p in enumerate(params) if p.kind != "int"]
    fixed = args is not None
    fd = None
    for _ in range(1 if fixed else 8):
        if not fixed:
            args = make_inputs(program, rng)
        try:
            with np.errstate(all="raise", under="ignore"):
                value = f(*_copy_args(args))
                trace.log = []
                traced_value = traced(*_copy_args(args))
                base_log = trace.log
                args64, value64, log64 = args, value, base_log
                if single:
                    args64 = _promote_args(args)
                    trace.log = []
                    value64 = ref(*_copy_args(args64))
                    log64 = trace.log
        except Exception as exc:  # noqa: BLE001
            return Outcome("invalid", f"the program fails: {exc!r}", args=args)
        if not (np.ndim(value) == 0 and np.asarray(value).dtype.kind in "fi"
                and np.isfinite(value) and abs(value) < 1e6):
            return Outcome("invalid", f"the program returns {value!r}", args=args)
        if traced_value != value:
            return Outcome("invalid", f"traced copy differs: {traced_value!r} != {value!r}")
        if log64 != base_log:  # float32 rounding puts a switch on the other side
            continue
        try:
            fd = _finite_differences(ref, trace, args64, wrt_idx, base_log, H)
            break
        except _Rejected:
            continue
    if fd is None:
        return Outcome("skip", "every sample straddles a kink", args=args)
    where = f"(jit={jit})"
    names = program.wrt
    # the error a value may have: float64, reassociation only; float32, also rounding, which
    # the program's own float32 error (against its float64 twin) measures
    value_tol = tol.value * max(1.0, abs(float(value)))
    if single:
        value_tol += 10.0 * abs(float(value) - float(value64))

    def wrong_value(got) -> bool:
        return not (np.ndim(got) == 0 and np.isfinite(float(got))
                    and abs(float(got) - float(value)) <= value_tol)

    # reverse mode: grad, then value_and_grad (its value equals f's, its gradients grad's).
    # Compiled, value_and_grad alone (one compilation fewer): its gradients are checked.
    got = None
    for which in (("value_and_grad",) if jit else ("grad", "value_and_grad")):
        try:
            g = getattr(ad, which)(f, wrt=names, jit=jit)
        except Exception as exc:  # noqa: BLE001
            return Outcome("error", f"{which} {where}: {traceback.format_exc()}",
                           _error_kind(exc), args)
        given = _copy_args(args)
        try:
            out = g(*given)
        except Exception as exc:  # noqa: BLE001
            raw = _raw_failure(g, _copy_args(args)) if jit else ""
            return Outcome("error", f"calling {which} {where}: {traceback.format_exc()}\n{raw}",
                           _error_kind(exc, raw), args)
        if any(not np.array_equal(a, b) for a, b in zip(given, args)):
            return Outcome("mismatch", f"{which} {where} changed its arguments", "mutates", args)
        if which == "value_and_grad":
            vg_value, out = out
            if wrong_value(vg_value):
                return Outcome("mismatch", f"value_and_grad {where} value {vg_value!r} != f "
                               f"{value!r} (tolerance {value_tol:.3g})", "vg-value", args)
        grads = list(out)
        for k, gk in zip(wrt_idx, grads):
            if np.shape(gk) != np.shape(args[k]):
                return Outcome("mismatch", f"{which} {where}: gradient of {params[k].name} has "
                               f"shape {np.shape(gk)}, argument {np.shape(args[k])}", "shape",
                               args)
            if isinstance(args[k], np.ndarray) and np.asarray(gk).dtype != args[k].dtype:
                return Outcome("mismatch", f"{which} {where}: gradient of {params[k].name} has "
                               f"dtype {np.asarray(gk).dtype}, argument {args[k].dtype}",
                               "grad-dtype", args)
        if got is not None:  # value_and_grad's gradients against grad's
            bad = _compare(grads, got, tol.grad, tol.grad)
            if bad is not None:
                k, text = bad
                return Outcome("mismatch", f"value_and_grad {where} vs grad, "
                               f"{params[wrt_idx[k]].name}:\n{text}", "vg-vs-grad", args)
            continue
        got = grads
        bad = _compare_fd(got, fd, tol)
        if bad is not None:
            # second guard: is the finite-difference estimate itself stable?
            try:
                fd5 = _finite_differences(ref, trace, args64, wrt_idx, base_log, 1e-5)
            except _Rejected:
                return Outcome("skip", "ambiguous finite differences", args=args)
            if _compare_fd(fd, fd5, tol, strict=False) is not None:
                return Outcome("skip", "ambiguous finite differences", args=args)
            k, text = bad
            return Outcome("mismatch", f"{which} {where} vs finite differences, "
                           f"{params[wrt_idx[k]].name}:\n{text}", "rev-vs-fd", args)
    # forward mode, along u (of each argument's dtype)
    u = []
    for k in wrt_idx:
        a = args[k]
        if np.ndim(a):
            u.append(rng.standard_normal(np.shape(a)).astype(a.dtype))
        else:
            x = float(rng.standard_normal())
            u.append(np.float32(x) if isinstance(a, np.float32) else x)
    try:
        jv = ad.jvp(f, wrt=names, jit=jit)
    except Exception as exc:  # noqa: BLE001
        return Outcome("error", f"jvp {where}: {traceback.format_exc()}", _error_kind(exc), args)
    try:
        fwd_value, tangent = jv(*_copy_args(args), *u)
    except Exception as exc:  # noqa: BLE001
        raw = _raw_failure(jv, _copy_args(args) + u) if jit else ""
        return Outcome("error", f"calling jvp {where}: {traceback.format_exc()}\n{raw}",
                       _error_kind(exc, raw), args)
    if wrong_value(fwd_value):
        return Outcome("mismatch", f"jvp {where} value {fwd_value!r} != f {value!r} "
                       f"(tolerance {value_tol:.3g})", "jvp-value", args)
    expect = sum(float(np.sum(np.asarray(gk, np.float64) * uk)) for gk, uk in zip(got, u))
    scale = sum(float(np.sum(np.abs(np.asarray(gk, np.float64) * uk))) for gk, uk in zip(got, u))
    floor = tol.fwd_floor * max(1.0, sum(float(np.sum(np.abs(uk))) for uk in u))
    if np.ndim(tangent) != 0 or not abs(float(tangent) - expect) <= tol.fwd * scale + floor:
        return Outcome("mismatch", f"jvp {where} tangent {tangent!r} != <grad, u> {expect!r} "
                       f"(u = {u!r})", "fwd-vs-rev", args)
    return Outcome("ok", args=args)


def _compare(got, expected, rtol, atol):
    """The first (index, report) where |got - expected| > atol * max(1, |expected|max) +
    rtol * |expected|, elementwise."""
    for k, (a, e) in enumerate(zip(got, expected)):
        a = np.asarray(a, dtype=np.float64)
        e = np.asarray(e, dtype=np.float64)
        scale = max(1.0, float(np.max(np.abs(e), initial=0.0)))
        ok = np.abs(a - e) <= atol * scale + rtol * np.abs(e)
        if not np.all(ok):
            return k, f"  adcompile: {a.tolist()!r}\n  expected:  {e.tolist()!r}"
    return None


def _compare_fd(got, fd, tol=None, strict=True):
    tol = tol or TOL64
    rtol, atol = (tol.fd_rtol, tol.fd_atol) if strict else (1e-3, 1e-5)
    bad = _compare(got, fd, rtol, atol)
    if bad is not None:
        k, text = bad
        return k, text.replace("expected: ", "fin. diff:")
    return None


# ====================================================================== shrinking


def _candidates(tree: ast.Module):
    """Smaller variants of `tree`: a statement dropped, a compound statement replaced by its
    body, an expression replaced by one of its parts."""
    bodies = []
    for node in ast.walk(tree):
        for attr in ("body", "orelse"):
            block = getattr(node, attr, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                bodies.append((node, attr))
    for node, attr in bodies:
        block = getattr(node, attr)
        for i in range(len(block)):
            stmt = block[i]
            if isinstance(node, ast.Module) and isinstance(stmt, ast.FunctionDef) \
                    and stmt.name == "f":
                continue
            if len(block) > 1 or attr == "orelse":
                yield lambda b=block, i=i: b.pop(i)
            if isinstance(stmt, (ast.If, ast.For, ast.While)):
                yield lambda b=block, i=i, s=stmt: b.__setitem__(slice(i, i + 1), s.body)
                if isinstance(stmt, ast.If) and stmt.orelse:
                    yield lambda b=block, i=i, s=stmt: b.__setitem__(slice(i, i + 1), s.orelse)
                    yield lambda s=stmt: setattr(s, "orelse", [])
    for node in ast.walk(tree):
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.expr) and not isinstance(node, (ast.Assign, ast.AugAssign)) \
                    or name == "value" and isinstance(node, (ast.Assign, ast.AugAssign)):
                if isinstance(value, ast.expr):
                    for part in _expr_parts(value):
                        yield lambda n=node, a=name, p=part: setattr(n, a, p)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.expr) and not isinstance(node, ast.Compare):
                        for part in _expr_parts(item):
                            yield lambda v=value, i=i, p=part: v.__setitem__(i, p)


def _expr_parts(e: ast.expr) -> list:
    if isinstance(e, ast.BinOp):
        return [e.left, e.right]
    if isinstance(e, ast.UnaryOp):
        return [e.operand]
    if isinstance(e, ast.IfExp):
        return [e.body, e.orelse]
    if isinstance(e, ast.Call):  # not constants, nor shapes (`np.ones((2, 3))`)
        return [a for a in e.args if not isinstance(a, ast.Constant) and not (
            isinstance(a, ast.Tuple) and all(isinstance(x, ast.Constant) for x in a.elts))] + \
            ([e.func.value] if isinstance(e.func, ast.Attribute)
             and not (isinstance(e.func.value, ast.Name) and e.func.value.id == "np") else [])
    if isinstance(e, ast.Attribute) and e.attr in ("T",):
        return [e.value]
    if isinstance(e, ast.BoolOp):
        return list(e.values)
    return []


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise TimeoutError in the main thread after `seconds` (where SIGALRM exists)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def shrink(program: Program, outcome: Outcome, workdir: Path, jit: bool, budget: int = 600
           ) -> Program:
    """Greedily remove statements and subexpressions while the same failure persists (same
    status and signature, at the same inputs)."""
    current, index, tried, progress = program, 0, 0, False
    while tried < budget:
        count = sum(1 for _ in _candidates(ast.parse(current.source)))
        if index >= count:
            if not progress:
                break
            index, progress = 0, False
            continue
        tried += 1
        tree = ast.parse(current.source)
        edit = next(itertools.islice(_candidates(tree), index, None))
        try:
            edit()
            text = ast.unparse(tree) + "\n"
        except Exception:  # noqa: BLE001
            index += 1
            continue
        # named by content: a reused name could load a stale __pycache__ entry
        path = workdir / f"shrink_{hashlib.sha1(text.encode()).hexdigest()[:16]}.py"
        path.write_text(text)
        candidate = Program(text, program.params)
        try:
            with _time_limit(30.0 if jit else 5.0):  # a dropped `k += 1` loops forever
                result = check_program(candidate, path, np.random.default_rng(0), jit,
                                       args=outcome.args)
        except TimeoutError:
            index += 1
            continue
        if text != current.source and (result.status, result.kind) == (outcome.status,
                                                                      outcome.kind):
            current, progress = candidate, True
        else:
            index += 1
    return current


# ====================================================================== the runner


def run(programs: int, seed: int, jit_every: int = 0, show: bool = False,
        minimize: bool = False, quiet: bool = False, start: int = 0, avoid=(),
        small: bool = False, focus=(), stride: int = 1) -> dict:
    """Generate and check programs start..start+programs-1 of stream `seed` (every
    `stride`-th of them); every `jit_every`-th one is made within what Numba compiles and
    checked compiled too. `avoid`, `focus`: construct or family names (`resolve`). Returns the
    counts and the failures."""
    avoid, focus = resolve(avoid, focus)
    counts = {"ok": 0, "mismatch": 0, "error": 0, "skip": 0, "invalid": 0}
    failures = []
    t0 = time.time()
    with warnings.catch_warnings(), tempfile.TemporaryDirectory(prefix="adcompile_fuzz_") as tmp:
        warnings.simplefilter("ignore")  # Numba's performance warnings, NumPy's 0-d casts
        workdir = Path(tmp)
        for done, index in enumerate(range(start, start + programs, stride), 1):
            compiled = _compiled(index, jit_every)
            program = generate(seed, index, avoid, small, focus, compiled)
            path = workdir / f"fz_{seed}_{index}.py"
            path.write_text(program.source)
            modes = [False] + ([True] if compiled else [])
            for jit in modes:
                rng = np.random.default_rng([seed, index, 1])
                outcome = check_program(program, path, rng, jit)
                counts[outcome.status] += 1
                if outcome.status in ("mismatch", "error", "invalid"):
                    failures.append((index, jit, program, outcome))
                    if not quiet:
                        print(f"program {index} (jit={jit}): {outcome.status}: "
                              f"{outcome.kind or outcome.detail[:200]}", flush=True)
                    if show:
                        _show(program, outcome, workdir, jit, minimize)
                if outcome.status != "ok":
                    break
            if not quiet and done % 100 == 0:
                print(f"... {done} programs, {time.time() - t0:.0f} s, "
                      f"{counts['mismatch']} mismatches, {counts['error']} errors", flush=True)
    return {"counts": counts, "failures": failures, "programs": programs}


def _compiled(index: int, jit_every: int) -> bool:
    return bool(jit_every) and index % jit_every == 0


def _share(job: tuple) -> dict:
    """One worker's share of a run: every `stride`-th program from `start + offset`."""
    kwargs, offset, stride = job
    warnings.simplefilter("ignore")
    result = run(**{**kwargs, "start": kwargs["start"] + offset,
                    "programs": kwargs["programs"] - offset, "stride": stride})
    # what the summary needs, as plain values (the workers' Programs stay with them)
    result["failures"] = [(i, jit, None, Outcome(o.status, "", o.kind))
                          for i, jit, _, o in result["failures"]]
    return result


def run_parallel(workers: int, **kwargs) -> dict:
    """`run` split over `workers` processes (each takes every `workers`-th program)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        parts = pool.map(_share, [(kwargs, k, workers) for k in range(workers)])
    counts = {key: sum(p["counts"][key] for p in parts) for key in parts[0]["counts"]}
    failures = sorted((f for p in parts for f in p["failures"]), key=lambda f: f[0])
    return {"counts": counts, "failures": failures, "programs": kwargs["programs"]}


def _show(program: Program, outcome: Outcome, workdir: Path, jit: bool, minimize: bool) -> None:
    print("-" * 72)
    print(program.source)
    print(f"inputs: {_fmt_args(program.params, outcome.args)}")
    print(outcome.detail)
    if minimize and outcome.status in ("mismatch", "error"):
        small = shrink(program, outcome, workdir, jit)
        print("shrunk to:")
        print(small.source)
    print("-" * 72, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--programs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0, help="index of the first program")
    parser.add_argument("--jit-every", type=int, default=0,
                        help="also check every K-th program compiled with Numba (0: never)")
    parser.add_argument("--small", action="store_true",
                        help="fewer statements per program (quicker to compile)")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes that share the programs (each takes every K-th)")
    parser.add_argument("--show", action="store_true", help="print each failing program")
    parser.add_argument("--minimize", action="store_true",
                        help="with --show, also print each failure shrunk")
    parser.add_argument("--print", type=int, default=None, metavar="INDEX",
                        help="print program INDEX of the seed and exit")
    parser.add_argument("--avoid", default="", metavar="A,B",
                        help=("leave constructs out: " + "; ".join(
                            f"{k}: {v}" for k, v in AVOIDABLE.items()) +
                        "; or whole families: " + "; ".join(
                            f"{k}: {', '.join(v)}" for k, v in FAMILIES.items())).replace(
                            "%", "%%"))
    parser.add_argument("--focus", default="", metavar="A,B",
                        help=f"make these constructs or families {FOCUS:g} times as frequent "
                        "and leave out the other families' constructs")
    opts = parser.parse_args(argv)
    avoid = frozenset(a for a in opts.avoid.split(",") if a)
    focus = frozenset(a for a in opts.focus.split(",") if a)
    for flag, names in (("--avoid", avoid), ("--focus", focus)):
        if names - set(AVOIDABLE) - set(FAMILIES):
            parser.error(f"{flag} takes {', '.join(list(AVOIDABLE) + list(FAMILIES))}")
    if opts.print is not None:
        left_out, focused = resolve(avoid, focus)
        print(generate(opts.seed, opts.print, left_out, opts.small, focused,
                       _compiled(opts.print, opts.jit_every)).source)
        return 0
    os.environ.setdefault("ADCOMPILE_CACHE_DIR",
                          str(Path(tempfile.gettempdir()) / f"adcompile_fuzz_cache_{os.getuid()}"))
    kwargs = {"programs": opts.programs, "seed": opts.seed, "jit_every": opts.jit_every,
              "show": opts.show, "minimize": opts.minimize, "start": opts.start,
              "avoid": avoid, "focus": focus, "small": opts.small}
    result = run_parallel(opts.workers, **kwargs) if opts.workers > 1 else run(**kwargs)
    c = result["counts"]
    kinds: dict = {}
    for index, jit, _, outcome in result["failures"]:
        kinds.setdefault(f"{outcome.status} (jit={jit}): {outcome.kind}", []).append(index)
    for kind, indices in sorted(kinds.items()):
        print(f"{len(indices):4d} x {kind}  [programs {', '.join(map(str, indices[:8]))}"
              f"{', ...' if len(indices) > 8 else ''}]")
    print(f"skipped: {c['skip']}, invalid programs: {c['invalid']}")
    print(f"programs: {opts.programs}, mismatches: {c['mismatch']}, errors: {c['error']}")
    return 1 if c["mismatch"] or c["error"] or c["invalid"] else 0


if __name__ == "__main__":
    sys.exit(main())
