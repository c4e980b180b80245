"""The errors adcompile raises: code outside the supported language (`UnsupportedError`), a
derivative called with arguments it cannot take or failing on them (`GradCallError`), a failure
of adcompile itself (`InternalCompilerError`), and a Numba cache entry compiled against another
version of a derivative (`StaleDerivativeError`)."""

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
    """A derivative was called with arguments it cannot differentiate (integer inputs, a
    function that returns an array to `grad`, shapes that do not fit, types Numba cannot
    compile the user's code for), or failed while running on them."""


class InternalCompilerError(GradCallError):
    """Numba failed on code adcompile generated, for arguments the derivative should accept: a
    bug in adcompile, reported like an UnsupportedError (the user's file, line and statement,
    what failed, the generated line it failed on, and a hint).

    A GradCallError too, so that code catching failed calls catches this one.
    """

    def __init__(self, construct: str, loc: Location | None, what: str,
                 generated: tuple[str, int, str] | None, hint: str = "") -> None:
        self.construct = construct
        self.location = loc
        self.what = what
        self.generated = generated  # (file name, line, text) of the generated statement
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        lines = []
        if self.location is not None:
            loc = self.location
            lines.append(f'File "{loc.filename}", line {loc.line}, column {loc.col + 1}')
            lines.append(f"    {loc.text.rstrip()}")
            lines.append("    " + " " * loc.col + "^")
        lines.append(f"adcompile failed to compile {self.construct}: {self.what}")
        if self.generated is not None:
            name, line, text = self.generated
            lines.append(f"  in the generated code, {name}, line {line}:")
            lines.append(f"    {text.strip()}")
        lines.append("This is a bug in adcompile, not in your code: please report it with this "
                     "message and the output of `adcompile.source(g)`.")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class StaleDerivativeError(OSError):
    """Numba's cache holds machine code of a function that calls a derivative, compiled against
    another version of that derivative (the differentiated function has changed since).

    An OSError because Numba's cache loader (numba/core/caching.py,
    `IndexDataCacheFile.load`) treats an OSError while loading an entry as a missing entry and
    compiles the function afresh: raised from the import Numba makes while loading the entry,
    it makes Numba recompile the caller against the current derivative. Should a Numba version
    stop doing so, the user sees this error, which says what to delete.
    """
