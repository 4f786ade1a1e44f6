"""Malformed specs with several problems: all are reported, in file order, with locations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from accord.spec import SpecError, load_spec

G, B, C, R, S = "guidelines.yaml", "bounds.yaml", "constitution.yaml", "rules.yaml", "spec.yaml"


def test_ten_mistakes_across_files_are_all_reported_with_locations(
    make_spec: Callable[..., Path],
) -> None:
    folder = make_spec(
        {
            S: [("    summary: Written", "    author: me\n    summary: Written")],
            G: [
                ("type: binary", "type: likret"),
                ("rating: 1", "rating: 9"),
                ("  - id: issues", "  - id: offensive"),
            ],
            B: [
                ("threshold: 0.5", "threshold: 1.5"),
                ("values: [none, mild]", "values: [none, mild, strong]"),
                ("    default: neutral", "    default: cheerful"),
            ],
            C: [("    comparison: Which is more accurate?\n", "")],
            R: [
                ("    grader: refusals", "    grader: refusal"),
                ("bad: insults or refuses", "bad: insults or good"),
            ],
        }
    )
    with pytest.raises(SpecError) as caught:
        load_spec(folder)
    assert [str(issue) for issue in caught.value.issues] == [
        "spec.yaml:5:5: provenance[0].author: unknown key 'author'; allowed: kind, summary, "
        "details, ratified_by, ratified_at",
        "guidelines.yaml:16:17: categories[0].examples[0].rating: rating 9 is not on the "
        "likert scale; allowed: 1, 2, 3",
        "guidelines.yaml:22:13: categories[1].scale.type: 'likret' is not allowed; allowed: "
        "likert, binary, flags",
        "guidelines.yaml:32:9: categories[2].id: duplicate id 'offensive'; first defined at line 3",
        "bounds.yaml:7:18: hard_bounds[0].check.threshold: 1.5 is out of range; must be at "
        "most 1.0",
        "bounds.yaml:14:26: customisation[0].values[2]: 'strong' is forbidden by hard bound "
        "'no_insults' (line 10); the spec must not offer it",
        "bounds.yaml:21:14: customisation[1].default: default 'cheerful' is not one of the "
        "values: neutral, friendly",
        "constitution.yaml:7:5: principles[1]: missing required key 'comparison'",
        "rules.yaml:11:13: propositions[0].grader: unknown grader 'refusal'; did you mean "
        "'refusals'?",
        "rules.yaml:19:3: definitions.bad: definition cycle: bad -> good -> bad",
    ]


def test_issue_fields_are_structured(make_spec: Callable[..., Path]) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(make_spec({G: [("type: binary", "type: likret")]}))
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.column) == ("guidelines.yaml", 22, 13)
    assert issue.path == "categories[1].scale.type"
    assert issue.message == "'likret' is not allowed; allowed: likert, binary, flags"


def test_several_missing_files_are_each_reported(make_spec: Callable[..., Path]) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(make_spec({B: [("", None)], C: [("", None)]}))
    assert [(i.file, i.line) for i in caught.value.issues] == [
        ("bounds.yaml", None),
        ("constitution.yaml", None),
    ]


def test_spec_yaml_is_optional_and_empty_spec_yaml_means_defaults(
    make_spec: Callable[..., Path],
) -> None:
    assert load_spec(make_spec({S: [("", None)]})).manifest.name == "untitled"
    assert load_spec(make_spec({S: [("", "# no settings\n")]})).manifest.provenance == []


def test_missing_folder_is_an_accord_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="spec folder not found"):
        load_spec(tmp_path / "nowhere")


def test_duplicate_key_reports_every_duplicate_not_just_the_first(
    make_spec: Callable[..., Path],
) -> None:
    folder = make_spec(
        {
            C: [
                ("    critique: Find insults.\n", "    critique: Find insults.\n    critique: x\n")
            ],
            R: [("    description: Answer it.\n", "    description: a\n    description: b\n")],
        }
    )
    with pytest.raises(SpecError) as caught:
        load_spec(folder)
    assert [str(i) for i in caught.value.issues] == [
        "constitution.yaml:5:5: principles[0].critique: duplicate key 'critique'; first given "
        "at line 4",
        "rules.yaml:24:5: response_types[0].description: duplicate key 'description'; first "
        "given at line 23",
    ]
