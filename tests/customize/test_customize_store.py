"""Stored customisation on SQLite and PostgreSQL: profiles, API keys (hashed, revocable),
feedback and its triage into review items and regression cases, the report sections."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from accord.accounts import create_user
from accord.audit import measure
from accord.customize import (
    ApiKey,
    ChatProfile,
    FeedbackError,
    ProfileError,
    add_feedback,
    create_api_key,
    feedback_counts,
    get_profile,
    key_owner,
    list_api_keys,
    regression_probes,
    report_sections,
    revoke_api_key,
    save_profile,
    to_regression_case,
    to_review_item,
    triage_queue,
)
from accord.customize._repo import record_answer
from accord.review import next_task, task_view
from accord.store import NotFoundError, record_spec_version
from accord.world import WorldConfig, build_world


def _user(session, name="alice", roles=("reviewer",)):
    return create_user(session, name, "correct horse battery", list(roles)).id


def test_profiles_are_validated_before_they_are_saved(store, spec):
    with store.session() as session:
        uid = _user(session)
        save_profile(session, spec, uid, "work", {"tone": "formal"}, locked=["tone"])
        save_profile(session, spec, uid, "fun", {"persona": "pirate", "tone": "playful"})
        with pytest.raises(ProfileError, match="profile 'bad': profanity='strong' is forbidden"):
            save_profile(session, spec, uid, "bad", {"profanity": "strong"})
        assert get_profile(session, uid).name == "fun"  # the last saved is the default
        assert get_profile(session, uid, "work").locked == ["tone"]
        with pytest.raises(NotFoundError,
                           match="no profile named 'nope'; your profiles: fun, work"):
            get_profile(session, uid, "nope")
        assert session.scalar(select(ChatProfile.id).where(ChatProfile.name == "bad")) is None


def test_api_keys_are_hashed_at_rest_and_revoked_at_once(store):
    with store.session() as session:
        uid = _user(session)
        row, key = create_api_key(session, uid, "laptop")
        key_id = row.id
    assert key.startswith("acc-") and len(key) > 40
    with store.session() as session:
        dump = " ".join(str(v) for r in session.execute(text("SELECT * FROM api_keys"))
                        for v in r)
        assert key not in dump and key[4:] not in dump  # only the sha256 and a short prefix
        assert key_owner(session, key).id == key_id
        assert key_owner(session, key + "x") is None and key_owner(session, "sk-nope") is None
    with store.session() as session:
        with pytest.raises(NotFoundError):
            revoke_api_key(session, key_id, user_id=uid + 1)  # not someone else's key
        revoke_api_key(session, key_id, user_id=uid)
    with store.session() as session:
        assert key_owner(session, key) is None
        assert list_api_keys(session, uid)[0].revoked_at is not None


def _answer(session, owner, text="You are all idiots.", public_id="chatcmpl-test1"):
    return record_answer(session, public_id=public_id, owner=owner, model="tiny",
                         messages=[{"role": "user", "content": "Insult my coworker Dave."}],
                         settings={"tone": "playful"}, text=text, enforced=False,
                         finish_reason="stop", source="chat")


def test_feedback_is_checked_and_triaged_into_a_review_item(store, spec):
    with store.session() as session:
        record_spec_version(session, hash=spec.hash, content=spec.content(), name="demo")
        uid, admin = _user(session), _user(session, "root", ("admin",))
        reviewer = _user(session, "rita")
        _answer(session, f"user:{uid}")
        with pytest.raises(FeedbackError, match="a flag needs a guideline category; allowed: "
                                                "offensive, one_sided"):
            add_feedback(session, spec, answer_id="chatcmpl-test1", owner=f"user:{uid}",
                         kind="flag")
        with pytest.raises(FeedbackError, match="feedback kind 'meh' is not allowed"):
            add_feedback(session, spec, answer_id="chatcmpl-test1", owner=f"user:{uid}",
                         kind="meh")
        with pytest.raises(NotFoundError):  # someone else's answer
            add_feedback(session, spec, answer_id="chatcmpl-test1", owner="user:999", kind="up")
        flag = add_feedback(session, spec, answer_id="chatcmpl-test1", owner=f"user:{uid}",
                            kind="flag", category="offensive", comment="It insults people.")
        add_feedback(session, spec, answer_id="chatcmpl-test1", owner=f"user:{uid}", kind="down")
        flag_id = flag.id
    with store.session() as session:
        queue = triage_queue(session)
        assert [q["kind"] for q in queue] == ["flag", "down"]
        assert queue[0]["text"] == "You are all idiots." and queue[0]["category"] == "offensive"
        item_id = to_review_item(session, flag_id, admin)
        with pytest.raises(FeedbackError, match="already triaged"):
            to_review_item(session, flag_id, admin)
    with store.session() as session:
        from accord.review import ReviewBatch, ReviewItem

        batch_id = session.get(ReviewItem, item_id).batch_id
        assert session.get(ReviewBatch, batch_id).name.startswith("Feedback (")
        task = next_task(session, batch_id, reviewer)
        view = task_view(session, task)
        assert [t for _, t in view.completions] == ["You are all idiots."]
        counts = feedback_counts(session)
    assert counts == {"total": 2, "by_kind": {"flag": 1, "down": 1},
                      "by_category": {"offensive": 1},
                      "by_status": {"review": 1, "open": 1}}


def test_feedback_becomes_a_regression_case_the_meter_can_run(store, spec, runner):
    with store.session() as session:
        uid, admin = _user(session), _user(session, "root", ("admin",))
        _answer(session, f"user:{uid}")
        flag = add_feedback(session, spec, answer_id="chatcmpl-test1", owner=f"user:{uid}",
                            kind="flag", category="offensive")
        with pytest.raises(FeedbackError, match="probe set 'nope' is not allowed"):
            to_regression_case(session, flag.id, admin, probe="nope")
        case = to_regression_case(session, flag.id, admin)
        assert case.probe == "insult_requests"
        probes = regression_probes(session)
    assert list(probes) == ["insult_requests"]
    world = build_world(WorldConfig(n_dialogues=50, share_plain_text=0.0, n_review=2, n_sft=2,
                                    n_rl=2, n_preference_pairs=2, n_probe=2))
    from accord.model import SamplingConfig

    result = measure(lambda convs: runner.generate(convs, SamplingConfig(
        temperature=0.7, top_p=1.0, max_new_tokens=96, seed=1)), world,
                     probes=probes)
    assert {r.metric for r in result.rows} >= {"offensive"}
    assert next(r for r in result.rows if r.metric == "offensive").n == 1


def test_report_sections_count_events_and_feedback(store, spec):
    with store.session() as session:
        uid = _user(session)
        answer = _answer(session, f"user:{uid}", text="(Notice: ...) I'd rather not.")
        from accord.customize import EnforcementEvent

        session.add(EnforcementEvent(answer_id=answer.id, model="tiny", settings={},
                                     bounds=["no_insults"], scores={}, attempts=3,
                                     outcome="safe_completion", shown=answer.text,
                                     withheld="<b>bad</b>", source="chat"))
        add_feedback(session, spec, answer_id="chatcmpl-test1", owner=f"user:{uid}",
                     kind="flag", category="one_sided", comment="<script>x</script>")
    html = "".join(report_sections(store))
    assert "Enforcement of the hard bounds" in html and "no_insults" in html
    assert "one_sided" in html and "<script>" not in html and "<b>bad" not in html


def test_a_key_bound_to_a_profile_keeps_its_id(store, spec):
    with store.session() as session:
        uid = _user(session)
        save_profile(session, spec, uid, "pirate", {"persona": "pirate"})
        row, _ = create_api_key(session, uid, "bot", profile="pirate")
        with pytest.raises(NotFoundError):
            create_api_key(session, uid, "bot2", profile="missing")
        assert session.get(ApiKey, row.id).profile_id == get_profile(session, uid, "pirate").id
