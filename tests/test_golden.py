"""The generated code of two showcase functions, pinned for readability (numbers are checked
by the corpus tests). Regenerate with ADCOMPILE_UPDATE_GOLDEN=1 after an intended change."""

import os
from pathlib import Path

import pytest

import adcompile as ad
from tests.programs.loops import rnn
from tests.programs.mlp import mlp_softmax_xent

GOLDEN = Path(__file__).parent / "golden"
SHOWCASES = {
    "mlp_softmax_xent_value_and_grad.py":
        lambda: ad.value_and_grad(mlp_softmax_xent, wrt=(0, 1, 2, 3), jit=False),
    "rnn_grad.py": lambda: ad.grad(rnn, wrt=("W", "U"), jit=False),
}


@pytest.mark.parametrize("name", sorted(SHOWCASES))
def test_generated_code_matches_golden(name):
    text = ad.source(SHOWCASES[name]())
    path = GOLDEN / name
    if os.environ.get("ADCOMPILE_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_output_is_deterministic():
    first = ad.source(ad.grad(mlp_softmax_xent, wrt=(0, 2), jit=False))
    second = ad.source(ad.grad(mlp_softmax_xent, wrt=(0, 2), jit=False))
    assert first == second


def test_source_is_what_was_compiled():
    g = ad.grad(rnn, wrt=("W", "U"))
    assert g.path.read_text() == ad.source(g)
