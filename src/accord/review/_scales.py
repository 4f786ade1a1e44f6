"""Check a reviewer's answers against the scales of the guideline version they were shown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accord.errors import AccordError
from accord.spec import BinaryScale, Category, FlagsScale, LikertScale


class RatingError(AccordError):
    """A submitted rating or ranking does not fit the item or the guideline scales."""


def check_values(categories: Sequence[Category], values: Mapping[str, Any], *,
                 partial: bool = False) -> dict[str, Any]:
    """Validate ``values`` ({category id: answer}) and return them normalised.

    Likert answers are scale points (ints; digit strings accepted from forms), binary ones
    ``"yes"``/``"no"``, flags a list of flag ids (sorted, no repeats; ``[]`` means none).

    Args:
        categories: the guideline categories of the batch's spec version.
        values: the answers.
        partial: allow categories to be missing (the reviewer marked the item unclear).

    Raises:
        RatingError: an unknown category, a value off its scale, or a missing category.
    """
    known = {category.id: category for category in categories}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise RatingError(f"unknown categories {unknown}; this guideline version has: "
                          f"{', '.join(known)}")
    checked: dict[str, Any] = {}
    for category in categories:
        if category.id not in values:
            if not partial:
                raise RatingError(f"category {category.id!r} is not rated; rate every category "
                                  "or mark the guideline unclear")
            continue
        checked[category.id] = _check_one(category, values[category.id])
    return checked


def _check_one(category: Category, value: Any) -> Any:
    scale = category.scale
    if isinstance(scale, LikertScale):
        point = value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            point = int(value)
        if isinstance(point, bool) or not isinstance(point, int) or point not in scale.points:
            raise RatingError(f"{category.id}: {value!r} is not a point of the scale; allowed: "
                              f"{', '.join(str(p) for p in scale.values())}")
        return point
    if isinstance(scale, BinaryScale):
        if value not in ("yes", "no"):
            raise RatingError(f"{category.id}: {value!r} is not allowed; answer 'yes' or 'no'")
        return value
    assert isinstance(scale, FlagsScale)
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise RatingError(f"{category.id}: {value!r} is not a list of flag ids; allowed ids: "
                          f"{', '.join(scale.values())} (or [] for none)")
    bad = sorted({str(v) for v in value} - set(scale.values()))
    if bad:
        raise RatingError(f"{category.id}: unknown flags {bad}; allowed: "
                          f"{', '.join(scale.values())}")
    return sorted(set(value))


def check_tiers(completion_ids: Sequence[int], tiers: Any) -> list[list[int]]:
    """Validate a ranking: tiers best first, ties share a tier, every completion once.

    Raises:
        RatingError: not a list of non-empty lists, or not exactly the item's completions.
    """
    if not isinstance(tiers, list) or not tiers or not all(
        isinstance(tier, list) and tier for tier in tiers
    ):
        raise RatingError("a ranking is a non-empty list of tiers (best first), each a "
                          "non-empty list of completion ids; ties share a tier")
    flat = [int(c) for tier in tiers for c in tier]
    if sorted(flat) != sorted(completion_ids):
        raise RatingError(f"the ranking names completions {sorted(flat)}; it must name each of "
                          f"this item's completions {sorted(completion_ids)} exactly once")
    return [sorted(int(c) for c in tier) for tier in tiers]

