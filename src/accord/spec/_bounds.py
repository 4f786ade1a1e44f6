"""bounds.yaml: hard bounds, customisation options and the defaults that hold by default."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from accord.spec._base import Id, SpecModel, Text

LAYERS = ("platform", "deployment", "user", "conversation")
Layer = Literal["platform", "deployment", "user", "conversation"]


class Check(SpecModel):
    """How a hard bound is checked: a rules.yaml proposition scored above a threshold."""

    proposition: Id
    threshold: float = Field(ge=0.0, le=1.0)


class BoundScreen(SpecModel):
    """A registered grader (``accord.graders``) that screens every served answer for a
    hard bound: crossed when its score exceeds ``threshold``."""

    grader: Text  # a named grader that reads any text, e.g. offensive, harmful_compliance
    threshold: float | None = Field(None, ge=0.0, le=1.0)  # None: the grader's own


class HardBound(SpecModel):
    """A limit no customisation may cross.

    ``screens`` names the real-text graders that enforce the bound on a served model's
    answers (docs/customize.md); a bound without them gets Accord's defaults for its id.
    """

    id: Id
    description: Text
    check: Check
    safe_completion: Text
    forbids: dict[Id, list[str]] = Field(default_factory=dict)
    screens: list[BoundScreen] = Field(default_factory=list)

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict:
        # A bound that names no screens dumps as before, so specs written before
        # ``screens`` existed keep their canonical hash (and their spec version).
        data = handler(self)
        if not self.screens:
            data.pop("screens", None)
        return data


class CustomisationOption(SpecModel):
    """A setting users may choose, among allowed values."""

    id: Id
    description: Text
    values: list[str] = Field(min_length=1)
    default: str
    disclosure: dict[str, Text] = Field(default_factory=dict)
    # value -> a sentence a real chat model follows ("Answer in two sentences at most.");
    # compiled into the system prompt by ``Bounds.system_prompt`` (docs/customize.md).
    instructions: dict[str, Text] = Field(default_factory=dict)

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict:
        data = handler(self)  # no instructions: dumps as before (same spec hash)
        if not self.instructions:
            data.pop("instructions", None)
        return data


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
    # A natural-language system prompt for real chat models; ``{instructions}`` becomes the
    # chosen values' instructions. None: the demo's ``Settings:`` line (docs/customize.md).
    system_prompt: Text | None = None

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict:
        data = handler(self)  # no template: dumps as before (same spec hash)
        if self.system_prompt is None:
            data.pop("system_prompt", None)
        return data

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
