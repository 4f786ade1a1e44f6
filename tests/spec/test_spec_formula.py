"""The boolean formulas of rules.yaml: parsing, precedence, errors and evaluation."""

from __future__ import annotations

import itertools

import pytest

from accord.spec import (
    And,
    Const,
    FormulaError,
    Name,
    Not,
    Or,
    evaluate,
    formula_names,
    parse_formula,
)


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    assert parse_formula("a or b and not c") == Or((Name("a"), And((Name("b"), Not(Name("c"))))))
    assert parse_formula("not a and b") == And((Not(Name("a")), Name("b")))


def test_parentheses_override_precedence_and_chains_flatten() -> None:
    assert parse_formula("(a or b) and c") == And((Or((Name("a"), Name("b"))), Name("c")))
    assert parse_formula("a and b and c") == And((Name("a"), Name("b"), Name("c")))
    assert parse_formula("not not true") == Not(Not(Const(True)))


def test_str_renders_an_equivalent_formula() -> None:
    text = "(a or b) and not (c and d) or false"
    tree = parse_formula(text)
    assert str(tree) == "(a or b) and not (c and d) or false"
    assert parse_formula(str(tree)) == tree


def test_precedence_agrees_with_python_on_every_assignment() -> None:
    text = "a or not b and c or not (a and c)"
    for a, b, c in itertools.product([False, True], repeat=3):
        expected = a or (not b and c) or not (a and c)
        assert evaluate(text, {"a": a, "b": b, "c": c}) is expected


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("a and", "expected a name, 'not', 'true', 'false' or '('; got the end of the formula", 6),
        ("a b", "expected 'and', 'or' or the end of the formula; got 'b'", 3),
        ("(a or b", "expected ')'; got the end of the formula", 8),
        ("a and or b", "expected a name, 'not', 'true', 'false' or '('; got 'or'", 7),
        ("a & b", "unexpected character '&'", 3),
        ("", "expected a name, 'not', 'true', 'false' or '('; got the end of the formula", 1),
        ("a)", "expected 'and', 'or' or the end of the formula; got ')'", 2),
    ],
)
def test_parse_errors_give_the_column_inside_the_formula(
    text: str, message: str, column: int
) -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    assert caught.value.reason == message
    assert caught.value.column == column
    assert str(caught.value) == f"column {column}: {message}"


def test_formula_names_lists_each_name_once_in_order() -> None:
    assert formula_names("b and (a or not b) and true") == ["b", "a"]


def test_evaluate_expands_definitions() -> None:
    definitions = {"bad": "insults or refuses", "good": "complies and not bad"}
    assert evaluate("good", {"complies": True, "insults": False, "refuses": False}, definitions)
    assert not evaluate("good", {"complies": True, "insults": True, "refuses": False}, definitions)


def test_evaluate_rejects_unknown_names_and_cycles() -> None:
    with pytest.raises(FormulaError, match="no truth value or definition for 'x'"):
        evaluate("x", {})
    with pytest.raises(FormulaError, match="definition cycle: a -> b -> a"):
        evaluate("a", {}, {"a": "b", "b": "a"})
