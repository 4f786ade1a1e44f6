"""A deliberation's settings, stored as JSON in ``deliberations.config`` and validated here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from accord.errors import AccordError

from .math import RatificationThresholds

ACCOUNTS, ANONYMOUS = "accounts", "anonymous"


class ThresholdSettings(BaseModel):
    """What a statement must reach to be proposed (see :class:`RatificationThresholds`)."""

    model_config = ConfigDict(extra="forbid")

    min_group_agree: float = Field(0.7, ge=0.0, le=1.0)
    min_votes: int = Field(10, ge=0)
    min_group_votes: int = Field(3, ge=0)
    min_bridging: float | None = None
    min_group_informed_consensus: float | None = Field(None, ge=0.0, le=1.0)
    weighted: bool = False
    min_agree: float = Field(0.0, ge=0.0, le=1.0)

    def thresholds(self) -> RatificationThresholds:
        return RatificationThresholds(**self.model_dump())


class ImportSource(BaseModel):
    """What an import read besides the rows it stored (kept with the settings, so that
    no migration is needed): the source's own participant ids, columns and totals.

    Attributes:
        format: ``polis-opendata``.
        folder: the folder's name.
        has_history: it had votes.csv; False: the votes are one snapshot of the vote
            matrix, all stamped ``snapshot_ms``.
        snapshot_ms: the time the snapshot's votes carry.
        xids: participant number -> Polis ``xid`` (the external id), non-empty ones only.
        participant_columns: other participant columns: column -> number -> value.
        layout: the participant columns of participants-votes.csv in the file's order.
        stats_history: stats-history.csv as kept (``columns``, ``rows``, ``points``).
    """

    model_config = ConfigDict(extra="forbid")

    format: Literal["polis-opendata"] = "polis-opendata"
    folder: str = ""
    has_history: bool = True
    snapshot_ms: int | None = None
    xids: dict[str, str] = Field(default_factory=dict)
    participant_columns: dict[str, dict[str, str]] = Field(default_factory=dict)
    layout: list[str] = Field(default_factory=list)
    stats_history: dict[str, Any] | None = None


class DeliberationConfig(BaseModel):
    """How a deliberation runs.

    Attributes:
        participation: ``accounts`` (signed-in accounts with the deliberate permission)
            or ``anonymous`` (anyone; a random token in a cookie identifies a browser).
        thresholds: what a statement needs to be proposed for ratification.
        demographic_targets: variable -> {category: population share}; participants are
            asked these variables (opt-in) and raked to these margins. Empty: unweighted.
        seed: seeds the analysis.
        history: replay the vote history as Polis's updates (False: one update).
        max_updates: at most this many replayed updates.
        exclude_bulk: leave participants flagged as bulk voting out of the analysis.
        max_statement_length: longest statement a participant may submit, in characters.
        spec_dir: the spec folder a ratified change is written into.
        source: set by an import (what the export held besides the rows); kept when the
            settings are replaced.
    """

    model_config = ConfigDict(extra="forbid")

    participation: Literal["accounts", "anonymous"] = ACCOUNTS
    thresholds: ThresholdSettings = Field(default_factory=ThresholdSettings)
    demographic_targets: dict[str, dict[str, float]] = Field(default_factory=dict)
    seed: int = 0
    history: bool = True
    max_updates: int = Field(300, ge=1)
    exclude_bulk: bool = False
    max_statement_length: int = Field(280, ge=20, le=2000)
    spec_dir: str | None = None
    source: ImportSource | None = None

    @model_validator(mode="after")
    def _targets_are_shares(self) -> DeliberationConfig:
        for variable, shares in self.demographic_targets.items():
            if not shares:
                raise ValueError(f"demographic_targets.{variable}: give at least one category")
            if any(v < 0 for v in shares.values()) or abs(sum(shares.values()) - 1) > 1e-6:
                raise ValueError(f"demographic_targets.{variable}: shares must be non-negative "
                                 f"and sum to 1 (they sum to {sum(shares.values()):.4f})")
        return self


def parse_config(data: Mapping[str, Any] | None, where: str = "config") -> DeliberationConfig:
    """Validate settings; every problem is named by its key.

    Raises:
        AccordError: unknown keys or values out of range, one line each.
    """
    try:
        return DeliberationConfig.model_validate(dict(data or {}))
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = ("unknown key; allowed: " + ", ".join(DeliberationConfig.model_fields)
                   if err["type"] == "extra_forbidden" and len(err["loc"]) == 1
                   else err["msg"])
            lines.append(f"{where}: {key}: {msg}")
        raise AccordError("\n".join(lines)) from None


def config_of_row(row: Any) -> DeliberationConfig:
    """The validated settings of a stored deliberation (a ``Deliberation`` row)."""
    return parse_config(row.config, f"deliberation {row.name!r} config")


def read_config_file(path: Path) -> DeliberationConfig:
    """Settings from a JSON or YAML file.

    Raises:
        AccordError: the file is missing, empty, does not parse, or does not validate.
    """
    if not path.is_file():
        raise AccordError(f"{path}: config file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AccordError(f"{path}: not UTF-8 text ({exc.reason})") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise AccordError(f"{path}: does not parse ({exc})") from None
    else:
        # The spec's reader: alias bombs, tags and deep nesting end in a located error.
        from accord.spec import read_yaml

        loaded = read_yaml(text)
        if loaded.problems:
            p = loaded.problems[0]
            raise AccordError(f"{path}:{p.line + 1}:{p.column + 1}: {p.message}")
        data = loaded.data
    if data is None or data == {}:
        # Every setting would silently return to its default: almost surely a wrong file.
        raise AccordError(f"{path}: holds no settings; write the ones to set (every setting "
                          "left out keeps its default)")
    if not isinstance(data, dict):
        raise AccordError(f"{path}: expected a mapping of settings at the top level")
    return parse_config(data, str(path))
