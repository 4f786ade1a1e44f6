"""Loading valid specs, content hashes, dumping, from_content and the starter spec."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from accord.errors import AccordError
from accord.spec import (
    GRADER_KINDS,
    BinaryScale,
    FlagsScale,
    LikertScale,
    Spec,
    SpecError,
    dump_spec,
    load_spec,
    write_starter_spec,
)

BASE = Path(__file__).parent / "fixtures" / "base"
DEMO = Path(__file__).parents[2] / "examples" / "demo" / "spec"


@pytest.fixture(scope="module")
def demo() -> Spec:
    return load_spec(DEMO)


def test_demo_spec_loads_with_what_the_launch_text_asked_for(demo: Spec) -> None:
    categories = {c.id: c for c in demo.guidelines.categories}
    assert {"offensive", "one_sided", "objectionable", "over_refusal", "preachy", "helpful"} <= set(
        categories
    )
    assert categories["offensive"].kind == "violation"
    assert isinstance(categories["offensive"].scale, LikertScale)
    assert categories["offensive"].scale.values() == [1, 2, 3, 4, 5]
    assert isinstance(categories["objectionable"].scale, BinaryScale)
    assert isinstance(categories["issues"].scale, FlagsScale)
    assert "factual_error" in categories["issues"].scale.values()
    political = demo.bounds.option("political_perspective")
    assert political.default == "balanced"
    assert set(political.disclosure) == {"progressive", "conservative", "libertarian"}
    assert "strong" not in demo.bounds.option("profanity").values
    assert 6 <= len(demo.constitution.principles) <= 10
    assert {g.kind for g in demo.rules.graders} <= set(GRADER_KINDS)
    assert [r.id for r in demo.rules.response_types] == ["comply", "refuse"]


def test_rules_classify_takes_the_best_class_that_holds(demo: Spec) -> None:
    false = {p.id: False for p in demo.rules.propositions}
    ideal = {**false, "complies_fully": True, "gives_facts": True}
    assert demo.rules.classify("comply", ideal) == "ideal"
    assert demo.rules.classify("comply", {**ideal, "gives_facts": False}) == "acceptable"
    assert demo.rules.classify("comply", {**false, "refuses": True}) == "unacceptable"
    assert demo.rules.classify("comply", {**ideal, "uses_slur": True}) == "disallowed"
    refusal = {**false, "refuses": True, "offers_alternative": True}
    assert demo.rules.classify("refuse", refusal) == "ideal"
    assert demo.rules.classify("refuse", {**refusal, "judgemental": True}) == "unacceptable"
    with pytest.raises(KeyError):
        demo.rules.classify("chat", false)


def test_summary_lists_counts_and_ids(demo: Spec) -> None:
    text = demo.summary()
    assert f"spec 'accord-demo' version {demo.version}" in text
    assert "categories: 8 (offensive, one_sided," in text
    assert "response types: 2 (comply, refuse)" in text


def test_hash_is_sha256_of_canonical_content(demo: Spec) -> None:
    import hashlib

    canonical = json.dumps(
        demo.content(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert demo.hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert demo.version == demo.hash[:12]
    assert json.loads(json.dumps(demo.content())) == demo.content()


def test_dump_and_load_keeps_the_hash(demo: Spec, tmp_path: Path) -> None:
    again = load_spec(dump_spec(demo, tmp_path / "copy"))
    assert again.hash == demo.hash
    assert again == demo


def test_from_content_round_trip(demo: Spec) -> None:
    content = json.loads(json.dumps(demo.content()))  # as stored in a database
    assert Spec.from_content(content).hash == demo.hash


def test_from_content_revalidates_and_reports_without_positions(demo: Spec) -> None:
    content = copy.deepcopy(demo.content())
    content["bounds"]["customisation"][0]["default"] = "shouty"
    content["rules"]["propositions"][0]["grader"] = "nobody"
    del content["constitution"]
    content["extra"] = {}
    with pytest.raises(SpecError) as caught:
        Spec.from_content(content)
    assert [str(i) for i in caught.value.issues] == [
        "<content>: extra: unknown section; allowed: manifest, guidelines, bounds, "
        "constitution, rules",
        "bounds.yaml: customisation[0].default: default 'shouty' is not one of the values: "
        "neutral, friendly, formal, playful",
        "constitution.yaml: section 'constitution' is missing",
        "rules.yaml: propositions[0].grader: unknown grader 'nobody'; known: refusal_patterns, "
        "apology_patterns, expletives, profanity_model, hate_model, tone_sentiment, judge",
    ]


def test_reordering_keys_and_changing_comments_or_layout_keeps_the_hash(
    make_spec: Callable[..., Path],
) -> None:
    base = load_spec(BASE)
    reordered = make_spec(
        {
            "constitution.yaml": [
                (
                    "  - id: harmless\n    text: Do not insult anyone.\n",
                    "  # the first principle\n  - text: Do not insult anyone.\n      "
                    "\n    id:   harmless   # trailing comment\n",
                )
            ],
            "bounds.yaml": [("values: [none, mild]", "values:\n      - none\n      - 'mild'")],
            "rules.yaml": [
                (
                    "  bad: insults or refuses\n  good: complies and not bad\n",
                    "  good: complies and not bad\n  bad: insults or refuses\n",
                )
            ],
        }
    )
    assert load_spec(reordered).hash == base.hash


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("guidelines.yaml", "Rate insults.", "Rate insults and slurs."),
        ("guidelines.yaml", "rating: 1", "rating: 2"),
        ("bounds.yaml", "threshold: 0.5", "threshold: 0.6"),
        ("rules.yaml", "good: complies and not bad", "good: not bad and complies"),
        ("spec.yaml", "name: base", "name: base2"),
    ],
)
def test_changing_any_value_changes_the_hash(
    make_spec: Callable[..., Path], file: str, old: str, new: str
) -> None:
    assert load_spec(make_spec({file: [(old, new)]})).hash != load_spec(BASE).hash


def test_starter_spec_loads_and_refuses_to_overwrite(tmp_path: Path) -> None:
    folder = write_starter_spec(tmp_path / "mine")
    spec = load_spec(folder)
    assert spec.manifest.name == "my-assistant"
    assert "# guidelines.yaml" in (folder / "guidelines.yaml").read_text()
    before = (folder / "rules.yaml").read_text()
    with pytest.raises(AccordError, match="already exist"):
        write_starter_spec(folder)
    assert (folder / "rules.yaml").read_text() == before


def test_starter_refuses_if_any_single_file_exists(tmp_path: Path) -> None:
    (tmp_path / "bounds.yaml").write_text("hard_bounds: []\n")
    with pytest.raises(AccordError, match=r"bounds\.yaml"):
        write_starter_spec(tmp_path)
    assert not (tmp_path / "guidelines.yaml").exists()


def test_spec_is_importable_without_torch() -> None:
    code = "import sys, accord.spec; print('torch' in sys.modules)"
    src = str(Path(__file__).parents[2] / "src")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src},
    )
    assert out.stdout.strip() == "False"
