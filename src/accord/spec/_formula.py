"""Boolean formulas over proposition and definition names, as written in rules.yaml.

Grammar (``not`` binds tightest, then ``and``, then ``or``)::

    formula := disjunct ("or" disjunct)*
    disjunct := factor ("and" factor)*
    factor  := "not" factor | "(" formula ")" | "true" | "false" | NAME
    NAME    := [A-Za-z_][A-Za-z0-9_]*
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from accord.errors import AccordError

KEYWORDS = frozenset({"and", "or", "not", "true", "false"})


class FormulaError(AccordError):
    """A formula that does not parse or cannot be evaluated.

    Args:
        message: what is wrong.
        column: 1-based column inside the formula text where the problem is, if any.
    """

    def __init__(self, message: str, column: int | None = None) -> None:
        self.column = column
        self.reason = message
        super().__init__(f"column {column}: {message}" if column is not None else message)


@dataclass(frozen=True)
class Const:
    """``true`` or ``false``."""

    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(frozen=True)
class Name:
    """A proposition or definition name."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Not:
    """Negation."""

    operand: Formula

    def __str__(self) -> str:
        inner = str(self.operand)
        return f"not {inner}" if isinstance(self.operand, Name | Const | Not) else f"not ({inner})"


@dataclass(frozen=True)
class And:
    """Conjunction of two or more operands."""

    operands: tuple[Formula, ...]

    def __str__(self) -> str:
        return " and ".join(f"({o})" if isinstance(o, Or) else str(o) for o in self.operands)


@dataclass(frozen=True)
class Or:
    """Disjunction of two or more operands."""

    operands: tuple[Formula, ...]

    def __str__(self) -> str:
        return " or ".join(str(o) for o in self.operands)


Formula = Const | Name | Not | And | Or

_TOKEN = re.compile(r"\s*(?:(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<paren>[()])|(?P<bad>\S))")


def _tokens(text: str) -> list[tuple[str, int]]:
    """Split into (token, 1-based column); an unexpected character is a FormulaError."""
    out: list[tuple[str, int]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # only trailing whitespace is left
            break
        if match.group("bad") is not None:
            column = match.start("bad") + 1
            raise FormulaError(f"unexpected character {match.group('bad')!r}", column)
        kind = "word" if match.group("word") is not None else "paren"
        out.append((match.group(kind), match.start(kind) + 1))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.end_column = len(text.rstrip()) + 1
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def column(self) -> int:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else self.end_column

    def fail(self, expected: str) -> FormulaError:
        got = self.peek()
        found = "the end of the formula" if got is None else repr(got)
        return FormulaError(f"expected {expected}; got {found}", self.column())

    def formula(self) -> Formula:
        operands = [self.disjunct()]
        while self.peek() == "or":
            self.i += 1
            operands.append(self.disjunct())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def disjunct(self) -> Formula:
        operands = [self.factor()]
        while self.peek() == "and":
            self.i += 1
            operands.append(self.factor())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def factor(self) -> Formula:
        token = self.peek()
        if token == "not":
            self.i += 1
            return Not(self.factor())
        if token == "(":
            self.i += 1
            inner = self.formula()
            if self.peek() != ")":
                raise self.fail("')'")
            self.i += 1
            return inner
        if token in ("true", "false"):
            self.i += 1
            return Const(token == "true")
        if token is None or token in KEYWORDS or token == ")":
            raise self.fail("a name, 'not', 'true', 'false' or '('")
        self.i += 1
        return Name(token)


def parse_formula(text: str) -> Formula:
    """Parse a formula.

    Args:
        text: e.g. ``"refuses and not (judgemental or apologises)"``.

    Returns:
        The formula's syntax tree.

    Raises:
        FormulaError: with the 1-based column inside ``text`` where parsing failed.
    """
    parser = _Parser(text)
    result = parser.formula()
    if parser.peek() is not None:
        raise parser.fail("'and', 'or' or the end of the formula")
    return result


def formula_names(formula: Formula | str) -> list[str]:
    """The names a formula refers to, in order of first appearance.

    Args:
        formula: a parsed formula or its text.

    Returns:
        Distinct proposition/definition names.
    """
    tree = parse_formula(formula) if isinstance(formula, str) else formula
    return list(dict.fromkeys(_walk_names(tree)))


def _walk_names(node: Formula) -> Iterator[str]:
    if isinstance(node, Name):
        yield node.name
    elif isinstance(node, Not):
        yield from _walk_names(node.operand)
    elif isinstance(node, And | Or):
        for operand in node.operands:
            yield from _walk_names(operand)


def evaluate(
    formula: Formula | str,
    truth: Mapping[str, bool],
    definitions: Mapping[str, Formula | str] | None = None,
) -> bool:
    """Evaluate a formula.

    Args:
        formula: a parsed formula or its text.
        truth: the truth value of each proposition.
        definitions: named formulas that names may refer to (rules.yaml ``definitions``);
            a name found in ``truth`` wins over a definition of the same name.

    Returns:
        The formula's value.

    Raises:
        FormulaError: a name that is neither in ``truth`` nor defined, or a definition
            that refers to itself.
    """
    parsed = {
        k: parse_formula(v) if isinstance(v, str) else v for k, v in (definitions or {}).items()
    }
    tree = parse_formula(formula) if isinstance(formula, str) else formula
    return _eval(tree, truth, parsed, ())


def _eval(
    node: Formula, truth: Mapping[str, bool], defs: Mapping[str, Formula], active: tuple[str, ...]
) -> bool:
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Name):
        if node.name in truth:
            return bool(truth[node.name])
        if node.name in defs:
            if node.name in active:
                raise FormulaError(f"definition cycle: {' -> '.join((*active, node.name))}")
            return _eval(defs[node.name], truth, defs, (*active, node.name))
        raise FormulaError(f"no truth value or definition for '{node.name}'")
    if isinstance(node, Not):
        return not _eval(node.operand, truth, defs, active)
    if isinstance(node, And):
        return all(_eval(o, truth, defs, active) for o in node.operands)
    return any(_eval(o, truth, defs, active) for o in node.operands)
