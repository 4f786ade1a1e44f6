"""Chat limits with a real (tiny) model served: anonymous visitors cannot reset their
limit with a fresh cookie, and long messages are refused before the tokenizer sees them
(OpenAI's error shape on /v1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chat_site import ChatSite, build_chat_site, tiny_model_dir
from serve_site import live_server

from accord.store import Store


@pytest.fixture(scope="module")
def runner(request, tmp_path_factory):
    from accord.customize import load_runner

    return load_runner("tiny", tiny_model_dir(request, tmp_path_factory))


@pytest.fixture
def site(runner, tmp_path: Path) -> Iterator[ChatSite]:
    store = Store.open(f"sqlite:///{tmp_path / 'accord.sqlite3'}")
    try:
        yield build_chat_site(store, runner, anonymous_chat=True, requests_per_minute=2,
                              max_message_chars=2000, default_max_tokens=4)
    finally:
        store.close()


def _tokenised(site: ChatSite) -> list[str]:
    """Record every call into the service's tokenising checks (the real ones still run)."""
    calls: list[str] = []
    for name in ("check_fits", "trim_to_fit"):
        real = getattr(site.service, name)

        def spy(req, _real=real, _name=name):
            calls.append(_name)
            return _real(req)

        setattr(site.service, name, spy)
    return calls


def test_anonymous_chat_cannot_reset_its_limit_with_a_fresh_cookie(site: ChatSite):
    with live_server(site.app) as base:
        codes = []
        for n in range(4):
            with httpx.stream("POST", f"{base}/api/chat", timeout=120,
                              json={"messages": [{"role": "user", "content": "Hi"}], "seed": n},
                              cookies={"accord_csrf": f"new-visitor-{n}"},
                              headers={"x-forwarded-for": f"203.0.113.{n}"}) as response:
                response.read()
                codes.append(response.status_code)
    assert codes == [200, 200, 429, 429]


def test_long_messages_are_refused_before_tokenising(site: ChatSite):
    calls = _tokenised(site)
    key = site.key()
    long = "word " * 401  # 2005 characters, over max_message_chars = 2000
    with live_server(site.app) as base:
        v1 = httpx.post(f"{base}/v1/chat/completions", timeout=60,
                        headers={"Authorization": f"Bearer {key}"},
                        json={"model": "tiny", "messages": [
                            {"role": "user", "content": "Hi"},
                            {"role": "assistant", "content": "Hello."},
                            {"role": "user", "content": long}]})
        assert v1.status_code == 400
        assert v1.json()["error"] == {
            "message": "Invalid 'messages[2].content': string too long. Expected a string "
                       "with maximum length 2000, but got a string with length 2005 "
                       "instead.",
            "type": "invalid_request_error", "param": "messages[2].content",
            "code": "string_above_max_length"}
        page = httpx.post(f"{base}/api/chat", timeout=60, cookies={"accord_csrf": "v"},
                          json={"messages": [{"role": "user", "content": long}]})
        assert page.status_code == 400
        assert page.json()["error"] == ("messages.0.content: 2005 characters; this server "
                                        "takes at most 2000 per message")
        # A 10 MB prompt is refused by the body cap before it is even parsed.
        huge = httpx.post(f"{base}/v1/chat/completions", timeout=60,
                          headers={"Authorization": f"Bearer {key}"},
                          json={"model": "tiny", "messages": [
                              {"role": "user", "content": "x" * 10_000_000}]})
        assert huge.status_code == 413 and huge.json()["error"]["type"]
        assert calls == []  # nothing reached the tokenizer
        fits = httpx.post(f"{base}/v1/chat/completions", timeout=120,
                          headers={"Authorization": f"Bearer {key}"},
                          json={"model": "tiny", "max_tokens": 2,
                                "messages": [{"role": "user", "content": "word " * 10}]})
        assert fits.status_code == 200 and calls == ["check_fits"]
