"""The program corpus, differentiated compiled and uncompiled, against finite differences and
against autograd. Each derivative is built once per session (and cached on disk)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import adcompile as ad
from tests.oracles import assert_close, autograd_grads, finite_differences, param_indices
from tests.programs import (
    branches,
    calls,
    jumps,
    loops,
    mlp,
    promotion,
    returns,
    seeds,
    straightline,
    tuples,
    writes,
)

MODULES = [straightline, branches, loops, jumps, writes, calls, mlp, seeds, tuples, promotion,
           returns]
VALUES_COMPILED = {c.id for m in (tuples, promotion, returns) for c in m.CASES}
CASES = [c for m in MODULES for c in m.CASES]
assert len({c.id for c in CASES}) == len(CASES), "corpus case ids must be unique"
# modules whose programs autograd cannot run (in-place writes) declare AUTOGRAD = False
WITH_AUTOGRAD = {c.id for m in MODULES if getattr(m, "AUTOGRAD", True) for c in m.CASES}


@functools.cache
def derivative(case_id: str, jit: bool):
    case = next(c for c in CASES if c.id == case_id)
    return ad.grad(case.fun, wrt=case.wrt, jit=jit)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_gradient(case, jit):
    args = case.make_args()
    got = derivative(case.id, jit)(*args)
    fd = finite_differences(case.fun, args, case.wrt)
    assert_close(got, fd, rtol=1e-5, atol=1e-6, what=f"{case.id} vs finite differences")
    if case.id in WITH_AUTOGRAD:
        assert_close(got, autograd_grads(case.fun, args, case.wrt), rtol=1e-9, atol=1e-10,
                     what=f"{case.id} vs autograd")
    for g, k in zip(got if isinstance(case.wrt, tuple) else (got,),
                    param_indices(case.fun, case.wrt)):
        assert np.shape(g) == np.shape(args[k])
        if isinstance(args[k], float):
            assert isinstance(g, float)
        else:
            assert g.dtype == args[k].dtype


# every program uncompiled; compiled, those whose values were once returned wrong
VALUE_RUNS = [(c, False) for c in CASES] + [(c, True) for c in CASES if c.id in VALUES_COMPILED]


@pytest.mark.parametrize(("case", "jit"), VALUE_RUNS,
                         ids=[f"{c.id}-{'numba' if j else 'python'}" for c, j in VALUE_RUNS])
def test_value(case, jit):
    """value_and_grad returns the value the function's `return` computed, and the gradient
    grad gives (reverse sweeps restore variables: the value must not be a restored one)."""
    args = case.make_args()
    expected = case.fun(*args)
    value, grads = ad.value_and_grad(case.fun, wrt=case.wrt, jit=jit)(*args)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    assert np.asarray(value).dtype == np.asarray(expected).dtype or jit
    assert_close(grads, list(derivative(case.id, jit)(*args)) if isinstance(case.wrt, tuple)
                 else [derivative(case.id, jit)(*args)], rtol=1e-12, atol=1e-12,
                 what=f"{case.id}: value_and_grad vs grad")


@pytest.mark.parametrize("case", CASES[:4], ids=[c.id for c in CASES[:4]])
def test_second_input_point(case):
    """A second random point guards against answers that only hold at one input."""
    args = case.make_args(seed=1)
    got = derivative(case.id, False)(*args)
    assert_close(got, finite_differences(case.fun, args, case.wrt), rtol=1e-5, atol=1e-6,
                 what=case.id)
