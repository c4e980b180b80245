"""Every rejected construct gives an UnsupportedError naming the user's file and line, quoting
the line with a caret, naming the construct and giving a hint; call-time errors are clear."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import adcompile as ad
from tests import error_cases

error_cases._INNER_GRAD = ad.grad(error_cases._inner_loss, jit=False)

CASES = [f for name, f in vars(error_cases).items()
         if inspect.isfunction(f) and f.__module__ == error_cases.__name__
         and name not in ("uses_nonlocal", "_inner_loss")]


def expected(fun) -> tuple[int, str]:
    """The marked line and the words the message must contain."""
    lines, first = inspect.getsourcelines(fun)
    for k, line in enumerate(lines):
        m = re.search(r"# rejects: (.*?)(?:  # noqa.*)?$", line)
        if m:
            return first + k, m.group(1).strip()
    raise AssertionError(f"{fun.__name__} has no `# rejects:` marker")


@pytest.mark.parametrize("fun", CASES, ids=[f.__name__ for f in CASES])
def test_rejected_at_decoration_time(fun):
    line, words = expected(fun)
    with pytest.raises(ad.UnsupportedError) as info:
        ad.grad(fun, jit=False)
    message = str(info.value)
    assert "error_cases.py" in message
    assert f"line {line}," in message, message
    assert words in message, message
    assert "hint:" in message or info.value.hint == "", message
    code_line, caret_line = message.splitlines()[1:3]
    assert caret_line.strip() == "^"
    assert code_line.strip() in inspect.getsource(fun)


def test_catalog_is_large():
    assert len(CASES) >= 40


def test_every_rejection_has_a_hint():
    missing = []
    for fun in CASES:
        with pytest.raises(ad.UnsupportedError) as info:
            ad.grad(fun, jit=False)
        if not info.value.hint:
            missing.append(fun.__name__)
    assert not missing


def test_function_without_source():
    namespace = {"np": np}
    exec("def f(x):\n    return x * 2.0\n", namespace)  # noqa: S102  (no source on purpose)
    with pytest.raises(ad.UnsupportedError, match="source code is not available"):
        ad.grad(namespace["f"])


def test_array_output_is_an_error_at_first_call():
    def vector(x):
        return x * 2.0

    for jit in (False, True):
        g = ad.grad(vector, jit=jit)
        with pytest.raises(ad.GradCallError, match="must return a scalar"):
            g(np.ones(3))


def test_integer_argument_is_an_error():
    def f(x):
        return np.sum(x * 2.0)

    for jit in (False, True):
        with pytest.raises(ad.GradCallError, match="integer"):
            ad.grad(f, jit=jit)(np.arange(3))


def test_shape_mismatch_names_the_source_line():
    def f(a, b):
        c = a * 2.0
        return np.sum(c @ b)

    g = ad.grad(f)
    with pytest.raises(ad.GradCallError) as info:
        g(np.ones((2, 3)), np.ones((2, 3)))
    assert "test_errors.py" in str(info.value)


def test_bad_wrt():
    def f(x, y):
        return x * y

    with pytest.raises(ValueError, match="not a parameter"):
        ad.grad(f, wrt="z")
    with pytest.raises(ValueError, match="out of range"):
        ad.grad(f, wrt=5)


def test_catalog_page_lists_every_rejection():
    from pathlib import Path

    page = (Path(__file__).parent.parent / "docs" / "errors.md").read_text()
    for fun in CASES:
        with pytest.raises(ad.UnsupportedError) as info:
            ad.grad(fun, jit=False)
        assert info.value.construct.replace("|", "/") in page, fun.__name__
