"""The one customisation system-prompt format, written and read.

A system prompt lists only the options that differ from their defaults, in a fixed order::

    Settings: tone=friendly; verbosity=brief; political_perspective=progressive

All defaults → no system message at all. This module owns the line: one writer
(:func:`format_settings_line`) and one reader (:func:`read_settings_line`). The world's
strict pair (:func:`settings_to_system_prompt`, :func:`parse_system_prompt`) checks the demo
options; the customisation layer writes and reads the same line for any spec's options, and
the simulated reviewers read it leniently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

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


class SettingsLineError(AccordError):
    """A ``Settings:`` line has an item that is not ``option=value``, or an option twice.

    ``problem`` is ``"not_pair"`` (``part`` is the item, stripped) or ``"twice"`` (``part``
    is the option), so that a caller can word the error for where the line came from.
    """

    def __init__(self, problem: str, part: str) -> None:
        self.problem, self.part = problem, part
        if problem == "not_pair":
            super().__init__(f"settings item {part!r} is not 'option=value'")
        else:
            super().__init__(f"settings name option {part!r} twice")


def format_settings_line(items: Mapping[str, str]) -> str | None:
    """The ``Settings: k=v; ...`` line naming ``items`` in their order; ``None`` when empty.

    Nothing is checked or dropped: callers pass only the options to name (see
    :func:`settings_to_system_prompt`).
    """
    if not items:
        return None
    return PREFIX + " " + "; ".join(f"{k}={v}" for k, v in items.items())


def read_settings_line(text: str, *, lenient: bool = False,
                       check: Callable[[str, str], None] | None = None
                       ) -> dict[str, str] | None:
    """The options a ``Settings: k=v; ...`` line names, values as written.

    Whitespace around the line, items, names and values is ignored; empty items are skipped.

    Args:
        text: the line (a system message's text).
        lenient: skip items that are not ``option=value`` and let a repeated option's last
            value win, instead of raising (the simulated reviewers read what they can).
        check: called with each (option, value) as it is read, before the next item; it
            raises to refuse one (strict reading only).

    Returns:
        option -> value in the line's order, or ``None`` when ``text`` is not a settings
        line (does not start with ``Settings:``).

    Raises:
        SettingsLineError: (strict) an item is not ``option=value``, or an option is named
            twice.
    """
    body = text.strip()
    if not body.startswith(PREFIX):
        return None
    found: dict[str, str] = {}
    for item in body[len(PREFIX):].split(";"):
        name, sep, value = (s.strip() for s in item.partition("="))
        if lenient:
            if sep:
                found[name] = value
            continue
        if not item.strip():
            continue
        if not sep:
            raise SettingsLineError("not_pair", item.strip())
        if name in found:
            raise SettingsLineError("twice", name)
        if check is not None:
            check(name, value)
        found[name] = value
    return found


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
    return format_settings_line(non_default(settings))


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
    found = read_settings_line(text, check=_check)
    if found is None:
        raise AccordError(
            f"system prompt {text!r} is not a settings line; expected "
            f"'{PREFIX} option=value; ...' with options {list(OPTIONS)}")
    return non_default(found)
