"""Every reverse rule of the derivative table, checked in plain Python.

`SPECS` gives primal inputs for each differentiable rule, keyed by `Rule.name` (a rule without a
spec fails `test_every_rule_has_a_spec`). A case calls the function user code would call (a NumPy
function, an `operator` function or a builtin), runs `rule.vjp(*args, out, dout)` with a random
cotangent `dout`, and compares each adjoint with central differences of sum(f(args) * dout).
Inputs stay inside each rule's domain and away from kinks; the kink conventions (ties of
max/min/maximum/minimum, abs at 0, clip boundaries) are tested against autograd separately, and
float32 inputs must get float32 adjoints.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from adcompile import runtime
from adcompile.rules import RULES, Rule

STEP = 1e-6  # central differences in float64
RTOL, ATOL = 1e-6, 1e-8
KINK_MARGIN = 1e-3  # minimum distance of every input from a kink

RNG = np.random.default_rng(20240607)


# ---------------------------------------------------------------- input makers
# With no shape, a maker returns a Python float (the scalar case of every rule).


def _shaped(values: np.ndarray) -> Any:
    return float(values) if values.ndim == 0 else values


def normal(*shape: int) -> Any:
    return _shaped(RNG.standard_normal(shape))


def uniform(lo: float, hi: float, *shape: int) -> Any:
    return _shaped(RNG.uniform(lo, hi, shape))


def positive(*shape: int) -> Any:
    return uniform(0.5, 2.0, *shape)


def nonzero(*shape: int) -> Any:
    """Magnitudes in [0.3, 2] with random signs: away from 0 (abs, divisors)."""
    return _shaped(RNG.choice([-1.0, 1.0], shape) * RNG.uniform(0.3, 2.0, shape))


def distinct(*shape: int) -> Any:
    """Values in [-2, 2] at least 0.2 * 4 / size apart: no near-ties (max/min reductions)."""
    n = int(np.prod(shape))
    spaced = (RNG.permutation(n) + RNG.uniform(0.1, 0.9, n)) * (4.0 / n) - 2.0
    return _shaped(spaced.reshape(shape))


def apart(x: Any, y: Any) -> tuple[Any, Any]:
    """(x, y), checked to have no (broadcast) element pair within KINK_MARGIN of a tie."""
    assert np.min(np.abs(np.subtract(x, y))) > KINK_MARGIN, "regenerate: inputs near a tie"
    return x, y


# ---------------------------------------------------------------- cases


@dataclass(eq=False)
class Case:
    fn: Callable  # what user code calls; RULES[fn] is the rule under test
    args: tuple  # positional primal arguments
    kwargs: dict  # keyword primal arguments (parameters with defaults: axis, keepdims)
    id: str


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return "x".join(map(str, value.shape)) if value.ndim else "0d"
    if isinstance(value, builtins.float):
        return "float"
    return repr(value)


def case(fn: Callable, *args: Any, id: str | None = None, **kwargs: Any) -> Case:
    name = getattr(fn, "__module__", None) == "operator" and f"operator.{fn.__name__}"
    name = name or fn.__name__
    shown = [_describe(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return Case(fn, args, kwargs, id or f"{name}({','.join(shown)})")


# Operand shapes of broadcasting binary operations; () is a Python float.
BROADCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 4), ()), ((), (3, 4)),
             ((2, 1), (1, 3)), ((3, 1), (3, 4)), ((2, 3, 4), (3, 1))]


def binary(fn: Callable, make_x: Callable = normal, make_y: Callable = normal,
           check: Callable = lambda x, y: (x, y)) -> list[Case]:
    return [case(fn, *check(make_x(*sx), make_y(*sy))) for sx, sy in BROADCAST]


def unary(fns: tuple, make: Callable) -> list[Case]:
    first, *aliases = fns
    cases = [case(first, make(3, 4)), case(first, make(2, 3, 4)), case(first, make())]
    return cases + [case(fn, make(3, 4)) for fn in aliases]


def reductions(fns: tuple, make: Callable = distinct) -> list[Case]:
    first, *aliases = fns
    cases = []
    for x in (make(3, 4), make(2, 3, 4)):
        for axis in (None, 0, 1, -1):
            for keepdims in (False, True):
                cases.append(case(first, x, axis=axis, keepdims=keepdims))
    cases += [
        case(first, make(3, 4)),  # defaults: axis=None, keepdims=False
        case(first, make(2, 3, 4), axis=-2),
        case(first, make(5), axis=0),  # 1-D to a scalar
        case(first, make()),  # a Python float
    ]
    return cases + [case(fn, make(3, 4), axis=0) for fn in aliases]


def matmuls(fn: Callable) -> list[Case]:
    return [
        case(fn, normal(3, 4), normal(4, 2)),
        case(fn, normal(4), normal(4, 2)),
        case(fn, normal(3, 4), normal(4)),
        case(fn, normal(4), normal(4)),
        case(fn, normal(4, 3).T, normal(4, 2), id=f"{fn.__name__}(transposed 3x4,4x2)"),
    ]


_X34 = distinct(3, 4)


def clip_input(*shape: int) -> Any:
    """Values for clip(x, -0.5, 0.5) on both sides of and away from the bounds."""
    x = normal(*shape)
    assert np.min(np.abs(np.abs(x) - 0.5)) > KINK_MARGIN, "regenerate: inputs near a bound"
    return x


SPECS: dict[str, list[Case]] = {
    # elementwise
    "exp": unary((np.exp,), normal),
    "log": unary((np.log,), positive),
    "log1p": unary((np.log1p,), lambda *s: uniform(-0.5, 2.0, *s)),
    "expm1": unary((np.expm1,), normal),
    "sqrt": unary((np.sqrt,), positive),
    "sin": unary((np.sin,), normal),
    "cos": unary((np.cos,), normal),
    "tan": unary((np.tan,), lambda *s: uniform(-0.9, 0.9, *s)),
    "tanh": unary((np.tanh,), normal),
    "arctan": unary((np.arctan,), normal),
    "abs": unary((np.abs, np.absolute), nonzero) + [case(builtins.abs, nonzero()),
                                                     case(builtins.abs, nonzero(3, 4))],
    "square": unary((np.square,), normal),
    "negative": unary((np.negative, operator.neg), normal),
    "copy": unary((np.copy,), normal),
    "float": [case(builtins.float, normal()), case(builtins.float, np.float64(normal())),
              case(builtins.float, np.array(normal()))],
    # arithmetic with broadcasting
    "add": binary(np.add) + [case(operator.add, normal(3, 4), normal(4)),
                             case(operator.add, normal(), normal())],
    "subtract": binary(np.subtract) + [case(operator.sub, normal(3, 4), normal(4)),
                                       case(operator.sub, normal(), normal())],
    "multiply": binary(np.multiply) + [case(operator.mul, normal(3, 4), normal(4)),
                                       case(operator.mul, normal(), normal())],
    "divide": binary(np.divide, normal, nonzero) + [
        case(np.true_divide, normal(3, 4), nonzero(4)),
        case(operator.truediv, normal(3, 4), nonzero(4)),
        case(operator.truediv, normal(), nonzero()),
    ],
    "power": binary(np.power, positive, normal) + [
        case(np.power, positive(3, 4), 2.0),
        case(operator.pow, positive(3, 4), normal(4)),
        case(builtins.pow, positive(), normal()),
    ],
    "maximum": binary(np.maximum, check=apart),
    "minimum": binary(np.minimum, check=apart),
    "where": [
        case(np.where, RNG.random((3, 4)) < 0.5, normal(3, 4), normal(3, 4)),
        case(np.where, RNG.random((3, 4)) < 0.5, normal(4), normal(3, 1)),
        case(np.where, RNG.random((3, 4)) < 0.5, normal(3, 4), normal()),
        case(np.where, RNG.random((3, 4)) < 0.5, normal(), normal(4)),
        case(np.where, RNG.random((3, 1)) < 0.5, normal(3, 4), normal(4)),  # x, y broadcast
        case(np.where, RNG.random(4) < 0.5, normal(2, 1), normal(2, 4)),  # by the condition
    ],
    "clip": [
        case(np.clip, clip_input(3, 4), -0.5, 0.5),
        case(np.clip, clip_input(2, 3, 4), -0.5, 0.5),
        case(np.clip, clip_input(), -0.5, 0.5),
        case(np.clip, clip_input(3, 4), None, 0.5),
        case(np.clip, clip_input(3, 4), -0.5, None),
        case(np.clip, clip_input(3, 4), np.array([-0.5, -3.0, -3.0, -0.5]), 0.5),
        # the bounds broadcast x up: out is 3x4 but x's adjoint must still be 4
        case(np.clip, clip_input(4), np.full((3, 4), -0.5), 0.5, id="clip(4,bounds 3x4)"),
    ],
    # linear algebra
    "matmul": matmuls(np.matmul) + [case(operator.matmul, normal(3, 4), normal(4, 2))],
    "dot": matmuls(np.dot),
    "outer": [case(np.outer, normal(3), normal(4)), case(np.outer, normal(1), normal(5))],
    "transpose": [case(np.transpose, normal(3, 4)), case(np.transpose, normal(2, 3, 4)),
                  case(np.transpose, normal(5))],
    "reshape": [
        case(np.reshape, normal(3, 4), (2, 6)),
        case(np.reshape, normal(3, 4), (12,)),
        case(np.reshape, normal(3, 4), (-1, 3)),
        case(np.reshape, normal(2, 3, 4), (4, 6)),
        case(np.reshape, normal(12), (2, 3, 2)),
        case(np.reshape, normal(4, 3).T, (2, 6), id="reshape(transposed 3x4,(2, 6))"),
        case(np.reshape, normal(4, 3).T, (12,), id="reshape(transposed 3x4,(12,))"),
        case(np.reshape, normal(1, 1), ()),
    ],
    # reductions
    "sum": reductions((np.sum,)),
    "mean": reductions((np.mean,)),
    "max": reductions((np.max, np.amax)),
    "min": reductions((np.min, np.amin)),
    # the runtime's own helpers, which appear when generated code is differentiated again
    "copy_of": [case(runtime.copy_of, normal(3, 4)), case(runtime.copy_of, normal())],
    "flush_subnormal": [case(runtime.flush_subnormal, normal(3, 4)),
                        case(runtime.flush_subnormal, normal())],
    "unbroadcast": [case(runtime.unbroadcast, normal(3, 4), normal(4)),
                    case(runtime.unbroadcast, normal(3, 4), normal(3, 4)),
                    case(runtime.unbroadcast, normal(3, 4), normal())],
    "broadcast_like": [case(runtime.broadcast_like, normal(4), normal(3, 4)),
                       case(runtime.broadcast_like, normal(3, 4), normal(3, 4))],
    "as_gradient": [case(runtime.as_gradient, normal(3, 4), normal(3, 4)),
                    case(runtime.as_gradient, normal(), normal(3))],
    "reshape_like": [case(runtime.reshape_like, normal(12), normal(3, 4))],
    "sum_adjoint": [case(runtime.sum_adjoint, normal(4), normal(3, 4), 0, False),
                    case(runtime.sum_adjoint, normal(3, 1), normal(3, 4), 1, True),
                    case(runtime.sum_adjoint, normal(), normal(3, 4), None, False)],
    "mean_adjoint": [case(runtime.mean_adjoint, normal(4), normal(3, 4), 0, False),
                     case(runtime.mean_adjoint, normal(), normal(3, 4), None, False)],
    "maxmin_adjoint": [case(runtime.maxmin_adjoint, normal(4), _X34, np.max(_X34, axis=0), 0,
                            False),
                       case(runtime.maxmin_adjoint, normal(), _X34, np.min(_X34), None, False)],
    "matmul_adjoint_x": [case(runtime.matmul_adjoint_x, normal(3, 2), normal(3, 4), normal(4, 2)),
                         case(runtime.matmul_adjoint_x, normal(2), normal(4), normal(4, 2)),
                         case(runtime.matmul_adjoint_x, normal(3), normal(3, 4), normal(4))],
    "matmul_adjoint_y": [case(runtime.matmul_adjoint_y, normal(3, 2), normal(3, 4), normal(4, 2)),
                         case(runtime.matmul_adjoint_y, normal(2), normal(4), normal(4, 2)),
                         case(runtime.matmul_adjoint_y, normal(3), normal(3, 4), normal(4))],
}
for _name, _helper in (("sum", runtime.reduce_sum), ("mean", runtime.reduce_mean),
                       ("max", runtime.reduce_max), ("min", runtime.reduce_min)):
    SPECS[_name].append(case(_helper, distinct(3, 4), 1, True))
SPECS["reshape"].append(case(runtime.reshape, normal(3, 4), (4, 3)))

CASES = [(name, c) for name, cases in SPECS.items() for c in cases]
# the built-in table (other test modules register rules of their own for their functions)
BUILTIN = {fn: r for fn, r in RULES.items()
           if r.vjp is None or r.vjp.__module__ == "adcompile.rules.builtin"}
CASE_IDS = [f"{name}-{c.id}" for name, c in CASES]


# ---------------------------------------------------------------- helpers


def full_args(rule: Rule, c: Case) -> list:
    """Every primal parameter in `rule.params` order, defaults filled in (the vjp's signature)."""
    rest = rule.params[len(c.args):]
    return list(c.args) + [c.kwargs.get(p, rule.defaults.get(p)) for p in rest]


def primal(rule: Rule, c: Case, args: list) -> Any:
    """c.fn called the way the case calls it, with `args` (in params order) substituted."""
    n = len(c.args)
    kwargs = {p: args[i] for i, p in enumerate(rule.params) if i >= n and p in c.kwargs}
    return c.fn(*args[:n], **kwargs)


def adjoints(rule: Rule, args: list, out: Any, dout: Any) -> dict[str, Any]:
    """rule.vjp's result as {param: adjoint}, checking it returns one value per wrt param."""
    result = rule.vjp(*args, out, dout)
    if len(rule.wrt) == 1:
        return {rule.wrt[0]: result}
    assert isinstance(result, tuple) and len(result) == len(rule.wrt), result
    return dict(zip(rule.wrt, result))


def cotangent(out: Any, rng: np.random.Generator) -> Any:
    """A random dout shaped (and typed) like out."""
    if isinstance(out, np.ndarray):
        return rng.standard_normal(out.shape).astype(out.dtype)
    if isinstance(out, np.generic):
        return out.dtype.type(rng.standard_normal())
    return builtins.float(rng.standard_normal())


def finite_difference(f: Callable, args: list, i: int, dout: Any) -> Any:
    """Central differences of L = sum(f(args) * dout) with respect to args[i]."""

    def loss(value: Any) -> builtins.float:
        perturbed = list(args)
        perturbed[i] = value
        return builtins.float(np.sum(np.multiply(f(perturbed), dout)))

    x = args[i]
    if not isinstance(x, np.ndarray):
        return (loss(x + STEP) - loss(x - STEP)) / (2 * STEP)
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += STEP
        down[idx] -= STEP
        grad[idx] = (loss(up) - loss(down)) / (2 * STEP)
    return grad


def rule_of(name: str, fn: Callable) -> Rule:
    rule = RULES[fn]
    assert rule.name == name, f"{fn} is registered to rule {rule.name!r}, not {name!r}"
    return rule


# ---------------------------------------------------------------- coverage


def test_every_rule_has_a_spec():
    differentiable = {rule.name for rule in BUILTIN.values() if rule.differentiable}
    assert differentiable == set(SPECS), (
        f"rules without a spec: {sorted(differentiable - set(SPECS))}; "
        f"specs without a rule: {sorted(set(SPECS) - differentiable)}")


def test_every_registered_function_is_exercised():
    """Aliases (operator.add, np.amax, builtins.pow, ...) compute the function of their rule."""
    used = {id(c.fn) for _, c in CASES}
    missing = [f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__name__', fn)} ({rule.name})"
               for fn, rule in BUILTIN.items() if rule.differentiable and id(fn) not in used]
    assert not missing, f"no case calls: {missing}"


def test_rules_are_well_formed():
    for rule in {id(r): r for r in BUILTIN.values()}.values():
        if rule.differentiable:
            assert callable(rule.vjp) and set(rule.wrt) <= set(rule.params), rule.name
            assert set(rule.vjp_exprs) == set(rule.wrt), rule.name
        else:
            assert rule.vjp is None and not rule.wrt, rule.name


# ---------------------------------------------------------------- finite differences


@pytest.mark.parametrize(("seed", "name", "c"), [(k, *nc) for k, nc in enumerate(CASES)],
                         ids=CASE_IDS)
def test_rule_matches_finite_differences(seed: int, name: str, c: Case):
    rule = rule_of(name, c.fn)
    args = full_args(rule, c)
    out = primal(rule, c, args)
    dout = cotangent(out, np.random.default_rng(seed))
    got = adjoints(rule, args, out, dout)
    for param, adjoint in got.items():
        i = rule.params.index(param)
        assert np.shape(adjoint) == np.shape(args[i]), (
            f"adjoint of {param}: shape {np.shape(adjoint)}, input shape {np.shape(args[i])}")
        expected = finite_difference(lambda a: primal(rule, c, a), args, i, dout)
        np.testing.assert_allclose(adjoint, expected, rtol=RTOL, atol=ATOL,
                                   err_msg=f"adjoint of {param}")


@pytest.mark.parametrize("name,c", CASES, ids=CASE_IDS)
def test_forward_rule_matches_finite_differences(name: str, c: Case):
    """The forward rule's terms add up to the directional derivative along random tangents."""
    rule = rule_of(name, c.fn)
    args = full_args(rule, c)
    out = primal(rule, c, args)
    rng = np.random.default_rng(3)
    tangents = {p: cotangent(args[rule.params.index(p)], rng) for p in rule.wrt}
    terms = rule.jvp(*args, out, *tangents.values())
    terms = terms if len(rule.wrt) > 1 else (terms,)
    got = sum(np.broadcast_to(t, np.shape(out)) for t in terms)
    h = 1e-6
    plus, minus = list(args), list(args)
    for p, u in tangents.items():
        i = rule.params.index(p)
        plus[i], minus[i] = args[i] + h * u, args[i] - h * u
    expected = (np.asarray(primal(rule, c, plus)) - np.asarray(primal(rule, c, minus))) / (2 * h)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_every_differentiable_rule_has_a_forward_rule():
    missing = sorted({r.name for r in BUILTIN.values() if r.differentiable and r.jvp is None})
    assert not missing


# ---------------------------------------------------------------- kinks (autograd's conventions)


def autograd_adjoints(fn: Callable, args: tuple, argnums: tuple, dout: Any) -> list:
    """Autograd's vjp of fn at args for each differentiable argument position."""
    return [autograd.grad(lambda *a: anp.sum(fn(*a) * dout), k)(*args) for k in argnums]


TIES = np.array([[1.0, 3.0, 3.0, 0.0],
                 [3.0, 2.0, 3.0, 3.0],
                 [0.0, 3.0, -1.0, 3.0]])  # every row and column has a tied maximum


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize(("fn", "afn", "x"), [(np.max, anp.max, TIES), (np.min, anp.min, -TIES)],
                         ids=["max", "min"])
def test_reduction_ties_split_evenly(fn, afn, x, axis, keepdims):
    rule = RULES[fn]
    out = fn(x, axis=axis, keepdims=keepdims)
    dout = cotangent(out, np.random.default_rng(1))
    got = rule.vjp(x, axis, keepdims, out, dout)
    (expected,) = autograd_adjoints(lambda v: afn(v, axis=axis, keepdims=keepdims), (x,), (0,),
                                    dout)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    # the whole adjoint is shared out, evenly among each group of ties
    np.testing.assert_allclose(np.sum(got), np.sum(dout), rtol=1e-12)


def test_reduction_ties_exact_values():
    x = np.array([1.0, 3.0, 3.0, 0.0])
    np.testing.assert_array_equal(RULES[np.max].vjp(x, None, False, 3.0, 1.0), [0, 0.5, 0.5, 0])
    np.testing.assert_array_equal(RULES[np.min].vjp(-x, None, False, -3.0, 2.0), [0, 1, 1, 0])
    x = np.full((2, 2), 7.0)
    np.testing.assert_array_equal(RULES[np.max].vjp(x, 0, False, x[0], np.array([1.0, 2.0])),
                                  [[0.5, 1.0], [0.5, 1.0]])


MAXMIN_TIES = [
    (np.array([1.0, 2.0, 3.0, 2.0]), np.array([1.0, 0.0, 3.0, 5.0])),
    (np.array([[1.0, 2.0], [0.5, 1.0]]), 1.0),  # a scalar tied with some elements
    (np.array([[1.0, 2.0], [2.0, 0.0]]), np.array([1.0, 2.0])),  # broadcast row
]


@pytest.mark.parametrize(("x", "y"), MAXMIN_TIES, ids=["same-shape", "scalar", "broadcast"])
@pytest.mark.parametrize(("fn", "afn"), [(np.maximum, anp.maximum), (np.minimum, anp.minimum)],
                         ids=["maximum", "minimum"])
def test_maximum_minimum_ties_split_evenly(fn, afn, x, y):
    out = fn(x, y)
    dout = cotangent(out, np.random.default_rng(2))
    dx, dy = RULES[fn].vjp(x, y, out, dout)
    ex, ey = autograd_adjoints(afn, (x, y), (0, 1), dout)
    np.testing.assert_allclose(dx, ex, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dy, ey, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.sum(dx) + np.sum(dy), np.sum(dout), rtol=1e-12)


def test_maximum_tie_exact_values():
    x, y = np.array([1.0, 2.0, 3.0, 2.0]), np.array([1.0, 0.0, 3.0, 5.0])
    dx, dy = RULES[np.maximum].vjp(x, y, np.maximum(x, y), np.ones(4))
    np.testing.assert_array_equal(dx, [0.5, 1.0, 0.5, 0.0])
    np.testing.assert_array_equal(dy, [0.5, 0.0, 0.5, 1.0])
    dx, dy = RULES[np.minimum].vjp(x, y, np.minimum(x, y), np.ones(4))
    np.testing.assert_array_equal(dx, [0.5, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(dy, [0.5, 1.0, 0.5, 0.0])


@pytest.mark.parametrize("fn", [np.abs, builtins.abs], ids=["np.abs", "builtins.abs"])
def test_abs_at_zero_is_zero(fn):
    x = np.array([-1.5, 0.0, 2.0, -0.0])
    dout = np.array([1.0, 2.0, 3.0, 4.0])
    got = RULES[fn].vjp(x, fn(x), dout)
    np.testing.assert_array_equal(got, [-1.0, 0.0, 3.0, 0.0])
    (expected,) = autograd_adjoints(anp.abs, (x,), (0,), dout)
    np.testing.assert_array_equal(got, expected)
    assert RULES[fn].vjp(0.0, 0.0, 1.0) == 0.0


@pytest.mark.parametrize(("a_min", "a_max"), [(-0.5, 0.5), (np.array([-0.5, -1.0, -0.5]), 0.5)],
                         ids=["scalar-bounds", "array-bound"])
def test_clip_boundary_is_zero(a_min, a_max):
    x = np.array([[-0.5, 0.0, 0.5], [1.0, -2.0, 0.25]])  # exactly on, inside, and outside
    out = np.clip(x, a_min, a_max)
    dout = np.arange(1.0, 7.0).reshape(2, 3)
    got = RULES[np.clip].vjp(x, a_min, a_max, out, dout)
    mask = (out != a_min) & (out != a_max)
    np.testing.assert_array_equal(got, dout * mask)
    assert got[0, 0] == 0.0 and got[0, 2] == 0.0 and got[0, 1] == dout[0, 1]
    (expected,) = autograd_adjoints(lambda v: anp.clip(v, a_min, a_max), (x,), (0,), dout)
    np.testing.assert_array_equal(got, expected)


# ---------------------------------------------------------------- float32


def f32(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


FLOAT32 = [
    case(np.tanh, f32(3, 4)),
    case(np.exp, f32(3, 4)),
    case(np.multiply, f32(3, 4), f32(4)),
    case(np.multiply, f32(3, 4), 2.5),
    case(np.add, f32(2, 1), f32(1, 3)),
    case(np.divide, f32(3, 4), f32(4) + np.float32(3.0)),
    case(np.maximum, f32(3, 4), f32(4)),
    case(np.minimum, f32(3, 4), f32(4)),
    case(np.where, RNG.random((3, 4)) < 0.5, f32(3, 4), f32(4)),
    case(np.sum, f32(3, 4), axis=0),
    case(np.sum, f32(2, 3, 4), axis=-1, keepdims=True),
    case(np.sum, f32(3, 4)),
    case(np.mean, f32(3, 4), axis=1),
    case(np.mean, f32(3, 4)),
    case(np.max, f32(3, 4), axis=0),
    case(np.matmul, f32(3, 4), f32(4, 2)),
    case(np.matmul, f32(4), f32(4, 2)),
    case(np.matmul, f32(4), f32(4)),
    case(np.dot, f32(3, 4), f32(4)),
    case(np.reshape, f32(3, 4), (12,)),
]


@pytest.mark.parametrize("c", FLOAT32, ids=[c.id for c in FLOAT32])
def test_float32_inputs_get_float32_adjoints(c: Case):
    rule = RULES[c.fn]
    args = full_args(rule, c)
    out = primal(rule, c, args)
    dout = cotangent(out, np.random.default_rng(3))
    for param, adjoint in adjoints(rule, args, out, dout).items():
        x = args[rule.params.index(param)]
        if getattr(x, "dtype", None) == np.float32:
            assert np.result_type(adjoint) == np.float32, f"adjoint of {param}"
            assert np.shape(adjoint) == np.shape(x), f"adjoint of {param}"
