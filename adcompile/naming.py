"""Deterministic, collision-free names for generated variables.

Temporaries are named after the variable they help compute (`H_1`, `H_2`), adjoints after
their primal (`dW1`), saved values after what they save (`h_saved`). Nothing random, so the
same function always gives byte-identical code.
"""

from __future__ import annotations


class Namer:
    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)
        self._adjoints: dict[str, str] = {}

    def fresh(self, base: str) -> str:
        """`base_1`, `base_2`, ...: the first not taken."""
        base = base.rstrip("_") or "t"
        k = 1
        while f"{base}_{k}" in self.taken:
            k += 1
        return self.claim(f"{base}_{k}")

    def claim(self, name: str) -> str:
        self.taken.add(name)
        return name

    def exact_or_fresh(self, name: str) -> str:
        return self.claim(name) if name not in self.taken else self.fresh(name)

    def adjoint(self, primal: str) -> str:
        """The adjoint variable of `primal`: `dx` for `x`, the same name every time."""
        if primal not in self._adjoints:
            self._adjoints[primal] = self.exact_or_fresh("d" + primal)
        return self._adjoints[primal]
