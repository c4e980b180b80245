"""Runtime helpers called by adcompile-generated derivative code.

Contract: generated code does ``from adcompile.runtime import ...`` and is either
run as plain Python (debug mode) or compiled with ``numba.njit(cache=True)``.
Every public helper therefore exists twice with the same semantics: the plain
NumPy function defined here, and a Numba ``@overload`` of that same function
(registered right below it) that nopython code resolves at typing time.

dtype rule: float32 inputs give float32 results (Numba would silently upcast
``float32_array * 2.0`` to float64); other adjoints are float64.
"Scalar" means a Python/NumPy number or a Numba ``Number``; arrays may have any
rank and any layout (transposed views, column slices, ...).

Generated code embeds ``RUNTIME_VERSION``: bump it whenever a helper's behavior
changes, so that stale Numba caches of generated code are not reused.
"""

import operator

import numpy as np
from numba.core import errors, types
from numba.cpython.unsafe.tuple import tuple_setitem
from numba.extending import overload, register_jitable
from numba.np.numpy_support import as_dtype, from_dtype

# Vectorized transcendentals for array operands (generated code calls them in place of np.*).
from .kernels import exp as fast_exp
from .kernels import log as fast_log
from .kernels import log1p as fast_log1p
from .kernels import sigmoid as fast_sigmoid
from .kernels import softplus as fast_softplus
from .kernels import tanh as fast_tanh

RUNTIME_VERSION = "4"

# The helpers generated code may import (RUNTIME_VERSION is deliberately not one of them).
__all__ = [
    "as_gradient",
    "broadcast_like",
    "copy_of",
    "fast_exp",
    "fast_log",
    "fast_log1p",
    "fast_sigmoid",
    "fast_softplus",
    "fast_tanh",
    "flush_subnormal",
    "like",
    "matmul_adjoint_x",
    "matmul_adjoint_y",
    "maxmin_adjoint",
    "mean_adjoint",
    "new_tape",
    "reduce_max",
    "reduce_mean",
    "reduce_min",
    "reduce_sum",
    "reshape",
    "reshape_like",
    "scalar_seed",
    "sum_adjoint",
    "tie_weights",
    "tuple_index",
    "unbroadcast",
    "zeros_like",
]


# ---------------------------------------------------------------------------
# Shared messages and type predicates
# ---------------------------------------------------------------------------

def _int_arg_message(dtype_name, is_array):
    kind = "a boolean" if dtype_name == "bool" else "an integer"
    hint = "x.astype(np.float64)" if is_array else "float(x)"
    return (f"adcompile: cannot differentiate with respect to {kind} argument "
            f"(dtype {dtype_name}); pass floats, e.g. {hint}")


def _seed_message(what):
    return (f"adcompile: the differentiated function must return a scalar, but it returned "
            f"{what}; return a reduction such as np.sum(...) or np.mean(...)")


def _py_float(x):
    """NumPy float type for results derived from x: float32 iff x is float32."""
    return np.float32 if getattr(x, "dtype", None) == np.float32 else np.float64


def _py_is_intlike(x):
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "biu"
    return isinstance(x, (bool, int, np.integer, np.bool_))


def _py_item(g):
    """The single element of a size-1 array (or the scalar itself), keeping its dtype."""
    return np.reshape(g, ())[()]


def _nb_scalar(t):
    return isinstance(t, (types.Number, types.Boolean))


def _nb_float(t):
    """Numba twin of _py_float, on a Numba type."""
    dt = t.dtype if isinstance(t, types.Array) else t
    return np.float32 if dt == types.float32 else np.float64


def _nb_intlike(t):
    dt = t.dtype if isinstance(t, types.Array) else t
    return isinstance(dt, (types.Integer, types.Boolean))


def _nb_none(t):
    return isinstance(t, types.NoneType) or (isinstance(t, types.Omitted) and t.value is None)


def _nb_literal_bool(t, name):
    if isinstance(t, types.BooleanLiteral):
        return t.literal_value
    if isinstance(t, types.Omitted):
        return bool(t.value)
    raise errors.TypingError(f"adcompile: {name} must be a literal True or False, got {t}")


def _nb_check_axis(axis):
    if not (_nb_none(axis) or isinstance(axis, types.Integer)):
        raise errors.TypingError(f"adcompile: axis must be None or an int, got {axis}")


# ---------------------------------------------------------------------------
# Internal jitted helpers (also callable from Python)
# ---------------------------------------------------------------------------

@register_jitable
def _normalize_axis(axis, ndim):
    ax = axis + ndim if axis < 0 else axis
    if ax < 0 or ax >= ndim:
        raise ValueError("adcompile: axis is out of bounds for the array")
    return ax


@register_jitable
def _split_axis(shape, axis):
    """(outer, n, inner): sizes before, along and after `axis`, so that a C-ordered
    array of `shape` can be viewed as (outer, n, inner) and reduced over the middle."""
    ax = _normalize_axis(axis, len(shape))
    outer = 1
    for d in range(ax):
        outer *= shape[d]
    inner = 1
    for d in range(ax + 1, len(shape)):
        inner *= shape[d]
    return outer, shape[ax], inner


@register_jitable
def _split_all(shape, axis):
    """_split_axis for axis=None: every element is reduced."""
    n = 1
    for d in range(len(shape)):
        n *= shape[d]
    return 1, n, 1


# The two shape builders below are Numba-only (tuple_setitem is an intrinsic). They are
# much cheaper to compile than to_fixed_tuple, which matters: compile time is paid by
# every generated function.

@register_jitable
def _keep_axis(shape, ax):
    """shape with axis ax set to 1 (a keepdims reduction's shape)."""
    return tuple_setitem(shape, ax, 1)


@register_jitable
def _drop_axis(shape, ax):
    """shape without axis ax."""
    out = shape[1:]
    for d in range(ax):
        out = tuple_setitem(out, d, shape[d])
    return out


@register_jitable
def _item(g):
    if g.size != 1:
        raise ValueError("adcompile: expected a single-element array for a scalar")
    return g.flat[0]


@register_jitable
def _full_2d(g, outer, inner):
    """A scalar adjoint broadcast to the (outer, inner) layout used by the adjoint kernels."""
    return np.full((outer, inner), g)


@register_jitable
def _array_2d(g, outer, inner):
    """An array adjoint (shaped like a reduction result) viewed as (outer, inner)."""
    return np.ascontiguousarray(g).reshape((outer, inner))


def _nb_as_2d(t):
    return _full_2d if _nb_scalar(t) else _array_2d


# ---------------------------------------------------------------------------
# like, zeros_like, scalar_seed
# ---------------------------------------------------------------------------

def like(c, x):
    """The constant c in x's float type (float32 iff x is float32, else float64)."""
    return _py_float(x)(c)


@overload(like)
def _ol_like(c, x):
    ft = _nb_float(x)
    return lambda c, x: ft(c)


def zeros_like(x):
    """A zero adjoint for x: a scalar 0.0 of x's float type, or a float array of x's shape."""
    if isinstance(x, np.ndarray):
        return np.zeros_like(x) if x.dtype.kind == "f" else np.zeros(x.shape)
    if isinstance(x, list):  # a tape of arrays (`new_tape`), in code differentiated again
        return [zeros_like(e) for e in x]
    if isinstance(x, (float, int)) and not isinstance(x, np.generic):
        return 0.0
    return _py_float(x)(0.0)


@overload(zeros_like)
def _ol_zeros_like(x):
    if isinstance(x, types.List):
        return lambda x: [zeros_like(e) for e in x]
    ft = _nb_float(x)
    if not isinstance(x, types.Array):
        return lambda x: ft(0.0)
    if isinstance(x.dtype, types.Float):
        return lambda x: np.zeros_like(x)
    return lambda x: np.zeros(x.shape, ft)


def scalar_seed(out):
    """The seed adjoint 1.0 of a scalar result, in out's float type."""
    if isinstance(out, np.ndarray) and out.ndim >= 1:
        raise TypeError(_seed_message(
            f"an array (dtype {out.dtype}, ndim {out.ndim}, shape {out.shape})"))
    if not isinstance(out, (int, float, np.ndarray, np.generic)):
        raise TypeError(_seed_message(f"a value of type {type(out).__name__}"))
    return _py_float(out)(1.0)


@overload(scalar_seed)
def _ol_scalar_seed(out):
    if isinstance(out, types.Array) and out.ndim >= 1:
        raise errors.TypingError(_seed_message(f"an array ({out}, ndim {out.ndim})"))
    if not (_nb_scalar(out) or isinstance(out, types.Array)):
        raise errors.TypingError(_seed_message(f"a value of type {out}"))
    ft = _nb_float(out)
    return lambda out: ft(1.0)


# ---------------------------------------------------------------------------
# unbroadcast, as_gradient
# ---------------------------------------------------------------------------

def unbroadcast(g, x):
    """Sum the adjoint g of a broadcast result down to x's shape (g itself if it fits)."""
    if np.ndim(x) == 0:
        return np.sum(g) if isinstance(g, np.ndarray) else g
    if np.ndim(g) == 0:
        return np.full(x.shape, g, _py_float(x))
    if g.shape == x.shape:
        return g
    lead = g.ndim - x.ndim
    axes = tuple(range(lead)) + tuple(
        lead + d for d, n in enumerate(x.shape) if n == 1 and g.shape[lead + d] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(x.shape)


@register_jitable
def _unbroadcast_bias(g, shape):
    """Fast path for g (B, n) -> shape (n,): the bias-gradient case."""
    rows, n = g.shape
    if shape[0] != n:  # then x is (1,): a scalar-like operand (no generic path to compile)
        if shape[0] != 1:
            raise ValueError("adcompile: unbroadcast: shapes are not broadcast-compatible")
        return np.full(1, g.sum())
    out = np.zeros(n, g.dtype)
    for i in range(rows):
        for j in range(n):
            out[j] += g[i, j]
    return out


@register_jitable
def _unbroadcast_1d(g, shape):
    """1-D g -> shape (1,), the only broadcast of a 1-D operand (cheap to compile, unlike
    the generic path: every elementwise operation on vectors compiles this fallback)."""
    if shape[0] != 1:  # (g.shape != shape is known here)
        raise ValueError("adcompile: unbroadcast: shapes are not broadcast-compatible")
    return np.full(1, g.sum())


@register_jitable
def _unbroadcast_2d(g, shape):
    """Fast path for 2-D g -> 2-D shape with size-1 dims, e.g. (B, n) -> (1, n) or (B, 1)."""
    rows, cols = shape
    m, n = g.shape
    if (rows != 1 and rows != m) or (cols != 1 and cols != n):
        raise ValueError("adcompile: unbroadcast: shapes are not broadcast-compatible")
    out = np.zeros((rows, cols), g.dtype)
    for i in range(m):
        r = i if rows != 1 else 0
        for j in range(n):
            out[r, j if cols != 1 else 0] += g[i, j]
    return out


@register_jitable
def _unbroadcast_nd(g, shape):
    """Generic path: accumulate every element of g into its broadcast source in shape."""
    lead = g.ndim - len(shape)
    for k in range(len(shape)):
        if shape[k] != 1 and shape[k] != g.shape[lead + k]:
            raise ValueError("adcompile: unbroadcast: shapes are not broadcast-compatible")
    out = np.zeros(shape, g.dtype)
    flat = out.reshape(out.size)
    for idx in np.ndindex(g.shape):
        off = 0
        for k in range(len(shape)):
            off = off * shape[k] + (idx[lead + k] if shape[k] != 1 else 0)
        flat[off] += g[idx]
    return out


@overload(unbroadcast)
def _ol_unbroadcast(g, x):
    if _nb_scalar(x) or (isinstance(x, types.Array) and x.ndim == 0):
        if _nb_scalar(g):
            return lambda g, x: g
        return lambda g, x: g.sum()
    if not isinstance(x, types.Array):
        return None
    if _nb_scalar(g):
        ft = _nb_float(x)
        return lambda g, x: np.full(x.shape, ft(g))
    if g.ndim < x.ndim:
        raise errors.TypingError(f"adcompile: unbroadcast: adjoint {g} has fewer dims than {x}")
    if g.ndim == 2 and x.ndim == 1:
        return lambda g, x: _unbroadcast_bias(g, x.shape)
    if g.ndim != x.ndim:
        return lambda g, x: _unbroadcast_nd(g, x.shape)
    reduce = {1: _unbroadcast_1d, 2: _unbroadcast_2d}.get(g.ndim, _unbroadcast_nd)

    def impl(g, x):
        if g.shape == x.shape:
            return g  # no copy: the common case of a non-broadcast operand
        return reduce(g, x.shape)
    return impl


def as_gradient(g, x):
    """The gradient handed to the user for argument x: x's type, dtype and shape."""
    if _py_is_intlike(x):
        raise TypeError(_int_arg_message(np.asarray(x).dtype.name, isinstance(x, np.ndarray)))
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        if isinstance(g, np.ndarray) and g.dtype == x.dtype and g.shape == x.shape:
            return g
        if np.ndim(g) == 0:
            return np.full(x.shape, g, x.dtype)
        return np.reshape(g, x.shape).astype(x.dtype, copy=False)
    if isinstance(x, np.floating):
        return x.dtype.type(_py_item(g))
    if isinstance(x, float):
        return float(_py_item(g))
    raise TypeError(f"adcompile: cannot differentiate with respect to an argument of type "
                    f"{type(x).__name__}; pass a float or a float array")


@overload(as_gradient)
def _ol_as_gradient(g, x):
    if _nb_intlike(x):
        dt = x.dtype if isinstance(x, types.Array) else x
        raise errors.TypingError(_int_arg_message(str(dt), isinstance(x, types.Array)))
    if isinstance(x, types.Float):
        ft = _nb_float(x)
        if isinstance(g, types.Array):
            return lambda g, x: ft(_item(g))
        return lambda g, x: ft(g)
    if not (isinstance(x, types.Array) and isinstance(x.dtype, types.Float)):
        raise errors.TypingError(f"adcompile: cannot differentiate with respect to an argument "
                                 f"of type {x}; pass a float or a float array")
    dt = x.dtype
    if _nb_scalar(g):
        return lambda g, x: np.full(x.shape, dt(g))
    if g.dtype != dt:
        return lambda g, x: reshape(g, x.shape).astype(dt)
    if g.ndim != x.ndim:
        return lambda g, x: reshape(g, x.shape)

    def impl(g, x):
        if g.shape == x.shape:
            return g
        return reshape(g, x.shape)
    return impl


# ---------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------

def reduce_sum(x, axis, keepdims):
    """np.sum(x, axis=axis, keepdims=keepdims)."""
    return np.sum(x, axis=axis, keepdims=keepdims)


def reduce_mean(x, axis, keepdims):
    """np.mean(x, axis=axis, keepdims=keepdims)."""
    return np.mean(x, axis=axis, keepdims=keepdims)


def reduce_max(x, axis, keepdims):
    """np.max(x, axis=axis, keepdims=keepdims)."""
    return np.max(x, axis=axis, keepdims=keepdims)


def reduce_min(x, axis, keepdims):
    """np.min(x, axis=axis, keepdims=keepdims)."""
    return np.min(x, axis=axis, keepdims=keepdims)


@register_jitable(fastmath={"reassoc"})
def _add(a, b):
    # reassoc (only: NaN/inf semantics are kept) lets LLVM vectorize sums along a row
    return a + b


@register_jitable
def _max2(a, b):
    # `b != b` is a NaN test that also types for ints and bools: NaN propagates like np.max
    return b if (b > a or b != b) else a  # noqa: PLR0124


@register_jitable
def _min2(a, b):
    return b if (b < a or b != b) else a  # noqa: PLR0124


def _make_axis_kernels(op):
    """Kernels computing out (1-D, size outer*inner) = op-reduction of x along axis ax.

    The 2-D kernels walk memory in storage order (row by row for C arrays, via the
    transpose for F arrays), which is what makes axis 0 and axis -1 fast. Few, flat
    functions on purpose: each jitted function adds noticeably to Numba compile time."""

    @register_jitable
    def c2d(a, ax, out):
        m, n = a.shape
        if ax == 0:  # out[j] = reduce_i a[i, j]: accumulate whole rows
            for j in range(n):
                out[j] = a[0, j]
            for i in range(1, m):
                for j in range(n):
                    out[j] = op(out[j], a[i, j])
        else:  # out[i] = reduce_j a[i, j]: one scalar accumulator per row
            for i in range(m):
                out[i] = a[i, 0]
                acc = out[i]
                for j in range(1, n):
                    acc = op(acc, a[i, j])
                out[i] = acc

    @register_jitable
    def f2d(a, ax, out):
        c2d(a.T, 1 - ax, out)

    @register_jitable
    def any2d(a, ax, out):
        if a.strides[0] >= a.strides[1]:
            c2d(a, ax, out)
        else:
            c2d(a.T, 1 - ax, out)

    @register_jitable
    def nd(x, ax, out):
        outer, n, inner = _split_axis(x.shape, ax)
        x3 = np.ascontiguousarray(x).reshape((outer, n, inner))
        if inner == 1:
            c2d(x3.reshape((outer, n)), 1, out)
        else:
            out2 = out.reshape((outer, inner))
            for o in range(outer):
                c2d(x3[o], 0, out2[o])

    def pick(x):
        """The kernel for array type x, chosen at typing time."""
        if x.ndim != 2:
            return nd
        return {"C": c2d, "F": f2d}.get(x.layout, any2d)

    return pick


_SUM_KERNELS = _make_axis_kernels(_add)
_AXIS_KERNELS = {  # sum and mean share one set of (compiled) kernels
    "sum": _SUM_KERNELS,
    "mean": _SUM_KERNELS,
    "max": _make_axis_kernels(_max2),
    "min": _make_axis_kernels(_min2),
}


@register_jitable
def _no_scale(s, n):
    return s


@register_jitable
def _mean_scale(s, n):
    return s / like(n, s)  # like(): a float32 sum stays float32


@register_jitable
def _sum_all(x):
    return x.sum()


@register_jitable
def _max_all(x):
    return x.max()


@register_jitable
def _min_all(x):
    return x.min()


def _reduction_overload(kind, x, axis, keepdims):
    """Typing-time dispatch shared by the reduce_* overloads."""
    mean = kind == "mean"
    if _nb_scalar(x):
        ft = _nb_float(x)
        return (lambda x, axis, keepdims: ft(x)) if mean else (lambda x, axis, keepdims: x)
    if not isinstance(x, types.Array):
        return None
    _nb_check_axis(axis)
    keep = _nb_literal_bool(keepdims, "keepdims")
    ft = _nb_float(x)
    if isinstance(x.dtype, (types.Integer, types.Boolean)):
        acc = ft if mean else (types.int64 if kind == "sum" else x.dtype)
    else:
        acc = x.dtype
    whole = {"sum": _sum_all, "mean": _sum_all, "max": _max_all, "min": _min_all}[kind]
    scale = _mean_scale if mean else _no_scale
    nd = x.ndim

    if _nb_none(axis):
        if not keep:
            return lambda x, axis, keepdims: scale(whole(x), x.size)
        ones = (1,) * nd
        return lambda x, axis, keepdims: np.full(ones, scale(whole(x), x.size))
    if nd == 1 and not keep:
        def impl_scalar(x, axis, keepdims):
            _normalize_axis(axis, 1)
            return scale(whole(x), x.size)
        return impl_scalar

    kernel = _AXIS_KERNELS[kind](x)
    has_identity = kind in ("sum", "mean")
    out_shape = _keep_axis if keep else _drop_axis

    def impl(x, axis, keepdims):
        ax = _normalize_axis(axis, nd)
        outer, n, inner = _split_axis(x.shape, ax)
        out = np.zeros(outer * inner, acc)  # zeros: the result of an empty sum
        if n > 0:
            kernel(x, ax, out)
        elif not has_identity:
            raise ValueError("adcompile: zero-size array to a max/min reduction")
        out = scale(out, n)
        return out.reshape(out_shape(x.shape, ax))
    return impl


@overload(reduce_sum, prefer_literal=True)
def _ol_reduce_sum(x, axis, keepdims):
    return _reduction_overload("sum", x, axis, keepdims)


@overload(reduce_mean, prefer_literal=True)
def _ol_reduce_mean(x, axis, keepdims):
    return _reduction_overload("mean", x, axis, keepdims)


@overload(reduce_max, prefer_literal=True)
def _ol_reduce_max(x, axis, keepdims):
    return _reduction_overload("max", x, axis, keepdims)


@overload(reduce_min, prefer_literal=True)
def _ol_reduce_min(x, axis, keepdims):
    return _reduction_overload("min", x, axis, keepdims)


# ---------------------------------------------------------------------------
# Reduction adjoints
# ---------------------------------------------------------------------------

def _py_expand(v, x, axis):
    """A reduction-shaped value v made broadcastable against x (re-insert the axis)."""
    v = np.asarray(v)
    if axis is not None and v.ndim == x.ndim - 1:
        v = np.expand_dims(v, axis)
    return v


def _py_sum_adjoint(g, x, axis, mean):
    ft = _py_float(x)
    count = 1
    if mean:
        count = np.size(x) if axis is None else np.shape(x)[axis]
    if np.ndim(x) == 0:
        return ft(g) / ft(count)
    out = np.empty(x.shape, ft)
    out[...] = _py_expand(g, x, axis) / ft(count)
    return out


def sum_adjoint(g, x, axis, keepdims):
    """Adjoint of reduce_sum(x, axis, keepdims): g broadcast back to x's shape."""
    return _py_sum_adjoint(g, x, axis, False)


def mean_adjoint(g, x, axis, keepdims):
    """Adjoint of reduce_mean(x, axis, keepdims): g / count broadcast back to x's shape."""
    return _py_sum_adjoint(g, x, axis, True)


def maxmin_adjoint(g, x, out, axis, keepdims):
    """Adjoint of out = reduce_max/min(x, ...): g split evenly among the tied extrema."""
    ft = _py_float(x)
    if np.ndim(x) == 0:
        return ft(g)
    hit = (x == _py_expand(out, x, axis)).astype(ft)
    # max(count, 1): a NaN extremum matches nowhere and gets a zero adjoint, as under Numba
    count = np.maximum(hit.sum(axis=axis, keepdims=True), ft(1))
    return (hit * (_py_expand(g, x, axis) / count)).astype(ft, copy=False)


@register_jitable
def _broadcast_back(g2, shape, n, ft):
    """A new array of `shape` and type ft with out3[o, k, i] = g2[o, i], where out3 is its
    (outer, n, inner) view: g2 repeated along the reduced axis. Shared by sum_adjoint and
    mean_adjoint, so that it is compiled once for both."""
    out = np.empty(shape, ft)
    outer, inner = g2.shape
    out3 = out.reshape((outer, n, inner))
    for o in range(outer):
        for k in range(n):
            if inner == 1:  # reduced along the last axis: no length-1 inner loop
                out3[o, k, 0] = g2[o, 0]
            else:
                for i in range(inner):
                    out3[o, k, i] = g2[o, i]
    return out


@register_jitable
def _share_ties(g2, x3, m2, r3):
    """r3[o, k, i] = g2[o, i] / (#ties) where x3[o, k, i] is the extremum m2[o, i]."""
    outer, n, inner = x3.shape
    count = np.zeros(inner, r3.dtype)
    for o in range(outer):
        if inner == 1:  # reduced along the last axis: a scalar extremum per row
            m, c = m2[o, 0], 0
            for k in range(n):
                c += x3[o, k, 0] == m
            for k in range(n):
                if x3[o, k, 0] == m:
                    r3[o, k, 0] = g2[o, 0] / c
            continue
        for i in range(inner):
            count[i] = 0
        for k in range(n):
            for i in range(inner):
                if x3[o, k, i] == m2[o, i]:
                    count[i] += 1
        for k in range(n):
            for i in range(inner):
                if x3[o, k, i] == m2[o, i]:
                    r3[o, k, i] = g2[o, i] / count[i]


def _nb_split(axis):
    _nb_check_axis(axis)
    return _split_all if _nb_none(axis) else _split_axis


def _sum_adjoint_overload(g, x, axis, mean):
    ft = _nb_float(x)
    if _nb_scalar(x):  # reducing a scalar: a single element, so sum and mean agree
        return lambda g, x, axis, keepdims: ft(g)
    if not isinstance(x, types.Array):
        return None
    split, as_2d = _nb_split(axis), _nb_as_2d(g)
    scale = _mean_scale if mean else _no_scale

    def impl(g, x, axis, keepdims):
        outer, n, inner = split(x.shape, axis)
        return _broadcast_back(scale(as_2d(g, outer, inner), n), x.shape, n, ft)
    return impl


@overload(sum_adjoint)
def _ol_sum_adjoint(g, x, axis, keepdims):
    return _sum_adjoint_overload(g, x, axis, False)


@overload(mean_adjoint)
def _ol_mean_adjoint(g, x, axis, keepdims):
    return _sum_adjoint_overload(g, x, axis, True)


@overload(maxmin_adjoint)
def _ol_maxmin_adjoint(g, x, out, axis, keepdims):
    ft = _nb_float(x)
    if _nb_scalar(x):
        return lambda g, x, out, axis, keepdims: ft(g)
    if not isinstance(x, types.Array):
        return None
    split, g_2d, out_2d = _nb_split(axis), _nb_as_2d(g), _nb_as_2d(out)

    def impl(g, x, out, axis, keepdims):
        outer, n, inner = split(x.shape, axis)
        x3 = np.ascontiguousarray(x).reshape((outer, n, inner))
        res = np.zeros(x.shape, ft)
        _share_ties(g_2d(g, outer, inner), x3, out_2d(out, outer, inner),
                    res.reshape((outer, n, inner)))
        return res
    return impl


# ---------------------------------------------------------------------------
# reshape, reshape_like
# ---------------------------------------------------------------------------

def reshape(x, shape):
    """x.reshape(shape), copying first only if x is not C-contiguous."""
    return np.reshape(x, shape)


@overload(reshape)
def _ol_reshape(x, shape):
    if not isinstance(x, types.Array):
        return None
    if x.layout == "C":
        return lambda x, shape: x.reshape(shape)
    # Numba only reshapes C arrays in C order; ascontiguousarray is free if x already is one
    return lambda x, shape: np.ascontiguousarray(x).reshape(shape)


def reshape_like(g, x):
    """g reshaped to x's shape; a scalar if x is a scalar."""
    if np.ndim(x) == 0:
        return g if np.ndim(g) == 0 and not isinstance(g, np.ndarray) else _py_item(g)
    if np.ndim(g) == 0:
        return np.full(x.shape, g, _py_float(x))
    return np.reshape(g, x.shape)


@overload(reshape_like)
def _ol_reshape_like(g, x):
    if _nb_scalar(x) or (isinstance(x, types.Array) and x.ndim == 0):
        if _nb_scalar(g):
            return lambda g, x: g
        return lambda g, x: _item(g)
    if not isinstance(x, types.Array):
        return None
    if _nb_scalar(g):
        ft = _nb_float(x)
        return lambda g, x: np.full(x.shape, ft(g))
    return lambda g, x: reshape(g, x.shape)


# ---------------------------------------------------------------------------
# matmul / dot adjoints
# ---------------------------------------------------------------------------

def _py_matmul_check(x, y):
    if np.ndim(x) not in (1, 2) or np.ndim(y) not in (1, 2):
        raise ValueError("adcompile: matmul adjoints support 1-D and 2-D operands only")


def matmul_adjoint_x(g, x, y):
    """Adjoint of out = x @ y with respect to x."""
    _py_matmul_check(x, y)
    ft = _py_float(x)
    if x.ndim == 2 and y.ndim == 2:
        dx = np.dot(g, y.T)
    elif x.ndim == 2:
        dx = np.outer(g, y)
    elif y.ndim == 2:
        dx = np.dot(y, g)
    else:
        dx = ft(g) * y
    return np.asarray(dx).astype(ft, copy=False)


def matmul_adjoint_y(g, x, y):
    """Adjoint of out = x @ y with respect to y."""
    _py_matmul_check(x, y)
    ft = _py_float(y)
    if x.ndim == 2:
        dy = np.dot(x.T, g)
    elif y.ndim == 2:
        dy = np.outer(x, g)
    else:
        dy = ft(g) * x
    return np.asarray(dy).astype(ft, copy=False)


def _blas_operand(a, ft):
    """a in float type ft with a layout BLAS accepts (C or F), copying only if needed."""
    return np.asarray(a).astype(ft, copy=False)


@overload(_blas_operand)
def _ol_blas_operand(a, ft):
    want = ft.instance_type
    if not isinstance(a, types.Array):
        return lambda a, ft: ft(a)
    if a.dtype != want:
        return lambda a, ft: a.astype(ft)
    if a.layout in "CF":
        return lambda a, ft: a
    return lambda a, ft: np.ascontiguousarray(a)


@register_jitable
def _outer(a, b):
    """np.outer for 1-D a, b; a loop, because Numba's np.outer takes seconds to compile."""
    out = np.empty((a.size, b.size), a.dtype)
    for i in range(a.size):
        for j in range(b.size):
            out[i, j] = a[i] * b[j]
    return out


def _nb_matmul_check(x, y):
    for a in (x, y):
        if not (isinstance(a, types.Array) and a.ndim in (1, 2)):
            raise errors.TypingError(
                f"adcompile: matmul adjoints support 1-D and 2-D arrays only, got {a}")


@overload(matmul_adjoint_x)
def _ol_matmul_adjoint_x(g, x, y):
    _nb_matmul_check(x, y)
    ft = _nb_float(x)
    if x.ndim == 2 and y.ndim == 2:
        return lambda g, x, y: np.dot(_blas_operand(g, ft), _blas_operand(y, ft).T)
    if x.ndim == 2:
        return lambda g, x, y: _outer(_blas_operand(g, ft), _blas_operand(y, ft))
    if y.ndim == 2:
        return lambda g, x, y: np.dot(_blas_operand(y, ft), _blas_operand(g, ft))
    return lambda g, x, y: ft(g) * _blas_operand(y, ft)


@overload(matmul_adjoint_y)
def _ol_matmul_adjoint_y(g, x, y):
    _nb_matmul_check(x, y)
    ft = _nb_float(y)
    if x.ndim == 2:
        return lambda g, x, y: np.dot(_blas_operand(x, ft).T, _blas_operand(g, ft))
    if y.ndim == 2:
        return lambda g, x, y: _outer(_blas_operand(x, ft), _blas_operand(g, ft))
    return lambda g, x, y: ft(g) * _blas_operand(x, ft)


def _promoted(x, y):
    """The float dtype NumPy gives `x @ y` of two arrays Numba's BLAS path rejects (mixed
    float32 and float64, or an int array with a float one), else None."""
    if not (isinstance(x, types.Array) and isinstance(y, types.Array)):
        return None
    if x.dtype == y.dtype and isinstance(x.dtype, (types.Float, types.Complex)):
        return None  # Numba's own
    try:
        dt = np.result_type(as_dtype(x.dtype), as_dtype(y.dtype))
    except errors.NumbaNotImplementedError:
        return None
    return from_dtype(dt) if dt.kind in "fc" else None


# `@` and np.dot of arrays of two dtypes: NumPy promotes, Numba refuses. Defined for the
# dtype pairs Numba has no implementation for, so no existing behavior changes.
@overload(operator.matmul)
def _ol_matmul_promoted(x, y):
    ft = _promoted(x, y)
    if ft is not None:
        return lambda x, y: _blas_operand(x, ft) @ _blas_operand(y, ft)


@overload(np.dot)
def _ol_dot_promoted(a, b):
    ft = _promoted(a, b)
    if ft is not None:
        return lambda a, b: np.dot(_blas_operand(a, ft), _blas_operand(b, ft))


# ---------------------------------------------------------------------------
# copy_of: a value that later in-place writes cannot change
# ---------------------------------------------------------------------------

def copy_of(x):
    """A copy of an array (a slice read before it is overwritten); scalars as they are."""
    return x.copy() if isinstance(x, np.ndarray) else x


@overload(copy_of)
def _ol_copy_of(x):
    if isinstance(x, types.Array):
        return lambda x: x.copy()
    return lambda x: x


# ---------------------------------------------------------------------------
# new_tape: storage for one value per loop iteration
# ---------------------------------------------------------------------------

def new_tape(x, n, *like):
    """Room for `n` values like `x`, written `tape[k] = x` and read `x = tape[k]`. Compiled, an
    array for scalars, typed by the join of the types of `x` and of `like`, the values whose
    types decide what the variable holds later (`out = 1` before `out = out * a`: floats like
    `a`); a list for arrays (which keeps references: nothing is copied). As Python, a list,
    which keeps every value exactly as the forward sweep computed it."""
    return [x] * n


def _nb_dtype(t):
    t = getattr(t, "literal_type", t)
    return as_dtype(t.dtype if isinstance(t, types.Array) else t)


@overload(new_tape)
def _ol_new_tape(x, n, *like):
    if isinstance(x, types.Array) and x.ndim > 0:
        # any-layout elements: a later iteration may hold a view (a slice) of another array
        return lambda x, n, *like: [x[::1]] * n
    if isinstance(x, types.Array):
        return lambda x, n, *like: [x] * n
    if isinstance(x, (types.Float, types.Integer, types.Boolean)):
        # Numba's own promotion: an int64 times a float32 is a float64 in compiled code
        dtype = from_dtype(np.result_type(_nb_dtype(x), *(_nb_dtype(t) for t in like)))
        return lambda x, n, *like: np.empty(n, dtype)
    raise errors.TypingError(f"adcompile: cannot save values of type {x} across iterations")


# ---------------------------------------------------------------------------
# tuple_index: a run-time index into a tuple, as Python checks it
# ---------------------------------------------------------------------------

def tuple_index(i, n):
    """The position `i` names in a tuple of `n` elements (`-1` is `n - 1`); an IndexError
    out of range, as Python raises, never some other element."""
    i = operator.index(i)
    if not -n <= i < n:
        raise IndexError("adcompile: tuple index out of range")
    return i + n if i < 0 else i


@overload(tuple_index)
def _ol_tuple_index(i, n):
    if not isinstance(i, (types.Integer, types.Boolean)):
        raise errors.TypingError(f"adcompile: tuple indices must be integers, not {i}")

    def impl(i, n):
        if not -n <= i < n:
            raise IndexError("adcompile: tuple index out of range")
        return i + n if i < 0 else i
    return impl


# ---------------------------------------------------------------------------
# Forward mode: tangents shaped like their primal
# ---------------------------------------------------------------------------

def broadcast_like(t, out):
    """The tangent `t` broadcast to the shape of `out` (itself when it already has it)."""
    if np.shape(t) == np.shape(out):
        return t
    return np.broadcast_to(t, np.shape(out)).copy()


@overload(broadcast_like)
def _ol_broadcast_like(t, out):
    if not isinstance(out, types.Array):
        return lambda t, out: t
    if isinstance(t, types.Array) and t.ndim == out.ndim:
        def same_rank(t, out):
            if t.shape == out.shape:
                return t
            return np.broadcast_to(t, out.shape).copy()
        return same_rank
    return lambda t, out: np.broadcast_to(t, out.shape).copy()


def tie_weights(x, out, axis, keepdims):
    """Weights that share a max/min reduction's tangent evenly among tied entries of `x`."""
    return maxmin_adjoint(np.ones_like(out, dtype=np.asarray(x).dtype) if np.ndim(out) else
                          like(1.0, x), x, out, axis, keepdims)


@overload(tie_weights, prefer_literal=True)
def _ol_tie_weights(x, out, axis, keepdims):
    if isinstance(out, types.Array):
        return lambda x, out, axis, keepdims: maxmin_adjoint(np.ones_like(out), x, out, axis,
                                                             keepdims)
    return lambda x, out, axis, keepdims: maxmin_adjoint(like(1.0, x), x, out, axis, keepdims)


# ---------------------------------------------------------------------------
# flush_subnormal: adjoints below the smallest normal number become zero
# ---------------------------------------------------------------------------

def flush_subnormal(x):
    """x, with magnitudes below the smallest normal number of its type set to (signed) zero.
    An adjoint decaying through a long reversed loop reaches subnormal numbers, on which every
    multiply takes the CPU's slow path; NaN and inf pass through."""
    tiny = np.finfo(_py_float(x)).tiny
    if isinstance(x, np.ndarray):
        with np.errstate(invalid="ignore"):  # inf * 0, computed but not chosen
            return np.where(np.abs(x) < tiny, x * 0, x)
    return x * 0 if abs(x) < tiny else x


@overload(flush_subnormal)
def _ol_flush_subnormal(x):
    tiny = np.finfo(_nb_float(x)).tiny
    if isinstance(x, types.Array):
        return lambda x: np.where(np.abs(x) < tiny, x * 0, x)
    return lambda x: x * 0 if abs(x) < tiny else x
