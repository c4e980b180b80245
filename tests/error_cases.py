# ruff: noqa  (deliberately unsupported code)
"""Functions outside the supported language. The line each must be rejected at carries a
comment `# rejects: <words the message must contain>`."""

import numpy as np

scale = np.ones(3)


def uses_try(x):
    try:  # rejects: try/except
        y = x * 2.0
    except ValueError:
        y = x
    return y


def uses_with(x):
    with open("f") as f:  # rejects: `with` statements
        pass
    return x


def uses_lambda(x):
    f = lambda t: t * 2.0  # rejects: lambda  # noqa: E731
    return f(x)


def uses_generator(x):
    return sum(v * v for v in x)  # rejects: generator expressions


def uses_list_comprehension(x):
    return np.sum([v for v in x])  # rejects: list comprehensions


def uses_global(x):
    global scale  # rejects: `global`
    return x * scale


def uses_nonlocal(x):
    def inner():
        return x
    return inner()  # (the nested def is found first)


def nested_def(x):
    def inner(t):  # rejects: nested function definitions
        return t
    return inner(x)


def star_args(*xs):  # rejects: variable arguments
    return xs[0]


def star_call(x, shape):
    return np.sum(np.zeros(*shape)) + x  # rejects: star-arguments


def attribute_assignment(x):
    x.value = 3.0  # rejects: attribute assignment
    return x


def dict_literal(x):
    d = {"a": x}  # rejects: dict literals
    return d


def set_literal(x):
    s = {x}  # rejects: set literals
    return s


def string_use(x):
    label = "loss"  # rejects: strings
    return x


def unknown_numpy(x):
    return np.sum(np.sinc(x))  # rejects: `np.sinc`: it has no derivative rule


def unknown_attribute(x):
    return np.sum(x.real)  # rejects: the attribute `.real`


def unknown_method(x):
    return x.cumsum()  # rejects: the method `.cumsum()`


def global_array(x):
    return np.sum(x * scale)  # rejects: the global `scale`


def undefined_name(x):
    return x * not_defined_anywhere  # rejects: the undefined name `not_defined_anywhere`  # noqa


def recursive(x, n):
    if n == 0:
        return x
    return recursive(x * 2.0, n - 1)  # rejects: recursion


def writes_argument(x):
    x[0] = 1.0  # rejects: writing into the argument `x`
    return np.sum(x)


def aliased_write(x):
    y = np.zeros(3)
    z = y  # rejects: shared under two names
    y[0] = x
    return np.sum(z)


def kept_slice_of_written(x):
    y = np.zeros((2, 2))
    row = y[0, :]  # rejects: keeping the slice
    y[0, 0] = x
    return np.sum(row)


def loop_over_array(x):
    s = 0.0
    for v in x:  # rejects: `for` loops over anything but range
        s = s + v
    return s


def assigns_loop_index(x):
    for i in range(3):
        i = i + 1  # rejects: assigning to the loop index `i`
    return x


def no_return(x):  # rejects: does not end with `return`
    y = x * 2.0


def may_fall_through(x):
    if x > 0.0:
        return x * 2.0
    for i in range(3):  # rejects: can end without `return` (Python returns None there)
        if x < -1.0:
            return x


def returns_nothing(x):
    return  # rejects: `return` without a value


def is_comparison(x):
    if x is None:  # rejects: `is` / `in` comparisons
        return 0.0
    return x


def raises(x):
    raise ValueError()  # rejects: `raise`


def asserts(x):
    assert x > 0  # rejects: `assert`


def bitwise(x):
    return x ^ 2  # rejects: the operator `^`


def walrus(x):
    if (y := x * 2.0) > 1.0:  # rejects: assignment expressions
        return y
    return x


def imports(x):
    import math  # rejects: import statements
    return math.sin(x)


def expression_statement(x):
    print(x)  # rejects: expression statements
    return x


def deletes(x):
    y = x
    del y  # rejects: `del`
    return x


def keyword_only(x, *, y):  # rejects: keyword-only
    return x * y


def bad_keyword(x):
    return np.sum(x, axes=0)  # rejects: the keyword argument `axes=`


def calls_local(x):
    f = x
    return f(x)  # rejects: calling the local variable `f`


def fstring(x):
    s = f"{x}"  # rejects: f-strings
    return x


def list_literal(x):
    v = [x, x]  # rejects: list literals
    return v


def for_else(x):
    for i in range(2):  # rejects: `for ... else`
        x = x * 2.0
    else:
        x = x + 1.0
    return x


def while_else(x):
    while x > 1.0:  # rejects: `while ... else`
        x = x * 0.5
    else:
        x = x + 1.0
    return x


def tuple_loop_target(x):
    for i, j in range(2):  # rejects: tuple target
        x = x * 2.0
    return x


def yields(x):
    yield x  # rejects: generators


def calls_builtin_without_rule(x):
    return np.sum(sorted(x))  # rejects: `sorted`: it has no derivative rule


def matches(x):
    match x:  # rejects: `match` statements
        case 1:
            return x
    return x


def _inner_loss(x):
    return np.sum(x * x)


def calls_a_derivative(x):
    return np.sum(_INNER_GRAD(x))  # rejects: a derivative made by adcompile


_INNER_GRAD = None  # set by the test module: adcompile.grad(_inner_loss)
