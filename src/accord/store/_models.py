"""The tables Accord needs from the start: spec versions, model versions, prompts, completions.

Later packages add their own tables (with their own migrations) next to these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accord.store._base import Base, JSONType, UTCDateTime, utcnow


class SpecVersion(Base):
    """One version of the written spec, identified by the sha256 of its canonical content."""

    __tablename__ = "spec_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first 12 hex digits of ``hash``: what people read and type.
    version: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(255))
    content: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Where this version came from (e.g. a ratified deliberation), so a model trained on it
    # can be traced back to the public input that shaped it.
    provenance: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"SpecVersion(id={self.id}, version={self.version!r}, name={self.name!r})"


class ModelVersion(Base):
    """A trained checkpoint and how it was made: stage, parent, spec version, data, config."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    stage: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"), index=True)
    spec_version_id: Mapped[int | None] = mapped_column(ForeignKey("spec_versions.id"))
    artifact_path: Mapped[str] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Data set name -> content hash, so the exact training data can be checked later.
    datasets: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[ModelVersion | None] = relationship(remote_side=[id])
    spec_version: Mapped[SpecVersion | None] = relationship()

    def __repr__(self) -> str:
        return f"ModelVersion(id={self.id}, name={self.name!r}, stage={self.stage!r})"


class Prompt(Base):
    """A conversation to complete, stored once per distinct list of messages."""

    __tablename__ = "prompts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 of the canonical JSON of ``messages``; the same conversation is one row.
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    messages: Mapped[list[dict[str, str]]] = mapped_column(JSONType)
    split: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(255))
    meta: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"Prompt(id={self.id}, split={self.split!r}, hash={self.hash[:12]!r})"


class Completion(Base):
    """One sampled response of a model version to a prompt, with how it was sampled."""

    __tablename__ = "completions"
    # Reviews and audits fetch "all completions of model M for prompt P".
    __table_args__ = (Index(None, "prompt_id", "model_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id"))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    text: Mapped[str] = mapped_column(Text)
    sampling: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # BigInteger: seeds are often drawn from the full unsigned 32-bit range.
    seed: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    prompt: Mapped[Prompt] = relationship()
    model_version: Mapped[ModelVersion] = relationship()

    def __repr__(self) -> str:
        return (
            f"Completion(id={self.id}, prompt_id={self.prompt_id}, "
            f"model_version_id={self.model_version_id})"
        )
