"""Schemathesis over the published OpenAPI document (issues 14, 16): every operation of the
JSON API and ``/v1`` (chat and text completions included), called as a signed-in admin
with a fresh session each time (so a generated ``/api/logout`` does not sign the rest out)
and a real API key, against a real
tiny model, never answers a 500 and always answers in a status, content type and shape
the document declares. Time-boxed by ``max_examples`` per operation and a deadline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from chat_site import ChatSite, build_chat_site, tiny_model_dir
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accord.accounts import get_user, start_session
from accord.serve import CSRF_HEADER, SESSION_COOKIE
from accord.store import Store

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_site(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatSite]:
    from accord.customize import load_runner

    runner = load_runner("tiny", tiny_model_dir(request, tmp_path_factory))
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'accord.sqlite3'}")
    try:
        # Small answers keep the fuzzing about input, not about generation time.
        yield build_chat_site(store, runner, requests_per_minute=100_000,
                              default_max_tokens=4, max_tokens_limit=8)
    finally:
        store.close()


@pytest.fixture(scope="module")
def api_schema(fuzz_site: ChatSite) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_site.app)


@pytest.fixture(scope="module")
def api_key(fuzz_site: ChatSite) -> str:
    return fuzz_site.key("admin", "fuzz")


def test_no_500_and_answers_match_the_document(api_schema: Any, fuzz_site: ChatSite,
                                               api_key: str) -> None:
    """Each operation gets up to ``max_examples`` generated calls (valid and invalid
    parameters and bodies); every failure of every operation is listed together."""
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @settings(max_examples=20, deadline=30_000, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            with fuzz_site.store.session() as session:
                token, csrf = start_session(session, get_user(session, "admin"))
            response = case.call(headers={CSRF_HEADER: csrf,
                                          "authorization": f"Bearer {api_key}"},
                                 cookies={SESSION_COOKIE: token})
            case.validate_response(response, checks=CHECKS)

        try:
            call()
        except Exception as exc:  # collect them all: one run shows every broken operation
            failures.append(f"{operation.label}: {exc}")
    assert failures == []


def test_the_document_covers_the_json_api_and_v1(api_schema: Any, fuzz_site: ChatSite) -> None:
    from fastapi.testclient import TestClient

    document = TestClient(fuzz_site.app).get("/openapi.json").json()
    paths = document["paths"]
    assert {"/api/login", "/api/tasks/{task_id}/rating", "/api/chat", "/v1/chat/completions",
            "/v1/models", "/v1/feedback", "/v1/completions"} <= set(paths)
    assert not [p for p in paths if not p.startswith(("/api/", "/v1/"))]
    body = paths["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]
    assert {"messages", "logprobs", "top_logprobs", "tools", "n"} <= set(
        body["schema"]["properties"])
    text = paths["/v1/completions"]["post"]["requestBody"]["content"]["application/json"]
    assert {"prompt", "echo", "logprobs"} <= set(text["schema"]["properties"])
    error = paths["/v1/models"]["get"]["responses"]["401"]["content"]["application/json"]
    assert error["schema"]["properties"]["error"]["required"] == ["message", "type", "param",
                                                                 "code"]
