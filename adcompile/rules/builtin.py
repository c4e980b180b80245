"""The built-in derivative table: NumPy and Python operations that generated code may use.

Each reverse rule returns the adjoint of its differentiable inputs. Helpers such as
`unbroadcast` come from `adcompile.runtime` and work both in plain Python and under Numba.
Kinks follow autograd and JAX: ties of max/min/maximum/minimum split the adjoint evenly,
`abs` and clip boundaries give zero.
"""

import ast
import builtins
import math
import operator

import numpy as np

from adcompile import runtime
from adcompile.runtime import (
    as_gradient,
    broadcast_like,
    copy_of,
    like,
    matmul_adjoint_x,
    matmul_adjoint_y,
    maxmin_adjoint,
    mean_adjoint,
    reduce_mean,
    reduce_sum,
    reshape,
    reshape_like,
    sum_adjoint,
    tie_weights,
    unbroadcast,
    zeros_like,
)

from . import ATTRIBUTES, RULES, call, defjvp, defvjp, is_const, nondiff


def _binop(op: ast.operator):
    return lambda x, y: ast.BinOp(left=x, op=op, right=y)


def _compare(op: ast.cmpop):
    return lambda x, y: ast.Compare(left=x, ops=[op], comparators=[y])


def _reduction(np_name: str, helper: str):
    """`np.sum(x)` when Numba has it, else the runtime helper that knows `axis`/`keepdims`."""

    def write(x, axis=None, keepdims=None):
        plain = (axis is None or is_const(axis, None)) and (keepdims is None or is_const(keepdims, False))
        if plain:
            return call(f"np.{np_name}", x)
        return call(helper, x, axis or ast.Constant(None), keepdims or ast.Constant(False))

    return write


# ---------------------------------------------------------------- elementwise


@defvjp(np.exp)
def exp(x, out, dout):
    return dout * out


@defjvp(np.exp)
def exp_jvp(x, out, x_dot):
    return x_dot * out


@defvjp(np.log)
def log(x, out, dout):
    return dout / x


@defjvp(np.log)
def log_jvp(x, out, x_dot):
    return x_dot / x


@defvjp(np.log1p)
def log1p(x, out, dout):
    return dout / (1.0 + x)


@defjvp(np.log1p)
def log1p_jvp(x, out, x_dot):
    return x_dot / (1.0 + x)


@defvjp(np.expm1)
def expm1(x, out, dout):
    return dout * (out + 1.0)


@defjvp(np.expm1)
def expm1_jvp(x, out, x_dot):
    return x_dot * (out + 1.0)


@defvjp(np.sqrt)
def sqrt(x, out, dout):
    return dout / (2.0 * out)


@defjvp(np.sqrt)
def sqrt_jvp(x, out, x_dot):
    return x_dot / (2.0 * out)


@defvjp(np.sin)
def sin(x, out, dout):
    return dout * np.cos(x)


@defjvp(np.sin)
def sin_jvp(x, out, x_dot):
    return x_dot * np.cos(x)


@defvjp(np.cos)
def cos(x, out, dout):
    return -(dout * np.sin(x))


@defjvp(np.cos)
def cos_jvp(x, out, x_dot):
    return -(x_dot * np.sin(x))


@defvjp(np.tan)
def tan(x, out, dout):
    return dout * (1.0 + out * out)


@defjvp(np.tan)
def tan_jvp(x, out, x_dot):
    return x_dot * (1.0 + out * out)


@defvjp(np.tanh)
def tanh(x, out, dout):
    return dout * (1.0 - out * out)


@defjvp(np.tanh)
def tanh_jvp(x, out, x_dot):
    return x_dot * (1.0 - out * out)


@defvjp(np.arctan)
def arctan(x, out, dout):
    return dout / (1.0 + x * x)


@defjvp(np.arctan)
def arctan_jvp(x, out, x_dot):
    return x_dot / (1.0 + x * x)


@defvjp(np.abs, np.absolute, builtins.abs, primal=lambda x: call("np.abs", x), result="promote")
def abs(x, out, dout):
    return dout * np.sign(x)


@defjvp(np.abs)
def abs_jvp(x, out, x_dot):
    return x_dot * np.sign(x)


@defvjp(np.square, result="promote")
def square(x, out, dout):
    return dout * (2.0 * x)


@defjvp(np.square)
def square_jvp(x, out, x_dot):
    return x_dot * (2.0 * x)


@defvjp(np.negative, operator.neg, primal=lambda x: ast.UnaryOp(op=ast.USub(), operand=x), result="promote")
def negative(x, out, dout):
    return -dout


@defjvp(np.negative)
def negative_jvp(x, out, x_dot):
    return -x_dot


@defvjp(np.copy, method="copy", result="promote")
def copy(x, out, dout):
    return dout


@defjvp(np.copy)
def copy_jvp(x, out, x_dot):
    return np.copy(x_dot)


@defvjp(builtins.float, primal=lambda x: call("float", x), name="float")
def float_rule(x, out, dout):
    return dout


@defjvp(builtins.float)
def float_jvp(x, out, x_dot):
    return float(x_dot)


# ---------------------------------------------------------------- arithmetic (broadcasting)


@defvjp(np.add, operator.add, primal=_binop(ast.Add()), result="promote")
def add(x, y, out, dout):
    return unbroadcast(dout, x), unbroadcast(dout, y)


@defjvp(np.add)
def add_jvp(x, y, out, x_dot, y_dot):
    return broadcast_like(x_dot, out), broadcast_like(y_dot, out)


@defvjp(np.subtract, operator.sub, primal=_binop(ast.Sub()), result="promote")
def subtract(x, y, out, dout):
    return unbroadcast(dout, x), unbroadcast(-dout, y)


@defjvp(np.subtract)
def subtract_jvp(x, y, out, x_dot, y_dot):
    return broadcast_like(x_dot, out), broadcast_like(-y_dot, out)


@defvjp(np.multiply, operator.mul, primal=_binop(ast.Mult()), result="promote")
def multiply(x, y, out, dout):
    return unbroadcast(dout * y, x), unbroadcast(dout * x, y)


@defjvp(np.multiply)
def multiply_jvp(x, y, out, x_dot, y_dot):
    return x_dot * y, x * y_dot


@defvjp(np.divide, np.true_divide, operator.truediv, primal=_binop(ast.Div()))
def divide(x, y, out, dout):
    return unbroadcast(dout / y, x), unbroadcast(-(dout * out) / y, y)


@defjvp(np.divide)
def divide_jvp(x, y, out, x_dot, y_dot):
    return x_dot / y, -(out * y_dot) / y


@defvjp(np.power, operator.pow, builtins.pow, primal=_binop(ast.Pow()), result="promote")
def power(x, y, out, dout):
    return unbroadcast(dout * y * x ** (y - 1), x), unbroadcast(dout * out * np.log(x), y)


@defjvp(np.power)
def power_jvp(x, y, out, x_dot, y_dot):
    return x_dot * y * x ** (y - 1), y_dot * out * np.log(x)


@defvjp(np.maximum, result="promote")
def maximum(x, y, out, dout):
    return (
        unbroadcast(dout * (x == out) / (like(1.0, dout) + (x == y)), x),
        unbroadcast(dout * (y == out) / (like(1.0, dout) + (x == y)), y),
    )


@defjvp(np.maximum)
def maximum_jvp(x, y, out, x_dot, y_dot):
    return (
        x_dot * (x == out) / (like(1.0, out) + (x == y)),
        y_dot * (y == out) / (like(1.0, out) + (x == y)),
    )


@defvjp(np.minimum, result="promote")
def minimum(x, y, out, dout):
    return (
        unbroadcast(dout * (x == out) / (like(1.0, dout) + (x == y)), x),
        unbroadcast(dout * (y == out) / (like(1.0, dout) + (x == y)), y),
    )


@defjvp(np.minimum)
def minimum_jvp(x, y, out, x_dot, y_dot):
    return (
        x_dot * (x == out) / (like(1.0, out) + (x == y)),
        y_dot * (y == out) / (like(1.0, out) + (x == y)),
    )


def _where(condition, x, y):
    """`np.where(c, x, y)[()]`: of scalars, a scalar (np.where gives a 0-d array, which Numba
    cannot unify with the float the same variable holds elsewhere); of arrays, the array."""
    return ast.Subscript(value=call("np.where", condition, x, y),
                         slice=ast.Tuple(elts=[], ctx=ast.Load()), ctx=ast.Load())


@defvjp(np.where, wrt=("x", "y"), primal=_where, result="promote")
def where(condition, x, y, out, dout):
    return (
        unbroadcast(np.where(condition, dout, zeros_like(dout))[()], x),
        unbroadcast(np.where(condition, zeros_like(dout), dout)[()], y),
    )


@defjvp(np.where)
def where_jvp(condition, x, y, out, x_dot, y_dot):
    return (
        # np.where broadcasts to out's shape itself (Numba cannot broadcast_to a 0-d shape)
        np.where(condition, x_dot, zeros_like(out))[()],
        np.where(condition, zeros_like(out), y_dot)[()],
    )


def _clip(x, a_min, a_max):
    """`np.clip` as NumPy defines it, `minimum(maximum(x, a_min), a_max)`: Numba has no clip
    of a scalar, and has maximum/minimum of scalars and arrays alike."""
    if not is_const(a_min, None):
        x = call("np.maximum", x, a_min)
    return x if is_const(a_max, None) else call("np.minimum", x, a_max)


@defvjp(np.clip, wrt="x", primal=_clip, result="promote")
def clip(x, a_min, a_max, out, dout):
    return unbroadcast(dout * ((out != a_min) & (out != a_max)), x)


@defjvp(np.clip)
def clip_jvp(x, a_min, a_max, out, x_dot):
    return x_dot * ((out != a_min) & (out != a_max))


# ---------------------------------------------------------------- linear algebra


@defvjp(np.matmul, operator.matmul, primal=_binop(ast.MatMult()), result="promote")
def matmul(x, y, out, dout):
    return matmul_adjoint_x(dout, x, y), matmul_adjoint_y(dout, x, y)


@defjvp(np.matmul)
def matmul_jvp(x, y, out, x_dot, y_dot):
    return x_dot @ y, x @ y_dot


@defvjp(np.dot, method="dot", result="promote")
def dot(x, y, out, dout):
    return matmul_adjoint_x(dout, x, y), matmul_adjoint_y(dout, x, y)


@defjvp(np.dot)
def dot_jvp(x, y, out, x_dot, y_dot):
    return np.dot(x_dot, y), np.dot(x, y_dot)


@defvjp(np.outer, result="promote")
def outer(x, y, out, dout):
    return dout @ y, x @ dout


@defjvp(np.outer)
def outer_jvp(x, y, out, x_dot, y_dot):
    return np.outer(x_dot, y), np.outer(x, y_dot)


@defvjp(np.transpose, method="transpose", primal=lambda x: ast.Attribute(value=x, attr="T"), result="promote")
def transpose(x, out, dout):
    return dout.T


@defjvp(np.transpose)
def transpose_jvp(x, out, x_dot):
    return x_dot.T


ATTRIBUTES["T"] = RULES[np.transpose]


@defvjp(np.reshape, wrt="x", method="reshape", name="reshape",
        primal=lambda x, shape: call("reshape", x, shape), result="promote")
def reshape_rule(x, shape, out, dout):
    return reshape_like(dout, x)


@defjvp(np.reshape)
def reshape_jvp(x, shape, out, x_dot):
    return reshape(x_dot, shape)


# ---------------------------------------------------------------- reductions


@defvjp(np.sum, method="sum", primal=_reduction("sum", "reduce_sum"), result="promote")
def sum(x, axis=None, keepdims=False, out=None, dout=None):
    return sum_adjoint(dout, x, axis, keepdims)


@defjvp(np.sum)
def sum_jvp(x, axis=None, keepdims=False, out=None, x_dot=None):
    return reduce_sum(x_dot, axis, keepdims)


@defvjp(np.mean, method="mean", primal=_reduction("mean", "reduce_mean"))
def mean(x, axis=None, keepdims=False, out=None, dout=None):
    return mean_adjoint(dout, x, axis, keepdims)


@defjvp(np.mean)
def mean_jvp(x, axis=None, keepdims=False, out=None, x_dot=None):
    return reduce_mean(x_dot, axis, keepdims)


@defvjp(np.max, np.amax, method="max", primal=_reduction("max", "reduce_max"), result="promote")
def max(x, axis=None, keepdims=False, out=None, dout=None):
    return maxmin_adjoint(dout, x, out, axis, keepdims)


@defjvp(np.max)
def max_jvp(x, axis=None, keepdims=False, out=None, x_dot=None):
    return reduce_sum(x_dot * tie_weights(x, out, axis, keepdims), axis, keepdims)


@defvjp(np.min, np.amin, method="min", primal=_reduction("min", "reduce_min"), result="promote")
def min(x, axis=None, keepdims=False, out=None, dout=None):
    return maxmin_adjoint(dout, x, out, axis, keepdims)


@defjvp(np.min)
def min_jvp(x, axis=None, keepdims=False, out=None, x_dot=None):
    return reduce_sum(x_dot * tie_weights(x, out, axis, keepdims), axis, keepdims)


# ---------------------------------------------------------------- non-differentiable

for _fn in (np.zeros, np.ones, np.empty, np.full, np.eye):
    nondiff(_fn, params=("shape", "dtype"), result="dtype")
nondiff(np.arange, params=("shape", "dtype"))
for _fn in (np.zeros_like, np.ones_like, np.empty_like, np.sign):
    nondiff(_fn)
for _fn in (np.floor, np.ceil):
    nondiff(_fn, result="float")
for _fn in (np.isnan, np.isfinite, builtins.bool):
    nondiff(_fn, result="bool")
for _fn in (np.argmax, np.argmin, np.shape, np.size, np.ndim, builtins.len, builtins.int,
            math.floor, math.ceil):
    nondiff(_fn, result="int")
ATTRIBUTES["shape"] = nondiff(np.shape, primal=lambda x: ast.Attribute(value=x, attr="shape"),
                              name="shape", result="int")
ATTRIBUTES["size"] = nondiff(np.size, primal=lambda x: ast.Attribute(value=x, attr="size"),
                             name="size", result="int")
ATTRIBUTES["ndim"] = nondiff(np.ndim, primal=lambda x: ast.Attribute(value=x, attr="ndim"),
                             name="ndim", result="int")
for _op, _fn in ((ast.Lt(), operator.lt), (ast.LtE(), operator.le), (ast.Gt(), operator.gt),
                 (ast.GtE(), operator.ge), (ast.Eq(), operator.eq), (ast.NotEq(), operator.ne)):
    nondiff(_fn, params=("x", "y"), primal=_compare(_op), result="bool")
nondiff(operator.not_, primal=lambda x: ast.UnaryOp(op=ast.Not(), operand=x), name="not_",
        result="bool")
nondiff(operator.and_, params=("x", "y"), name="and_", primal=_binop(ast.BitAnd()))
nondiff(operator.or_, params=("x", "y"), name="or_", primal=_binop(ast.BitOr()))
nondiff(operator.floordiv, params=("x", "y"), primal=_binop(ast.FloorDiv()))
nondiff(operator.mod, params=("x", "y"), primal=_binop(ast.Mod()))



# ---------------------------------------------------------------- the runtime's own helpers
# Generated code is in the supported language too: these rules let adcompile differentiate
# it again (hvp, hessian, grad of grad). Each helper is linear in its first argument.

for _helper, _numpy in ((runtime.reduce_sum, np.sum), (runtime.reduce_mean, np.mean),
                        (runtime.reduce_max, np.max), (runtime.reduce_min, np.min),
                        (runtime.reshape, np.reshape)):
    RULES[_helper] = RULES[_numpy]
for _fn in (runtime.like, runtime.zeros_like, runtime.scalar_seed, runtime.tie_weights):
    nondiff(_fn, result="float")
nondiff(runtime.new_tape)
nondiff(runtime.tuple_index, params=("i", "n"), result="int")
nondiff(builtins.range, result="int")


@defvjp(runtime.copy_of, name="copy_of", result="promote")
def copy_of_rule(x, out, dout):
    return dout


@defjvp(runtime.copy_of)
def copy_of_jvp(x, out, x_dot):
    return copy_of(x_dot)


@defvjp(runtime.flush_subnormal, name="flush_subnormal")
def flush_subnormal_rule(x, out, dout):
    return dout  # the identity but for numbers below the smallest normal


@defjvp(runtime.flush_subnormal)
def flush_subnormal_jvp(x, out, x_dot):
    return x_dot


@defvjp(runtime.unbroadcast, wrt="g", name="unbroadcast")
def unbroadcast_rule(g, x, out, dout):
    return broadcast_like(dout, g)


@defjvp(runtime.unbroadcast)
def unbroadcast_jvp(g, x, out, g_dot):
    return unbroadcast(g_dot, x)


@defvjp(runtime.broadcast_like, wrt="t", name="broadcast_like")
def broadcast_like_rule(t, out_like, out, dout):
    return unbroadcast(dout, t)


@defjvp(runtime.broadcast_like)
def broadcast_like_jvp(t, out_like, out, t_dot):
    return broadcast_like(t_dot, out_like)


@defvjp(runtime.as_gradient, wrt="g", name="as_gradient")
def as_gradient_rule(g, x, out, dout):
    return unbroadcast(dout, g)


@defjvp(runtime.as_gradient)
def as_gradient_jvp(g, x, out, g_dot):
    return as_gradient(g_dot, x)


@defvjp(runtime.reshape_like, wrt="g", name="reshape_like")
def reshape_like_rule(g, x, out, dout):
    return reshape_like(dout, g)


@defjvp(runtime.reshape_like)
def reshape_like_jvp(g, x, out, g_dot):
    return reshape_like(g_dot, x)


@defvjp(runtime.sum_adjoint, wrt="g", name="sum_adjoint")
def sum_adjoint_rule(g, x, axis, keepdims, out, dout):
    return reduce_sum(dout, axis, keepdims)


@defjvp(runtime.sum_adjoint)
def sum_adjoint_jvp(g, x, axis, keepdims, out, g_dot):
    return sum_adjoint(g_dot, x, axis, keepdims)


@defvjp(runtime.mean_adjoint, wrt="g", name="mean_adjoint")
def mean_adjoint_rule(g, x, axis, keepdims, out, dout):
    return reduce_mean(dout, axis, keepdims)


@defjvp(runtime.mean_adjoint)
def mean_adjoint_jvp(g, x, axis, keepdims, out, g_dot):
    return mean_adjoint(g_dot, x, axis, keepdims)


@defvjp(runtime.maxmin_adjoint, wrt="g", name="maxmin_adjoint")
def maxmin_adjoint_rule(g, x, extremum, axis, keepdims, out, dout):
    return reduce_sum(dout * tie_weights(x, extremum, axis, keepdims), axis, keepdims)


@defjvp(runtime.maxmin_adjoint)
def maxmin_adjoint_jvp(g, x, extremum, axis, keepdims, out, g_dot):
    return maxmin_adjoint(g_dot, x, extremum, axis, keepdims)


@defvjp(runtime.matmul_adjoint_x, wrt=("g", "y"), name="matmul_adjoint_x")
def matmul_adjoint_x_rule(g, x, y, out, dout):
    return dout @ y, matmul_adjoint_y(g, dout, y)


@defjvp(runtime.matmul_adjoint_x)
def matmul_adjoint_x_jvp(g, x, y, out, g_dot, y_dot):
    return matmul_adjoint_x(g_dot, x, y), matmul_adjoint_x(g, x, y_dot)


@defvjp(runtime.matmul_adjoint_y, wrt=("g", "x"), name="matmul_adjoint_y")
def matmul_adjoint_y_rule(g, x, y, out, dout):
    return x @ dout, matmul_adjoint_x(g, x, dout)


@defjvp(runtime.matmul_adjoint_y)
def matmul_adjoint_y_jvp(g, x, y, out, g_dot, x_dot):
    return matmul_adjoint_y(g_dot, x, y), matmul_adjoint_y(g, x_dot, y)
