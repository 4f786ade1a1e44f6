"""The published reviewer-demographics report: who reviews, and how groups rate differently.

Two protections, in this order:

1. Small-cell suppression on the true counts: no count below ``min_cell`` is shown (zeros
   included, so "suppressed" never tells "nobody" from "a few"), and complementary
   suppression hides more cells so none can be recovered from the total (see
   :mod:`._suppress`). A population smaller than ``min_cell`` publishes nothing.
2. Differential privacy on everything shown: every count, total and rating sum is an
   OpenDP release with Laplace noise. The total ε is split evenly over the queries:
   the total (1), one histogram per field (a reviewer falls in one cell: OpenDP's
   count-by-categories has sensitivity 1 for all cells), and per (rating measure,
   grouping field) one histogram of reviewer counts and one vector of per-group rating
   sums (a reviewer is in one group: L1 sensitivity = the scale's width). All queries
   read one data set (a row per reviewer) and are released as one OpenDP composition;
   the ε the report states is that composition's privacy map (see :mod:`._noise`).

Which cells are suppressed depends on true counts, as in standard statistical disclosure
control; that pattern is not covered by ε, which is why it is a separate, stated rule.
Noisy results are post-processed (free under DP): counts become non-negative integers, and
a shown cell's count is at least ``min_cell`` (being shown already says it is); means are
clamped to the rating scale.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from accord.errors import AccordError
from accord.transparency._noise import NoiseSource
from accord.transparency._suppress import suppress_cells, suppress_total

NOT_STATED = "not stated"
OTHER = "other"
# Answers that mean the reviewer chose not to say; all are published as NOT_STATED.
DECLINED = frozenset({"", NOT_STATED, "prefer not to say"})


@dataclass(frozen=True)
class Cell:
    """One published cell.

    Attributes:
        value: the answer, e.g. ``25-34``.
        count: the noisy count; None when suppressed.
        suppressed: None when shown, else ``small`` or ``complementary``.
    """

    value: str
    count: int | None
    suppressed: str | None = None


@dataclass(frozen=True)
class FieldCounts:
    """How reviewers answered one survey question.

    Attributes:
        field: the question, e.g. ``age_band``.
        cells: one per answer.
        epsilon: the ε spent on this histogram.
    """

    field: str
    cells: list[Cell]
    epsilon: float


@dataclass(frozen=True)
class GroupMean:
    """One group's mean rating on one measure.

    Attributes:
        group: the group's answer, e.g. ``left``.
        n_reviewers: noisy number of reviewers; None when suppressed.
        mean: noisy mean rating (mean of each reviewer's own mean); None when suppressed.
        suppressed: None when shown, else ``small`` or ``complementary``.
    """

    group: str
    n_reviewers: int | None
    mean: float | None
    suppressed: str | None = None


@dataclass(frozen=True)
class RatingComparison:
    """How groups of one survey field rate one measure.

    Attributes:
        measure: what was rated, e.g. ``one_sided (answers judged one-sided)``.
        field: the grouping question, e.g. ``political_leaning``.
        bounds: the rating scale (lowest, highest) values were clamped to.
        groups: one per answer.
        epsilon: the ε spent, OpenDP's maps of its counts and its sums together.
    """

    measure: str
    field: str
    bounds: tuple[float, float]
    groups: list[GroupMean]
    epsilon: float


@dataclass(frozen=True)
class ReviewerRatings:
    """One (opted-in) reviewer's survey answers and ratings, for group comparisons.

    Attributes:
        answers: survey field → answer.
        ratings: measure → this reviewer's ratings on it; each reviewer counts once per
            measure, through the mean of their own ratings, so prolific reviewers do not
            weigh more (and one person's influence stays bounded).
    """

    answers: Mapping[str, str]
    ratings: Mapping[str, Sequence[float]]


@dataclass(frozen=True)
class RatingsByGroup:
    """Input for the group comparison part of the report.

    Attributes:
        reviewers: one entry per opted-in reviewer.
        bounds: measure → (lowest, highest) rating; also the list of measures compared.
        fields: survey fields to group by.
    """

    reviewers: Sequence[ReviewerRatings]
    bounds: Mapping[str, tuple[float, float]]
    fields: Sequence[str] = ("political_leaning",)


def ratings_from_records(records: Iterable[Any],
                         answers_by_reviewer: Mapping[str, Mapping[str, str]],
                         bounds: Mapping[str, tuple[float, float]], *,
                         fields: Sequence[str] = ("political_leaning",),
                         items: Mapping[str, Collection[str]] | None = None) -> RatingsByGroup:
    """Build :class:`RatingsByGroup` from rating records and reviewers' survey answers.

    Args:
        records: ``accord.review.RatingRecord``-like objects (``item_id``, ``reviewer_id``,
            ``category``, ``value``); Likert values count as numbers, ``"yes"`` as 1 and
            ``"no"`` as 0, flags are ignored.
        answers_by_reviewer: reviewer id → survey answers, for opted-in reviewers only;
            everyone else's ratings are left out.
        bounds: category → (lowest, highest) rating; the categories to compare.
        fields: survey fields to group by.
        items: category → the item ids to include (e.g. only answers judged one-sided);
            all items when absent.
    """
    ratings: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r.reviewer_id not in answers_by_reviewer or r.category not in bounds:
            continue
        if items is not None and r.category in items and r.item_id not in items[r.category]:
            continue
        value = {"yes": 1.0, "no": 0.0}.get(r.value) if isinstance(r.value, str) else r.value
        if isinstance(value, int | float) and not isinstance(value, bool):
            ratings[r.reviewer_id][r.category].append(float(value))
    reviewers = [ReviewerRatings(answers_by_reviewer[rid], dict(by_category))
                 for rid, by_category in sorted(ratings.items())]
    return RatingsByGroup(reviewers, dict(bounds), tuple(fields))


@dataclass(frozen=True)
class DemographicsReport:
    """The published report.

    Attributes:
        total: noisy number of reviewers who answered; None when suppressed.
        fields: one histogram per survey field.
        ratings: group comparisons of ratings.
        epsilon: the total ε asked for.
        epsilon_spent: the privacy map of OpenDP's composition of every release, at one
            reviewer added or removed (≤ epsilon).
        epsilon_per_query: ε of each query.
        n_queries: the number of queries the budget was split over.
        min_cell: the smallest count shown.
        noise: ``opendp`` or a seeded, not-for-publication source.
        simulated: the reviewers are simulated.
        statement: the protections, in words.
    """

    total: int | None
    fields: list[FieldCounts]
    ratings: list[RatingComparison]
    epsilon: float
    epsilon_spent: float
    epsilon_per_query: float
    n_queries: int
    min_cell: int
    noise: str
    simulated: bool
    statement: str = ""

    def field(self, name: str) -> FieldCounts:
        """The histogram of survey field ``name``; KeyError when absent."""
        for f in self.fields:
            if f.field == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        d = asdict(self)
        for r in d["ratings"]:
            r["bounds"] = list(r["bounds"])
        return d

    def to_html(self) -> str:
        """An HTML fragment (``<section>``), every text escaped."""
        e = html.escape
        out = ['<section class="demographics-report">', "<h2>Who reviews</h2>"]
        if self.simulated:
            out.append('<p class="simulated"><strong>These reviewers are simulated</strong> '
                       "(a seeded program standing in for people in the demo).</p>")
        shown = "suppressed" if self.total is None else str(self.total)
        out.append(f"<p>Reviewers who answered the survey: {shown}</p>")
        # Said before any number: the counts are noised, so one may exceed the total.
        out.append(f'<p class="privacy">{e(self.statement)}</p>')
        for f in self.fields:
            out.append(f"<h3>{e(f.field)}</h3>")
            cells = [c for c in f.cells if not c.suppressed]
            hidden = [e(c.value) for c in f.cells if c.suppressed]
            if cells:
                out.append("<table><thead><tr><th>answer</th><th>reviewers (noised)</th></tr>"
                           "</thead><tbody>")
                out += [f"<tr><td>{e(c.value)}</td><td>{c.count}</td></tr>" for c in cells]
                out.append("</tbody></table>")
            if hidden:  # one line, not a table of "suppressed"
                out.append(f'<p class="suppressed">Hidden (too few, or derivable from the '
                           f'totals): {", ".join(hidden)}.</p>')
        for r in self.ratings:
            out.append(f"<h3>{e(r.measure)} by {e(r.field)}</h3><table><thead><tr><th>group"
                       "</th><th>reviewers</th><th>mean rating</th></tr></thead><tbody>")
            for g in r.groups:
                mean = "—" if g.mean is None else f"{g.mean:.2f}"
                out.append(f"<tr><td>{e(g.group)}</td><td>{_cell(g.n_reviewers, g.suppressed)}"
                           f"</td><td>{mean}</td></tr>")
            out.append("</tbody></table>")
        out.append("</section>")
        return "\n".join(out)


def _cell(count: int | None, suppressed: str | None) -> str:
    if suppressed:
        return f'<span class="suppressed" title="{suppressed}">suppressed</span>'
    return str(count)


def _statement(epsilon: float, per_query: float, n_queries: int, min_cell: int, noise: str,
               simulated: bool) -> str:
    text = (f"Privacy: no count below {min_cell} is shown (a hidden cell may be zero), and "
            "further cells are hidden so that none can be worked out from the totals. Every "
            "number shown has differentially private noise added with OpenDP (Laplace "
            "mechanism), ε = "
            f"{epsilon:g} in total, split evenly over {n_queries} queries (ε = {per_query:.4g} "
            "each). Counts are rounded to whole numbers and never below zero.")
    if noise != "opendp":
        text += f" Noise source: {noise}."
    if simulated:
        text += " The reviewers in this report are simulated."
    return text


def _answer(answers: Mapping[str, str], f: str, allowed: Sequence[str] | None) -> str:
    value = str(answers.get(f) or "")
    if value in DECLINED:
        return NOT_STATED
    if allowed is not None and value not in allowed:
        return OTHER  # values outside the published list must not appear by name
    return value


def demographics_report(answers: Sequence[Mapping[str, str]], fields: Sequence[str], *,
                        epsilon: float, min_cell: int = 11,
                        ratings_by_group: RatingsByGroup | None = None,
                        seed: int | None = None,
                        values: Mapping[str, Sequence[str]] | None = None,
                        simulated: bool = False) -> DemographicsReport:
    """Publishable aggregates of reviewers' survey answers, suppressed and noised.

    Args:
        answers: one mapping per reviewer who opted in; a missing or empty answer, or
            ``prefer not to say``, counts as ``not stated``.
        fields: the survey fields to publish, one histogram each (never cross-tabulated:
            combinations of answers are where individuals become identifiable).
        epsilon: the total privacy budget, split evenly over all queries (see module doc).
        min_cell: smallest count shown; 11 means nothing from 1 to 10.
        ratings_by_group: also compare mean ratings between groups.
        seed: None (publishable: OpenDP's secure noise) or a seed for reproducible,
            not-for-publication noise.
        values: field → the answers offered on the survey form; cells are listed in that
            order (plus ``not stated`` and ``other``), so a rare answer's presence is not
            revealed by its name appearing. Without it, the answers seen are used.
        simulated: the reviewers are simulated; the report says so.

    Raises:
        AccordError: ε not positive, ``min_cell`` below 2, or no fields.
    """
    if not epsilon > 0:
        raise AccordError(f"epsilon must be positive, got {epsilon}")
    if min_cell < 2:
        raise AccordError(f"min_cell must be at least 2, got {min_cell}")
    if not fields:
        raise AccordError("no fields to publish; name at least one survey field")
    groups = ratings_by_group
    comparisons = [(m, f) for m in groups.bounds for f in groups.fields] if groups else []
    n_queries = 1 + len(fields) + 2 * len(comparisons)
    per_query = epsilon / n_queries
    noise = NoiseSource(seed)
    rows = _rows(answers, groups)
    population = len(answers)
    hide_all = suppress_total(population, min_cell)

    # Plan every query first: they are released together, as one OpenDP composition.
    total_q = noise.count("total", lambda row: row["surveyed"], per_query)
    planned_fields = []
    for f in fields:
        allowed = values.get(f) if values else None
        column = [_answer(a, f, allowed) for a in answers]
        cells = _cells(column, allowed)
        pick = _survey_pick(f, allowed)
        planned_fields.append((f, column, cells,
                               noise.histogram(f"histogram {f}", pick, cells, per_query)))
    planned_comparisons = []
    for measure, f in comparisons:
        assert groups is not None
        lo, hi = groups.bounds[measure]
        allowed = values.get(f) if values else None
        rated = [row for row in rows if row["ratings"].get(measure) is not None]
        column = [_answer(row["answers"], f, allowed) for row in rated]
        cells = _cells(column, allowed)
        group = _rated_pick(measure, f, allowed)
        counts_q = noise.histogram(f"group sizes {measure} by {f}", group, cells, per_query)
        sums_q = noise.group_sums(f"group sums {measure} by {f}", group,
                                  _rated_value(measure, lo, hi), cells, hi - lo, per_query)
        planned_comparisons.append((measure, f, lo, hi, column, cells, counts_q, sums_q))

    released = noise.run(rows)

    total = None if hide_all else max(min_cell, released[total_q])
    published = []
    for f, column, cells, q in planned_fields:
        noisy = dict(zip(cells, released[q], strict=True))
        published.append(FieldCounts(f, _publish(column, cells, noisy, min_cell, hide_all),
                                     noise.query_epsilons[f"histogram {f}"]))
    compared = []
    for measure, f, lo, hi, column, cells, counts_q, sums_q in planned_comparisons:
        counts = {c: column.count(c) for c in cells}
        reasons = suppress_cells(counts, min_cell)
        small = suppress_total(len(column), min_cell)
        noisy_counts = dict(zip(cells, released[counts_q], strict=True))
        sums = dict(zip(cells, released[sums_q], strict=True))
        out = []
        for c in cells:
            hidden = reasons[c] or ("small" if small else None)
            if hidden:
                out.append(GroupMean(c, None, None, hidden))
                continue
            n = max(min_cell, noisy_counts[c])
            out.append(GroupMean(c, n, round(min(hi, max(lo, lo + sums[c] / n)), 3)))
        spent = (noise.query_epsilons[f"group sizes {measure} by {f}"]
                 + noise.query_epsilons[f"group sums {measure} by {f}"])
        compared.append(RatingComparison(measure, f, (lo, hi), out, spent))

    assert noise.epsilon_spent is not None
    return DemographicsReport(
        total, published, compared, epsilon, noise.epsilon_spent, per_query, n_queries,
        min_cell, noise.label, simulated,
        _statement(epsilon, per_query, n_queries, min_cell, noise.label, simulated))


def _rows(answers: Sequence[Mapping[str, str]],
          groups: RatingsByGroup | None) -> list[dict[str, Any]]:
    """One row per reviewer: survey answers and, for reviewers who rated, each measure's
    mean rating (their own ratings averaged, so each reviewer counts once per measure).

    A rating reviewer is joined to a survey row with the same answers (reviewers with
    equal answers are interchangeable for every published number); one whose answers
    match no survey row is a row of its own, outside the survey's counts.
    """
    rows = [{"surveyed": True, "answers": a, "ratings": {}} for a in answers]
    free: dict[tuple[tuple[str, str], ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        free[_key(row["answers"])].append(row)
    for reviewer in groups.reviewers if groups else ():
        means = {m: sum(v) / len(v) for m, v in reviewer.ratings.items() if v}
        matches = free.get(_key(reviewer.answers))
        if matches:
            matches.pop()["ratings"] = means
        else:
            rows.append({"surveyed": False, "answers": reviewer.answers, "ratings": means})
    return rows


def _key(answers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in answers.items()))


def _survey_pick(f: str, allowed: Sequence[str] | None) -> Any:
    return lambda row: _answer(row["answers"], f, allowed) if row["surveyed"] else None


def _rated_pick(measure: str, f: str, allowed: Sequence[str] | None) -> Any:
    return lambda row: (_answer(row["answers"], f, allowed)
                        if row["ratings"].get(measure) is not None else None)


def _rated_value(measure: str, lo: float, hi: float) -> Any:
    # The reviewer's mean, clamped to the scale and shifted to start at zero.
    def value(row: Mapping[str, Any]) -> float | None:
        mean = row["ratings"].get(measure)
        return None if mean is None else min(hi, max(lo, mean)) - lo
    return value


def _cells(column: Sequence[str], allowed: Sequence[str] | None) -> list[str]:
    if allowed is None:
        return sorted(set(column), key=lambda v: (v in (NOT_STATED, OTHER), v))
    offered = [v for v in allowed if v not in DECLINED]
    return [*offered, NOT_STATED, *([OTHER] if OTHER in column else [])]


def _publish(column: Sequence[str], cells: Sequence[str], noisy: Mapping[str, int],
             min_cell: int, hide_all: bool) -> list[Cell]:
    counts = {c: column.count(c) for c in cells}
    reasons = suppress_cells(counts, min_cell)
    out = []
    for c in cells:
        hidden = reasons[c] or ("small" if hide_all else None)
        if hidden:
            out.append(Cell(c, None, hidden))
        else:
            out.append(Cell(c, max(min_cell, noisy[c])))
    return out
