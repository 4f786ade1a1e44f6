"""Shared pieces of the spec models."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

# Ids are referenced from formulas and from other files, so they are identifiers.
ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1)]


class SpecModel(BaseModel):
    """Base of every spec model: unknown keys are errors, and models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
