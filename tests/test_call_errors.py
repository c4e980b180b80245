"""Errors when a derivative is called: a failure while it runs names the user's statement, file
and line, compiled or not, called from Python or from a user's njit function; a failure of
Numba on code adcompile generated is an InternalCompilerError naming the user's line and the
generated one, never Numba's bare exception; types Numba cannot compile the user's code for are
a GradCallError about the arguments. The functions are in tests/call_error_cases.py."""

from __future__ import annotations

import inspect

import numba
import numpy as np
import pytest
from numba.core import config

import adcompile as ad
from adcompile.errors import InternalCompilerError
from tests import call_error_cases as cases

SOURCE = inspect.getsource(cases)


def marked(name: str) -> tuple[int, str]:
    """The line of call_error_cases.py marked `# fails: <name>`, and its code."""
    for number, line in enumerate(SOURCE.splitlines(), 1):
        if line.endswith(f"# fails: {name}"):
            return number, line.split("#")[0].strip()
    raise AssertionError(f"no line is marked `# fails: {name}`")


def assert_names_line(message: str, name: str) -> None:
    number, code = marked(name)
    assert "call_error_cases.py" in message, message
    assert f"line {number}" in message, message
    assert code in message, message


@pytest.fixture
def boundscheck(monkeypatch):
    """Numba checks indices as under NUMBA_BOUNDSCHECK=1 (it does not by default)."""
    monkeypatch.setattr(config, "BOUNDSCHECK", 1)


RUN_TIME = {  # case -> (function, arguments that make its marked line fail)
    "matmul": (cases.shapes, (np.ones((2, 3)), np.ones((2, 3)))),
    "reshape": (cases.reshaped, (np.ones(5),)),
    "index": (cases.indexed, (np.ones(4), 2)),
}


@pytest.mark.parametrize("jit", [False, True], ids=["python", "compiled"])
@pytest.mark.parametrize("case", list(RUN_TIME))
def test_run_time_error_names_the_line(case, jit, boundscheck):
    fun, args = RUN_TIME[case]
    g = ad.grad(fun, jit=jit)
    for _ in range(2):  # the first call compiles (or loads), the second runs compiled code
        with pytest.raises(ad.GradCallError) as info:
            g(*args)
        assert_names_line(str(info.value), case)
        assert "failed for these arguments" in str(info.value)


@pytest.mark.parametrize("case", list(RUN_TIME))
def test_run_time_error_inside_njit_names_the_line(case, boundscheck):
    """No Python runs between a user's njit function and the derivative: the wrapper it calls
    the derivative through reports the error, from object mode."""
    fun, args = RUN_TIME[case]
    vg = ad.value_and_grad(fun)

    @numba.njit
    def train(*args):
        total = 0.0
        for _ in range(3):
            value, _ = vg(*args)
            total += value
        return total

    with pytest.raises(ad.GradCallError) as info:
        train(*args)
    assert_names_line(str(info.value), case)
    assert "called from @numba.njit code" in str(info.value)


def test_njit_caller_still_gets_results():
    vg = ad.value_and_grad(cases.shapes)

    @numba.njit
    def twice(a, b):
        value, grad = vg(a, b)
        again, _ = vg(a, b)
        return value + again, grad

    a, b = np.ones((2, 2)), np.full((2, 2), 0.5)
    total, grad = twice(a, b)
    value, expected = vg(a, b)
    assert total == 2 * value
    np.testing.assert_array_equal(grad, expected)


def test_division_by_zero_compiled_names_the_line():
    """Compiled, a scalar division by zero raises ZeroDivisionError (Numba's Python error
    model); NumPy gives inf and nan, so the replay finds the line by making it raise."""
    g = ad.grad(cases.divided)
    with pytest.raises(ad.GradCallError) as info:
        g(0.0)
    assert_names_line(str(info.value), "divide")
    assert "division by zero" in str(info.value)
    with np.errstate(all="ignore"):
        assert np.isnan(ad.grad(cases.divided, jit=False)(0.0))


def test_wrong_number_of_arguments_is_python_s_error():
    g = ad.grad(cases.reshaped)
    with pytest.raises(TypeError) as info:
        g(np.ones(4), np.ones(4))
    assert not isinstance(info.value, ad.GradCallError)


# ---- failures of Numba on generated code -----------------------------------------------

def assert_internal(info, name: str, generated: str, numba_error: str) -> None:
    message = str(info.value)
    assert isinstance(info.value, InternalCompilerError), message
    assert_names_line(message, name)
    assert f"Numba raised {numba_error}" in message, message
    assert "in the generated code" in message and generated in message, message
    assert "bug in adcompile" in message and "please report it" in message, message
    assert "hint: `jit=False`" in message, message
    lines = message.splitlines()
    assert lines[0].startswith('File "') and lines[2].strip() == "^", message  # as Unsupported


def test_rule_numba_cannot_type_is_an_internal_error():
    """The adjoint of a (test-only) rule calls np.fix, which Numba has no implementation of:
    the backward sweep is adcompile's code, so this is adcompile's bug, not the arguments'."""
    g = ad.grad(cases.uses_halve)
    with pytest.raises(ad.GradCallError) as info:
        g(np.ones(3))
    assert_internal(info, "rule", "np.fix(", "TypingError")
    assert g.path.name in str(info.value)
    assert ad.grad(cases.uses_halve, jit=False)(np.ones(3)).shape == (3,)  # Python runs it


def test_runtime_helper_numba_cannot_type_is_an_internal_error():
    """A runtime helper called with types it has no implementation for (a test-only rule
    writes `reshape(scalar, ...)`), in the forward sweep: adcompile's code all the same."""
    with pytest.raises(ad.GradCallError) as info:
        ad.grad(cases.uses_helper)(2.0)
    assert_internal(info, "helper", "reshape(x * like(2.0, x), (1,))", "TypingError")
    assert ad.grad(cases.uses_helper, jit=False)(2.0) == 16.0


def test_lowering_failure_is_an_internal_error(tmp_path, monkeypatch):
    """An exception from inside Numba's lowering (IndexError, NotImplementedError, ... on code
    it typed) is adcompile's bug, named at the user's line."""
    from numba.core import lowering

    monkeypatch.setenv("ADCOMPILE_CACHE_DIR", str(tmp_path))  # compiled afresh, not loaded
    g = ad.grad(cases.lowered)
    lower_inst = lowering.Lower.lower_inst

    def failing(self, inst):
        line = inst.loc.line if inst.loc.filename == str(g.path) else None
        if "fast_tanh" in g.source.splitlines()[line - 1 if line else 0]:
            raise NotImplementedError("Don't know how to allocate array with layout 'A'.")
        return lower_inst(self, inst)

    monkeypatch.setattr(lowering.Lower, "lower_inst", failing)
    with pytest.raises(ad.GradCallError) as info:
        g(np.ones(3))
    assert_internal(info, "lowering", "fast_tanh(", "NotImplementedError: Don't know how")


# ---- types Numba cannot compile the user's code for: the arguments' fault ---------------

@pytest.mark.filterwarnings("ignore::numba.NumbaPendingDeprecationWarning")  # reflected list
@pytest.mark.parametrize("args, reason", [
    (([1.0, 2.0], np.ones((2, 2))), "reflected list(float64)"),
    ((np.ones((2, 2)), {1: 2.0}), "non-precise type pyobject"),
], ids=["list", "dict"])
def test_types_numba_cannot_compile_are_about_the_arguments(args, reason):
    with pytest.raises(ad.GradCallError) as info:
        ad.grad(cases.shapes)(*args)
    message = str(info.value)
    assert not isinstance(info.value, InternalCompilerError), message
    assert "Numba cannot compile the derivative of shapes for arguments of types" in message
    assert reason in message and "jit=False" in message, message
    assert "call_error_cases.py" in message


def test_shapes_python_rejects_too_are_about_the_arguments():
    """3-D @ 2-D types in Python; adcompile's matmul adjoint takes 1-D and 2-D operands."""
    with pytest.raises(ad.GradCallError) as info:
        ad.grad(cases.shapes)(np.ones((2, 2, 3)), np.ones((3, 2)))
    assert not isinstance(info.value, InternalCompilerError)
    assert_names_line(str(info.value), "matmul")
    assert "matmul adjoints support 1-D and 2-D" in str(info.value)
