"""Semantic diffs between spec versions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from accord.spec import FieldChange, ItemChange, diff_specs, load_spec

BASE = Path(__file__).parent / "fixtures" / "base"

EXTRA_PRINCIPLE = """  - id: balanced
    text: Present the main views.
    critique: Is it one-sided?
    revision: Balance it.
    comparison: Which is more balanced?
"""


def test_identical_specs_have_an_empty_diff() -> None:
    diff = diff_specs(load_spec(BASE), load_spec(BASE))
    assert diff.is_empty
    assert diff.sections == []
    assert diff.render().endswith(": no differences")


def test_added_removed_and_changed_items_with_field_paths(
    make_spec: Callable[..., Path],
) -> None:
    old = load_spec(BASE)
    new = load_spec(
        make_spec(
            {
                "constitution.yaml": [("  - id: honest", EXTRA_PRINCIPLE + "  - id: honest")],
                "bounds.yaml": [
                    ("threshold: 0.5", "threshold: 0.7"),
                    (
                        "  - id: helpful\n    description: Help with harmless requests.\n",
                        "",
                    ),
                ],
                "guidelines.yaml": [("rating: 1", "rating: 2"), ("2: Somewhat", "2: A bit")],
                "rules.yaml": [("good: complies and not bad", "good: complies")],
                "spec.yaml": [("name: base", "name: base-2")],
            }
        )
    )
    diff = diff_specs(old, new)
    assert not diff.is_empty
    assert diff.section("principles").added == ["balanced"]
    assert diff.section("defaults").removed == ["helpful"]
    assert diff.section("hard_bounds").changed == [
        ItemChange("no_insults", [FieldChange("check.threshold", 0.5, 0.7)])
    ]
    assert diff.section("categories").changed == [
        ItemChange(
            "offensive",
            [
                FieldChange("scale.points[2]", "Somewhat", "A bit"),
                FieldChange("examples[0].rating", 1, 2),
            ],
        )
    ]
    assert diff.section("definitions").changed == [
        ItemChange("good", [FieldChange("formula", "complies and not bad", "complies")])
    ]
    assert diff.section("manifest").changed == [
        ItemChange("manifest", [FieldChange("name", "base", "base-2")])
    ]
    assert [s.section for s in diff.sections] == [
        "categories",
        "hard_bounds",
        "defaults",
        "principles",
        "definitions",
        "manifest",
    ]
    assert diff.render().splitlines() == [
        f"spec {old.version} -> {new.version}",
        "categories:",
        "  ~ offensive",
        '      scale.points[2]: "Somewhat" -> "A bit"',
        "      examples[0].rating: 1 -> 2",
        "hard_bounds:",
        "  ~ no_insults",
        "      check.threshold: 0.5 -> 0.7",
        "defaults:",
        "  - helpful (removed)",
        "principles:",
        "  + balanced (added)",
        "definitions:",
        "  ~ good",
        '      formula: "complies and not bad" -> "complies"',
        "manifest:",
        "  ~ manifest",
        '      name: "base" -> "base-2"',
    ]


def test_list_growth_and_provenance_and_settings(make_spec: Callable[..., Path]) -> None:
    new = load_spec(
        make_spec(
            {
                "spec.yaml": [
                    (
                        "    summary: Written for the tests.\n",
                        "    summary: Written for the tests.\n  - kind: ratified\n"
                        "    ratified_by: assembly-7\n",
                    )
                ],
                "guidelines.yaml": [('version: "1"', 'version: "2"')],
            }
        )
    )
    diff = diff_specs(load_spec(BASE), new)
    (change,) = diff.section("manifest").changed
    assert change.changes == [
        FieldChange(
            "provenance[1]",
            "<absent>",
            {
                "kind": "ratified",
                "summary": "",
                "details": {},
                "ratified_by": "assembly-7",
                "ratified_at": None,
            },
        )
    ]
    assert diff.section("settings").changed == [
        ItemChange("guidelines", [FieldChange("version", "1", "2")])
    ]
    as_dict = diff.to_dict()
    assert as_dict["old_version"] == load_spec(BASE).version
    assert as_dict["sections"][0]["section"] == "manifest"
