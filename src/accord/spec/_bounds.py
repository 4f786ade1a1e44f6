"""bounds.yaml: hard bounds, customisation options and the defaults that hold by default."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from accord.spec._base import Id, SpecModel, Text

LAYERS = ("platform", "deployment", "user", "conversation")
Layer = Literal["platform", "deployment", "user", "conversation"]


class Check(SpecModel):
    """How a hard bound is checked: a rules.yaml proposition scored above a threshold."""

    proposition: Id
    threshold: float = Field(ge=0.0, le=1.0)


class HardBound(SpecModel):
    """A limit no customisation may cross."""

    id: Id
    description: Text
    check: Check
    safe_completion: Text
    forbids: dict[Id, list[str]] = Field(default_factory=dict)


class CustomisationOption(SpecModel):
    """A setting users may choose, among allowed values."""

    id: Id
    description: Text
    values: list[str] = Field(min_length=1)
    default: str
    disclosure: dict[str, Text] = Field(default_factory=dict)


class Default(SpecModel):
    """A behaviour that holds when the user says nothing, optionally tied to an option."""

    id: Id
    description: Text
    option: Id | None = None
    value: str | None = None


class Bounds(SpecModel):
    """Everything users may and may not change."""

    chain_of_command: list[Layer] = Field(default_factory=lambda: list(LAYERS))
    hard_bounds: list[HardBound] = Field(default_factory=list)
    customisation: list[CustomisationOption] = Field(default_factory=list)
    defaults: list[Default] = Field(default_factory=list)

    def option(self, option_id: str) -> CustomisationOption:
        """The customisation option with this id.

        Args:
            option_id: its id.

        Raises:
            KeyError: no such option.
        """
        for option in self.customisation:
            if option.id == option_id:
                return option
        raise KeyError(option_id)
