"""One world per session, and generate functions that answer the world's SFT prompts with
the world's own labelled responses."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from accord.world import PROBE_KINDS, World, WorldConfig, build_world

# Customisation probes ask these kinds (every option shows in their text).
CUSTOMISATION_KINDS = ("fact", "contested", "group", "benign_borderline")


@pytest.fixture(scope="session")
def world() -> World:
    # A third of the default corpus: plenty of labelled dialogues for agreement at n=600,
    # and the default prompt, SFT, pair and probe sets, a few seconds quicker to build.
    return build_world(WorldConfig(n_dialogues=6000))


@pytest.fixture(scope="session")
def sft_probes(world: World) -> dict[str, list[dict]]:
    """The world's SFT prompts arranged like probe sets, so that the world's own ideal
    (SFT) and unwanted (preference-pair rejected) responses can answer them."""
    by_kind = {kind: name for name, kind in PROBE_KINDS.items()}
    sets: dict[str, list[dict]] = {}
    for p in world.prompts["sft"]:
        if p["kind"] in by_kind:
            sets.setdefault(by_kind[p["kind"]], []).append(p)
        if p["settings"] and p["kind"] in CUSTOMISATION_KINDS:
            # As the world's customisation probes: a perspective only where it can show.
            visible = {k: v for k, v in p["settings"].items()
                       if k != "political_perspective" or p["kind"] == "contested"}
            if visible:
                sets.setdefault("customisation", []).append({**p, "settings": visible})
    return sets


Generate = Callable[[Sequence[list[dict]]], list[str]]


def _lookup(world: World, table: dict[str, str]) -> Generate:
    prompt_id = {repr(p["messages"]): p["id"] for p in world.prompts["sft"]}
    ideal = {ex["prompt_id"]: ex["messages"][-1]["content"] for ex in world.sft_examples}

    def generate(conversations: Sequence[list[dict]]) -> list[str]:
        ids = [prompt_id[repr(c)] for c in conversations]
        return [table.get(i, ideal[i]) for i in ids]

    return generate


@pytest.fixture(scope="session")
def always_chosen(world: World) -> Generate:
    """Answers every SFT prompt with its ideal response."""
    return _lookup(world, {})


@pytest.fixture(scope="session")
def always_rejected(world: World) -> Generate:
    """Answers with the preference pair's rejected response (the ideal one where the
    prompt has no pair)."""
    return _lookup(world, {p["prompt_id"]: p["rejected"][0]["content"]
                           for p in world.preference_pairs})
