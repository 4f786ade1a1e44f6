"""Reviewed completions → training sets in TRL's formats, written with a manifest and a hash.

Two kinds:

- ``sft``: conversational language modelling, ``{"messages": [... , assistant]}`` — the
  best-rated completions that pass the filters.
- ``preference``: conversational preference, ``{"prompt": [...], "chosen": [assistant],
  "rejected": [assistant]}`` — pairs from reviewers' rankings (expanded to pairs) and from
  rating differences between completions of the same prompt.

An export is a folder: ``data.jsonl`` (the rows), ``dataset/`` (the same rows as a Hugging
Face ``datasets`` folder, ``load_from_disk``), ``sources.jsonl`` (which completions each
row came from, by line) and ``manifest.json``. The export's hash is the sha256 of the
canonical JSONL, so a training stage can cite exactly the data it used.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from accord.errors import AccordError
from accord.review._agreement import RankingRecord, RatingRecord, expand_ranking
from accord.review._clarity import Note

Kind = Literal["sft", "preference"]
FORMATS = {"sft": "trl:conversational-language-modeling",
           "preference": "trl:conversational-preference"}
REQUIRED_META = ("spec_version", "batch_ids")

# Caps for the demo spec's violation categories: mean Likert rating, or share of "yes".
DEFAULT_MAX_VIOLATION: dict[str, float] = {
    "offensive": 1.5, "one_sided": 2.0, "preachy": 2.0, "objectionable": 0.0,
    "over_refusal": 0.0}


@dataclass(frozen=True)
class RatedCompletion:
    """One completion with everything reviewers said about it.

    Attributes:
        completion_id: its id (rankings refer to it).
        prompt_messages: the conversation before the answer, ``[{"role", "content"}]``
            (system settings line included).
        text: the assistant's answer.
        ratings: every reviewer's ratings of it.
        meta: free provenance (batch id, model version, prompt id...); ``prompt_id`` groups
            completions of one prompt when present, else the messages themselves do.
        notes: reviewers' notes on it (``unclear`` ones can exclude it).
        skipped: how many reviewers skipped it.
    """

    completion_id: str
    prompt_messages: list[dict[str, str]]
    text: str
    ratings: list[RatingRecord]
    meta: dict[str, Any] = field(default_factory=dict)
    notes: Sequence[Note] = ()
    skipped: int = 0

    @property
    def prompt_key(self) -> str:
        """What identifies its prompt: ``meta["prompt_id"]`` or the canonical messages."""
        if "prompt_id" in self.meta:
            return str(self.meta["prompt_id"])
        return canonical_json(self.prompt_messages)


@dataclass(frozen=True)
class SFTFilters:
    """Which completions become SFT rows.

    Attributes:
        helpful_category: the quality category ranked on.
        min_helpfulness: lowest mean helpfulness kept.
        max_violation: category → highest allowed mean Likert rating, or share of "yes"
            for binary categories; categories not rated on a completion are not checked.
        require_majority: also require that more than half of its reviewers, each on their
            own ratings, pass the helpfulness and violation limits.
        min_reviewers: fewest distinct reviewers a completion needs.
        exclude_unclear: drop completions any reviewer marked "unclear guideline".
        exclude_skipped: drop completions any reviewer skipped.
        best_per_prompt: keep at most this many passing completions per prompt, most
            helpful first; None keeps all.
    """

    helpful_category: str = "helpful"
    min_helpfulness: float = 4.0
    max_violation: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_MAX_VIOLATION))
    require_majority: bool = True
    min_reviewers: int = 1
    exclude_unclear: bool = True
    exclude_skipped: bool = False
    best_per_prompt: int | None = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, for the manifest."""
        return {**asdict(self), "max_violation": dict(self.max_violation)}


@dataclass(frozen=True)
class PreferenceFilters:
    """Which pairs become preference rows.

    Attributes:
        from_rankings: make pairs from reviewers' rankings.
        from_ratings: make pairs from rating differences on the same prompt.
        helpful_category: the quality category compared.
        min_rating_gap: smallest mean-helpfulness gap for a rating pair.
        max_violation: as :class:`SFTFilters`; a chosen completion must pass it; a rating
            pair is also made when only the rejected one fails it, whatever the gap.
        min_vote_share: a ranking pair needs more than this share of the reviewers who
            ordered it to prefer the chosen one.
        exclude_unclear: drop completions any reviewer marked "unclear guideline".
        max_pairs_per_prompt: cap per prompt (largest margins first); None keeps all.
    """

    from_rankings: bool = True
    from_ratings: bool = True
    helpful_category: str = "helpful"
    min_rating_gap: float = 1.0
    max_violation: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_MAX_VIOLATION))
    min_vote_share: float = 0.5
    exclude_unclear: bool = True
    max_pairs_per_prompt: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, for the manifest."""
        return {**asdict(self), "max_violation": dict(self.max_violation)}


def _score(value: Any) -> float | None:
    """A rating as a number: Likert as is, "yes" 1, "no" 0; flags have no score."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return {"yes": 1.0, "no": 0.0}.get(value) if isinstance(value, str) else None


def _means(ratings: Iterable[RatingRecord]) -> dict[str, float]:
    scores: dict[str, list[float]] = defaultdict(list)
    for r in ratings:
        s = _score(r.value)
        if s is not None:
            scores[r.category].append(s)
    return {c: sum(v) / len(v) for c, v in scores.items()}


def _passes(means: Mapping[str, float], max_violation: Mapping[str, float]) -> bool:
    return all(means[c] <= cap for c, cap in max_violation.items() if c in means)


def _reviewer_passes(c: RatedCompletion, f: SFTFilters) -> list[bool]:
    by_reviewer: dict[str, list[RatingRecord]] = defaultdict(list)
    for r in c.ratings:
        by_reviewer[r.reviewer_id].append(r)
    out = []
    for ratings in by_reviewer.values():
        m = _means(ratings)
        out.append(m.get(f.helpful_category, 0.0) >= f.min_helpfulness
                   and _passes(m, f.max_violation))
    return out


def _unclear(c: RatedCompletion) -> bool:
    return any(n.unclear for n in c.notes)


def _assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def sft_rows(rated: Iterable[RatedCompletion], filters: SFTFilters | None = None) -> list[dict]:
    """SFT rows ``{"messages": prompt + [assistant]}`` for the completions that pass.

    Args:
        rated: reviewed completions.
        filters: what passes; the defaults when None.

    Returns:
        Rows grouped by prompt in order of first appearance, best first within a prompt
        (ties by completion id). :func:`row_sources` gives each row's completion id.
    """
    f = filters or SFTFilters()
    by_prompt: dict[str, list[tuple[float, RatedCompletion]]] = defaultdict(list)
    for c in rated:
        means = _means(c.ratings)
        reviewers = {r.reviewer_id for r in c.ratings}
        if (len(reviewers) < f.min_reviewers or f.helpful_category not in means
                or means[f.helpful_category] < f.min_helpfulness
                or not _passes(means, f.max_violation)
                or (f.exclude_unclear and _unclear(c)) or (f.exclude_skipped and c.skipped)):
            continue
        if f.require_majority:
            votes = _reviewer_passes(c, f)
            if sum(votes) * 2 <= len(votes):
                continue
        by_prompt[c.prompt_key].append((means[f.helpful_category], c))
    rows = []
    for key in by_prompt:  # prompts in the order they first appear in `rated`
        ranked = sorted(by_prompt[key], key=lambda sc: (-sc[0], sc[1].completion_id))
        for _, c in ranked[:f.best_per_prompt] if f.best_per_prompt else ranked:
            rows.append(_with_source({"messages": [*c.prompt_messages, _assistant(c.text)]},
                                     [c.completion_id]))
    return rows


def preference_rows(rated: Iterable[RatedCompletion], rankings: Iterable[RankingRecord],
                    filters: PreferenceFilters | None = None) -> list[dict]:
    """Preference rows ``{"prompt", "chosen", "rejected"}`` from rankings and ratings.

    Ranking pairs come first: a reviewer compared the two directly, so when ratings and a
    ranking disagree about a pair the ranking wins and each unordered pair appears once.

    Args:
        rated: reviewed completions (rankings refer to their ids).
        rankings: reviewers' rankings of completions of one prompt.
        filters: what passes; the defaults when None.

    Raises:
        AccordError: a ranking names a completion not in ``rated``, or completions of
            different prompts.
    """
    f = filters or PreferenceFilters()
    by_id = {c.completion_id: c for c in rated}
    usable = {i for i, c in by_id.items() if not (f.exclude_unclear and _unclear(c))}
    means = {i: _means(c.ratings) for i, c in by_id.items()}
    chosen_ok = {i for i in usable if _passes(means[i], f.max_violation)}
    pairs: dict[str, dict[frozenset[str], tuple[str, str, float, str]]] = {
        c.prompt_key: {} for c in by_id.values()}  # rows follow the prompts' first appearance

    if f.from_rankings:
        votes: Counter[tuple[str, str]] = Counter()
        for r in rankings:
            for better, worse in expand_ranking(r.tiers):
                votes[(better, worse)] += 1
        for (a, b), n in sorted(votes.items()):
            for cid in (a, b):
                if cid not in by_id:
                    raise AccordError(f"ranking names completion {cid!r}, which is not among "
                                      "the rated completions; pass every ranked completion")
            if by_id[a].prompt_key != by_id[b].prompt_key:
                raise AccordError(f"ranking compares {a!r} and {b!r}, answers to different "
                                  "prompts; a ranking must compare answers to one prompt")
            share = n / (n + votes[(b, a)])
            if share > f.min_vote_share and a in chosen_ok and b in usable:
                pairs[by_id[a].prompt_key].setdefault(frozenset((a, b)),
                                                      (a, b, share, "ranking"))

    if f.from_ratings:
        groups: dict[str, list[str]] = defaultdict(list)
        for i in sorted(usable):
            if f.helpful_category in means[i]:
                groups[by_id[i].prompt_key].append(i)
        for key, ids in groups.items():
            for a in ids:
                for b in ids:
                    gap = means[a][f.helpful_category] - means[b][f.helpful_category]
                    safer = b not in chosen_ok and gap >= 0
                    if a in chosen_ok and a != b and (gap >= f.min_rating_gap or safer):
                        pairs[key].setdefault(frozenset((a, b)), (a, b, gap, "ratings"))

    rows = []
    for key in pairs:
        found = sorted(pairs[key].values(), key=lambda p: (p[3] != "ranking", -p[2], p[0], p[1]))
        for a, b, _, source in found[:f.max_pairs_per_prompt] if f.max_pairs_per_prompt else found:
            row = {"prompt": list(by_id[a].prompt_messages),
                   "chosen": [_assistant(by_id[a].text)],
                   "rejected": [_assistant(by_id[b].text)]}
            rows.append(_with_source(row, [a, b], source))
    return rows


def _with_source(row: dict, ids: list[str], via: str | None = None) -> dict:
    # Provenance rides along with the row object but is not a column: TRL's trainers see
    # only the format's own keys, and the hash covers only what is trained on.
    source: dict[str, Any] = {"completion_ids": ids}
    if via:
        source["via"] = via
    return _Row(row, source)


class _Row(dict):
    """A row (a plain dict to everyone) that remembers where it came from."""

    def __init__(self, row: Mapping[str, Any], source: dict[str, Any]) -> None:
        super().__init__(row)
        self.source = source


def row_sources(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any] | None]:
    """For each row made by :func:`sft_rows` / :func:`preference_rows`, its completion ids.

    Args:
        rows: the rows; rows built elsewhere give None.
    """
    return [getattr(r, "source", None) for r in rows]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces, UTF-8 unescaped: the same data, the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(rows: Sequence[Mapping[str, Any]]) -> str:
    """sha256 of the canonical JSONL of ``rows`` (one canonical JSON object per line).

    Args:
        rows: the export rows.
    """
    digest = hashlib.sha256()
    for row in rows:
        digest.update((canonical_json(dict(row)) + "\n").encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class ExportManifest:
    """What an export is, so a training stage can cite it.

    Attributes:
        kind: ``sft`` or ``preference``.
        hash: sha256 of the canonical JSONL (``data.jsonl`` is exactly that text).
        rows: number of rows.
        jsonl_path: the JSONL file.
        dataset_path: the ``datasets`` folder (``load_from_disk``).
        meta: the caller's provenance: ``spec_version`` and ``batch_ids`` (required),
            ``filters`` and anything else.
        created: UTC time of writing, ISO 8601.
        format: the TRL dataset format name.
    """

    kind: str
    hash: str
    rows: int
    jsonl_path: Path
    dataset_path: Path
    meta: dict[str, Any]
    created: str = ""
    format: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able; paths relative to the export folder."""
        return {"kind": self.kind, "format": self.format, "hash": self.hash, "rows": self.rows,
                "created": self.created, "jsonl": self.jsonl_path.name,
                "dataset": self.dataset_path.name, "meta": self.meta}


def _check_rows(rows: Sequence[Mapping[str, Any]], kind: str) -> None:
    keys = {"sft": {"messages"}, "preference": {"prompt", "chosen", "rejected"}}
    if kind not in keys:
        raise AccordError(f"export kind {kind!r} is not known; allowed: sft, preference")
    if not rows:
        raise AccordError(f"no {kind} rows to export: every completion was filtered out; "
                          "loosen the filters or review more completions")
    for n, row in enumerate(rows):
        if set(row) != keys[kind]:
            raise AccordError(f"{kind} row {n} has keys {sorted(row)}; a {FORMATS[kind]} row "
                              f"has exactly {sorted(keys[kind])}")


def write_export(rows: Sequence[Mapping[str, Any]], kind: Kind, out_dir: str | Path,
                 meta: Mapping[str, Any]) -> ExportManifest:
    """Write ``rows`` as JSONL and as a ``datasets`` folder, with a manifest.

    Args:
        rows: rows from :func:`sft_rows` or :func:`preference_rows`.
        kind: ``sft`` or ``preference``.
        out_dir: the export folder (created; existing export files are replaced).
        meta: provenance; must hold ``spec_version`` and ``batch_ids``; ``filters`` (a
            dict, e.g. ``SFTFilters.to_dict()``) is recommended.

    Raises:
        AccordError: unknown kind, no rows, rows not in the kind's format, missing meta.
    """
    from datasets import Dataset  # heavy; only exports need it

    _check_rows(rows, kind)
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise AccordError(f"export meta lacks {missing}; it needs {list(REQUIRED_META)} so "
                          "training stages can cite what the data came from")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plain = [dict(r) for r in rows]
    jsonl = out / "data.jsonl"
    jsonl.write_text("".join(canonical_json(r) + "\n" for r in plain), encoding="utf-8")
    sources = row_sources(rows)
    (out / "sources.jsonl").write_text(
        "".join(canonical_json(s) + "\n" for s in sources), encoding="utf-8")
    dataset_path = out / "dataset"
    Dataset.from_list(plain).save_to_disk(str(dataset_path))
    manifest = ExportManifest(
        kind, content_hash(plain), len(plain), jsonl, dataset_path,
        json.loads(canonical_json(dict(meta))),
        datetime.now(UTC).isoformat(timespec="seconds"), FORMATS[kind])
    (out / "manifest.json").write_text(
        json.dumps(manifest.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8")
    return manifest


def load_export(out_dir: str | Path) -> tuple[list[dict], ExportManifest]:
    """Read an export back and check it against its hash.

    Args:
        out_dir: a folder written by :func:`write_export`.

    Raises:
        AccordError: no manifest, or the rows do not match the manifest's hash or count.
    """
    out = Path(out_dir)
    path = out / "manifest.json"
    if not path.is_file():
        raise AccordError(f"{path}: no export manifest here; write one with write_export")
    m = json.loads(path.read_text(encoding="utf-8"))
    jsonl = out / m["jsonl"]
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    digest = content_hash(rows)
    if digest != m["hash"] or len(rows) != m["rows"]:
        raise AccordError(f"{jsonl}: rows do not match the manifest (hash {digest[:12]} vs "
                          f"{m['hash'][:12]}, {len(rows)} vs {m['rows']} rows); the export "
                          "was altered")
    return rows, ExportManifest(m["kind"], m["hash"], m["rows"], jsonl, out / m["dataset"],
                                m["meta"], m["created"], m["format"])
