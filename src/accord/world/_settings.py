"""The one customisation system-prompt format, written and read.

A system prompt lists only the options that differ from their defaults, in a fixed order::

    Settings: tone=friendly; verbosity=brief; political_perspective=progressive

All defaults → no system message at all. The customisation layer compiles a user's
profile with :func:`settings_to_system_prompt`; the world uses the same pair everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

from accord.errors import AccordError

# The demo spec's customisation options and their allowed values; the first is the default.
OPTIONS: dict[str, tuple[str, ...]] = {
    "tone": ("neutral", "friendly", "formal", "playful"),
    "verbosity": ("normal", "brief", "detailed"),
    "political_perspective": ("balanced", "progressive", "conservative", "libertarian"),
    "profanity": ("none", "mild"),
    "persona": ("assistant", "tutor", "pirate"),
}
DEFAULT_SETTINGS: dict[str, str] = {name: values[0] for name, values in OPTIONS.items()}
PREFIX = "Settings:"


def _check(name: str, value: str) -> None:
    if name not in OPTIONS:
        raise AccordError(f"unknown customisation option {name!r}; allowed: {list(OPTIONS)}")
    if value not in OPTIONS[name]:
        raise AccordError(
            f"customisation option {name}={value!r} is not allowed; "
            f"allowed values: {list(OPTIONS[name])}")


def non_default(settings: Mapping[str, str]) -> dict[str, str]:
    """The options of ``settings`` that differ from the defaults, in canonical order.

    Raises:
        AccordError: an unknown option or a value outside its allowed list.
    """
    for name, value in settings.items():
        _check(name, value)
    return {n: settings[n] for n in OPTIONS if n in settings and settings[n] != DEFAULT_SETTINGS[n]}


def resolve_settings(settings: Mapping[str, str] | None) -> dict[str, str]:
    """Every option's value: the given ones over the defaults."""
    return {**DEFAULT_SETTINGS, **non_default(settings or {})}


def settings_to_system_prompt(settings: Mapping[str, str]) -> str | None:
    """The system prompt that asks for ``settings``, or ``None`` when all are defaults.

    Raises:
        AccordError: an unknown option or a value outside its allowed list.
    """
    chosen = non_default(settings)
    if not chosen:
        return None
    return PREFIX + " " + "; ".join(f"{k}={v}" for k, v in chosen.items())


def parse_system_prompt(text: str | None) -> dict[str, str]:
    """The non-default options named in a system prompt (``{}`` for ``None`` or empty).

    Inverse of :func:`settings_to_system_prompt`: whitespace around items is tolerated,
    options naming their default value are dropped.

    Raises:
        AccordError: the text is not in the ``Settings: k=v; ...`` format, or names an
            unknown option, a disallowed value or the same option twice.
    """
    if text is None or not text.strip():
        return {}
    body = text.strip()
    if not body.startswith(PREFIX):
        raise AccordError(
            f"system prompt {text!r} is not a settings line; expected "
            f"'{PREFIX} option=value; ...' with options {list(OPTIONS)}")
    found: dict[str, str] = {}
    for item in body[len(PREFIX):].split(";"):
        if not item.strip():
            continue
        name, sep, value = (s.strip() for s in item.partition("="))
        if not sep:
            raise AccordError(f"settings item {item.strip()!r} is not 'option=value'")
        if name in found:
            raise AccordError(f"settings name option {name!r} twice")
        _check(name, value)
        found[name] = value
    return non_default(found)
