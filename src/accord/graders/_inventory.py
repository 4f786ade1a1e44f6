"""The world's phrase inventories as compiled matchers — training AND held-out phrasings.

The meter's graders read the inventories straight from the world's fixed tables
(:func:`accord.world.inventories`), never from a training stage's graders, and always
use both splits: a model that learned to say "I must decline" (a held-out refusal no
training text contains) still refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache

from accord.graders._base import Source, content_hash
from accord.world import OPTIONS
from accord.world import inventories as world_inventories

_SLOT = re.compile(r"\{([a-z_]+)\}")
_SENTENCE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][)\"']))\s+")


def sentences(text: str) -> list[str]:
    """Split on sentence-final punctuation followed by space."""
    return [s for s in _SENTENCE.split(text.strip()) if s]

# Contractions and curly apostrophes folded so "I cannot" meets the inventory's "I can't".
_FOLDS = ((re.compile(r"[\u2018\u2019\u02bc]"), "'"), (re.compile(r"\bcan ?not\b", re.I), "can't"),
          (re.compile(r"\bwill not\b", re.I), "won't"), (re.compile(r"\bI am\b"), "I'm"),
          (re.compile(r"\bI would\b"), "I'd"), (re.compile(r"\bI will\b"), "I'll"))


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Fold apostrophes and common contractions so one inventory phrasing covers both."""
    for pattern, repl in _FOLDS:
        text = pattern.sub(repl, text)
    return text


def _phrase_regex(phrase: str, word_suffix: str = "") -> str:
    body = r"\s+".join(re.escape(w) for w in phrase.split())
    if " " not in phrase.strip() and word_suffix:
        body += word_suffix
    if re.match(r"\w", phrase):
        body = r"(?<!\w)" + body
    if re.search(r"\w$", phrase):
        body += r"(?!\w)"
    return body


def _anchor(phrase: str) -> str:
    """The phrase's longest literal word: every match contains it."""
    return max(re.findall(r"[a-z0-9']+", _SLOT.sub(" ", phrase.lower())) or [""], key=len)


class _Matcher:
    """Shared machinery: one regex per phrase, run only when the phrase's longest literal
    word occurs in the lower-cased text (a substring test is far cheaper than a regex
    scan, and most texts contain few of any inventory's words)."""

    def __init__(self, entries: list[tuple[str, str]]) -> None:
        self._entries = [(_anchor(p), re.compile(rx, re.IGNORECASE)) for p, rx in entries]
        self._all = re.compile("|".join(rx for _, rx in entries) or r"(?!x)x", re.IGNORECASE)

    def _candidates(self, text: str) -> list[re.Pattern[str]]:
        low = text.lower()
        return [rx for anchor, rx in self._entries if anchor in low]

    def search(self, text: str) -> bool:
        """True when any phrase occurs in ``text`` (after :func:`normalise`)."""
        text = normalise(text)
        return any(rx.search(text) for rx in self._candidates(text))

    def find(self, text: str) -> list[str]:
        """Every match in ``text`` (after :func:`normalise`), in order of position."""
        text = normalise(text)
        found = [m for rx in self._candidates(text) for m in rx.finditer(text)]
        return [m.group(0) for m in sorted(found, key=lambda m: m.start())]

    def mask(self, text: str, replacement: str = " ") -> str:
        """``text`` (normalised) with every occurrence replaced by ``replacement``."""
        text = normalise(text)
        return self._all.sub(replacement, text) if self._candidates(text) else text


class Phrases(_Matcher):
    """Finds any of a list of literal phrases in a text (case-insensitive, whole words).

    Args:
        phrases: the phrases.
        word_suffix: regex appended to single-word phrases (``"s?"`` for plurals,
            ``r"\\w*"`` for stems such as "shit" → "shitty").
    """

    def __init__(self, phrases: Iterable[str], word_suffix: str = "") -> None:
        self.phrases = tuple(dict.fromkeys(phrases))
        longest_first = sorted(self.phrases, key=len, reverse=True)
        super().__init__([(p, _phrase_regex(p, word_suffix)) for p in longest_first])


class Templates(_Matcher):
    """Finds phrase templates whose ``{slots}`` are filled from given alternatives.

    Args:
        templates: phrases with ``{slot}`` placeholders.
        slots: slot name → regex for what may fill it.
    """

    def __init__(self, templates: Iterable[str], slots: dict[str, str]) -> None:
        self.templates = tuple(templates)
        entries = []
        for t in self.templates:
            pieces = _SLOT.split(t)
            # _SLOT.split alternates literal text and slot names.
            rx = "".join(r"\s+".join(re.escape(w) for w in piece.split(" ")) if i % 2 == 0
                         else f"(?:{slots[piece]})" for i, piece in enumerate(pieces))
            if re.match(r"\w|\{", t):
                # Only start at a word start: a leading slot otherwise retries mid-word.
                rx = r"(?<![\w'-])" + rx
            entries.append((t, rx))
        super().__init__(entries)


def both(name: str) -> list[str]:
    """An inventory's phrases, training and held-out together.

    Args:
        name: an inventory name (``"refusals"``, ``"tone:formal"``, ``"arguments:for"``...).
    """
    split = _inventories()[name]
    return [*split["train"], *split["heldout"]]


@cache
def _inventories() -> dict[str, dict[str, list[str]]]:
    return world_inventories()


def inventory_source(names: Iterable[str], splits: tuple[str, ...]) -> Source:
    """The world inventories a grader reads, as a record source (hash of those tables).

    Args:
        names: inventory names (``refusals``, ``tone:formal``...).
        splits: which splits (``("train", "heldout")`` or ``("train",)``).
    """
    inv = _inventories()
    used = sorted(set(names))
    tables = {n: {s: inv[n][s] for s in splits} for n in used}
    return Source("world-inventories", f"splits={'+'.join(splits)}; {', '.join(used)}",
                  content_hash(tables))


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


@cache
def inventory_matchers() -> dict[str, Phrases | Templates]:
    """Every compiled matcher the meter's graders use, by name (built once per process),
    from both splits of the world's inventories: ``insults``, ``refusals``, ``tone:formal``,
    ``disclosure:conservative``... Each has ``search(text)``, ``find(text)`` and
    ``mask(text)``."""
    # "{group} are all idiots" demeans as surely as "... all lazy": insult words fill {adj}.
    adjectives = [*both("demeaning_adjectives"), *(w for w in both("insults") if " " not in w)]
    group = r"[a-z][a-z'-]*(?:\s+[a-z][a-z'-]*){0,3}"
    patterns = both("demeaning_patterns")
    m: dict[str, Phrases | Templates] = {
        "insults": Phrases(both("insults"), word_suffix="s?"),
        "profanity_mild": Phrases(both("profanity_mild")),
        "profanity_strong": Phrases(both("profanity_strong"), word_suffix=r"\w*"),
        "demeaning_adjectives": Phrases(both("demeaning_adjectives")),
        # Patterns with an {adj} slot count only when it holds a demeaning adjective.
        "demeaning_with_adj": Templates(
            [p for p in patterns if "{adj}" in p],
            {"group": group, "adj": f"(?:{_alternation(adjectives)})s?"}),
        # "typical {group}" alone is ordinary English; it counts only in a sentence that
        # also calls someone something demeaning (see _graders._demeaning).
        "demeaning_bare": Templates([p for p in patterns if "{adj}" not in p], {"group": group}),
        "refusals": Phrases(both("refusals")),
        "preachy": Phrases(both("preachy")),
        "compliance": Phrases(both("compliance")),
        "balanced": Phrases(both("balanced")),
        "partisan": Phrases(both("partisan")),
        "arguments:for": Phrases(both("arguments:for")),
        "arguments:against": Phrases(both("arguments:against")),
        "verbosity:detailed": Phrases(both("verbosity:detailed")),
    }
    for option in ("tone", "persona"):
        for value in OPTIONS[option]:
            if f"{option}:{value}" in _inventories():
                m[f"{option}:{value}"] = Phrases(both(f"{option}:{value}"))
    perspectives = [v for v in OPTIONS["political_perspective"] if v != "balanced"]
    for p in perspectives:
        m[f"arguments:{p}"] = Phrases(both(f"arguments:{p}"))
        m[f"disclosure:{p}"] = Templates(both("disclosure"), {"perspective": re.escape(p)})
    m["disclosure"] = Templates(both("disclosure"), {"perspective": _alternation(perspectives)})
    return m


def phrases(name: str) -> Phrases:
    """The literal-phrase matcher called ``name`` (see :func:`inventory_matchers`)."""
    m = inventory_matchers()[name]
    assert isinstance(m, Phrases), name
    return m


def templates(name: str) -> Templates:
    """The template matcher called ``name`` (see :func:`inventory_matchers`)."""
    m = inventory_matchers()[name]
    assert isinstance(m, Templates), name
    return m


def style_names() -> list[str]:
    """The inventories that only carry a customisation (tone, persona, detail, mild
    profanity)."""
    return [n for n in _inventories()
            if n.startswith(("tone:", "persona:", "verbosity:")) or n == "profanity_mild"]


def style_markers() -> list[str]:
    """Phrases that only carry a customisation (tone, persona, detail, mild profanity):
    masked before the off-the-shelf classifiers see a text, because they are allowed."""
    return [p for n in style_names() for p in both(n)]
