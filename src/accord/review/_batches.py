"""Create review batches from completions already sampled and stored for a model version.

Nothing here runs a model: sampling happens in the pipeline (or ``accord review batch
create``'s caller); a batch only draws N prompts with at least K stored completions each.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.errors import AccordError
from accord.review._models import ReviewBatch, ReviewItem, ReviewItemCompletion
from accord.review._scales import check_tiers, check_values
from accord.spec import Spec
from accord.store import (
    Completion,
    ModelVersion,
    SpecVersion,
    add_completions,
    get_model_version,
    get_spec_version,
    register_model_version,
    upsert_prompt,
)

KINDS = ("rating", "comparison")


class BatchError(AccordError):
    """A review batch cannot be made as asked."""


@dataclass(frozen=True)
class GoldItem:
    """An item with a known answer, mixed into a batch to measure reviewers.

    ``answer`` is ``{category: value}`` for a rating item (some categories suffice) or
    ``{"tiers": [[completion id, ...], ...]}`` for a comparison.
    """

    completion_ids: tuple[int, ...]
    answer: Mapping[str, Any] = field(default_factory=dict)


def create_batch(
    session: Session,
    *,
    name: str,
    kind: str,
    model_version: str | ModelVersion,
    spec_version: str | int | SpecVersion,
    prompts: int,
    completions_per_prompt: int,
    overlap: int,
    seed: int = 0,
    split: str | None = "review",
    gold: Sequence[GoldItem] = (),
    created_by: int | None = None,
) -> ReviewBatch:
    """Draw a batch of review items.

    Args:
        session: an open session; rows are flushed, not committed.
        name: a label for people.
        kind: ``"rating"`` (each completion rated on every category: N×K items) or
            ``"comparison"`` (the K completions of each prompt ranked: N items).
        model_version: whose stored completions to draw (name or row).
        spec_version: the guideline version reviewers see (hash, version, id or row).
        prompts: N, how many prompts to draw.
        completions_per_prompt: K, completions per prompt (>= 2 for comparisons).
        overlap: r, distinct reviewers per item.
        seed: makes the draw and the order repeatable.
        split: only prompts of this split (``None``: any).
        gold: items with known answers, mixed in at random positions.
        created_by: the admin's user id.

    Raises:
        BatchError: bad numbers, or too few prompts with K stored completions.
        NotFoundError: the model or spec version is not stored.
    """
    if kind not in KINDS:
        raise BatchError(f"batch kind {kind!r} is not allowed; allowed: {', '.join(KINDS)}")
    low = 2 if kind == "comparison" else 1
    for label, value, minimum in (("prompts", prompts, 1), ("overlap", overlap, 1),
                                  ("completions per prompt", completions_per_prompt, low)):
        if value < minimum:
            raise BatchError(f"{label} is {value}; a {kind} batch needs at least {minimum}")
    model = (model_version if isinstance(model_version, ModelVersion)
             else get_model_version(session, model_version))
    spec_row = (spec_version if isinstance(spec_version, SpecVersion)
                else get_spec_version(session, spec_version))
    drawn = _draw(session, model, prompts, completions_per_prompt, seed, split)
    spec = spec_of(spec_row)
    config = {"prompts": prompts, "completions_per_prompt": completions_per_prompt,
              "seed": seed, "split": split, "gold_items": len(gold)}
    batch = ReviewBatch(name=name, kind=kind, spec_version_id=spec_row.id,
                        model_version_id=model.id, overlap=overlap, created_by=created_by,
                        config=config)
    session.add(batch)
    session.flush()
    planned: list[tuple[int, list[int], bool, dict[str, Any] | None]] = []
    for prompt_id, completion_ids in drawn:
        if kind == "rating":
            planned.extend((prompt_id, [cid], False, None) for cid in completion_ids)
        else:
            planned.append((prompt_id, completion_ids, False, None))
    planned.extend(_gold_plan(session, kind, spec, gold))
    order = list(range(len(planned)))
    random.Random(seed).shuffle(order)
    for position, index in enumerate(order):
        prompt_id, completion_ids, is_gold, answer = planned[index]
        item = ReviewItem(batch_id=batch.id, position=position, prompt_id=prompt_id,
                          is_gold=is_gold, gold_answer=answer)
        session.add(item)
        session.flush()
        session.add_all(ReviewItemCompletion(item_id=item.id, position=i, completion_id=cid)
                        for i, cid in enumerate(completion_ids))
    session.flush()
    return batch


def _draw(session: Session, model: ModelVersion, n: int, k: int, seed: int,
          split: str | None) -> list[tuple[int, list[int]]]:
    from accord.store import Prompt

    query = (select(Completion.prompt_id).where(Completion.model_version_id == model.id)
             .group_by(Completion.prompt_id).having(func.count() >= k)
             .order_by(Completion.prompt_id))
    if split is not None:
        query = query.join(Prompt, Prompt.id == Completion.prompt_id).where(Prompt.split == split)
    eligible = list(session.scalars(query))
    if len(eligible) < n:
        where = f" in split {split!r}" if split else ""
        raise BatchError(
            f"model version {model.name!r} has {len(eligible)} prompts{where} with at least "
            f"{k} stored completions; the batch asks for {n}. Sample more completions first "
            "(the pipeline's sampling stage stores them) or ask for fewer prompts"
        )
    rng = random.Random(seed)
    chosen = sorted(rng.sample(eligible, n))
    rows = session.execute(
        select(Completion.prompt_id, Completion.id)
        .where(Completion.model_version_id == model.id, Completion.prompt_id.in_(chosen))
        .order_by(Completion.prompt_id, Completion.id)
    ).all()
    by_prompt: dict[int, list[int]] = {}
    for prompt_id, completion_id in rows:
        by_prompt.setdefault(prompt_id, []).append(completion_id)
    return [(pid, sorted(rng.sample(by_prompt[pid], k))) for pid in chosen]


def _gold_plan(session: Session, kind: str, spec: Spec,
               gold: Sequence[GoldItem]) -> list[tuple[int, list[int], bool, dict[str, Any]]]:
    planned = []
    for index, item in enumerate(gold):
        ids = list(item.completion_ids)
        rows = session.scalars(select(Completion).where(Completion.id.in_(ids))).all()
        if len(rows) != len(set(ids)) or len({row.prompt_id for row in rows}) != 1:
            raise BatchError(f"gold item {index}: completions {ids} must all exist and answer "
                             "the same prompt")
        if kind == "rating":
            if len(ids) != 1:
                raise BatchError(f"gold item {index}: a rating item has one completion, "
                                 f"not {len(ids)}")
            answer: dict[str, Any] = check_values(spec.guidelines.categories, item.answer,
                                                  partial=True)
        else:
            answer = {"tiers": check_tiers(ids, item.answer.get("tiers"))}
        planned.append((rows[0].prompt_id, ids, True, answer))
    return planned


def gold_from_spec_examples(session: Session, spec_version: SpecVersion) -> list[GoldItem]:
    """Gold rating items made from the guideline examples (prompt, response, rating).

    The example responses are stored as completions of a model version named
    ``spec-examples-<version>`` (stage ``examples``), so every item still points at a
    stored completion; each answer covers the example's own category only.
    """
    spec = spec_of(spec_version)
    model = register_model_version(session, name=f"spec-examples-{spec_version.version}",
                                   stage="examples", artifact_path=f"spec:{spec_version.hash}",
                                   spec_version=spec_version)
    items: list[GoldItem] = []
    for category in spec.guidelines.categories:
        for example in category.examples:
            prompt = upsert_prompt(session, [{"role": "user", "content": example.prompt}],
                                   split="gold", source=f"spec:{spec_version.version}")
            existing = session.scalars(select(Completion.id).where(
                Completion.prompt_id == prompt.id, Completion.model_version_id == model.id,
                Completion.text == example.response)).first()
            if existing is None:
                existing = add_completions(session, [{
                    "prompt_id": prompt.id, "model_version_id": model.id,
                    "text": example.response}])[0].id
            items.append(GoldItem((existing,), {category.id: example.rating}))
    return items


_SPECS: dict[str, Spec] = {}


def spec_of(row: SpecVersion) -> Spec:
    """The validated spec of a stored version, parsed once per process (keyed by hash:
    the content of a hash never changes)."""
    spec = _SPECS.get(row.hash)
    if spec is None:
        spec = _SPECS[row.hash] = Spec.from_content(row.content)
    return spec


@dataclass(frozen=True)
class SpecRef:
    """Which spec version a batch shows: its id, full hash and 12-character version."""

    id: int
    hash: str
    version: str


def batch_spec(session: Session, batch: ReviewBatch) -> tuple[SpecRef, Spec]:
    """The spec version a batch was created with, and its parsed spec.

    The content (tens of kilobytes of JSON) is read from the database only the first time
    a process meets a version; after that the hash is enough to find the parsed spec.
    """
    row = session.execute(select(SpecVersion.id, SpecVersion.hash, SpecVersion.version)
                          .where(SpecVersion.id == batch.spec_version_id)).one()
    ref = SpecRef(row.id, row.hash, row.version)
    spec = _SPECS.get(ref.hash)
    if spec is None:
        full = session.get(SpecVersion, ref.id)
        assert full is not None  # a foreign key
        spec = spec_of(full)
    return ref, spec
