"""The normalized (A-normal form) function is runnable Python and computes what the original
function computes, for every program of the corpus."""

import numpy as np
import pytest

from adcompile import runtime
from adcompile.check import check
from adcompile.emit import primal_source
from adcompile.normalize import to_anf
from adcompile.source import parse
from tests.test_programs import CASES


def normalized(fun):
    text = primal_source(to_anf(_checked(fun)))
    namespace = dict(fun.__globals__)
    namespace.update({name: getattr(runtime, name) for name in runtime.__all__})
    exec(compile(text, f"<normalized {fun.__name__}>", "exec"), namespace)  # noqa: S102
    return namespace[fun.__name__], text


def _checked(fun):
    parsed = parse(fun)
    check(parsed)
    return parsed


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_normalized_code_computes_the_same(case):
    fn, text = normalized(case.fun)
    args = case.make_args()
    expected = case.fun(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    np.testing.assert_allclose(fn(*args), expected, rtol=1e-13, atol=1e-13, err_msg=text)


def test_one_primitive_per_statement():
    from tests.programs.mlp import mlp_softmax_xent

    _, text = normalized(mlp_softmax_xent)
    assert "H1 = X @ W1" in text
    assert "logp2 = reduce_sum(logp1, 1, True)" in text


def test_generated_names_are_not_numba_version_names():
    """Numba names the versions of `x` `x.1`, `x.2` and compiles array expressions with the
    dots turned into underscores: no generated name may end in `_<digits>`."""
    from adcompile.naming import Namer

    namer = Namer({"x", "x1", "W1", "b_"})
    names = [namer.fresh(b) for b in ("x", "x", "W1", "W1", "b_")]
    assert names == ["x2", "x3", "W1a", "W1b", "b1"]
