"""Text matching used to keep held-out material out of training text.

Held-out entities ("beekeepers") and phrasings ("Give me your honest opinion of {group}.")
must never appear in anything a model is trained on. Scanning megabytes of text with one
regex per term is slow, so :class:`TermMatcher` indexes every term by one distinctive word
and only runs a term's regex when that word occurs in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+")
_PLACEHOLDER = re.compile(r"\{[a-z_0-9]+\}")


def words(text: str) -> set[str]:
    """The lower-cased alphanumeric words of ``text``."""
    return set(_WORD.findall(text.lower()))


def phrase_pattern(template: str) -> re.Pattern[str]:
    """A case-insensitive regex that *searches* for ``template``, any text in its ``{slots}``.

    ``"Give me your honest opinion of {group}."`` is found in
    ``"so, give me your honest opinion of surfers."``. Word boundaries are added where the
    template starts or ends with a word character, so ``"7 plus 5"`` is not found inside
    ``"17 plus 56"``. Use ``.search`` (a slot at either end matches by lookaround, so the
    match span covers only the literal part).
    """
    parts = _PLACEHOLDER.split(template)
    # A slot at either end only needs one character there: a lookaround says so without
    # making the regex start with a lazy repeat, which is slow at every text position.
    lead = r"(?<=[^\n])" if parts[0] == "" else ""
    tail = r"(?=[^\n])" if parts[-1] == "" else ""
    inner = r"[^\n]{1,80}?".join(re.escape(p) for p in parts[int(lead != ""):
                                                             len(parts) - int(tail != "")])
    body = lead + inner + tail
    if re.match(r"\w", template):
        body = r"\b" + body
    if re.search(r"\w$", template):
        body = body + r"\b"
    return re.compile(body, re.IGNORECASE)


def _anchor(template: str) -> str:
    """The longest literal word of a template: the word every match must contain."""
    literal = _PLACEHOLDER.sub(" ", template)
    candidates = sorted(words(literal), key=lambda w: (-len(w), w))
    if not candidates:
        raise ValueError(f"template {template!r} has no literal word to index it by")
    return candidates[0]


@dataclass(frozen=True)
class Term:
    """One held-out term: what it is (``label``), its text, and its compiled pattern."""

    label: str
    template: str
    pattern: re.Pattern[str]
    required: frozenset[str]  # literal words a text must contain before the regex is run


class TermMatcher:
    """Finds which of many templates occur in a text, quickly.

    Args:
        terms: ``(label, template)`` pairs; templates may contain ``{slot}`` placeholders.
    """

    def __init__(self, terms: Iterable[tuple[str, str]]) -> None:
        self._index: dict[str, list[Term]] = {}
        for label, template in terms:
            literal = words(_PLACEHOLDER.sub(" ", template))
            term = Term(label, template, phrase_pattern(template), frozenset(literal))
            self._index.setdefault(_anchor(template), []).append(term)

    def find(self, text: str) -> list[Term]:
        """Every term that occurs in ``text`` (in a stable order)."""
        ws = words(text)
        hits: list[Term] = []
        for word in sorted(ws & self._index.keys()):
            hits.extend(t for t in self._index[word]
                        if t.required <= ws and t.pattern.search(text))
        return hits

    def matches(self, text: str, ws: set[str] | None = None) -> bool:
        """True when any term occurs in ``text`` (``ws``: its :func:`words`, if known)."""
        ws = words(text) if ws is None else ws
        for word in ws & self._index.keys():
            if any(t.required <= ws and t.pattern.search(text) for t in self._index[word]):
                return True
        return False


def split_sentences(text: str) -> list[str]:
    """Split on sentence-final punctuation followed by a space (good enough for our text)."""
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def capitalise(text: str) -> str:
    """Upper-case the first character only (``str.capitalize`` would lower the rest)."""
    return text[:1].upper() + text[1:]
