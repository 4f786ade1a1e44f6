"""Where the guidelines are unclear: low agreement, the items behind it, reviewers' notes.

Disagreement among careful reviewers usually means the guideline text leaves room for
more than one reading. :func:`clarity_report` puts the categories with the lowest α first
and, for each, the items reviewers split on most (with every reviewer's answer) and the
notes they left, so a guideline author sees what to rewrite. :func:`compare_versions`
then answers "did the rewrite raise agreement?" with a bootstrap interval.
"""

from __future__ import annotations

import html
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from accord.review._agreement import (
    CategoryInfo,
    RatingRecord,
    Value,
    _check_level,
    _latest,
    _tables,
    _versions,
    alpha_by_category,
    alpha_from_matrix,
    levels_for,
)


@dataclass(frozen=True)
class Note:
    """A reviewer's free-text note on an item.

    Attributes:
        item_id: the item it is about.
        reviewer_id: who wrote it.
        category: the category it is about, or None for the item as a whole.
        text: what they wrote.
        unclear: the reviewer ticked "the guideline is unclear here".
        simulated: True when a simulated reviewer wrote it.
    """

    item_id: str
    reviewer_id: str
    category: str | None
    text: str
    unclear: bool = False
    simulated: bool = False


@dataclass(frozen=True)
class DisputedItem:
    """An item reviewers disagreed on, with what each of them answered.

    Attributes:
        item_id: the item.
        values: reviewer id → their rating.
        disagreement: 0 (all agree) to 1; Likert: mean absolute difference between two
            reviewers over the scale's width; binary and flags: normalised entropy (flags:
            averaged over the flags anyone ticked).
        spread: highest minus lowest Likert point; None for other scales.
        entropy: Shannon entropy (bits) of the answers as given.
        notes: texts of the notes reviewers left on this item for this category or the
            item as a whole.
    """

    item_id: str
    values: dict[str, Value]
    disagreement: float
    spread: int | None
    entropy: float
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CategoryClarity:
    """How clear one category's guideline proved in practice.

    Attributes:
        category: the category id.
        question: its question, as reviewers saw it.
        scale_type: ``likert``, ``binary`` or ``flags``.
        alpha: α (for flags: the lowest flag's α); None when undefined.
        flag_alphas: for flags, α per flag.
        n_items: items rated.
        n_ratings: ratings counted.
        disputed: the items with most disagreement, most first.
        notes: every note on this category.
        n_unclear: how many of those notes flag the guideline as unclear.
    """

    category: str
    question: str
    scale_type: str
    alpha: float | None
    flag_alphas: dict[str, float | None]
    n_items: int
    n_ratings: int
    disputed: list[DisputedItem]
    notes: list[Note]
    n_unclear: int


@dataclass(frozen=True)
class ClarityReport:
    """Categories ranked from least to most agreed on, with what to look at in each.

    Attributes:
        guideline_version: the version the ratings were made under.
        categories: least agreement first; categories with α undefined last.
        general_notes: notes not about one category.
        simulated: True when any rating or note came from a simulated reviewer.
    """

    guideline_version: str | None
    categories: list[CategoryClarity]
    general_notes: list[Note]
    simulated: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-able; flag tuples become lists."""
        return json_safe(asdict(self))

    def to_html(self) -> str:
        """An HTML fragment (``<section>``), every text escaped."""
        e = html.escape
        version = f" (version {e(self.guideline_version)})" if self.guideline_version else ""
        out = ['<section class="clarity-report">', f"<h2>Guideline clarity{version}</h2>"]
        if self.simulated:
            out.append('<p class="simulated">Includes ratings from simulated reviewers.</p>')
        for c in self.categories:
            out.append(f'<article class="category" id="clarity-{e(c.category)}">'
                       f"<h3>{e(c.category)}: α = {_fmt(c.alpha)}</h3>"
                       f"<p class=\"question\">{e(c.question)}</p>"
                       f"<p>{c.n_ratings} ratings of {c.n_items} items; "
                       f"{c.n_unclear} marked the guideline unclear.</p>")
            if c.flag_alphas:
                out.append("<ul class=\"flags\">" + "".join(
                    f"<li>{e(f)}: α = {_fmt(a)}</li>" for f, a in c.flag_alphas.items()) + "</ul>")
            if c.disputed:
                out.append("<table><thead><tr><th>item</th><th>disagreement</th>"
                           "<th>ratings</th><th>notes</th></tr></thead><tbody>")
                for d in c.disputed:
                    values = ", ".join(f"{e(r)}: {e(_show(v))}" for r, v in d.values.items())
                    notes = "<br>".join(e(t) for t in d.notes)
                    out.append(f"<tr><td>{e(d.item_id)}</td><td>{d.disagreement:.2f}</td>"
                               f"<td>{values}</td><td>{notes}</td></tr>")
                out.append("</tbody></table>")
            if c.notes:
                out.append('<ul class="notes">' + "".join(
                    f"<li{_UNCLEAR if n.unclear else ''}>{e(n.item_id)}: {e(n.text)}</li>"
                    for n in c.notes) + "</ul>")
            out.append("</article>")
        if self.general_notes:
            out.append("<h3>Other notes</h3><ul>" + "".join(
                f"<li>{e(n.item_id)}: {e(n.text)}</li>" for n in self.general_notes) + "</ul>")
        out.append("</section>")
        return "\n".join(out)


_UNCLEAR = ' class="unclear" title="marked the guideline unclear"'


def json_safe(value: Any) -> Any:
    """Tuples → lists, NaN → None, Paths → text, recursively."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _fmt(alpha: float | None) -> str:
    return "undefined" if alpha is None else f"{alpha:.3f}"


def _show(value: Value) -> str:
    return "{" + ", ".join(value) + "}" if isinstance(value, tuple) else str(value)


def _entropy(values: Iterable[Any]) -> float:
    counts = Counter(values)
    n = sum(counts.values())
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _disagreement(values: list[Value], info: CategoryInfo) -> tuple[float, int | None]:
    if info.scale_type == "likert":
        points = [int(v) for v in values]  # type: ignore[arg-type]
        width = (max(info.values) - min(info.values)) if info.values else 0
        width = width or max(1, max(points) - min(points))
        pairs = list(combinations(points, 2))
        return sum(abs(a - b) for a, b in pairs) / len(pairs) / width, max(points) - min(points)
    if info.scale_type == "flags":
        ticked = sorted({f for v in values for f in v})  # type: ignore[union-attr]
        if not ticked:
            return 0.0, None
        # A binary entropy per flag is already in [0, 1] bits.
        return sum(_entropy(f in v for v in values) for f in ticked) / len(ticked), None  # type: ignore[operator]
    k = max(len(info.values), 2)
    return _entropy(values) / math.log2(k), None


def clarity_report(records: Iterable[RatingRecord], notes: Sequence[Note],
                   categories: Sequence[CategoryInfo], *, top_items: int = 5,
                   guideline_version: str | None = None) -> ClarityReport:
    """What a guideline author needs: categories by agreement, disputed items, notes.

    Args:
        records: ratings under one guideline version (or choose one).
        notes: reviewers' notes on those items.
        categories: the categories to report, with their scales.
        top_items: how many disputed items to list per category.
        guideline_version: keep only ratings made under this version.

    Raises:
        AccordError: ratings of several versions mixed without choosing one.
    """
    records = list(records)
    version = _versions(records, guideline_version)
    if guideline_version is not None:
        records = [r for r in records if r.guideline_version == guideline_version]
    alphas = alpha_by_category(records, levels_for(categories), guideline_version=version)
    cells: dict[str, dict[str, dict[str, Value]]] = defaultdict(lambda: defaultdict(dict))
    for r in records:
        cells[r.category][r.item_id][r.reviewer_id] = r.value
    item_notes: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for n in notes:
        item_notes[(n.item_id, n.category)].append(n.text)

    out: list[CategoryClarity] = []
    for info in categories:
        disputed = []
        for item, by_reviewer in cells[info.id].items():
            values = list(by_reviewer.values())
            if len(values) < 2:
                continue
            score, spread = _disagreement(values, info)
            if score > 0:
                disputed.append(DisputedItem(
                    item, dict(sorted(by_reviewer.items())), round(score, 4), spread,
                    round(_entropy(values), 4),
                    item_notes[(item, info.id)] + item_notes[(item, None)]))
        disputed.sort(key=lambda d: (-d.disagreement, d.item_id))
        if info.scale_type == "flags":
            prefix = info.id + ":"
            flag_alphas = {k[len(prefix):]: a.alpha for k, a in alphas.items()
                           if k.startswith(prefix)}
            defined = [a for a in flag_alphas.values() if a is not None]
            alpha = min(defined) if defined else None
        else:
            flag_alphas, alpha = {}, alphas[info.id].alpha
        mine = [n for n in notes if n.category == info.id]
        rated = cells[info.id]
        out.append(CategoryClarity(
            info.id, info.question, info.scale_type, alpha, flag_alphas, len(rated),
            sum(len(v) for v in rated.values()), disputed[:top_items], mine,
            sum(n.unclear for n in mine)))
    # Lowest agreement first; undefined α last (nothing to judge), more "unclear" notes first.
    out.sort(key=lambda c: (c.alpha is None, c.alpha if c.alpha is not None else 0.0,
                            -c.n_unclear, c.category))
    simulated = any(r.simulated for r in records) or any(n.simulated for n in notes)
    return ClarityReport(version, out, [n for n in notes if n.category is None], simulated)


# --- comparing guideline versions --------------------------------------------------------

@dataclass(frozen=True)
class VersionDelta:
    """α of one category under two guideline versions.

    Attributes:
        category: the category (``category:flag`` for one flag).
        level: the level of measurement.
        alpha_a: α under the first version; None when undefined.
        alpha_b: α under the second version.
        delta: ``alpha_b - alpha_a``; None when either is undefined.
        ci_low: lower end of the bootstrap interval for ``delta``.
        ci_high: upper end.
        n_items_a: items rated under the first version.
        n_items_b: items rated under the second version.
    """

    category: str
    level: str
    alpha_a: float | None
    alpha_b: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    n_items_a: int
    n_items_b: int

    @property
    def raised(self) -> bool | None:
        """True when the whole interval is above 0, False when below, None when unclear."""
        if self.ci_low is None or self.ci_high is None:
            return None
        return True if self.ci_low > 0 else False if self.ci_high < 0 else None


@dataclass(frozen=True)
class VersionComparison:
    """Does the new guideline text raise agreement? One row per category.

    Attributes:
        version_a: the earlier version.
        version_b: the later version.
        confidence: the interval's coverage, e.g. 0.95.
        n_boot: bootstrap resamples drawn.
        rows: one per category (and per flag).
    """

    version_a: str | None
    version_b: str | None
    confidence: float
    n_boot: int
    rows: list[VersionDelta]

    def row(self, category: str) -> VersionDelta:
        """The row of ``category``; KeyError when absent."""
        for r in self.rows:
            if r.category == category:
                return r
        raise KeyError(category)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, with each row's ``raised``."""
        d = json_safe(asdict(self))
        for row, r in zip(d["rows"], self.rows, strict=True):
            row["raised"] = r.raised
        return d


def _matrices(records: Sequence[RatingRecord], category: str,
              level: str) -> dict[str, tuple[str, np.ndarray]]:
    out = {}
    for name, sub_level, table in _tables(category, level, _latest(
            r for r in records if r.category == category)):
        items = sorted({i for i, _ in table})
        reviewers = sorted({r for _, r in table})
        m = np.full((len(reviewers), len(items)), np.nan)
        col = {i: k for k, i in enumerate(items)}
        row = {r: k for k, r in enumerate(reviewers)}
        for (i, r), v in table.items():
            m[row[r], col[i]] = v
        out[name] = (sub_level, m)
    return out


def compare_versions(records_a: Iterable[RatingRecord], records_b: Iterable[RatingRecord],
                     levels: Mapping[str, str], *, n_boot: int = 500,
                     confidence: float = 0.95, seed: int = 0) -> VersionComparison:
    """α per category under two guideline versions, and the change with a bootstrap interval.

    The interval resamples items with replacement, separately in each version (the two
    versions are usually rated on different items), recomputes both α and takes the
    percentile interval of their difference; resamples where α is undefined are dropped.

    Args:
        records_a: ratings under the earlier version (one version).
        records_b: ratings under the later version (one version).
        levels: as for ``alpha_by_category``.
        n_boot: resamples.
        confidence: interval coverage.
        seed: the resampling seed (same seed, same interval).

    Raises:
        AccordError: either side mixes guideline versions, or a level is unknown.
    """
    records_a, records_b = list(records_a), list(records_b)
    version_a, version_b = _versions(records_a, None), _versions(records_b, None)
    alphas_a = alpha_by_category(records_a, levels)
    alphas_b = alpha_by_category(records_b, levels)
    rng = np.random.default_rng(seed)
    rows = []
    for category, raw_level in levels.items():
        level = _check_level(category, raw_level)
        mats_a = _matrices(records_a, category, level)
        mats_b = _matrices(records_b, category, level)
        for name in [*mats_a, *(k for k in mats_b if k not in mats_a)]:
            a, b = alphas_a.get(name), alphas_b.get(name)
            alpha_a = a.alpha if a else None
            alpha_b = b.alpha if b else None
            sub_level = (a or b).level  # type: ignore[union-attr]
            low = high = None
            if name in mats_a and name in mats_b and None not in (alpha_a, alpha_b):
                low, high = _interval(mats_a[name][1], mats_b[name][1], sub_level, n_boot,
                                      confidence, rng)
            rows.append(VersionDelta(
                name, sub_level, alpha_a, alpha_b,
                None if None in (alpha_a, alpha_b) else alpha_b - alpha_a,  # type: ignore[operator]
                low, high, a.n_items if a else 0, b.n_items if b else 0))
    return VersionComparison(version_a, version_b, confidence, n_boot, rows)


def _interval(ma: np.ndarray, mb: np.ndarray, level: str, n_boot: int, confidence: float,
              rng: np.random.Generator) -> tuple[float | None, float | None]:
    diffs = []
    for _ in range(n_boot):
        aa = alpha_from_matrix(ma[:, rng.integers(0, ma.shape[1], ma.shape[1])], level)
        ab = alpha_from_matrix(mb[:, rng.integers(0, mb.shape[1], mb.shape[1])], level)
        if aa is not None and ab is not None:
            diffs.append(ab - aa)
    if not diffs:
        return None, None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return float(low), float(high)
