"""The one customisation system-prompt format: write, read, round trip, errors."""

from __future__ import annotations

import itertools

import pytest

from accord.errors import AccordError
from accord.world import (
    DEFAULT_SETTINGS,
    OPTIONS,
    parse_system_prompt,
    resolve_settings,
    settings_to_system_prompt,
)


def test_all_defaults_means_no_system_message():
    assert settings_to_system_prompt({}) is None
    assert settings_to_system_prompt(DEFAULT_SETTINGS) is None


def test_lists_only_non_default_options_in_canonical_order():
    text = settings_to_system_prompt(
        {"persona": "pirate", "tone": "friendly", "verbosity": "normal", "profanity": "mild"})
    assert text == "Settings: tone=friendly; profanity=mild; persona=pirate"


def test_round_trip_over_every_combination():
    for values in itertools.product(*OPTIONS.values()):
        settings = dict(zip(OPTIONS, values, strict=True))
        text = settings_to_system_prompt(settings)
        parsed = parse_system_prompt(text)
        assert resolve_settings(parsed) == settings
        assert settings_to_system_prompt(parsed) == text


def test_parse_tolerates_whitespace_and_defaults():
    assert parse_system_prompt("  Settings:  tone = formal ;verbosity=normal; ") == {
        "tone": "formal"}
    assert parse_system_prompt(None) == {}
    assert parse_system_prompt("") == {}


@pytest.mark.parametrize("text, fragment", [
    ("Be nice", "not a settings line"),
    ("Settings: mood=happy", "unknown customisation option 'mood'"),
    ("Settings: tone=angry", "allowed values"),
    ("Settings: tone", "not 'option=value'"),
    ("Settings: tone=formal; tone=playful", "twice"),
])
def test_parse_errors_say_what_is_allowed(text, fragment):
    with pytest.raises(AccordError, match=fragment):
        parse_system_prompt(text)


def test_writing_rejects_values_outside_the_bounds():
    with pytest.raises(AccordError, match="allowed values"):
        settings_to_system_prompt({"profanity": "strong"})
