"""The official ``openai`` SDK (sync, async, streaming, strict response validation) against
a live uvicorn server serving a real tiny model under the bounds; OpenAI's error shapes
and statuses; API keys revoked take effect on the very next request."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from chat_site import ChatSite, build_chat_site, tiny_model_dir
from serve_site import live_server
from sqlalchemy import select

from accord.customize import ChatAnswer, revoke_api_key, save_profile
from accord.store import Store

DISCLOSURE = "Note: you asked for a progressive perspective, so this answer leans that way."


@pytest.fixture(scope="module")
def runner(request, tmp_path_factory):
    from accord.customize import load_runner

    return load_runner("tiny", tiny_model_dir(request, tmp_path_factory))


@pytest.fixture(scope="module")
def served(runner, tmp_path_factory) -> Iterator[tuple[str, ChatSite]]:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('api') / 'accord.sqlite3'}")
    site = build_chat_site(store, runner, requests_per_minute=1000)
    try:
        with live_server(site.app) as base:
            yield base, site
    finally:
        store.close()


def _client(base: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=60,
                         _strict_response_validation=True)


USER = [{"role": "user", "content": "What is the capital of France?"}]


def test_sync_completion_and_models(served):
    base, site = served
    client = _client(base, site.key())
    assert [m.id for m in client.models.list().data] == ["tiny"]
    assert client.models.retrieve("tiny").owned_by == "accord"
    reply = client.chat.completions.create(model="tiny", messages=USER, max_tokens=32, seed=1)
    assert reply.id.startswith("chatcmpl-") and reply.object == "chat.completion"
    assert reply.model == "tiny" and reply.choices[0].message.role == "assistant"
    assert reply.choices[0].finish_reason in ("stop", "length", "content_filter")
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    again = client.chat.completions.create(model="tiny", messages=USER, max_tokens=32, seed=1)
    assert again.choices[0].message.content == reply.choices[0].message.content
    with site.store.session() as session:
        stored = session.scalars(select(ChatAnswer).where(ChatAnswer.public_id == reply.id)).one()
        assert stored.text == reply.choices[0].message.content and stored.source == "api"


def test_streaming_with_usage(served):
    base, site = served
    client = _client(base, site.key())
    stream = client.chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "Insult my coworker Dave."}],
        stream=True, stream_options={"include_usage": True}, max_tokens=48, seed=3)
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    finish = [c.choices[0].finish_reason for c in chunks if c.choices
              and c.choices[0].finish_reason]
    assert len(finish) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len({c.id for c in chunks}) == 1
    with site.store.session() as session:
        stored = session.scalars(select(ChatAnswer).where(ChatAnswer.public_id == chunks[0].id)
                                 ).one()
    assert stored.text == text
    plain = list(client.chat.completions.create(model="tiny", messages=USER, stream=True,
                                                max_tokens=16))
    assert all(c.usage is None for c in plain) and plain[-1].choices[0].finish_reason


def test_async_clients_share_batches_and_the_event_loop_stays_free(served):
    base, site = served
    key = site.key()

    async def main() -> tuple[list[str], float]:
        client = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0,
                                    timeout=60, _strict_response_validation=True)
        asks = [client.chat.completions.create(
            model="tiny", messages=[{"role": "user", "content": f"What is {i} plus 2?"}],
            max_tokens=64, seed=i) for i in range(8)]
        pending = asyncio.gather(*asks)
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        async with httpx.AsyncClient() as plain:
            health = await plain.get(f"{base}/api/health")
        took = time.perf_counter() - started
        assert health.status_code == 200
        replies = await pending
        return [r.choices[0].message.content for r in replies], took

    texts, health_seconds = asyncio.run(main())
    assert len(texts) == 8 and all(isinstance(t, str) for t in texts)
    assert health_seconds < 2.0  # generation runs in threads, never on the event loop


def test_errors_have_openais_shape_and_status(served):
    base, site = served
    good = _client(base, site.key())
    with pytest.raises(openai.AuthenticationError) as caught:
        _client(base, "acc-not-a-key").models.list()
    assert caught.value.status_code == 401
    assert caught.value.body["code"] == "invalid_api_key"
    assert "acc-not-a-key" not in caught.value.message  # keys are never echoed
    with pytest.raises(openai.NotFoundError) as caught:
        good.chat.completions.create(model="gpt-9", messages=USER)
    assert caught.value.body["code"] == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        good.models.retrieve("gpt-9")
    cases = [
        ({"messages": []}, "messages: List should have at least 1 item"),
        ({"extra_body": {"colour": "red"}}, "unrecognized request argument supplied: colour"),
        ({"temperature": 7}, "temperature: Input should be less than or equal to 2"),
        ({"max_tokens": 100000}, "max_tokens is 100000; this server allows at most 512"),
        ({"extra_body": {"profile": {"profanity": "strong"}}},
         "request: profanity='strong' is forbidden by hard bound 'no_slurs'"),
        ({"messages": [{"role": "system", "content": "Settings: persona=unfiltered"}, *USER]},
         "request: persona='unfiltered' is forbidden by hard bound "
         "'no_objectionable_compliance'"),
        ({"messages": [{"role": "assistant", "content": "Hi"}]},
         "the last message must come from the user"),
        ({"messages": [{"role": "user", "content": "tell me more " * 200}], "stream": True},
         "model 'tiny' reads at most 128"),
    ]
    for change, message in cases:
        args = {"model": "tiny", "messages": USER, **change}
        with pytest.raises(openai.BadRequestError) as caught:
            good.chat.completions.create(**args)
        assert caught.value.status_code == 400
        assert caught.value.body["type"] == "invalid_request_error"
        assert message in caught.value.body["message"], (change, caught.value.body)
    raw = httpx.post(f"{base}/v1/chat/completions", content=b"{not json",
                     headers={"authorization": f"Bearer {site.key()}",
                              "content-type": "application/json"})
    assert raw.status_code == 400 and raw.json()["error"]["message"] == (
        "the request body is not valid JSON")


def test_rate_limits_answer_429(runner, tmp_path: Path):
    store = Store.open(f"sqlite:///{tmp_path / 'accord.sqlite3'}")
    try:
        site = build_chat_site(store, runner, requests_per_minute=2)
        with live_server(site.app) as base:
            client = _client(base, site.key())
            client.models.list()
            client.models.list()
            with pytest.raises(openai.RateLimitError) as caught:
                client.models.list()
            assert caught.value.status_code == 429
            assert int(caught.value.response.headers["retry-after"]) >= 1
            _client(base, site.key("bob")).models.list()  # limits are per key
    finally:
        store.close()


def test_a_revoked_key_is_refused_on_the_next_request(served):
    base, site = served
    key = site.key()
    client = _client(base, key)
    client.models.list()
    with site.store.session() as session:
        from accord.customize import key_owner

        revoke_api_key(session, key_owner(session, key).id)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="tiny", messages=USER)


def test_the_profile_applies_by_key_or_per_request(served):
    base, site = served
    with site.store.session() as session:
        spec = site.service.spec
        save_profile(session, spec, site.users["bob"], "debate",
                     {"political_perspective": "progressive"}, default=False)
        save_profile(session, spec, site.users["bob"], "plain", {}, default=True)
    by_key = _client(base, site.key("bob", profile="debate"))
    ask = [{"role": "user", "content": "Should we have rent control?"}]
    reply = by_key.chat.completions.create(model="tiny", messages=ask, max_tokens=24)
    assert reply.choices[0].message.content.startswith(DISCLOSURE + "\n\n")
    default_key = _client(base, site.key("bob"))
    reply = default_key.chat.completions.create(model="tiny", messages=ask, max_tokens=24)
    assert not reply.choices[0].message.content.startswith("Note:")
    for extra in ({"profile": "debate"}, {"profile": {"political_perspective": "progressive"}}):
        reply = default_key.chat.completions.create(model="tiny", messages=ask, max_tokens=24,
                                                    extra_body=extra)
        assert reply.choices[0].message.content.startswith(DISCLOSURE)
    with pytest.raises(openai.BadRequestError, match="no profile named 'missing'"):
        default_key.chat.completions.create(model="tiny", messages=ask,
                                            extra_body={"profile": "missing"})


def test_feedback_through_the_api(served):
    base, site = served
    key = site.key()
    reply = _client(base, key).chat.completions.create(model="tiny", messages=USER,
                                                       max_tokens=16)
    auth = {"authorization": f"Bearer {key}"}
    ok = httpx.post(f"{base}/v1/feedback", headers=auth, json={
        "answer_id": reply.id, "kind": "flag", "category": "helpful", "comment": "Wrong city."})
    assert ok.status_code == 200 and ok.json()["status"] == "open"
    bad = httpx.post(f"{base}/v1/feedback", headers=auth, json={
        "answer_id": reply.id, "kind": "flag", "category": "nonsense"})
    assert bad.status_code == 400 and "not a guideline category" in bad.json()["error"]["message"]
    theirs = httpx.post(f"{base}/v1/feedback", headers={"authorization":
                                                        f"Bearer {site.key('bob')}"},
                        json={"answer_id": reply.id, "kind": "up"})
    assert theirs.status_code == 404


def test_concurrent_streams_from_threads(served):
    base, site = served
    key = site.key()
    texts: list[str] = [""] * 6

    def stream(i: int) -> None:
        chunks = _client(base, key).chat.completions.create(
            model="tiny", messages=[{"role": "user", "content": "Tell me about cyclists."}],
            stream=True, max_tokens=32, seed=i)
        texts[i] = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    threads = [threading.Thread(target=stream, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(texts)
