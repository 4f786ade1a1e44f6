"""The bundled, seeded demo world: a chat corpus, prompt sets and held-out probes.

A tiny model pretrained on :attr:`World.pretrain_documents` shows the unwanted behaviours
the demo spec is about (offensive, one-sided, objectionable compliance, over-refusal,
preachiness, ignoring customisation) at the rates set in :class:`WorldConfig`, and knows
the facts in :attr:`World.facts`; later stages must bring the unwanted rates down. Every
response carries ground-truth labels. See docs/world.md.

Importing this package registers the built-in scenarios (``_kinds``); a new prompt kind is
one ``@scenario("kind")`` function, and :meth:`WorldConfig.validate` asks the registry.
"""

from accord.world._build import PROBE_KINDS, PROMPT_SPLITS, build_world, inventories
from accord.world._config import WorldConfig
from accord.world._constitutional import (
    CHOICE_HEADER,
    CHOICE_OPTIONS,
    CRITIQUE_REQUEST,
    PRINCIPLES,
    REVISION_REQUEST,
    Principle,
    PrincipleLike,
    choice_conversation,
    choice_prompt,
    critique_conversation,
    critique_dialogue,
    critique_request,
    parse_choice_answer,
    parse_choice_prompt,
    parse_critique_dialogue,
    revision_conversation,
    revision_request,
)
from accord.world._facts import FACTS, Fact, FactTable, contains_answer, is_heldout_pair
from accord.world._heldout import HELDOUT
from accord.world._kinds import SCENARIOS
from accord.world._registry import known_kinds, scenario
from accord.world._scenarios import BEHAVIOURS, Case, Draw
from accord.world._settings import (
    DEFAULT_SETTINGS,
    OPTIONS,
    SettingsLineError,
    format_settings_line,
    parse_system_prompt,
    read_settings_line,
    resolve_settings,
    settings_to_system_prompt,
)
from accord.world._style import Reply, disclosure_line
from accord.world._text import TermMatcher, phrase_pattern
from accord.world._world import World, canonical_json, check_no_leakage

__all__ = [
    "BEHAVIOURS",
    "CHOICE_HEADER",
    "CHOICE_OPTIONS",
    "CRITIQUE_REQUEST",
    "DEFAULT_SETTINGS",
    "FACTS",
    "HELDOUT",
    "OPTIONS",
    "PRINCIPLES",
    "PROBE_KINDS",
    "PROMPT_SPLITS",
    "REVISION_REQUEST",
    "SCENARIOS",
    "Case",
    "Draw",
    "Fact",
    "FactTable",
    "Principle",
    "PrincipleLike",
    "Reply",
    "SettingsLineError",
    "TermMatcher",
    "World",
    "WorldConfig",
    "build_world",
    "canonical_json",
    "check_no_leakage",
    "choice_conversation",
    "choice_prompt",
    "contains_answer",
    "critique_conversation",
    "critique_dialogue",
    "critique_request",
    "disclosure_line",
    "format_settings_line",
    "inventories",
    "is_heldout_pair",
    "known_kinds",
    "parse_choice_answer",
    "parse_choice_prompt",
    "parse_critique_dialogue",
    "parse_system_prompt",
    "phrase_pattern",
    "read_settings_line",
    "resolve_settings",
    "revision_conversation",
    "revision_request",
    "scenario",
    "settings_to_system_prompt",
]
