"""Malformed bounds.yaml (references, values, forbidden values): each case breaks the
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
        {
            G: [
                (
                    "    instructions: Rate insults.\n",
                    "    instructions: Rate insults.\n    instructions: Again.\n",
                )
            ]
        },
        [
            (
                "guidelines.yaml:13:5: categories[0].instructions: duplicate key "
                "'instructions'; first given at line 12"
            ),
        ],
        id="duplicate_yaml_key",
    ),
    pytest.param(
        {B: [("defaults:", "default:")]},
        [
            (
                "bounds.yaml:22:1: default: unknown key 'default' (did you mean "
                "'defaults'?); allowed: chain_of_command, hard_bounds, customisation,"
                " defaults, system_prompt"
            ),
        ],
        id="unknown_top_level_key",
    ),
    pytest.param(
        {B: [("threshold: 0.5", "threshold: 1.5")]},
        [
            (
                "bounds.yaml:7:18: hard_bounds[0].check.threshold: 1.5 is out of "
                "range; must be at most 1.0"
            ),
        ],
        id="threshold_out_of_range",
    ),
    pytest.param(
        {B: [("threshold: 0.5", "threshold: high")]},
        [
            (
                "bounds.yaml:7:18: hard_bounds[0].check.threshold: expected a number,"
                " got text ('high')"
            ),
        ],
        id="threshold_not_a_number",
    ),
    pytest.param(
        {B: [("proposition: insults", "proposition: insult")]},
        [
            (
                "bounds.yaml:6:20: hard_bounds[0].check.proposition: unknown "
                "proposition 'insult' (not in rules.yaml); did you mean 'insults'?"
            ),
        ],
        id="unknown_check_proposition",
    ),
    pytest.param(
        {B: [("profanity: [strong]", "swearing: [strong]")]},
        [
            (
                "bounds.yaml:10:7: hard_bounds[0].forbids.swearing: unknown "
                "customisation option 'swearing'; known: profanity, tone"
            ),
        ],
        id="forbids_unknown_option",
    ),
    pytest.param(
        {B: [("values: [none, mild]", "values: [none, mild, strong]")]},
        [
            (
                "bounds.yaml:14:26: customisation[0].values[2]: 'strong' is forbidden"
                " by hard bound 'no_insults' (line 10); the spec must not offer it"
            ),
        ],
        id="offers_forbidden_value",
    ),
    pytest.param(
        {B: [("    default: neutral", "    default: cheerful")]},
        [
            (
                "bounds.yaml:21:14: customisation[1].default: default 'cheerful' is "
                "not one of the values: neutral, friendly"
            ),
        ],
        id="default_not_in_values",
    ),
    pytest.param(
        {B: [("      mild: Mild", "      spicy: Mild")]},
        [
            (
                "bounds.yaml:17:7: customisation[0].disclosure.spicy: 'spicy' is not "
                "one of the values: none, mild"
            ),
        ],
        id="disclosure_not_in_values",
    ),
    pytest.param(
        {B: [("values: [neutral, friendly]", "values: [neutral, friendly, neutral]")]},
        [
            "bounds.yaml:20:33: customisation[1].values[2]: duplicate value 'neutral'",
        ],
        id="duplicate_option_value",
    ),
    pytest.param(
        {B: [("values: [neutral, friendly]", "values: []")]},
        [
            "bounds.yaml:20:5: customisation[1].values: must not be empty",
        ],
        id="empty_values",
    ),
    pytest.param(
        {B: [("    value: none", "    value: mild")]},
        [
            (
                "bounds.yaml:26:12: defaults[0].value: 'mild' is not the default of "
                "option 'profanity' ('none'); a default behaviour must match the "
                "option's default"
            ),
        ],
        id="defaults_value_not_option_default",
    ),
    pytest.param(
        {B: [("    value: none", "    value: loud")]},
        [
            (
                "bounds.yaml:26:12: defaults[0].value: 'loud' is not one of the "
                "values of 'profanity': none, mild"
            ),
        ],
        id="defaults_value_not_allowed",
    ),
    pytest.param(
        {B: [("    option: profanity", "    option: swearing")]},
        [
            (
                "bounds.yaml:25:13: defaults[0].option: unknown customisation option "
                "'swearing'; known: profanity, tone"
            ),
        ],
        id="defaults_unknown_option",
    ),
    pytest.param(
        {B: [("    value: none\n", "")]},
        [
            (
                "bounds.yaml:23:5: defaults[0]: 'option' and 'value' go together: "
                "give both or neither"
            ),
        ],
        id="defaults_option_without_value",
    ),
    pytest.param(
        {B: [("[platform, deployment, user, conversation]", "[platform, user, conversation]")]},
        [
            (
                "bounds.yaml:1:1: chain_of_command: missing layer(s): deployment; the"
                " chain has all of platform, deployment, user, conversation"
            ),
        ],
        id="chain_missing_layer",
    ),
    pytest.param(
        {
            B: [
                (
                    "[platform, deployment, user, conversation]",
                    "[deployment, platform, user, conversation]",
                )
            ]
        },
        [
            (
                "bounds.yaml:1:20: chain_of_command[0]: the chain must start with "
                "'platform', not 'deployment'"
            ),
        ],
        id="chain_not_platform_first",
    ),
    pytest.param(
        {B: [("[platform, deployment, user, conversation]", "[platform, deployment, user, chat]")]},
        [
            (
                "bounds.yaml:1:48: chain_of_command[3]: 'chat' is not allowed; "
                "allowed: platform, deployment, user, conversation"
            ),
        ],
        id="chain_unknown_layer",
    ),
    pytest.param(
        {
            G: [
                (
                    "    examples:\n      - prompt: Hi",
                    "    examples:\n      - {prompt: Hi}\n      - prompt: Hi",
                )
            ]
        },
        [
            (
                "guidelines.yaml:14:9: categories[0].examples[0]: missing required "
                "keys 'response', 'rating', 'why'"
            ),
        ],
        id="several_missing_keys_in_one_line",
    ),
    pytest.param(
        {
            G: [
                (
                    "    examples:\n      - prompt: Hi",
                    (
                        "    examples:\n"
                        "      - {prompt: Hi, response: Yo, rating: 1, why: Ok, score: 2}\n"
                        "      - prompt: Hi"
                    ),
                )
            ]
        },
        [
            (
                "guidelines.yaml:14:56: categories[0].examples[0].score: unknown key "
                "'score'; allowed: prompt, response, rating, why"
            ),
        ],
        id="unknown_key_in_flow_mapping",
    ),
    pytest.param(
        {
            B: [
                (
                    "[platform, deployment, user, conversation]",
                    "[platform, user, user, conversation]",
                )
            ]
        },
        [
            (
                "bounds.yaml:1:1: chain_of_command: missing layer(s): deployment; the"
                " chain has all of platform, deployment, user, conversation"
            ),
            (
                "bounds.yaml:1:36: chain_of_command[2]: layer 'user' appears twice; "
                "each layer goes once"
            ),
        ],
        id="chain_layer_twice",
    ),
    pytest.param(
        {B: [("profanity: [strong]", "profanity: strong")]},
        [
            (
                "bounds.yaml:10:18: hard_bounds[0].forbids.profanity: expected a "
                "list, got text ('strong')"
            ),
        ],
        id="forbids_not_a_list",
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
