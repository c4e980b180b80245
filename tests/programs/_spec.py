"""How corpus programs declare their test inputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Case:
    fun: Callable
    args: tuple  # argument makers (called with a Generator) or plain values
    wrt: int | str | tuple
    id: str

    def make_args(self, seed: int = 0) -> list:
        rng = np.random.default_rng(seed)
        return [a(rng) if callable(a) else a for a in self.args]


def case(fun: Callable, *args, wrt=0, id: str | None = None) -> Case:
    return Case(fun, args, wrt, id or fun.__name__)


def normal(*shape: int, scale: float = 1.0) -> Callable:
    return lambda rng: scale * rng.standard_normal(shape)


def positive(*shape: int) -> Callable:
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def uniform(lo: float, hi: float, *shape: int) -> Callable:
    return lambda rng: rng.uniform(lo, hi, shape)
