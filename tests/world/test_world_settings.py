"""The one customisation system-prompt format: write, read, round trip, errors."""

from __future__ import annotations

import itertools

import pytest

from accord.errors import AccordError
from accord.world import (
    DEFAULT_SETTINGS,
    OPTIONS,
    SettingsLineError,
    format_settings_line,
    parse_system_prompt,
    read_settings_line,
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


def test_the_line_is_written_as_given_and_read_back():
    # Any spec's options (the customisation layer's), not only the demo world's.
    items = {"mood": "sunny", "tone": "neutral"}
    line = format_settings_line(items)
    assert line == "Settings: mood=sunny; tone=neutral"
    assert read_settings_line(line) == items
    assert format_settings_line({}) is None
    assert read_settings_line("Be nice") is None
    assert read_settings_line(" Settings: ;a = 1 ; ") == {"a": "1"}


@pytest.mark.parametrize("text, problem, part", [
    ("Settings: tone", "not_pair", "tone"),
    ("Settings: tone=formal; tone=formal", "twice", "tone"),
])
def test_strict_reading_says_which_item_is_wrong(text, problem, part):
    with pytest.raises(SettingsLineError) as caught:
        read_settings_line(text)
    assert (caught.value.problem, caught.value.part) == (problem, part)


def test_lenient_reading_skips_bad_items_and_the_last_value_wins():
    text = "Settings: tone=formal; shouting; tone=playful; persona = pirate"
    assert read_settings_line(text, lenient=True) == {"tone": "playful", "persona": "pirate"}


def test_check_sees_each_item_before_the_next_is_read():
    seen = []

    def check(name: str, value: str) -> None:
        seen.append((name, value))
        if value == "bad":
            raise AccordError(f"{name} is bad")

    with pytest.raises(AccordError, match="tone is bad"):
        read_settings_line("Settings: tone=bad; oops", check=check)
    assert seen == [("tone", "bad")]
