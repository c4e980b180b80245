"""Deterministic, collision-free names for generated variables.

Temporaries are named after the variable they help compute (`H1`, `H2`; after a name that
ends in a digit, a letter: `W1a`, `W1b`), adjoints after their primal (`dW1`), saved values
after what they save (`h_saved`). Nothing random, so the same function always gives
byte-identical code.

No generated name ends in `_<digits>`: Numba names the versions of a variable assigned more
than once `x.1`, `x.2`, and turns the dots into underscores when it compiles an array
expression, so a temporary `x_1` would clash with the first version of `x`.
"""

from __future__ import annotations

import string


class Namer:
    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)
        self._adjoints: dict[str, str] = {}

    def fresh(self, base: str) -> str:
        """`base1`, `base2`, ... (`W1a`, `W1b`, ... after a digit): the first not taken."""
        base = base.rstrip("_") or "t"
        k = 1
        while _numbered(base, k) in self.taken:
            k += 1
        return self.claim(_numbered(base, k))

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


def _numbered(base: str, k: int) -> str:
    """The k-th name after `base`; a base ending in a digit counts in letters (`W1a`), since
    `W12` would read as another variable and `W1_2` is a Numba version name."""
    if not base[-1].isdigit():
        return f"{base}{k}"
    letters = ""
    while k:
        k, r = divmod(k - 1, 26)
        letters = string.ascii_lowercase[r] + letters
    return base + letters
