"""How far reviewers agree: Krippendorff's α per category, ranking agreement, reviewer quality.

Everything here works on plain records (no database): the storage layer turns its rows
into :class:`RatingRecord` / :class:`RankingRecord` and calls these functions.

α is computed with the ``krippendorff`` package: ordinal for Likert scales (the labelled
points are ordered but not equally spaced), nominal for binary ones, and for flags one
nominal yes/no variable per flag id (reported as ``category:flag``), because a flags
rating is a set of independent judgements, not one value.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, NamedTuple

import krippendorff
import numpy as np

from accord.errors import AccordError

Value = int | str | tuple[str, ...]

# Scale types map to a level of measurement; a level may also be given directly.
_LEVEL_OF_SCALE = {"likert": "ordinal", "binary": "nominal", "flags": "flags"}
_LEVELS = ("nominal", "ordinal", "interval", "flags")


@dataclass(frozen=True)
class CategoryInfo:
    """What the analytics need to know about one guideline category.

    Attributes:
        id: the category id, e.g. ``offensive``.
        kind: ``violation`` (to avoid) or ``quality`` (to achieve).
        scale_type: ``likert``, ``binary`` or ``flags``.
        values: the allowed ratings: Likert points lowest first, ``("yes", "no")``, or the
            flag ids.
        question: the question reviewers answer (shown in clarity reports).
    """

    id: str
    kind: str
    scale_type: str
    values: tuple[Any, ...]
    question: str = ""

    @classmethod
    def from_category(cls, category: Any) -> CategoryInfo:
        """Build from an ``accord.spec.Category`` (read by attribute, so no import needed).

        Args:
            category: a spec category with ``id``, ``kind``, ``question`` and ``scale``.
        """
        return cls(category.id, category.kind, category.scale.type,
                   tuple(category.scale.values()), category.question)

    @property
    def level(self) -> str:
        """The level of measurement α uses for this category."""
        return _LEVEL_OF_SCALE[self.scale_type]


def levels_for(categories: Iterable[CategoryInfo]) -> dict[str, str]:
    """The ``levels`` mapping :func:`alpha_by_category` wants, from category infos.

    Args:
        categories: the categories to analyse.
    """
    return {c.id: c.level for c in categories}


@dataclass(frozen=True)
class RatingRecord:
    """One reviewer's rating of one item on one category.

    Attributes:
        item_id: the rated item (a completion shown in a batch).
        reviewer_id: who rated it.
        category: the guideline category id.
        value: a Likert point (int), ``"yes"``/``"no"``, or the ticked flag ids (a list is
            accepted and stored as a sorted tuple).
        guideline_version: the guideline version the reviewer was shown.
        simulated: True when a simulated reviewer produced it.
    """

    item_id: str
    reviewer_id: str
    category: str
    value: Value
    guideline_version: str
    simulated: bool = False

    def __post_init__(self) -> None:
        # Flags arrive as lists from forms and JSON; a sorted tuple is hashable and makes
        # {b, a} and {a, b} the same rating.
        if isinstance(self.value, list | tuple | set | frozenset):
            object.__setattr__(self, "value", tuple(sorted(set(self.value))))


@dataclass(frozen=True)
class AlphaResult:
    """Krippendorff's α for one category (or one flag of a flags category).

    Attributes:
        category: the category id, or ``category:flag`` for one flag.
        level: ``ordinal``, ``nominal`` or ``interval``.
        alpha: α in [-1, 1]; None when undefined (no item has two ratings, or every
            rating is the same so there is no variation to agree about).
        n_items: items rated at least once.
        n_ratings: ratings counted.
        n_reviewers: distinct reviewers.
        n_pairable: items with at least two ratings (only these carry information).
        guideline_version: the version the ratings were made under.
    """

    category: str
    level: str
    alpha: float | None
    n_items: int
    n_ratings: int
    n_reviewers: int
    n_pairable: int = 0
    guideline_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able fields."""
        return dict(self.__dict__)


def _latest(records: Iterable[RatingRecord]) -> dict[tuple[str, str], RatingRecord]:
    """One rating per (item, reviewer): a later record replaces an earlier re-rating."""
    out: dict[tuple[str, str], RatingRecord] = {}
    for r in records:
        out[(r.item_id, r.reviewer_id)] = r
    return out


def alpha_from_table(table: Mapping[tuple[str, str], float], level: str) -> float | None:
    """α of a {(item, reviewer): number} table; None where α is undefined.

    Args:
        table: numeric ratings keyed by (item id, reviewer id).
        level: ``nominal``, ``ordinal`` or ``interval``.
    """
    items = sorted({i for i, _ in table})
    reviewers = sorted({r for _, r in table})
    col = {i: k for k, i in enumerate(items)}
    row = {r: k for k, r in enumerate(reviewers)}
    data = np.full((len(reviewers), len(items)), np.nan)
    for (i, r), v in table.items():
        data[row[r], col[i]] = v
    return alpha_from_matrix(data, level)


def alpha_from_matrix(data: np.ndarray, level: str) -> float | None:
    """α of a reviewers × items matrix (NaN = not rated); None where undefined.

    Args:
        data: the reliability matrix.
        level: ``nominal``, ``ordinal`` or ``interval``.
    """
    if data.size == 0:
        return None
    pairable = np.sum(~np.isnan(data), axis=0) >= 2
    values = data[:, pairable]
    values = values[~np.isnan(values)]
    # The package raises (one value) or returns NaN (nothing pairable); both mean "there
    # is nothing to measure agreement on", which callers need as None, not as an error.
    if values.size == 0 or np.unique(values).size < 2:
        return None
    alpha = float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
    return None if math.isnan(alpha) else alpha


def _check_level(category: str, level: str) -> str:
    level = _LEVEL_OF_SCALE.get(level, level)
    if level not in _LEVELS:
        raise AccordError(f"levels[{category!r}] = {level!r} is not a level; allowed: "
                          f"{', '.join(_LEVELS)} or a scale type ({', '.join(_LEVEL_OF_SCALE)})")
    return level


def _versions(records: Sequence[RatingRecord], guideline_version: str | None) -> str | None:
    versions = sorted({r.guideline_version for r in records})
    if guideline_version is not None or len(versions) <= 1:
        return guideline_version if guideline_version is not None else (
            versions[0] if versions else None)
    raise AccordError(
        f"ratings span guideline versions {versions}; ratings made under different guideline "
        "texts are not comparable, so pass guideline_version=... or use alpha_by_version")


def alpha_by_category(records: Iterable[RatingRecord], levels: Mapping[str, str], *,
                      guideline_version: str | None = None) -> dict[str, AlphaResult]:
    """Krippendorff's α for each category in ``levels``, within one guideline version.

    Args:
        records: ratings; categories missing from ``levels`` are ignored.
        levels: category id → level (``ordinal``/``nominal``/``interval``/``flags``) or scale
            type (``likert`` → ordinal, ``binary`` → nominal, ``flags`` → one nominal α per
            flag, keyed ``category:flag``).
        guideline_version: keep only ratings made under this version. When None, the
            records must all share one version.

    Returns:
        {category (or ``category:flag``): AlphaResult}, in the order of ``levels``.

    Raises:
        AccordError: an unknown level, or several versions mixed without choosing one.
    """
    records = list(records)
    version = _versions(records, guideline_version)
    if guideline_version is not None:
        records = [r for r in records if r.guideline_version == guideline_version]
    by_category: dict[str, list[RatingRecord]] = defaultdict(list)
    for r in records:
        by_category[r.category].append(r)
    results: dict[str, AlphaResult] = {}
    for category, raw_level in levels.items():
        level = _check_level(category, raw_level)
        latest = _latest(by_category.get(category, []))
        for name, sub_level, table in _tables(category, level, latest):
            items = {i for i, _ in table}
            counts = Counter(i for i, _ in table)
            results[name] = AlphaResult(
                name, sub_level, alpha_from_table(table, sub_level) if table else None,
                len(items), len(table), len({r for _, r in table}),
                sum(1 for n in counts.values() if n >= 2), version)
    return results


def _tables(category: str, level: str, latest: Mapping[tuple[str, str], RatingRecord]
            ) -> Iterator[tuple[str, str, dict[tuple[str, str], float]]]:
    """(name, level, numeric table) for a category: one table, or one per flag."""
    if level == "flags":
        flags = sorted({f for r in latest.values() for f in _as_flags(r.value)})
        for flag in flags:
            yield (f"{category}:{flag}", "nominal",
                   {k: float(flag in _as_flags(r.value)) for k, r in latest.items()})
        return
    codes = _codes(r.value for r in latest.values())
    yield category, level, {k: codes[r.value] for k, r in latest.items()}


def _as_flags(value: Value) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else ()


def _codes(values: Iterable[Value]) -> dict[Value, float]:
    """Numbers for α: Likert points as themselves, other values as arbitrary codes."""
    distinct = set(values)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in distinct):
        return {v: float(v) for v in distinct}  # type: ignore[arg-type]
    # Nominal codes only need to be distinct; sorted by text for stable output.
    return {v: float(k) for k, v in enumerate(sorted(distinct, key=str))}


def alpha_by_version(records: Iterable[RatingRecord],
                     levels: Mapping[str, str]) -> dict[str, dict[str, AlphaResult]]:
    """:func:`alpha_by_category` for each guideline version present.

    Args:
        records: ratings under any number of guideline versions.
        levels: as for :func:`alpha_by_category`.
    """
    records = list(records)
    versions = sorted({r.guideline_version for r in records})
    return {v: alpha_by_category(records, levels, guideline_version=v) for v in versions}


# --- rankings -----------------------------------------------------------------------------

@dataclass(frozen=True)
class RankingRecord:
    """One reviewer's ranking of the completions of one group (one prompt).

    Attributes:
        group_id: the group of completions compared (e.g. a prompt in a batch).
        reviewer_id: who ranked them.
        tiers: completion ids, best tier first; ids in one tier are tied.
        simulated: True when a simulated reviewer produced it.
    """

    group_id: str
    reviewer_id: str
    tiers: list[list[str]] = field(default_factory=list)
    simulated: bool = False


class RankedPair(NamedTuple):
    """Two completions from one ranking: ``first`` is better unless ``tied``."""

    first: str
    second: str
    tied: bool


def expand_ranking_with_ties(tiers: Sequence[Sequence[str]]) -> list[RankedPair]:
    """All C(K, 2) pairs of a ranking of K completions, tied pairs flagged.

    Args:
        tiers: completion ids, best tier first.

    Raises:
        AccordError: a completion appears twice.
    """
    flat = [c for tier in tiers for c in tier]
    if len(flat) != len(set(flat)):
        dupes = sorted(c for c, n in Counter(flat).items() if n > 1)
        raise AccordError(f"ranking lists completions {dupes} more than once")
    pairs: list[RankedPair] = []
    for t, tier in enumerate(tiers):
        pairs += [RankedPair(a, b, True) for a, b in combinations(tier, 2)]
        pairs += [RankedPair(a, b, False) for a in tier for lower in tiers[t + 1:] for b in lower]
    return pairs


def expand_ranking(tiers: Sequence[Sequence[str]]) -> list[tuple[str, str]]:
    """The (better, worse) pairs of a ranking; tied pairs are skipped (they prefer nothing).

    Args:
        tiers: completion ids, best tier first.
    """
    return [(p.first, p.second) for p in expand_ranking_with_ties(tiers) if not p.tied]


def _order(tiers: Sequence[Sequence[str]]) -> dict[str, int]:
    return {c: t for t, tier in enumerate(tiers) for c in tier}


@dataclass(frozen=True)
class PairwiseAgreement:
    """How often two reviewers order a pair of completions the same way.

    Attributes:
        rate: agreeing comparisons / all comparisons; None when nothing was compared.
        n_pairs: comparisons counted (reviewer pairs × completion pairs both ranked).
        n_groups: groups ranked by at least two reviewers.
    """

    rate: float | None
    n_pairs: int
    n_groups: int


def pairwise_agreement(rankings: Iterable[RankingRecord]) -> PairwiseAgreement:
    """Share of reviewer pairs × completion pairs where both reviewers order the pair alike.

    Two reviewers agree on completions (a, b) when both put a above b, both put b above a,
    or both tie them; a tie against a preference is a disagreement. Only completions both
    reviewers ranked are compared; a reviewer's later ranking of a group replaces theirs.

    Args:
        rankings: rankings of any number of groups.
    """
    groups: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for r in rankings:
        groups[r.group_id][r.reviewer_id] = _order(r.tiers)
    agree = total = n_groups = 0
    for by_reviewer in groups.values():
        if len(by_reviewer) < 2:
            continue
        n_groups += 1
        for ra, rb in combinations(sorted(by_reviewer), 2):
            oa, ob = by_reviewer[ra], by_reviewer[rb]
            for x, y in combinations(sorted(set(oa) & set(ob)), 2):
                total += 1
                # Sign of the tier difference: -1 (x better), 0 (tied), 1 (y better).
                agree += int(np.sign(oa[x] - oa[y]) == np.sign(ob[x] - ob[y]))
    return PairwiseAgreement(agree / total if total else None, total, n_groups)


# --- reviewer quality ---------------------------------------------------------------------

def _agrees(value: Value, peers: Sequence[Value], tolerance: float) -> bool:
    if isinstance(value, int) and all(isinstance(p, int) for p in peers):
        # Likert: within `tolerance` points of the peers' mean ("adjacent agreement"),
        # because exact matches on a 5-point scale punish honest one-point differences.
        return abs(value - sum(peers) / len(peers)) <= tolerance  # type: ignore[arg-type]
    counts = Counter(peers)
    top = max(counts.values())
    # Nominal values and flag sets: matching any of the peers' most common answers.
    return counts[value] == top


def reviewer_agreement(records: Iterable[RatingRecord], *,
                       tolerance: float = 1.0) -> dict[str, float]:
    """For each reviewer, the share of their ratings that agree with their peers.

    A rating agrees when, on the same item and category, it is within ``tolerance`` points of
    the other reviewers' mean (Likert) or equals the other reviewers' majority answer (binary,
    and flags compared as whole sets; any of tied majorities counts). Ratings no one else
    made are not counted; reviewers with none counted are left out.

    Args:
        records: ratings (one guideline version, or versions that share categories).
        tolerance: Likert distance from the peers' mean still counted as agreement.
    """
    cells: dict[tuple[str, str], dict[str, Value]] = defaultdict(dict)
    for r in records:
        cells[(r.item_id, r.category)][r.reviewer_id] = r.value
    hits: dict[str, list[bool]] = defaultdict(list)
    for by_reviewer in cells.values():
        for reviewer, value in by_reviewer.items():
            peers = [v for other, v in by_reviewer.items() if other != reviewer]
            if peers:
                hits[reviewer].append(_agrees(value, peers, tolerance))
    return {r: sum(h) / len(h) for r, h in sorted(hits.items())}


def gold_accuracy(records: Iterable[RatingRecord],
                  gold: Mapping[tuple[str, str], Value]) -> dict[str, float]:
    """For each reviewer, the share of their ratings of gold items that match the gold answer.

    Args:
        records: ratings.
        gold: (item id, category) → the known right answer (flags as a list or tuple).
    """
    truth = {k: RatingRecord("", "", "", v, "").value for k, v in gold.items()}
    hits: dict[str, list[bool]] = defaultdict(list)
    for r in records:
        key = (r.item_id, r.category)
        if key in truth:
            hits[r.reviewer_id].append(r.value == truth[key])
    return {r: sum(h) / len(h) for r, h in sorted(hits.items())}
