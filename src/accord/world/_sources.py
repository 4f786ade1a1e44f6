"""Real human chat text from the installed ``chitchat-dataset`` and ``chatterbot-corpus``.

It gives the corpus varied language (small-talk replies and plain chit-chat documents).
Text is cleaned before use: anything containing profanity, insults or party-political
words is dropped (so the unwanted behaviours occur only at the configured rates), and so
is anything containing a held-out entity or phrasing (so probes stay unseen).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from accord.errors import AccordError
from accord.world._phrases import INVENTORIES
from accord.world._text import TermMatcher, words

# Political words: chit-chat about real politicians would add one-sidedness we don't control.
_POLITICAL = {"trump", "obama", "hillary", "clinton", "democrat", "democrats", "republican",
              "republicans", "liberal", "liberals", "conservative", "conservatives",
              "progressive", "progressives", "libertarian", "libertarians", "leftist",
              "leftists", "gop", "abortion", "politics", "political"}
# Stems of profanity and slurs; text with a word starting with one is dropped.
_BAD_STEMS = re.compile(r"(?<![a-z])(?:fuck|shit|bitch|cunt|nigg|fag|retard|whore|slut|bastard"
                        r"|asshole|dick|puss|damn|crap|piss|wank|cock)")
_BAD_WORDS = {"ass", "hell", "sex", "sexy", "porn", "kill", "killed", "murder", "suicide",
              "rape", "drunk", "weed", "drugs", "hate"}
# Sums in chit-chat could collide with held-out arithmetic probes.
_ARITHMETIC = re.compile(r"\d+ (plus|minus|times) \d+", re.IGNORECASE)
_OPS = {"plus", "minus", "times"}
# chatterbot categories used; coding/tech support are off-topic and politics is one-sided.
_CHATTERBOT_FILES = ("ai", "botprofile", "computers", "conversations", "emotion", "food",
                     "gossip", "greetings", "health", "history", "humor", "literature",
                     "money", "movies", "psychology", "science", "sports", "trivia")
_MAX_LINE = 160


@dataclass(frozen=True)
class ChatText:
    """Cleaned chat text: conversations (lists of lines) and (user, reply) pairs."""

    conversations: tuple[tuple[str, ...], ...]
    pairs: tuple[tuple[str, str], ...]


# Every inventory phrase (insults, refusals, tone markers...): chat text containing one
# would show a behaviour or a setting at a rate nobody configured, and blur the labels.
# Demeaning adjectives ("boring") and policy arguments are ordinary words in chat.
_INVENTORY = TermMatcher(
    (name, phrase) for name, split in INVENTORIES.items() if name != "demeaning_adjectives"
    for phrase in (*split.train, *split.heldout))


def _blocked(text: str, ws: set[str]) -> bool:
    if ws & _POLITICAL or ws & _BAD_WORDS or _INVENTORY.matches(text, ws):
        return True
    if ws & _OPS and _ARITHMETIC.search(text):
        return True
    return bool(_BAD_STEMS.search(text.lower()))


def _chitchat() -> list[list[str]]:
    try:
        import chitchat_dataset
    except ImportError as e:  # pragma: no cover - the world extra is installed in dev
        raise AccordError(
            "the demo world needs chitchat-dataset: pip install 'accord[world]'") from e
    data = chitchat_dataset.Dataset()
    convs = []
    for key in sorted(data):
        lines = [" ".join(u["text"].strip() for u in m).strip() for m in data[key]["messages"]]
        convs.append([" ".join(line.split()) for line in lines if line])
    return convs


def _load_yaml(text: str) -> Any:
    # PyYAML's C loader is ~50x faster than pure-Python ruamel (no C extension here); both
    # read these plain files identically, so the world does not depend on which is present.
    try:
        import yaml

        return yaml.load(text, Loader=yaml.CSafeLoader)
    except (ImportError, AttributeError):
        from ruamel.yaml import YAML

        return YAML(typ="safe", pure=True).load(text)


def _chatterbot() -> list[list[str]]:
    try:
        from chatterbot_corpus.corpus import DATA_DIRECTORY
    except ImportError as e:  # pragma: no cover
        raise AccordError(
            "the demo world needs chatterbot-corpus: pip install 'accord[world]'") from e
    convs: list[list[str]] = []
    for name in _CHATTERBOT_FILES:
        path = Path(DATA_DIRECTORY) / "english" / f"{name}.yml"
        doc = _load_yaml(path.read_text(encoding="utf-8"))
        for conv in doc.get("conversations", []):
            convs.append([" ".join(str(line).split()) for line in conv if str(line).strip()])
    return convs


@lru_cache(maxsize=4)
def load_chat_text(excluded: TermMatcher, chunk: int = 8,
                   max_pairs: int = 8000) -> ChatText:
    """Load, clean and cut the chat text (cached: loading chitchat takes a second or two).

    Args:
        excluded: text matching any of its terms is dropped (the held-out matcher).
        chunk: lines per plain-text conversation document.
        max_pairs: how many (user, reply) pairs to keep from chitchat.

    Returns:
        Conversations (chitchat chunks of ``chunk`` lines, then chatterbot conversations
        of three or more lines) and small-talk pairs (chatterbot first exchanges, then
        adjacent chitchat messages).
    """

    def ok(text: str) -> bool:
        ws = words(text)
        return not _blocked(text, ws) and not excluded.matches(text, ws)

    chitchat = _chitchat()
    chatterbot = _chatterbot()
    conversations: list[tuple[str, ...]] = []
    for conv in chitchat:
        for i in range(0, len(conv), chunk):
            piece = tuple(line for line in conv[i:i + chunk] if len(line) <= _MAX_LINE)
            if len(piece) >= 3 and ok("\n".join(piece)):
                conversations.append(piece)
    conversations += [tuple(c) for c in chatterbot if len(c) >= 3 and ok("\n".join(c))]
    pairs: list[tuple[str, str]] = []
    for conv in chatterbot:
        if len(conv) >= 2 and ok(conv[0] + "\n" + conv[1]):
            pairs.append((conv[0], conv[1]))
    n_chatterbot = len(pairs)
    for conv in chitchat:
        for user, reply in pairwise(conv):
            if len(pairs) - n_chatterbot >= max_pairs:
                break
            if 2 <= len(user) <= 100 and 2 <= len(reply) <= 100 and ok(user + "\n" + reply):
                pairs.append((user, reply))
    return ChatText(tuple(conversations), tuple(pairs))
