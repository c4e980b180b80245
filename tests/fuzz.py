"""Random programs in adcompile's language, differentiated and checked against each other.

    python -m tests.fuzz --programs 2000 --seed 1                  # uncompiled (jit=False)
    python -m tests.fuzz --programs 30 --seed 1 --jit-every 1      # every program also compiled
    python -m tests.fuzz --programs 500 --seed 3 --show --minimize # print (shrunk) failures

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

The check (`check_program`), on random inputs in float64:
  * reverse mode (`grad` w.r.t. every float argument) against central finite differences
    (step 1e-6; |got - fd| <= 1e-6 * max(1, |fd|max) + 1e-4 |fd|),
  * forward mode (`jvp` along a random direction u): its value equals f's, and its tangent
    equals <grad, u> to 1e-8 relative,
  * the derivative leaves its inputs unchanged, and gradients have their arguments' shapes.
Any exception from adcompile, when the derivative is made or called, is an error.

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


@dataclass
class E:
    text: str
    bound: float
    views: frozenset = frozenset()  # variables whose memory the value may share


@dataclass
class Helper:
    name: str
    params: list  # [(name, shape)]
    ret: tuple


@dataclass
class Param:
    name: str
    kind: str  # "array", "scalar" (a Python float) or "int"
    shape: tuple = ()


@dataclass
class Program:
    source: str
    params: list  # [Param]

    @property
    def wrt(self) -> tuple:
        return tuple(p.name for p in self.params if p.kind != "int")


def _f(c: float) -> str:
    """A float literal, parenthesized when negative."""
    text = repr(round(float(c), 2))
    return f"({text})" if c < 0 else text


def _shape_text(shape: tuple) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(map(str, shape))})"


class Generator:
    """One program from one random stream. Shapes come from three dims drawn per program."""

    def __init__(self, rng: np.random.Generator, avoid: frozenset = frozenset(),
                 small: bool = False) -> None:
        self.rng = rng
        self.avoid = avoid
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

    # ------------------------------------------------------------ small utilities

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
        return [v for v in self.env if not v.is_int and (shape is None or v.shape == shape)]

    def ints(self) -> list[Var]:
        return [v for v in self.env if v.is_int]

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
        ]

    def leaf(self, shape: tuple, top: bool) -> E | None:
        options = []
        for v in self.floats(shape):
            if not (top and v.writable):
                options.append((3, E(v.name, v.bound, self.view_of(v, shape))))
        for v in self.floats():
            if top and v.writable:
                continue
            for text in self.reads(v, shape):
                options.append((1.5, E(text, v.bound, self.view_of(v, shape))))
        if shape == ():
            c = float(self.rng.uniform(-1.5, 1.5))
            options.append((1, E(_f(c), abs(c))))
            if self.consts:
                options.append((0.5, E(self.pick(self.consts), 1.0)))
        if not options:
            return None
        return self.weighted(options)

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
        v = self.pick(self.floats())
        red = self.pick(["np.mean", "np.sum", "np.max"]) if v.shape else ""
        inner = f"{red}({v.name})" if red else v.name
        bound = v.bound * (max(1, math.prod(v.shape)) if red == "np.sum" else 1)
        if shape == ():
            return E(inner, bound)
        return E(f"({inner} * np.ones({_shape_text(shape)}))", bound)

    def unary(self, shape, d) -> E:
        kind = self.weighted([
            (3, "tanh"), (1, "sin"), (1, "cos"), (1, "arctan"), (1.5, "exp"), (0.5, "expm1"),
            (1, "log"), (0.5, "log2"), (0.5, "log1p"), (1, "sqrt"), (1, "abs"), (1, "square"),
            (0.7, "pow2"), (0.5, "pow3"), (0.5, "powf"), (1, "neg"), (0.5, "tan"),
            (0.5, "powpos"), (0.3, "copy")])
        a = self.expr(shape, d)
        t, b = a.text, a.bound
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
            return E(f"{self.pick(['np.abs', 'np.abs', 'abs'])}({t})", b)
        if kind in ("square", "pow2", "pow3", "powf"):
            a = self.squash(a, 2.0)
            t, b = self.atomic(a), a.bound
            if "neg-base" in self.avoid and (t[:1] == "(" and t[1:2] in "-." or t[:1] == "C"):
                kind = "square"
            return {"square": E(f"np.square({t})", b * b), "pow2": E(f"{t} ** 2", b * b),
                    "pow3": E(f"{t} ** 3", b ** 3), "powf": E(f"{t} ** 2.0", b * b)}[kind]
        if kind == "neg":
            return E(self.pick([f"(-{t})", f"np.negative({t})"]), b)
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
        if op.startswith("np."):
            return E(f"{op}({a.text}, {b.text})", bound)
        return E(f"({a.text} {op} {b.text})", bound)

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
        return E(f"{fn}({a.text}, {b.text})", max(a.bound, b.bound))

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
        return E(f"np.where({c}, {a.text}, {b.text})", max(a.bound, b.bound))

    def clip(self, shape, d) -> E:
        a = self.expr(shape, d)
        lo = float(self.rng.uniform(-1.0, 0.3))
        hi = lo + float(self.rng.uniform(0.2, 1.5))
        return E(f"np.clip({a.text}, {_f(lo)}, {_f(hi)})", max(abs(lo), abs(hi)))

    def ifexp(self, shape, d, top=False) -> E:
        a, b = self.expr(shape, d, top=True), self.expr(shape, d, top=True)
        return E(f"({a.text} if {self.cond(d)} else {b.text})", max(a.bound, b.bound),
                 a.views | b.views if shape else frozenset())

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
        return [h for h in self.callable_helpers if h.ret == shape]

    def call(self, shape, d) -> E:
        h = self.pick(self.callable_for(shape))
        args, views = [], frozenset()
        for _, pshape in h.params:
            a = self.squash(self.expr(pshape, d, top=True), PARAM_BOUND)
            args.append(a.text)
            views |= a.views
        return E(f"{h.name}({', '.join(args)})", CAP, views if h.ret else frozenset())

    def float_call(self, shape, d) -> E:
        a = self.expr((), d)
        return E(f"float({a.text})", a.bound)

    def sign(self, shape, d) -> E:
        a, b = self.pair(shape, d)
        return E(f"(np.sign({a.text}) * {b.text})", b.bound)

    def int_mix(self, shape, d) -> E:
        v = self.pick(self.ints())
        c = float(self.pick([0.5, 0.25, -0.3]))
        e = self.expr((), d)
        return E(f"({v.name} * {_f(c)} + {e.text})", max(abs(v.lo), abs(v.hi)) * abs(c) + e.bound)

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
            (0 if "early-return" in self.avoid else 0.6, "return"),
        ])
        getattr(self, "stmt_" + kind)()

    def unalias(self, e: E) -> E:
        """`e`, copied when it may share memory with an array that `+=` updates in place
        (Python would change both; adcompile's `x += y` rebinds)."""
        if any(v.augmentable and v.name in e.views for v in self.env):
            return E(f"np.copy({e.text})", e.bound)
        return e

    def new_var(self, shape, e: E, prefix="v") -> Var:
        e = self.unalias(self.squash(e))
        v = Var(self.fresh(prefix), shape, max(1.0, e.bound))
        v.augmentable = bool(shape) and not e.views and self.r() < 0.5
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
        if v.augmentable and e.views:
            return E(f"np.copy({e.text})", e.bound)
        return e

    def stmt_rebind(self) -> None:
        v = self.pick([v for v in self.floats() if not v.writable])
        e = self.rebind(v, self.expr(v.shape, self.depth(), top=True))
        self.emit(f"{v.name} = {e.text}")

    def stmt_aug(self) -> None:
        v = self.pick([v for v in self.floats() if not v.writable and (v.augmentable
                                                                        or not v.shape)])
        op = self.pick(["+=", "-=", "*=", "/="])
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
        self.emit(f"{v.name} {op} {e.text}")

    def stmt_if(self) -> None:
        self.emit(f"if {self.cond()}:")
        self.body(self.depth())
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
                              (1, "shape"), (0.5 if ints else 0, "intvar")])
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

    def stmt_for(self) -> None:
        text, lo, hi, trips = self.range_spec()
        i = Var(self.fresh("i"), (), is_int=True, lo=lo, hi=max(lo, hi))
        if trips <= 0:
            i.lo, i.hi = 0, -1
        self.emit(f"for {i.name} in {text}:")
        self.loops.append({"trip": max(trips, 1)})
        self.body(self.depth(), extra=lambda: self.env.append(i))
        self.loops.pop()

    def stmt_while(self) -> None:
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
        shape = self.in_helper.ret if self.in_helper else ()
        self.emit(f"if {self.cond()}:")
        self.indent += 1
        self.emit(f"return {self.squash(self.expr(shape, self.depth(), top=True)).text}")
        self.indent -= 1

    def stmt_alloc(self) -> None:
        shape = self.pick([s for s in self.shapes if s])
        same = [v for v in self.floats(shape) if not v.writable]
        name = self.fresh("Z")
        kind = self.weighted([(3, "zeros"), (1 if same else 0, "like"),
                              (1 if same else 0, "copy"), (1, "dims")])
        bound = 1.0
        if kind == "zeros":
            text = f"np.zeros({_shape_text(shape)})"
        elif kind == "like":
            text = f"np.zeros_like({self.pick(same).name})"
        elif kind == "copy":
            src = self.pick(same)
            text, bound = f"{src.name}.copy()", src.bound
        else:
            arrays = [v for v in self.floats() if v.shape and v.shape[0] == shape[0]]
            first = f"{self.pick(arrays).name}.shape[0]" if arrays else str(shape[0])
            text = (f"np.zeros({first})" if len(shape) == 1 and self.r() < 0.5
                    else f"np.zeros(({first},{' ' + str(shape[1]) if len(shape) == 2 else ''}))")
        self.emit(f"{name} = {text}")
        self.env.append(Var(name, shape, max(bound, CAP), writable=True))

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
        v1 = Var(self.fresh("v"), s1, max(1.0, e1.bound))
        v2 = Var(self.fresh("v"), s2, max(1.0, e2.bound))
        self.emit(f"{v1.name}, {v2.name} = {e1.text}, {e2.text}")
        self.env += [v1, v2]

    def stmt_swap(self) -> None:
        rebindable = [v for v in self.floats() if not v.writable]
        by_shape = {}
        for v in rebindable:
            by_shape.setdefault(v.shape, []).append(v)
        groups = [g for g in by_shape.values() if len(g) >= 2]
        if not groups:
            return self.stmt_assign()
        g = self.pick(groups)
        i, j = self.rng.choice(len(g), size=2, replace=False)
        a, b = g[int(i)], g[int(j)]
        e = self.rebind(b, self.expr(a.shape, 1))
        a.bound = b.bound = max(a.bound, b.bound)
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

    # ------------------------------------------------------------ functions

    def helper(self, index: int) -> Helper:
        params = [(f"a{j}", self.pick(self.shapes)) for j in range(int(self.rng.integers(1, 4)))]
        h = Helper(f"h{index}", params, self.pick(self.shapes))
        self.lines.append(f"def {h.name}({', '.join(p for p, _ in params)}):")
        self.env = [Var(p, s, PARAM_BOUND) for p, s in params]
        self.in_helper = h
        self.block(int(self.rng.integers(0, 3)))
        self.emit(f"return {self.squash(self.expr(h.ret, self.depth(), top=True)).text}")
        self.in_helper = None
        self.lines += ["", ""]
        return h

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
        self.lines.append(f"def f({', '.join(p.name for p in params)}):")
        self.env = [Var(p.name, p.shape, 1.2, is_int=p.kind == "int", lo=0, hi=3,
                        augmentable=bool(p.shape) and self.r() < 0.5) for p in params]
        self.block(int(rng.integers(1, 4) if self.small else rng.integers(2, 8)))
        self.emit(f"return {self.expr((), self.depth(), top=True).text}")
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
}


def generate(seed: int, index: int, avoid=frozenset(), small: bool = False) -> Program:
    """Program `index` of the stream `seed` (each program has its own random stream)."""
    rng = np.random.default_rng([seed, index, 7] if small else [seed, index])
    return Generator(rng, frozenset(avoid), small).program()


def make_inputs(program: Program, rng: np.random.Generator) -> list:
    args = []
    for p in program.params:
        if p.kind == "array":
            args.append(rng.uniform(-1.2, 1.2, size=p.shape))
        elif p.kind == "scalar":
            args.append(float(rng.uniform(-1.2, 1.2)))
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
        self._note(site, np.sign(x))
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
FD_RTOL, FD_ATOL = 1e-4, 1e-6
FWD_RTOL = 1e-8


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


def _fmt_args(params, args) -> str:
    parts = []
    for p, a in zip(params, args):
        text = f"np.array({np.asarray(a).tolist()!r})" if isinstance(a, np.ndarray) else repr(a)
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
    try:
        module = _import(path, name)
        f = module.f
        trace = Trace()
        traced = traced_module(program.source, str(path), trace)["f"]
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
        except Exception as exc:  # noqa: BLE001
            return Outcome("invalid", f"the program fails: {exc!r}", args=args)
        base_log = trace.log
        if not (np.ndim(value) == 0 and np.asarray(value).dtype.kind == "f"
                and np.isfinite(value) and abs(value) < 1e6):
            return Outcome("invalid", f"the program returns {value!r}", args=args)
        if traced_value != value:
            return Outcome("invalid", f"traced copy differs: {traced_value!r} != {value!r}")
        try:
            fd = _finite_differences(traced, trace, args, wrt_idx, base_log, H)
            break
        except _Rejected:
            continue
    if fd is None:
        return Outcome("skip", "every sample straddles a kink", args=args)
    where = f"(jit={jit})"
    names = program.wrt
    try:
        g = ad.grad(f, wrt=names, jit=jit)
    except Exception as exc:  # noqa: BLE001
        return Outcome("error", f"grad {where}: {traceback.format_exc()}", _error_kind(exc), args)
    given = _copy_args(args)
    try:
        got = g(*given)
    except Exception as exc:  # noqa: BLE001
        raw = _raw_failure(g, _copy_args(args)) if jit else ""
        return Outcome("error", f"calling grad {where}: {traceback.format_exc()}\n{raw}",
                       _error_kind(exc, raw), args)
    if any(not np.array_equal(a, b) for a, b in zip(given, args)):
        return Outcome("mismatch", f"grad {where} changed its arguments", "mutates", args)
    got = list(got)
    for k, gk, fk in zip(wrt_idx, got, fd):
        if np.shape(gk) != np.shape(args[k]):
            return Outcome("mismatch", f"grad {where}: gradient of {params[k].name} has shape "
                           f"{np.shape(gk)}, argument {np.shape(args[k])}", "shape", args)
    bad = _compare_fd(got, fd)
    if bad is not None:
        # second guard: is the finite-difference estimate itself stable?
        try:
            fd5 = _finite_differences(traced, trace, args, wrt_idx, base_log, 1e-5)
        except _Rejected:
            return Outcome("skip", "ambiguous finite differences", args=args)
        if _compare_fd(fd, fd5, strict=False) is not None:
            return Outcome("skip", "ambiguous finite differences", args=args)
        k, text = bad
        return Outcome("mismatch", f"grad {where} vs finite differences, {params[wrt_idx[k]].name}:"
                       f"\n{text}", "rev-vs-fd", args)
    # forward mode
    u = [rng.standard_normal(np.shape(args[k])) if np.ndim(args[k])
         else float(rng.standard_normal()) for k in wrt_idx]
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
    if not np.isclose(fwd_value, value, rtol=1e-10, atol=1e-12):
        return Outcome("mismatch", f"jvp {where} value {fwd_value!r} != f {value!r}",
                       "jvp-value", args)
    expect = sum(float(np.sum(gk * uk)) for gk, uk in zip(got, u))
    scale = sum(float(np.sum(np.abs(gk * uk))) for gk, uk in zip(got, u))
    if np.ndim(tangent) != 0 or not abs(float(tangent) - expect) <= FWD_RTOL * scale + 1e-13:
        return Outcome("mismatch", f"jvp {where} tangent {tangent!r} != <grad, u> {expect!r} "
                       f"(u = {u!r})", "fwd-vs-rev", args)
    return Outcome("ok", args=args)


def _compare_fd(got, fd, strict=True):
    for k, (a, e) in enumerate(zip(got, fd)):
        a = np.asarray(a, dtype=np.float64)
        scale = max(1.0, float(np.max(np.abs(e), initial=0.0)))
        rtol, atol = (FD_RTOL, FD_ATOL * scale) if strict else (1e-3, 1e-5 * scale)
        ok = np.abs(a - e) <= atol + rtol * np.abs(e)
        if not np.all(ok):
            return k, f"  adcompile: {a.tolist()!r}\n  fin. diff: {e.tolist()!r}"
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
    if isinstance(e, ast.Call):
        return [a for a in e.args if not isinstance(a, ast.Constant)] + \
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
        small: bool = False) -> dict:
    """Generate and check programs start..start+programs-1 of stream `seed`; every
    `jit_every`-th one is checked compiled too. Returns the counts and the failures."""
    counts = {"ok": 0, "mismatch": 0, "error": 0, "skip": 0, "invalid": 0}
    failures = []
    t0 = time.time()
    with warnings.catch_warnings(), tempfile.TemporaryDirectory(prefix="adcompile_fuzz_") as tmp:
        warnings.simplefilter("ignore")  # Numba's performance warnings, NumPy's 0-d casts
        workdir = Path(tmp)
        for index in range(start, start + programs):
            program = generate(seed, index, avoid, small)
            path = workdir / f"fz_{seed}_{index}.py"
            path.write_text(program.source)
            modes = [False] + ([True] if jit_every and index % jit_every == 0 else [])
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
            done = index - start + 1
            if not quiet and done % 100 == 0:
                print(f"... {done} programs, {time.time() - t0:.0f} s, "
                      f"{counts['mismatch']} mismatches, {counts['error']} errors", flush=True)
    return {"counts": counts, "failures": failures, "programs": programs}


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
    parser.add_argument("--show", action="store_true", help="print each failing program")
    parser.add_argument("--minimize", action="store_true",
                        help="with --show, also print each failure shrunk")
    parser.add_argument("--print", type=int, default=None, metavar="INDEX",
                        help="print program INDEX of the seed and exit")
    parser.add_argument("--avoid", default="", metavar="A,B",
                        help="leave constructs out: " + "; ".join(
                            f"{k}: {v}" for k, v in AVOIDABLE.items()))
    opts = parser.parse_args(argv)
    avoid = frozenset(a for a in opts.avoid.split(",") if a)
    if avoid - set(AVOIDABLE):
        parser.error(f"--avoid takes {', '.join(AVOIDABLE)}")
    if opts.print is not None:
        print(generate(opts.seed, opts.print, avoid).source)
        return 0
    os.environ.setdefault("ADCOMPILE_CACHE_DIR",
                          str(Path(tempfile.gettempdir()) / f"adcompile_fuzz_cache_{os.getuid()}"))
    result = run(opts.programs, opts.seed, opts.jit_every, opts.show, opts.minimize,
                 start=opts.start, avoid=avoid)
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
