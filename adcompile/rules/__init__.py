"""The derivative table: one `Rule` per primitive, looked up by the object user code calls.

A reverse rule is ordinary Python with fixed parameter names: the primal inputs, then `out`
(the primal result), then `dout` (the adjoint of `out`). It returns the adjoint of each
differentiable input, in order. Rules run as they are (tests check each against finite
differences) and serve as templates: the reverse pass inlines the returned expressions into the
generated code with the parameter names replaced by the program's variables.

`defvjp` registers a rule; the built-in table (`builtin.py`) uses the same decorator users call.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PrimalWriter = Callable[..., ast.expr]


@dataclass
class Rule:
    """How to write one primitive forward, and its derivative."""

    name: str
    params: tuple[str, ...]
    defaults: dict[str, Any]
    primal: PrimalWriter  # (*ast args) -> the forward expression
    wrt: tuple[str, ...] = ()  # differentiable parameters
    vjp: Callable | None = None  # the runnable reverse rule
    vjp_exprs: dict[str, ast.expr] = field(default_factory=dict, repr=False)
    imports: tuple[tuple[str, str], ...] = ()  # (module, name) generated code must import
    jvp: Callable | None = None  # the runnable forward rule
    jvp_exprs: dict[str, ast.expr] = field(default_factory=dict, repr=False)
    # the result's dtype: "promote" (the inputs' join), "float" (at least a float), "bool",
    # "int", or "dtype" (the dtype argument's); see dtypes.py
    result: str = "float"

    @property
    def differentiable(self) -> bool:
        return bool(self.wrt)


RULES: dict[Any, Rule] = {}  # function object -> rule
METHODS: dict[str, Rule] = {}  # `x.sum(...)` -> the rule of np.sum, with x first
ATTRIBUTES: dict[str, Rule] = {}  # `x.T`, `x.shape`


def lookup(fn: Any) -> Rule | None:
    try:
        return RULES.get(fn)
    except TypeError:  # unhashable objects have no rule
        return None


def call(name: str, *args: ast.expr) -> ast.expr:
    """The expression `name(*args)`, where name may be dotted (`np.tanh`)."""
    return ast.Call(func=ast.parse(name, mode="eval").body, args=list(args), keywords=[])


def is_const(node: ast.expr, value: Any) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def numpy_name(fn: Any) -> str | None:
    name = getattr(fn, "__name__", None)
    return f"np.{name}" if name and getattr(np, name, None) is fn else None


def _signature(fn: Callable, before: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Parameters of a rule function up to (not including) `before`, with their defaults."""
    params, defaults = [], {}
    for p in inspect.signature(fn).parameters.values():
        if p.name == before:
            break
        params.append(p.name)
        if p.default is not inspect.Parameter.empty:
            defaults[p.name] = p.default
    return tuple(params), defaults


def _returned_exprs(fn: Callable, wrt: tuple[str, ...]) -> dict[str, ast.expr]:
    """Parse `fn` and pair each differentiable parameter with its returned adjoint expression."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    body = [s for s in tree.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        raise ValueError(f"rule {fn.__name__}: the body must be a single `return` expression")
    value = body[0].value
    exprs = value.elts if len(wrt) > 1 and isinstance(value, ast.Tuple) else [value]
    if len(exprs) != len(wrt):
        raise ValueError(f"rule {fn.__name__}: returns {len(exprs)} adjoints for wrt={wrt}")
    return dict(zip(wrt, exprs))


def defvjp(
    *fns: Any,
    wrt: tuple[str, ...] | str | None = None,
    primal: PrimalWriter | None = None,
    method: str | None = None,
    name: str | None = None,
    result: str = "float",
) -> Callable[[Callable], Callable]:
    """Register the reverse rule of `fns` (each a function user code may call).

    `wrt` names the differentiable parameters (default: those without a default value);
    `primal` writes the forward call (default: the NumPy function by name); `method` also
    binds `x.<method>(...)`; `name` overrides the rule's name (default: the function's);
    `result` is the result's dtype: "float" (default: a float, or the inputs' float type),
    "promote" (the inputs' join, as `+` gives: ints stay ints). Example::

        @defvjp(np.tanh)
        def tanh(x, out, dout):
            return dout * (1.0 - out * out)
    """

    def register(rule_fn: Callable) -> Callable:
        params, defaults = _signature(rule_fn, "out")
        names = (wrt,) if isinstance(wrt, str) else wrt
        names = tuple(names) if names is not None else tuple(p for p in params if p not in defaults)
        rule = Rule(
            name=name or rule_fn.__name__,
            params=params,
            defaults=defaults,
            primal=primal or _default_primal(fns[0]),
            wrt=names,
            vjp=rule_fn,
            vjp_exprs=_returned_exprs(rule_fn, names),
            imports=() if primal or numpy_name(fns[0]) else _import_of(fns[0]),
            result=result,
        )
        _bind(rule, fns, method)
        return rule_fn

    return register


def defjvp(fn: Any) -> Callable[[Callable], Callable]:
    """Register the forward rule of `fn`, whose reverse rule is registered already. Its
    parameters are the primal inputs, `out`, then one tangent `<input>_dot` per differentiable
    input; it returns one term per differentiable input, which the forward sweep adds up::

        @defjvp(np.tanh)
        def tanh_jvp(x, out, x_dot):
            return x_dot * (1.0 - out * out)
    """

    def register(jvp_fn: Callable) -> Callable:
        rule = RULES[fn]
        rule.jvp = jvp_fn
        rule.jvp_exprs = _returned_exprs(jvp_fn, rule.wrt)
        return jvp_fn

    return register


def nondiff(*fns: Any, params: tuple[str, ...] = ("x",), primal: PrimalWriter | None = None,
            method: str | None = None, name: str | None = None,
            result: str = "promote") -> Rule:
    """Declare functions whose result carries no derivative (shapes, indices, comparisons)."""
    rule = Rule(
        name=name or getattr(fns[0], "__name__", "nondiff"),
        params=params,
        defaults={},
        primal=primal or _default_primal(fns[0]),
        result=result,
    )
    _bind(rule, fns, method)
    return rule


def _bind(rule: Rule, fns: tuple, method: str | None) -> None:
    for fn in fns:
        RULES[fn] = rule
    if method:
        METHODS[method] = rule


def _import_of(fn: Any) -> tuple[tuple[str, str], ...]:
    """A user's own function is called by name: the generated module imports it."""
    module, name = getattr(fn, "__module__", None), getattr(fn, "__name__", None)
    if not module or not name:
        raise ValueError(f"cannot import {fn!r} into generated code; pass primal=")
    return ((module, name),)


def _default_primal(fn: Any) -> PrimalWriter:
    name = numpy_name(fn)
    if name is None:
        name = getattr(fn, "__name__", None)
        if name is None:
            raise ValueError(f"cannot name {fn!r} in generated code; pass primal=")
    return lambda *args: call(name, *args)


from . import builtin  # noqa: F401  (registers the built-in table)
