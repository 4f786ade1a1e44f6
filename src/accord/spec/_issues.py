"""What went wrong in a spec, and where: :class:`SpecIssue` and :class:`SpecError`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from accord.errors import AccordError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """Render a path of keys and indexes the way a reader writes it.

    Args:
        path: mapping keys (str, or int for integer YAML keys) and list indexes.

    Returns:
        ``categories[2].scale.type``; integer keys and indexes in brackets, keys that are
        not identifiers quoted in brackets (``disclosure['very brief']``).
    """
    out = ""
    for part in path:
        if (isinstance(part, int) and not isinstance(part, bool)) or str(part).isdigit():
            out += f"[{part}]"
        elif _IDENT.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{str(part)!r}]"
    return out


@dataclass(frozen=True)
class SpecIssue:
    """One problem in a spec, located as precisely as the input allows.

    Args:
        file: the file name inside the spec folder (``guidelines.yaml``).
        line: 1-based line, or None when the spec did not come from a file
            (``Spec.from_content``) or the problem is the file itself (missing).
        column: 1-based column, or None as for ``line``.
        path: the dotted path of the offending key or value (``categories[2].scale.type``),
            empty when the problem concerns the whole file.
        message: what is wrong and what is allowed.
    """

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(AccordError):
    """A spec that does not validate; ``.issues`` lists every problem found, in file order.

    Args:
        issues: the problems, each with its location.
    """

    def __init__(self, issues: Sequence[SpecIssue]) -> None:
        self.issues = list(issues)
        # One issue per line and nothing else, so editors and CI can parse file:line:column.
        super().__init__("\n".join(str(issue) for issue in self.issues))
