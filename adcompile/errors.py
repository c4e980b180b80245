"""The one error type users see when their code is outside the supported language."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in the user's source: file, 1-based line, 0-based column, and the line's text."""

    filename: str
    line: int
    col: int
    text: str

    @property
    def short(self) -> str:
        """`mlp.py:9`, as generated code quotes it."""
        return f"{self.filename.replace(chr(92), '/').rsplit('/', 1)[-1]}:{self.line}"


class UnsupportedError(Exception):
    """Raised when `grad` meets code outside the supported language (or a call it cannot type).

    The message names the file and line, quotes the line with a caret under the construct,
    says what is unsupported and gives a hint.
    """

    def __init__(self, construct: str, loc: Location | None, hint: str = "") -> None:
        self.construct = construct
        self.location = loc
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        lines = []
        if self.location is not None:
            loc = self.location
            lines.append(f'File "{loc.filename}", line {loc.line}, column {loc.col + 1}')
            lines.append(f"    {loc.text.rstrip()}")
            lines.append("    " + " " * loc.col + "^")
        lines.append(f"adcompile does not support {self.construct}")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class GradCallError(TypeError):
    """A derivative was called with arguments it cannot differentiate (integer inputs,
    a function that returns an array to `grad`, a failure while Numba compiles it)."""
