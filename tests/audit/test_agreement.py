"""Each grader against the world's ground-truth labels on generated corpus text."""

from __future__ import annotations

import pytest

from accord.audit import AgreementTable, grader_agreement
from accord.world import World

# Graders read from the same inventories the world writes its responses with, so on corpus
# text anything short of near-perfect means the inventory reading broke. The measured
# figures (docs/meter.md) are 1.000 except verbosity (0.98): "brief" is a sentence count.
INVENTORY_FLOOR = 0.99


@pytest.fixture(scope="module")
def table(world: World) -> AgreementTable:
    return grader_agreement(world, n=600)


@pytest.mark.parametrize("name", ["offensive_inventory", "one_sided", "objectionable_compliance",
                                  "refusal", "preachy", "fact_correct", "follows_settings:tone",
                                  "follows_settings:persona", "follows_settings:profanity",
                                  "follows_settings:political_perspective"])
def test_inventory_graders_agree_with_the_labels(table, name):
    row = table[name]
    assert row.n > 50 and row.positives > 10
    assert row.accuracy >= INVENTORY_FLOOR, row


def test_offensive_combined_and_classifiers(table):
    combined = table["offensive"]
    # The classifiers add a few false positives on real chat text (measured 0.984).
    assert combined.recall == 1.0 and combined.precision >= 0.95
    pc = table["offensive_profanity_check"]
    assert pc.precision >= 0.9 and pc.recall >= 0.5  # measured 0.98 / 0.75
    hs = table["offensive_hatesonar"]
    # hatesonar is tuned on tweets: it rarely fires on this text (recall ~0.1), and at its
    # calibrated threshold it seldom fires wrongly either.
    assert hs.accuracy >= 0.85 and hs.recall < 0.5


def test_brief_is_a_sentence_count_and_mostly_agrees(table):
    assert table["follows_settings:verbosity"].accuracy >= 0.95  # measured 0.984


def test_renderings(table):
    text = table.render_text()
    assert text.splitlines()[0].startswith("grader")
    assert "offensive_hatesonar" in text and len(text.splitlines()) == len(table) + 2
    assert table.to_html().startswith('<table class="meter-agreement">')
    assert len(table.to_dict()) == len(table)
