"""A quick run of the random-program fuzzer (`tests/fuzz.py`) inside the suite: a few hundred
programs uncompiled, a few small ones compiled with Numba, and checks that the fuzzer does
notice a wrong derivative rule and a wrong value. Longer runs:
`python -m tests.fuzz --programs 2000 --seed 1`; one family: `--focus tuples`.

Constructs that hit a compiler bug already reported are left out of the generated programs
(`KNOWN_BUGS`), and each such bug has a minimal program below, marked `xfail(strict=True)`:
when the bug is fixed its test passes unexpectedly and fails the suite, as a reminder to drop
the construct from `KNOWN_BUGS` (and the mark).
"""

from __future__ import annotations

import ast
import hashlib
import re

import numpy as np
import pytest

from tests import fuzz

# Each entry names a construct in fuzz.AVOIDABLE; the bug is shown by a test below.
KNOWN_BUGS = frozenset({"same-test"})
KNOWN_JIT_BUGS = KNOWN_BUGS


def _report(result: dict) -> str:
    lines = []
    for index, jit, program, outcome in result["failures"]:
        lines += [f"program {index} (jit={jit}): {outcome.status}: {outcome.kind}",
                  program.source, f"inputs: {fuzz._fmt_args(program.params, outcome.args)}",
                  outcome.detail[-2000:], ""]
    return "\n".join(lines)


def test_uncompiled_programs():
    # 110 programs (the suite's time is short; longer runs are `python -m tests.fuzz`)
    result = fuzz.run(110, seed=11, quiet=True, avoid=KNOWN_BUGS)
    c = result["counts"]
    assert not result["failures"], _report(result)
    assert c["ok"] >= 100, c  # programs whose every sample sat on a kink are few


def test_compiled_programs():
    result = fuzz.run(2, seed=11, jit_every=1, quiet=True, avoid=KNOWN_JIT_BUGS, small=True)
    assert not result["failures"], _report(result)
    assert result["counts"]["ok"] == 4, result["counts"]


def test_fuzzer_notices_a_wrong_rule(monkeypatch):
    """A tanh rule that is off by 0.1 %, in reverse and then in forward mode, is caught."""
    from adcompile.rules import RULES

    rule = RULES[np.tanh]
    for exprs, kind in ((rule.vjp_exprs, "rev-vs-fd"), (rule.jvp_exprs, "fwd-vs-rev")):
        with monkeypatch.context() as m:
            wrong = ast.parse(f"1.001 * ({ast.unparse(exprs['x'])})", mode="eval").body
            m.setitem(exprs, "x", wrong)
            result = fuzz.run(20, seed=5, quiet=True, avoid=KNOWN_BUGS)
        kinds = {outcome.kind for *_, outcome in result["failures"]}
        assert kind in kinds, kinds


def test_fuzzer_notices_a_wrong_value(monkeypatch):
    """A primal off by 1e-9 relative (tanh's, as the derivatives write it) leaves gradients
    within tolerance but not the value value_and_grad returns; a jvp whose value is off the
    same way is caught too."""
    import adcompile
    from adcompile.rules import RULES

    rule = RULES[np.tanh]
    primal = rule.primal
    with monkeypatch.context() as m:
        m.setattr(rule, "primal", lambda *args: ast.BinOp(
            left=ast.Constant(1.0 + 1e-9), op=ast.Mult(), right=primal(*args)))
        result = fuzz.run(20, seed=5, quiet=True, avoid=KNOWN_BUGS)
    kinds = {outcome.kind for *_, outcome in result["failures"]}
    assert "vg-value" in kinds, kinds
    assert kinds <= {"vg-value"}, kinds  # the gradients are still right

    jvp = adcompile.jvp

    def off_jvp(f, **kw):
        d = jvp(f, **kw)

        def call(*args):
            value, tangent = d(*args)
            return value * (1.0 + 1e-9) + 1e-9, tangent

        return call

    with monkeypatch.context() as m:
        m.setattr(adcompile, "jvp", off_jvp)
        result = fuzz.run(5, seed=5, quiet=True, avoid=KNOWN_BUGS)
    kinds = {outcome.kind for *_, outcome in result["failures"]}
    assert kinds == {"jvp-value"}, kinds


def test_float32_programs_are_checked_in_float32(tmp_path):
    """float32 inputs and intermediates: finite differences of the float64 twin, float32
    tolerances; a gradient of the wrong dtype is a mismatch."""
    source = ("import numpy as np\n\n\ndef f(x, y):\n    z = np.zeros(2, dtype=np.float32)\n"
              "    z[0] = x[0] * y[1]\n    return np.sum(np.tanh(z * y)) + x[1] * y[0]\n")
    params = [fuzz.Param("x", "array", (2,), "float32"), fuzz.Param("y", "array", (2,))]
    program = fuzz.Program(source, params)
    assert program.float32 and "float32" not in fuzz._promote(source)
    out = _check(tmp_path, source, params,
                 [np.array([0.3, 0.7], dtype=np.float32), np.array([-0.4, 0.9])])
    assert out.status == "ok", out.detail


def test_families_can_be_focused_and_avoided():
    avoid, focus = fuzz.resolve(avoid=("tuples",), focus=())
    assert set(fuzz.FAMILIES["tuples"]) <= avoid and not focus
    avoid, focus = fuzz.resolve(focus=("int-init",))
    assert focus == set(fuzz.FAMILIES["int-init"])
    assert set(fuzz.FAMILIES["tuples"]) <= avoid and "float32" in avoid
    every = set().union(*fuzz.FAMILIES.values())
    for index in range(30):  # left out, the families leave the older programs as they were
        source = fuzz.generate(3, index, every).source
        assert not re.search(r"float32|\b(t|acc|out|l|c)\d+ = ", source), source


def test_samples_on_a_kink_are_rejected(tmp_path):
    """Finite differences across a kink or a branch switch would be wrong: such a sample is
    skipped, not reported."""
    for body in ("return np.abs(x[0] - 0.3) + x[1]",
                 "y = x[1]\n    if x[0] > 0.3:\n        y = 2.0 * y\n    return y",
                 "return np.max(np.maximum(x, 0.3))"):
        source = f"import numpy as np\n\n\ndef f(x):\n    {body}\n"
        out = _check(tmp_path, source, [X], [np.array([0.3 + 2e-7, 0.1])])
        assert out.status == "skip", (body, out.status, out.detail)


# ---------------------------------------------------------------- bugs it found, minimized
# Fixed ones stay as regression tests; open ones are xfail(strict=True). (Tests whose f ends
# with `return 1.0 * y` returned `y`, when value_and_grad's value was not checked; a returned
# variable assigned more than once is test_fixed_value_of_reassigned_return.)


def _check(tmp_path, source: str, params: list, args: list, jit: bool = False) -> fuzz.Outcome:
    program = fuzz.Program(source, params)
    # a name fixed by the text, so that compiled derivatives are found in the cache next time
    path = tmp_path / f"known_{hashlib.sha1(source.encode()).hexdigest()[:12]}.py"
    path.write_text(source)
    return fuzz.check_program(program, path, np.random.default_rng(0), jit, args=args)


X = fuzz.Param("x", "array", (2,))
N = fuzz.Param("n", "int")


def test_fixed_negative_constant_base(tmp_path):
    source = "import numpy as np\n\nC = -0.5\n\n\ndef f(x):\n    return x[0] * C ** 2\n"
    out = _check(tmp_path, source, [X], [np.array([0.3, 0.7])])
    assert out.status == "ok", out.detail


def test_fixed_helper_return_in_untaken_branch(tmp_path):
    source = ("import numpy as np\n\n\ndef h(a):\n    if a > 0.0:\n        return a * 2.0\n"
              "    return a\n\n\ndef f(x):\n    y = x[0]\n    if x[1] > 5.0:\n"
              "        y = h(x[0])\n    return y * 3.0\n")
    out = _check(tmp_path, source, [X], [np.array([0.3, 0.7])])
    assert out.status == "ok", out.detail


def test_fixed_inactive_subscript_in_branch(tmp_path):
    source = ("import numpy as np\n\n\ndef f(x, n):\n    z = np.zeros(2)\n    y = x[0] * 2.0\n"
              "    if n == 0:\n        y = z[0]\n    return y\n")
    out = _check(tmp_path, source, [X, N], [np.array([0.3, 0.7]), 0])
    assert out.status == "ok", out.detail


def test_fixed_compiled_scalar_clip(tmp_path):
    source = "import numpy as np\n\n\ndef f(x):\n    return np.clip(x[0], -0.5, 0.5) * x[1]\n"
    out = _check(tmp_path, source, [X], [np.array([0.3, 0.7])], jit=True)
    assert out.status == "ok", out.detail


def test_fixed_compiled_scalar_where(tmp_path):
    source = ("import numpy as np\n\n\ndef f(x):\n"
              "    return np.where(x[0] > 0.0, x[1] * 2.0, x[1])\n")
    out = _check(tmp_path, source, [X], [np.array([0.3, 0.7])], jit=True)
    assert out.status == "ok", out.detail


def test_fixed_compiled_scalar_where_and_float(tmp_path):
    """np.where of scalars is a float, not a 0-d array, so Numba unifies it with the float
    the other return gives."""
    source = ("import numpy as np\n\n\ndef f(x):\n    for i in range(2):\n"
              "        if x[0] > 0.1 * i:\n"
              "            return np.where(x[1] > 0.0, x[0] * x[1], x[1])\n"
              "    return x[0] * x[1]\n")
    out = _check(tmp_path, source, [X], [np.array([0.5, 0.3])], jit=True)
    assert out.status == "ok", out.detail


def test_fixed_inner_loop_tape(tmp_path):
    """An inner loop inside a loop that writes into an array keeps every outer trip's values."""
    source = ("import numpy as np\n\n\ndef f(x):\n    z = np.zeros(2)\n    y = x[0]\n"
              "    for i in range(2):\n        for j in range(2):\n"
              "            y = np.tanh(2.0 * y)\n        z[i] = 1.0\n    return 1.0 * y\n")
    out = _check(tmp_path, source, [X], [np.array([0.3, 0.7])])
    assert out.status == "ok", out.detail


def test_fixed_helper_return_in_loop(tmp_path):
    source = ("import numpy as np\n\n\ndef h(a):\n    if a > 0.0:\n        return a * 2.0\n"
              "    return a\n\n\ndef f(x):\n    y = x[0]\n    for j in range(2):\n"
              "        y = y + h(x[1])\n    return 1.0 * y\n")
    out = _check(tmp_path, source, [X], [np.array([0.3, 0.7])])
    assert out.status == "ok", out.detail


def test_fixed_helper_return_inside_its_loop(tmp_path):
    """A return from inside the helper's own loop: its value is assigned after that loop, so
    the loop around the call never sees `result` carried from one iteration to the next."""
    source = ("import numpy as np\n\n\ndef h(a):\n    k = 0\n    while k < 3:\n"
              "        k += 1\n        if a > 0.5:\n            return a * 2.0\n"
              "        a = a + 0.3\n    return a\n\n\ndef f(x):\n    y = x[0]\n"
              "    for j in range(2):\n        y = y + h(x[1])\n    return 1.0 * y\n")
    for x1 in (0.1, 0.7, -2.0):  # returns in the third trip, in the first, after the loop
        out = _check(tmp_path, source, [X], [np.array([0.3, x1])])
        assert out.status == "ok", out.detail


def test_fixed_slice_in_while_test(tmp_path):
    source = ("import numpy as np\n\n\ndef f(x):\n    z = np.zeros(3)\n    k = 0\n"
              "    while x[0] > np.sum(z[0:2]) and k < 2:\n        k += 1\n"
              "        z[0] += 1.0\n    return x[0] * k\n")
    out = _check(tmp_path, source, [X], [np.array([1.5, 0.3])])
    assert out.status == "ok", out.detail


def test_fixed_helper_slice_update_in_while_test(tmp_path):
    source = ("import numpy as np\n\n\ndef h(a):\n    z = np.zeros((2, 2))\n"
              "    z[:, 1] += a\n    return np.sum(z)\n\n\ndef f(x):\n    y = x[0]\n"
              "    while h(x) > 10.0:\n        y = y * 2.0\n    return y\n")
    out = _check(tmp_path, source, [X], [np.array([0.3, 0.7])])
    assert out.status == "ok", out.detail


def test_fixed_compiled_loop_over_transpose(tmp_path):
    source = ("import numpy as np\n\n\ndef f(x):\n    for i in range(2):\n"
              "        x = np.tanh(x.T * 2.0)\n    return np.sum(x[0] * x[1])\n")
    out = _check(tmp_path, source, [fuzz.Param("x", "array", (2, 2))],
                 [np.array([[0.1, 0.2], [0.3, 0.4]])], jit=True)
    assert out.status == "ok", out.detail


def test_fixed_compiled_name_collision(tmp_path):
    source = ("import numpy as np\n\n\ndef f(x, y):\n    for i in range(2):\n"
              "        x += np.tanh(y[1])\n    return np.sum(x)\n")
    out = _check(tmp_path, source, [X, fuzz.Param("y", "array", (2, 2))],
                 [np.array([0.3, 0.7]), np.array([[0.1, 0.2], [0.3, 0.4]])], jit=True)
    assert out.status == "ok", out.detail


def test_fixed_compiled_mixed_overwrite_tape(tmp_path):
    """Each statement keeps its own list of overwritten entries: rows and scalars apart."""
    source = ("import numpy as np\n\n\ndef f(x):\n    z = np.zeros((2, 2))\n"
              "    for i in range(2):\n        z[i] = z[i] + x\n"
              "        z[1, 1] = z[1, 1] * x[0]\n    return np.sum(z)\n")
    out = _check(tmp_path, source, [X], [np.array([0.3, 0.7])], jit=True)
    assert out.status == "ok", out.detail


def test_fixed_branch_adjoint_read_by_earlier_loop(tmp_path):
    source = ("import numpy as np\n\n\ndef f(x):\n    for i in range(1):\n"
              "        v = x * 2.0\n    if x[0] > 0.0:\n        y = np.sum(v)\n"
              "    else:\n        y = x[1]\n    return y\n")
    out = _check(tmp_path, source, [X], [np.array([-0.3, 0.7])])
    assert out.status == "ok", out.detail


def test_fixed_mean_over_axis_zero_given_by_position(tmp_path):
    """`np.mean(t, 0)` reduces one axis: its adjoint is not the scalar of a full mean."""
    source = ("import numpy as np\n\n\ndef f(x0, x1):\n"
              "    x0 = np.mean(np.tanh(np.mean(x1) * np.ones((3, 2))), 0)\n"
              "    return x0[1]\n")
    params = [fuzz.Param("x0", "array", (2,)), fuzz.Param("x1", "array", (3,))]
    out = _check(tmp_path, source, params,
                 [np.array([1.1, -1.15]), np.array([-0.13, 1.19, -0.98])])
    assert out.status == "ok", out.detail


def test_fixed_slice_in_nested_while_test(tmp_path):
    """An inner `while` test reads a slice of an array its body writes, inside an outer loop:
    each trip of the outer loop takes the slice afresh before reading it."""
    source = ("import numpy as np\n\n\ndef f(x):\n    z = np.zeros(3)\n    k = 0\n"
              "    while x[0] > 0.0 and k < 2:\n        k += 1\n        j = 0\n"
              "        while x[1] > np.sum(z[0:2]) and j < 2:\n            j += 1\n"
              "            z[0] += 0.1\n    return x[0] * k + np.sum(z) * x[1]\n")
    out = _check(tmp_path, source, [X], [np.array([0.4, 0.25])])
    assert out.status == "ok", out.detail


def test_fixed_subscript_write_of_the_array_itself(tmp_path):
    """`z[0:1] = z` reads all of z before writing: its adjoint goes to the old z."""
    source = ("import numpy as np\n\n\ndef f(x):\n    z = x[0:1] * 2.0\n"
              "    z[0:1] = z\n    return z[0] * x[1]\n")
    out = _check(tmp_path, source, [X], [np.array([0.4, 0.25])])
    assert out.status == "ok", out.detail


@pytest.mark.xfail(strict=True, reason="uncompiled: the adjoint zero of a variable set on one "
                   "path is shaped like the variable, which that path leaves unset")
def test_open_variable_of_one_path_read_under_the_same_test(tmp_path):
    """`t` exists only when `b` holds and is read only then; on the other path the backward
    sweep makes `dt = zeros_like(t)` (an UnboundLocalError; compiled, Numba's zero-size
    stand-in goes unread)."""
    source = ("import numpy as np\n\n\ndef f(x, n):\n    for i in range(2):\n"
              "        b = n > 3\n        if b:\n            t = x * 2.0\n"
              "        if b:\n            x = np.tanh(t)\n    return np.sum(x)\n")
    out = _check(tmp_path, source, [X, N], [np.array([0.4, 0.25]), 0])
    assert out.status == "ok", out.detail


def test_fixed_compiled_pruned_loop_tape(tmp_path):
    """A loop Numba proves never runs (`while k < 0` with k = 0) is pruned: the tape list only
    its body appends to is typed all the same."""
    source = ("import numpy as np\n\n\ndef f(x):\n    z = x.copy()\n    k = 0\n"
              "    while k < 0:\n        z[0:1] = z\n    return x[0] * z[1]\n")
    out = _check(tmp_path, source, [X], [np.array([0.3, 0.7])], jit=True)
    assert out.status == "ok", out.detail


# ---------------------------------------------------------------- found by the newer families
# (int-init, float32, tuples, reassigned-return: see fuzz.FAMILIES)

S = fuzz.Param("s", "scalar")


@pytest.mark.parametrize("body", [
    "l = np.sum(x)\n    l = l + 0.1 * np.sum(x ** 2)\n    return l",
    "l = np.sum(x)\n    for i in range(2):\n        l = l * x[1]\n    return l",
    "l = np.sum(x)\n    if x[0] > 0.0:\n        l = l * x[1]\n    return l",
    "acc = 0\n    acc += np.max(x)\n    return acc",
    "s /= 1.0 + x[0] ** 2\n    return s",
])
def test_fixed_value_of_reassigned_return(tmp_path, body):
    """value_and_grad returned the value the returned variable had before its last
    assignment."""
    source = f"import numpy as np\n\n\ndef f(x, s):\n    {body}\n"
    out = _check(tmp_path, source, [X, S], [np.array([0.3, 0.7]), 0.4])
    assert out.status == "ok", out.detail


@pytest.mark.parametrize("init", ["1", "2"])
def test_fixed_int_initialized_loop_carried_product(tmp_path, init):
    """`out = 1` then `out = out * x[i]` in a loop: the floats the backward sweep needs were
    saved as ints."""
    source = (f"import numpy as np\n\n\ndef f(x):\n    out = {init}\n    for i in range(3):\n"
              "        out = out * x[i]\n    return np.tanh(out)\n")
    out = _check(tmp_path, source, [fuzz.Param("x", "array", (3,))],
                 [np.array([0.3, 0.7, 1.1])])
    assert out.status == "ok", out.detail


_TUPLE_HELPER = "def h(a):\n    return (a * 2.0, a * a)\n\n\n"


@pytest.mark.parametrize("body", [
    "t = (x[0] * 2.0, x[1])\n    return t[0]",  # constant index
    "t = x[0] * 2.0, x[1]\n    return t[-1]",
    "t = (x[0] * 2.0, x[1])\n    return t[n]",  # run-time index
    ("t = (x[0] * 2.0, x[1])\n    y = 0.0\n    for i in range(len(t)):\n"
     "        y = y + t[i]\n    return y"),
    "t = (x * 2.0, x)\n    return np.sum(t[0] * t[1])",  # tuple of arrays
    "t = x[0] * 2.0, x[1]\n    u, v = t\n    return u * v",  # unpacked
    "t = h(x[0])\n    return t[1]",  # from a helper
    "u, v = h(x[0])\n    return u + v",
    "return h(x[0])[1] + x[1]",
    "t = (x[0], x[1])\n    for i in range(3):\n        t = (t[1], t[0] + x[0])\n    return t[0]",
])
def test_fixed_tuple_values_have_derivatives(tmp_path, body):
    """Tuples of differentiated values got zero gradients (and zero tangents)."""
    source = f"import numpy as np\n\n\n{_TUPLE_HELPER}def f(x, n):\n    {body}\n"
    out = _check(tmp_path, source, [X, N], [np.array([0.3, 0.7]), 1])
    assert out.status == "ok", out.detail


@pytest.mark.parametrize("body", [
    ("t = (x[0], x[1])\n    for i in range(2):\n        t = (t[1], t[0])\n"
     "        x = np.tanh(x)\n    return x[1]"),
    "t = (0.7, x * 2.0)\n    x = t[1]\n    return x[0]",
    "t = (x[0] * 2.0, 0.5)\n    if x[1] > 0.0:\n        return t[0]\n    return x[0]",
    ("t = (x * 1.0, 0.5)\n    for i in range(2):\n        u = (np.square(t[0]), 0.5)\n"
     "        return u[0][0]\n    return x[0]"),
])
def test_fixed_tuple_derivatives_run(tmp_path, body):
    """The derivative failed: a tuple carried by a loop that saves another variable (`setting
    an array element with a sequence`), an argument rebound to an array of a tuple, a tuple read
    by an early return (`invalid index to scalar variable`, `cannot access local variable
    'result'`)."""
    source = f"import numpy as np\n\n\ndef f(x):\n    {body}\n"
    out = _check(tmp_path, source, [X], [np.array([0.3, 0.7])])
    assert out.status == "ok", out.detail


@pytest.mark.parametrize("case", ["swap", "int"])
def test_fixed_gradient_type_of_rebound_argument(tmp_path, case):
    """The gradient of a rebound argument took the type of the new value: a float64 argument
    got a float32 gradient (rounded), a float32 one a float64 gradient, and a float one rebound
    to an int was `an integer argument`."""
    if case == "swap":
        source = ("import numpy as np\n\n\ndef f(x1, x0):\n    z = np.sin(x1)\n"
                  "    x0, x1 = x1, x0\n    return np.sum(z)\n")
        params = [fuzz.Param("x1", "array", (2,)), fuzz.Param("x0", "array", (2,), "float32")]
        args = [np.array([0.1, -0.4]), np.array([0.3, 0.7], dtype=np.float32)]
    else:
        source = "import numpy as np\n\n\ndef f(x, s):\n    s = 1\n    return x[0] * s\n"
        params, args = [X, S], [np.array([0.3, 0.7]), 0.4]
    out = _check(tmp_path, source, params, args)
    assert out.status == "ok", out.detail


def test_fixed_helper_return_reading_its_loop_index(tmp_path):
    """A helper whose `return` inside its own `for` loop reads the loop index, called in a
    loop: `cannot access local variable 'i'`."""
    source = ("import numpy as np\n\n\ndef h(a):\n    for i in range(2):\n"
              "        if a[i] > 0.0:\n            return a[i] * 2.0\n    return a[0]\n\n\n"
              "def f(x):\n    y = x[0]\n    for j in range(2):\n        y = y * h(x)\n"
              "    return np.tanh(y)\n")
    out = _check(tmp_path, source, [X], [np.array([0.3, 0.7])])
    assert out.status == "ok", out.detail


def test_fixed_helper_return_in_nested_loop(tmp_path):
    """A helper whose `return` inside two nested loops reads the inner index, called in a
    loop: `cannot access local variable 'j'`."""
    source = ("import numpy as np\n\n\ndef h(a):\n    for i in range(2):\n"
              "        for j in range(2):\n            if a[j] > 0.0:\n"
              "                return a[j] * 2.0\n    return a[0]\n\n\n"
              "def f(x):\n    y = x[0]\n    for k in range(2):\n        y = y * h(x)\n"
              "    return np.tanh(y)\n")
    out = _check(tmp_path, source, [X], [np.array([0.3, 0.7])])
    assert out.status == "ok", out.detail


@pytest.mark.parametrize("op", ["x0 @ x1", "np.dot(x1, x0)"])
def test_fixed_compiled_mixed_float_matmul(tmp_path, op):
    """Compiled: `@` and np.dot of a float64 and a float32 array (NumPy promotes) failed to type
    in Numba (`_impl(array(float64, 1d, C), array(float32, 1d, C))`)."""
    source = f"import numpy as np\n\n\ndef f(x0, x1):\n    return {op}\n"
    params = [fuzz.Param("x0", "array", (3,)), fuzz.Param("x1", "array", (3,), "float32")]
    out = _check(tmp_path, source, params, [np.array([0.3, 0.7, -0.2]),
                                            np.array([0.5, -0.1, 0.4], dtype=np.float32)],
                 jit=True)
    assert out.status == "ok", out.detail
