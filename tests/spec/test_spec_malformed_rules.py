"""Malformed rules.yaml (graders, references, formulas, cycles): each case breaks the
small valid base spec (fixtures/base) in one way and asserts the exact file:line:column, path
and message reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from accord.spec import SpecError, load_spec

G, B, C, R, S = "guidelines.yaml", "bounds.yaml", "constitution.yaml", "rules.yaml", "spec.yaml"

CASES = [
    pytest.param(
        {R: [("", None)]},
        [
            (
                "rules.yaml: required file is missing; a spec folder holds "
                "guidelines.yaml, bounds.yaml, constitution.yaml and rules.yaml "
                "(spec.yaml is optional)"
            ),
        ],
        id="missing_required_file",
    ),
    pytest.param(
        {R: [("kind: regex", "kind: regexp")]},
        [
            (
                "rules.yaml:3:11: graders[0].kind: 'regexp' is not allowed; allowed: "
                "regex, lexicon, profanity_classifier, hate_classifier, sentiment, "
                "llm_judge, real_text"
            ),
        ],
        id="grader_kind_not_allowed",
    ),
    pytest.param(
        {R: [("    grader: refusals", "    grader: refusal")]},
        [
            (
                "rules.yaml:11:13: propositions[0].grader: unknown grader 'refusal'; "
                "did you mean 'refusals'?"
            ),
        ],
        id="unknown_grader",
    ),
    pytest.param(
        {R: [("acceptable: complies and not insults", "acceptable: complies and (not insults")]},
        [
            (
                "rules.yaml:26:19: response_types[0].classes.acceptable: formula does"
                " not parse: expected ')'; got the end of the formula (column 26 of "
                "the formula)"
            ),
        ],
        id="formula_parse_error",
    ),
    pytest.param(
        {R: [("disallowed: insults", "disallowed: insults or hateful")]},
        [
            (
                "rules.yaml:27:19: response_types[0].classes.disallowed: unknown "
                "proposition or definition 'hateful' in formula 'insults or hateful';"
                " known: refuses, insults, complies, bad, good"
            ),
        ],
        id="formula_unknown_name",
    ),
    pytest.param(
        {R: [("bad: insults or refuses", "bad: insults or good")]},
        [
            "rules.yaml:19:3: definitions.bad: definition cycle: bad -> good -> bad",
        ],
        id="definition_cycle",
    ),
    pytest.param(
        {R: [("  good: complies", "  refuses: complies")]},
        [
            (
                "rules.yaml:20:3: definitions.refuses: 'refuses' is already a "
                "proposition; a definition needs its own name"
            ),
            (
                "rules.yaml:25:14: response_types[0].classes.ideal: unknown "
                "proposition or definition 'good' in formula 'good'; known: refuses, "
                "insults, complies, bad"
            ),
        ],
        id="definition_shadows_proposition",
    ),
    pytest.param(
        {R: [("      ideal: good", "      great: good")]},
        [
            (
                "rules.yaml:25:7: response_types[0].classes.great: 'great' is not an "
                "allowed key; allowed: ideal, acceptable, unacceptable, disallowed"
            ),
        ],
        id="response_class_not_allowed",
    ),
    pytest.param(
        {
            R: [
                (
                    (
                        "    classes:\n      ideal: good\n"
                        "      acceptable: complies and not insults\n"
                        "      disallowed: insults\n"
                    ),
                    "    classes: {}\n",
                )
            ]
        },
        [
            "rules.yaml:24:5: response_types[0].classes: must not be empty",
        ],
        id="response_classes_empty",
    ),
    pytest.param(
        {
            R: [
                (
                    "definitions:\n  bad: insults or refuses\n  good: complies and not bad\n",
                    "definitions: [bad, good]\n",
                )
            ]
        },
        [
            "rules.yaml:18:1: definitions: expected a mapping, got a list",
        ],
        id="definitions_not_a_mapping",
    ),
    pytest.param(
        {
            R: [
                (
                    "  good: complies and not bad\n",
                    "  good: complies and not bad\n  c1: c2\n  c2: c3 and bad\n  c3: c1 or good\n",
                )
            ]
        },
        [
            "rules.yaml:21:3: definitions.c1: definition cycle: c1 -> c2 -> c3 -> c1",
        ],
        id="three_definition_cycle",
    ),
]


@pytest.mark.parametrize(("edits", "expected"), CASES)
def test_malformed_spec_reports_exact_issues(
    make_spec: Callable[..., Path], edits: dict, expected: list[str]
) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(make_spec(edits))
    assert [str(issue) for issue in caught.value.issues] == expected
    assert str(caught.value) == "\n".join(expected)
