"""Loop facts beyond the corpus: the logistic map of the notes against its closed form at
several trip counts, compiled and not."""

import pytest

import adcompile as ad
from tests.programs.loops import logistic_closed_form_check, logistic_map


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("n", [0, 1, 3, 25])
def test_logistic_map_matches_closed_form(jit, n):
    got = ad.grad(logistic_map, jit=jit)(0.3, n)
    expected = logistic_closed_form_check(0.3, n)
    assert abs(got - expected) <= 1e-10 * max(1.0, abs(expected))
