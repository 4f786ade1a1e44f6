"""What participant text may hold: the one check for statements, imported comments and the
other free text a participant or an export brings in."""

from __future__ import annotations

# Characters that reorder the text around them when displayed (the "Trojan Source"
# controls): a statement holding one can read differently from what is stored and voted on.
BIDI_CONTROLS = {
    "\u202a": "LEFT-TO-RIGHT EMBEDDING", "\u202b": "RIGHT-TO-LEFT EMBEDDING",
    "\u202c": "POP DIRECTIONAL FORMATTING", "\u202d": "LEFT-TO-RIGHT OVERRIDE",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE", "\u2066": "LEFT-TO-RIGHT ISOLATE",
    "\u2067": "RIGHT-TO-LEFT ISOLATE", "\u2068": "FIRST STRONG ISOLATE",
    "\u2069": "POP DIRECTIONAL ISOLATE",
}


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be accepted as participant text, or None when it can.

    Args:
        text: a statement, comment body or other participant-supplied value.

    Returns:
        A sentence naming the first offending character and its position (1-based), or
        None. A NUL byte is refused because text columns cannot hold it (PostgreSQL) and
        a CSV round trip loses it; bidirectional controls because they make the shown
        text differ from the stored one.
    """
    for i, ch in enumerate(text, start=1):
        if ch == "\x00":
            return (f"contains a NUL character (U+0000) at character {i}; text cannot "
                    "hold it, remove it")
        name = BIDI_CONTROLS.get(ch)
        if name is not None:
            return (f"contains a bidirectional control character (U+{ord(ch):04X} {name}) "
                    f"at character {i}, which makes text display differently from what "
                    "it says; remove it")
    return None
