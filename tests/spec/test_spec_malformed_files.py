"""Malformed spec.yaml, guidelines.yaml and constitution.yaml: each case breaks the small
valid base spec (fixtures/base) in one way and asserts the exact file:line:column, path and
message reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from accord.spec import SpecError, load_spec

G, B, C, R, S = "guidelines.yaml", "bounds.yaml", "constitution.yaml", "rules.yaml", "spec.yaml"

CASES = [
    pytest.param(
        {G: [("rating: [factual_error]", "rating: [factual_error")]},
        [
            (
                "guidelines.yaml:47:12: YAML syntax error: expected ',' or ']', but "
                "got ':' (while parsing a flow sequence)"
            ),
        ],
        id="yaml_syntax_error",
    ),
    pytest.param(
        {G: [("    scale:\n      type: binary", "    scal:\n      type: binary")]},
        [
            "guidelines.yaml:18:5: categories[1]: missing required key 'scale'",
            (
                "guidelines.yaml:21:5: categories[1].scal: unknown key 'scal' (did "
                "you mean 'scale'?); allowed: id, kind, question, scale, "
                "instructions, examples"
            ),
        ],
        id="unknown_key",
    ),
    pytest.param(
        {G: [("    question: Which problems?\n", "")]},
        [
            "guidelines.yaml:32:5: categories[2]: missing required key 'question'",
        ],
        id="missing_required_key",
    ),
    pytest.param(
        {C: [("text: Say what is true.", "text: [Say, true]")]},
        [
            "constitution.yaml:8:5: principles[1].text: expected text, got a list",
        ],
        id="wrong_type_list_for_text",
    ),
    pytest.param(
        {G: [("type: binary", "type: likret")]},
        [
            (
                "guidelines.yaml:22:13: categories[1].scale.type: 'likret' is not "
                "allowed; allowed: likert, binary, flags"
            ),
        ],
        id="scale_type_not_allowed",
    ),
    pytest.param(
        {G: [("      type: flags\n", "")]},
        [
            "guidelines.yaml:35:5: categories[2].scale: missing required key 'type'",
        ],
        id="scale_type_missing",
    ),
    pytest.param(
        {G: [("        3: Very", "        4: Very")]},
        [
            (
                "guidelines.yaml:8:7: categories[0].scale.points: likert points must "
                "be consecutive integers; got 1, 2, 4"
            ),
        ],
        id="likert_not_consecutive",
    ),
    pytest.param(
        {G: [("        2: Somewhat\n        3: Very\n", "")]},
        [
            "guidelines.yaml:8:7: categories[0].scale.points: needs at least 2 entries",
        ],
        id="likert_single_point",
    ),
    pytest.param(
        {G: [("rating: 1", "rating: 7")]},
        [
            (
                "guidelines.yaml:16:17: categories[0].examples[0].rating: rating 7 is"
                " not on the likert scale; allowed: 1, 2, 3"
            ),
        ],
        id="likert_rating_off_scale",
    ),
    pytest.param(
        {G: [('rating: "no"', "rating: maybe")]},
        [
            (
                "guidelines.yaml:30:17: categories[1].examples[0].rating: rating "
                "'maybe' is not on the binary scale; allowed: yes, no"
            ),
        ],
        id="binary_rating_off_scale",
    ),
    pytest.param(
        {G: [("rating: [factual_error]", "rating: [factual_error, rude]")]},
        [
            (
                "guidelines.yaml:46:33: categories[2].examples[0].rating[1]: 'rude' "
                "is not a flag of this category; allowed: factual_error, off_topic"
            ),
        ],
        id="flags_rating_unknown_flag",
    ),
    pytest.param(
        {G: [("rating: [factual_error]", "rating: factual_error")]},
        [
            (
                "guidelines.yaml:46:17: categories[2].examples[0].rating: expected a "
                "list of flag ids, got 'factual_error'; allowed flags: factual_error,"
                " off_topic"
            ),
        ],
        id="flags_rating_not_a_list",
    ),
    pytest.param(
        {G: [("rating: 1", "rating: {a: 1}")]},
        [
            (
                "guidelines.yaml:16:9: categories[0].examples[0].rating: expected a "
                "scale point (a number), 'yes' or 'no', or a list of flag ids"
            ),
        ],
        id="rating_wrong_shape",
    ),
    pytest.param(
        {G: [("  - id: issues", "  - id: offensive")]},
        [
            (
                "guidelines.yaml:32:9: categories[2].id: duplicate id 'offensive'; "
                "first defined at line 3"
            ),
        ],
        id="duplicate_category_id",
    ),
    pytest.param(
        {G: [("        - id: off_topic", "        - id: factual_error")]},
        [
            (
                "guidelines.yaml:40:15: categories[2].scale.options[1].id: duplicate "
                "flag id 'factual_error'; first defined at line 38"
            ),
        ],
        id="duplicate_flag_id",
    ),
    pytest.param(
        {G: [("kind: quality", "kind: nice")]},
        [
            (
                "guidelines.yaml:33:11: categories[2].kind: 'nice' is not allowed; "
                "allowed: violation, quality"
            ),
        ],
        id="kind_not_allowed",
    ),
    pytest.param(
        {C: [("id: honest", "id: be honest")]},
        [
            (
                "constitution.yaml:7:9: principles[1].id: 'be honest' is not a valid "
                "id; use letters, digits and underscores, not starting with a digit"
            ),
        ],
        id="invalid_id",
    ),
    pytest.param(
        {G: [('version: "1"', "version: 1.0")]},
        [
            "guidelines.yaml:1:10: version: expected text, got a number (1.0); quote it: '1.0'",
        ],
        id="version_number_unquoted",
    ),
    pytest.param(
        {C: [("", "# nothing here yet\n")]},
        [
            "constitution.yaml:1:1: the file is empty; expected keys: principles",
        ],
        id="empty_required_file",
    ),
    pytest.param(
        {C: [("", "- harmless\n- honest\n")]},
        [
            (
                "constitution.yaml:1:1: expected a mapping at the top level, got a "
                "list; allowed keys: principles"
            ),
        ],
        id="top_level_list",
    ),
    pytest.param(
        {C: [("id: honest", "id: harmless")]},
        [
            (
                "constitution.yaml:7:9: principles[1].id: duplicate id 'harmless'; "
                "first defined at line 2"
            ),
        ],
        id="duplicate_principle_id",
    ),
    pytest.param(
        {C: [("    comparison: Which is more accurate?\n", "")]},
        [
            "constitution.yaml:7:5: principles[1]: missing required key 'comparison'",
        ],
        id="principle_missing_comparison",
    ),
    pytest.param(
        {S: [("    summary: Written", "    author: me\n    summary: Written")]},
        [
            (
                "spec.yaml:5:5: provenance[0].author: unknown key 'author'; allowed: "
                "kind, summary, details, ratified_by, ratified_at"
            ),
        ],
        id="provenance_unknown_key",
    ),
    pytest.param(
        {S: [("  - kind: authored\n    summary", "  - summary")]},
        [
            "spec.yaml:4:5: provenance[0]: missing required key 'kind'",
        ],
        id="provenance_missing_kind",
    ),
    pytest.param(
        {G: [("        1: Not at all", "        one: Not at all")]},
        [
            (
                "guidelines.yaml:9:9: categories[0].scale.points.one: expected a "
                "whole number, got text ('one')"
            ),
        ],
        id="likert_point_not_an_integer",
    ),
    pytest.param(
        {S: [("", "just a name\n")]},
        [
            (
                "spec.yaml:1:1: expected a mapping at the top level, got text ('just "
                "a name'); allowed keys: name, description, provenance"
            ),
        ],
        id="top_level_scalar",
    ),
    pytest.param(
        {C: [("    text: Do not insult anyone.", "\ttext: Do not insult anyone.")]},
        [
            (
                "constitution.yaml:3:1: YAML syntax error: found character '\\t' that "
                "cannot start any token (while scanning for the next token)"
            ),
        ],
        id="tab_indentation",
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
