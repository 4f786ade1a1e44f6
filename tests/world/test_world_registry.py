"""Scenarios register themselves; the config's validation asks the registry."""

from __future__ import annotations

import pytest

from accord.errors import AccordError
from accord.world import SCENARIOS, WorldConfig, known_kinds, scenario


def test_the_built_in_kinds_are_registered_in_their_order():
    assert list(SCENARIOS) == ["fact", "arithmetic", "contested", "group", "insult_request",
                               "objectionable", "benign_borderline", "small_talk"]
    assert known_kinds() == sorted(SCENARIOS)


def test_a_newly_registered_kind_is_allowed_without_editing_the_config():
    config = WorldConfig(kind_weights={"fact": 1.0, "poetry": 1.0})
    with pytest.raises(AccordError, match=r"unknown prompt kinds \['poetry'\]"):
        config.validate()
    try:
        @scenario("poetry")
        def poetry(draw):  # never drawn: only registered
            raise AssertionError("not called")

        config.validate()
        assert "poetry" in known_kinds()
    finally:
        SCENARIOS.pop("poetry", None)
    with pytest.raises(AccordError, match="allowed: \\['arithmetic', 'benign_borderline'"):
        config.validate()
