"""Repository functions on both databases: specs, model lineage, prompts, completions."""

from __future__ import annotations

import threading
import time
from datetime import UTC

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from accord.store import (
    Completion,
    ConflictError,
    ModelVersion,
    NotFoundError,
    Prompt,
    SpecVersion,
    Store,
    StoreError,
    add_completions,
    content_hash,
    get_model_version,
    get_spec_version,
    latest_spec_version,
    lineage,
    record_spec_version,
    register_model_version,
    upsert_prompt,
)

SPEC = {"guidelines": {"offensive": {"question": "Is it offensive?", "scale": [0, 1, 2]}}}
HELLO = [{"role": "user", "content": "Hello!"}]


def test_spec_version_is_recorded_once_and_found_by_hash_version_or_id(store: Store) -> None:
    digest = content_hash(SPEC)
    with store.session() as session:
        first = record_spec_version(session, hash=digest, content=SPEC, name="demo")
        again = record_spec_version(session, hash=digest, content=SPEC, name="renamed")
        assert again.id == first.id and again.name == "demo"
    assert first.version == digest[:12]
    assert first.provenance == []

    with store.session() as session:
        for ref in (digest, digest[:12], first.id, str(first.id)):
            assert get_spec_version(session, ref).id == first.id
        assert latest_spec_version(session) is not None
        assert session.query(SpecVersion).count() == 1


def test_unknown_spec_version_lists_what_is_stored(store: Store) -> None:
    with store.session() as session:
        record_spec_version(session, hash=content_hash(SPEC), content=SPEC, name="demo")
        with pytest.raises(NotFoundError, match=r"no spec version 'ffffffffffff'.*demo"):
            get_spec_version(session, "ffffffffffff")
        with pytest.raises(StoreError, match="sha256"):
            record_spec_version(session, hash="not-a-hash", content=SPEC, name="demo")


def test_json_round_trips_unicode_and_nesting(store: Store) -> None:
    content = {"名前": "Ünïcödé ✓ 🙂", "nested": [{"a": None, "b": [1, 2.5, True]}], "rtl": "שלום"}
    provenance = [{"deliberation": "d-1", "statement": "Be kind — always"}]
    digest = content_hash(content)
    with store.session() as session:
        record_spec_version(
            session, hash=digest, content=content, name="ユニコード", provenance=provenance
        )
    with store.session() as session:
        stored = get_spec_version(session, digest)
        assert stored.content == content
        assert stored.provenance == provenance
        assert stored.name == "ユニコード"
        assert stored.created_at.tzinfo is not None
        assert stored.created_at.utcoffset() == UTC.utcoffset(None)


def test_lineage_runs_from_the_base_model_to_the_fine_tune(store: Store) -> None:
    with store.session() as session:
        spec = record_spec_version(session, hash=content_hash(SPEC), content=SPEC, name="demo")
        base = register_model_version(
            session, name="demo-base-3f2a", stage="pretrain", artifact_path="models/base"
        )
        sft = register_model_version(
            session,
            name="demo-sft-91c0",
            stage="sft",
            artifact_path="models/sft",
            parent=base,
            spec_version=spec.version,
            config={"lr": 3e-4},
            datasets={"sft": "ab" * 32},
        )
        register_model_version(
            session, name="demo-dpo-77aa", stage="dpo", artifact_path="models/dpo", parent=sft.name
        )

    with store.session() as session:
        chain = lineage(session, "demo-dpo-77aa")
        assert [m.name for m in chain] == ["demo-base-3f2a", "demo-sft-91c0", "demo-dpo-77aa"]
        assert [m.stage for m in chain] == ["pretrain", "sft", "dpo"]
        fine_tune = get_model_version(session, "demo-sft-91c0")
        assert fine_tune.spec_version is not None and fine_tune.spec_version.name == "demo"
        assert fine_tune.datasets == {"sft": "ab" * 32}
        assert [m.name for m in lineage(session, base)] == ["demo-base-3f2a"]


def test_registering_a_model_again_is_idempotent_unless_it_differs(store: Store) -> None:
    with store.session() as session:
        kwargs = {"name": "m", "stage": "pretrain", "artifact_path": "a", "config": {"x": 1}}
        first = register_model_version(session, **kwargs)
        assert register_model_version(session, **kwargs).id == first.id
        with pytest.raises(ConflictError, match="config"):
            register_model_version(session, **{**kwargs, "config": {"x": 2}})
        with pytest.raises(NotFoundError, match=r"no model version named 'nope'.*m"):
            get_model_version(session, "nope")
        with pytest.raises(NotFoundError):
            register_model_version(
                session, name="child", stage="sft", artifact_path="b", parent="nope"
            )


def test_prompts_are_stored_once_and_keep_their_split(store: Store) -> None:
    with store.session() as session:
        first = upsert_prompt(session, HELLO, "review", "demo-world", {"topic": "greeting"})
        again = upsert_prompt(session, [dict(m) for m in HELLO], "review", "elsewhere")
        assert again.id == first.id and again.source == "demo-world"
        with pytest.raises(ConflictError, match="'review', not 'sft'"):
            upsert_prompt(session, HELLO, "sft", "demo-world")
    with store.session() as session:
        assert session.query(Prompt).count() == 1


def test_malformed_messages_are_refused(store: Store) -> None:
    malformed: list[object] = [
        [],
        "Hello!",
        [{"role": "robot", "content": "hi"}],
        [{"role": "user"}],
        [{"role": "user", "content": 3}],
    ]
    with store.session() as session:
        for messages in malformed:
            with pytest.raises(StoreError, match="role"):
                upsert_prompt(session, messages, "review", "test")  # type: ignore[arg-type]


def _prompt_and_model(store: Store) -> tuple[int, int]:
    with store.session() as session:
        prompt = upsert_prompt(session, HELLO, "review", "test")
        model = register_model_version(session, name="m", stage="pretrain", artifact_path="a")
        return prompt.id, model.id


def test_completions_are_added_in_a_batch(store: Store) -> None:
    prompt_id, model_id = _prompt_and_model(store)
    ids = {"prompt_id": prompt_id, "model_version_id": model_id}
    sampling = {"temperature": 0.7, "top_p": 0.9, "max_new_tokens": 64, "seed": 4_000_000_000}
    with store.session() as session:
        made = add_completions(
            session,
            [
                {**ids, "text": "Hi ✓", "sampling": sampling},
                {**ids, "text": "Hey", "seed": 7},
            ],
        )
        assert [c.id for c in made] == sorted(c.id for c in made)
    with store.session() as session:
        rows = session.scalars(select(Completion).order_by(Completion.id)).all()
        assert [(c.text, c.seed) for c in rows] == [("Hi ✓", 4_000_000_000), ("Hey", 7)]
        assert rows[0].sampling == sampling
        assert rows[0].prompt.messages == HELLO
        assert rows[0].model_version.name == "m"


def test_completions_must_refer_to_stored_rows(store: Store) -> None:
    prompt_id, model_id = _prompt_and_model(store)
    with store.session() as session:
        with pytest.raises(NotFoundError, match=r"prompts ids \[999\]"):
            add_completions(
                session, [{"prompt_id": 999, "model_version_id": model_id, "text": "x"}]
            )
        with pytest.raises(StoreError, match="required"):
            add_completions(session, [{"prompt_id": prompt_id, "text": "x"}])


def test_the_database_enforces_foreign_keys(store: Store) -> None:
    # Past the repository's own check: the schema itself refuses a dangling reference.
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(Completion(prompt_id=999, model_version_id=999, text="orphan"))
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(ModelVersion(name="x", stage="sft", artifact_path="a", parent_id=12345))


@pytest.mark.postgres
def test_concurrent_writers_of_one_prompt_get_one_row(postgres_store: Store) -> None:
    store = postgres_store
    # Both sessions look the prompt up and find nothing; the first commits its insert
    # while the second's insert waits on the unique key, fails, and returns the winner.
    first = store.sessions()
    first.begin()
    winner = upsert_prompt(first, HELLO, "review", "first")
    result: list[Prompt] = []

    def second_writer() -> None:
        with store.session() as session:
            result.append(upsert_prompt(session, HELLO, "review", "second"))

    thread = threading.Thread(target=second_writer)
    thread.start()
    _wait_until_a_session_waits_on_a_lock(store)
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert [p.id for p in result] == [winner.id]
    assert result[0].source == "first"


def _wait_until_a_session_waits_on_a_lock(store: Store) -> None:
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 10
    with store.engine.connect() as probe:
        while not probe.execute(waiting).scalar():
            assert time.monotonic() < deadline, "the second writer never blocked"
            probe.rollback()  # A fresh snapshot of pg_stat_activity each time.
            time.sleep(0.02)
