"""Prompts (stored once per conversation) and the completions models gave to them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.store._errors import ConflictError, NotFoundError, StoreError
from accord.store._hashing import content_hash
from accord.store._models import Completion, ModelVersion, Prompt
from accord.store._unique import insert_once

ROLES = ("system", "user", "assistant")
_COMPLETION_KEYS = {"prompt_id", "model_version_id", "text", "sampling", "seed"}
_REQUIRED_COMPLETION_KEYS = {"prompt_id", "model_version_id", "text"}


def prompt_hash(messages: Sequence[Mapping[str, str]]) -> str:
    """The content hash that identifies a conversation (roles and texts, in order)."""
    return content_hash([{"role": m["role"], "content": m["content"]} for m in messages])


def upsert_prompt(
    session: Session,
    messages: Sequence[Mapping[str, str]],
    split: str,
    source: str,
    meta: Mapping[str, Any] | None = None,
) -> Prompt:
    """Store a prompt once; storing the same messages again returns the first row.

    Args:
        session: an open session; the row is flushed, not committed.
        messages: the conversation, ``[{"role": "user", "content": "..."}, ...]``.
        split: what the prompt is for: ``"review"``, ``"sft"``, ``"rl"``, ``"probe"``...
        source: where it came from (generator name, file, ...).
        meta: anything else worth keeping; kept from the first insert only.

    Raises:
        StoreError: a message is not ``{"role": one of ROLES, "content": str}``.
        ConflictError: the same messages are stored under another split. A prompt
            belongs to one split so that held-out probes never leak into training.
    """
    checked = _check_messages(messages)
    key = prompt_hash(checked)
    row = Prompt(hash=key, messages=checked, split=split, source=source, meta=dict(meta or {}))
    stored = insert_once(session, row, Prompt.hash, key)
    if stored.split != split:
        raise ConflictError(
            f"prompt {key[:12]} (id {stored.id}) is already stored in split "
            f"{stored.split!r}, not {split!r}; a prompt belongs to one split so held-out "
            "prompts stay unseen by training. Remove it from one of the two sets."
        )
    return stored


def add_completions(session: Session, rows: Iterable[Mapping[str, Any]]) -> list[Completion]:
    """Store completions in one batch.

    Args:
        session: an open session; the rows are flushed (ids assigned), not committed.
        rows: mappings with ``prompt_id``, ``model_version_id``, ``text`` and optionally
            ``sampling`` (temperature, top_p, max_new_tokens, seed, ...) and ``seed``
            (taken from ``sampling["seed"]`` when not given).

    Returns:
        The new rows, in the order given.

    Raises:
        StoreError: a row has missing or unknown keys.
        NotFoundError: a row names a prompt or model version that is not stored.
    """
    made: list[Completion] = []
    for index, row in enumerate(rows):
        keys = set(row)
        if not keys >= _REQUIRED_COMPLETION_KEYS or not keys <= _COMPLETION_KEYS:
            raise StoreError(
                f"completion row {index} has keys {sorted(keys)}; required "
                f"{sorted(_REQUIRED_COMPLETION_KEYS)}, optional ['sampling', 'seed']"
            )
        sampling = dict(row.get("sampling") or {})
        seed = row.get("seed", sampling.get("seed"))
        made.append(
            Completion(
                prompt_id=row["prompt_id"],
                model_version_id=row["model_version_id"],
                text=row["text"],
                sampling=sampling,
                seed=seed,
            )
        )
    _check_exist(session, Prompt, {c.prompt_id for c in made})
    _check_exist(session, ModelVersion, {c.model_version_id for c in made})
    session.add_all(made)
    session.flush()
    return made


def _check_messages(messages: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    if isinstance(messages, str | bytes) or not messages:
        raise StoreError("a prompt needs a non-empty list of {role, content} messages")
    checked = []
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping) or set(message) != {"role", "content"}:
            raise StoreError(
                f"message {index} is {message!r}; each message is a mapping with exactly "
                "the keys 'role' and 'content'"
            )
        role, content = message["role"], message["content"]
        if role not in ROLES or not isinstance(content, str):
            raise StoreError(
                f"message {index} has role {role!r} and content of type "
                f"{type(content).__name__}; role must be one of {list(ROLES)} and "
                "content a string"
            )
        checked.append({"role": role, "content": content})
    return checked


def _check_exist(session: Session, model: type[Prompt | ModelVersion], ids: set[int]) -> None:
    if not ids:
        return
    found = set(session.scalars(select(model.id).where(model.id.in_(ids))).all())
    missing = sorted(ids - found)
    if missing:
        raise NotFoundError(
            f"completions refer to {model.__tablename__} ids {missing} that are not stored; "
            f"store the {model.__tablename__} first"
        )
