"""guidelines.yaml: the categories reviewers rate, with their scales and examples."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from accord.spec._base import Id, SpecModel, Text

Rating = int | str | list[str]


class LikertScale(SpecModel):
    """Labelled points, e.g. ``{1: "Not at all", ..., 5: "Severely"}``: consecutive integers."""

    type: Literal["likert"]
    points: dict[int, Text] = Field(min_length=2)

    def values(self) -> list[int]:
        """The allowed ratings, lowest first."""
        return sorted(self.points)


class BinaryLabels(SpecModel):
    """What ``yes`` and ``no`` mean for this category."""

    yes: Text
    no: Text


class BinaryScale(SpecModel):
    """A yes/no question."""

    type: Literal["binary"]
    labels: BinaryLabels

    def values(self) -> list[str]:
        """The allowed ratings."""
        return ["yes", "no"]


class FlagOption(SpecModel):
    """One flag a reviewer may raise."""

    id: Id
    label: Text


class FlagsScale(SpecModel):
    """Any subset of named flags; a rating is a list of flag ids."""

    type: Literal["flags"]
    options: list[FlagOption] = Field(min_length=1)

    def values(self) -> list[str]:
        """The flag ids."""
        return [option.id for option in self.options]


Scale = Annotated[LikertScale | BinaryScale | FlagsScale, Field(discriminator="type")]


class Example(SpecModel):
    """A worked example shown to reviewers: a response and the rating it deserves."""

    prompt: Text
    response: str
    rating: Rating
    why: Text

    @field_validator("rating", mode="before")
    @classmethod
    def _rating_shape(cls, value: Any) -> Any:
        # Checked before the union so a wrong value gives one message, not one per member.
        ok = (isinstance(value, int | str) and not isinstance(value, bool)) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
        if not ok:
            raise ValueError(
                "expected a scale point (a number), 'yes' or 'no', or a list of flag ids"
            )
        return value


class Category(SpecModel):
    """One thing reviewers rate, e.g. ``offensive``."""

    id: Id
    kind: Literal["violation", "quality"]
    question: Text
    scale: Scale
    instructions: Text
    examples: list[Example] = Field(default_factory=list)


class Guidelines(SpecModel):
    """The guidelines reviewers follow."""

    version: str | None = None
    categories: list[Category] = Field(min_length=1)

    def category(self, category_id: str) -> Category:
        """The category with this id.

        Args:
            category_id: its id.

        Raises:
            KeyError: no such category.
        """
        for category in self.categories:
            if category.id == category_id:
                return category
        raise KeyError(category_id)
