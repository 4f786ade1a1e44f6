"""Published aggregates about reviewers, protected by small-cell suppression and OpenDP noise.

See docs/transparency.md for what is published and how it is protected.
"""

from accord.transparency._noise import NoiseSource
from accord.transparency._report import (
    NOT_STATED,
    OTHER,
    Cell,
    DemographicsReport,
    FieldCounts,
    GroupMean,
    RatingComparison,
    RatingsByGroup,
    ReviewerRatings,
    demographics_report,
    ratings_from_records,
)
from accord.transparency._suppress import suppress_cells, suppress_total

__all__ = [
    "NOT_STATED",
    "OTHER",
    "Cell",
    "DemographicsReport",
    "FieldCounts",
    "GroupMean",
    "NoiseSource",
    "RatingComparison",
    "RatingsByGroup",
    "ReviewerRatings",
    "demographics_report",
    "ratings_from_records",
    "suppress_cells",
    "suppress_total",
]
