"""constitution.yaml (principles for Constitutional AI) and spec.yaml (the manifest)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from accord.spec._base import Id, SpecModel, Text


class Principle(SpecModel):
    """One principle with the prompts that apply it."""

    id: Id
    text: Text
    critique: Text
    revision: Text
    comparison: Text


class Constitution(SpecModel):
    """The principles used for critique/revision and AI feedback."""

    principles: list[Principle] = Field(min_length=1)


class ProvenanceRecord(SpecModel):
    """Where (part of) this version came from, e.g. a ratified public deliberation."""

    kind: Text
    summary: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    ratified_by: str | None = None
    ratified_at: str | None = None


class Manifest(SpecModel):
    """spec.yaml: the spec's name, description and provenance."""

    name: Text = "untitled"
    description: str = ""
    provenance: list[ProvenanceRecord] = Field(default_factory=list)
