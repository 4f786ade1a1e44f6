"""Bad input on every web surface fails closed (issue 16): lone surrogates, JSON nested
100,000 deep, oversized bodies, integers beyond 64 bits and NUL bytes or lone surrogates in
form fields and multipart field and file names get a clear 4xx (OpenAI's error
shape on ``/v1``), and anything unexpected a logged error id in a well-formed 500."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from chat_site import ChatSite, build_chat_site, tiny_model_dir
from fastapi.testclient import TestClient
from serve_site import Site, build_site

from accord.accounts import get_user, start_session
from accord.serve import CSRF_HEADER, SESSION_COOKIE
from accord.store import Store

JSON = {"content-type": "application/json"}
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_MESSAGE = "the JSON body nests deeper than 32 levels"
SURROGATE_MESSAGE = ("the JSON body holds an unpaired UTF-16 surrogate (\\ud800); send text as "
                     "valid Unicode")
BIG = 2**63  # one past the largest signed 64-bit integer


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'accord.sqlite3'}")
    try:
        yield build_site(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def chat(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatSite]:
    from accord.customize import load_runner

    runner = load_runner("tiny", tiny_model_dir(request, tmp_path_factory))
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('hchat') / 'accord.sqlite3'}")
    try:
        yield build_chat_site(store, runner, requests_per_minute=1000, anonymous_chat=True)
    finally:
        store.close()


def _client(app, store: Store, username: str | None) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    if username is None:
        return client, {}
    with store.session() as session:
        token, csrf = start_session(session, get_user(session, username))
    client.cookies.set(SESSION_COOKIE, token)
    return client, {CSRF_HEADER: csrf}


def _openai_error(response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] == message and error["type"] == "invalid_request_error"


# --- lone surrogates -----------------------------------------------------------------

@pytest.mark.parametrize("body", [b'{"username": "x\\ud800", "password": "p"}',
                                  b'{"username": "x\xed\xa0\x80", "password": "p"}'],
                         ids=["escaped", "cesu_bytes"])
def test_a_lone_surrogate_in_a_login_name_is_refused(review: Site, body: bytes) -> None:
    client, _ = _client(review.client.app, review.store, None)
    response = client.post("/api/login", content=body, headers=JSON)
    assert response.status_code == 400
    assert response.json() == {"error": SURROGATE_MESSAGE}


def test_a_lone_surrogate_in_the_login_form_is_normalised(review: Site) -> None:
    """Forms are percent-decoded with replacement: the name becomes 'x\ufffd', which no
    account has, so the sign-in fails like any wrong name (no 500)."""
    client, _ = _client(review.client.app, review.store, None)
    client.get("/login")
    csrf = client.cookies.get("accord_csrf")
    response = client.post("/login", content=f"username=x%ED%A0%80&password=p&csrf_token={csrf}",
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 401 and "Wrong username or password." in response.text


def test_a_lone_surrogate_in_a_rating_note_is_refused(review: Site) -> None:
    client, headers = _client(review.client.app, review.store, "reviewer")
    task = client.post(f"/api/tasks/next?batch={review.rating_batch}", headers=headers)
    task_id = task.json()["task"]["id"]
    response = client.post(f"/api/tasks/{task_id}/rating", headers={**headers, **JSON},
                           content=b'{"values": {}, "note": "x\\ud800"}')
    assert response.status_code == 400 and response.json() == {"error": SURROGATE_MESSAGE}


def test_a_lone_surrogate_in_a_chat_message_is_refused(chat: ChatSite) -> None:
    client, headers = _client(chat.app, chat.store, "alice")
    response = client.post("/api/chat", headers={**headers, **JSON},
                           content=b'{"messages": [{"role": "user", "content": "x\\ud800"}]}')
    assert response.status_code == 400 and response.json() == {"error": SURROGATE_MESSAGE}


def test_a_lone_surrogate_in_a_v1_message_is_refused_in_openais_shape(chat: ChatSite) -> None:
    client, _ = _client(chat.app, chat.store, None)
    response = client.post("/v1/chat/completions",
                           headers={"authorization": f"Bearer {chat.key()}", **JSON},
                           content=b'{"model": "tiny", "messages": [{"role": "user", '
                                   b'"content": "x\\ud800"}]}')
    _openai_error(response, 400, SURROGATE_MESSAGE)


# --- multipart forms: NUL and lone surrogates ----------------------------------------

BOUNDARY = "accordboundary"
MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def _multipart(*parts: tuple[bytes, bytes]) -> bytes:
    """A multipart body from (Content-Disposition options, content) pairs, built by hand
    so the bytes are exactly what a hostile client sends."""
    out = b""
    for options, content in parts:
        out += (f"--{BOUNDARY}\r\n".encode() + b"Content-Disposition: form-data; " + options
                + b"\r\n\r\n" + content + b"\r\n")
    return out + f"--{BOUNDARY}--\r\n".encode()


def _login_parts(review: Site, username: bytes, extra: tuple = ()) -> tuple[TestClient, bytes]:
    client, _ = _client(review.client.app, review.store, None)
    client.get("/login")
    csrf = client.cookies.get("accord_csrf").encode()
    return client, _multipart((b'name="username"', username), (b'name="password"', b"p"),
                              (b'name="csrf_token"', csrf), *extra)


def test_a_multipart_login_still_signs_in(review: Site) -> None:
    """The multipart check does not refuse a well-formed form (a page a browser posts as
    multipart/form-data); the real password signs in."""
    from serve_site import PASSWORD

    client, body = _login_parts(review, b"reviewer")
    body = body.replace(b"\r\n\r\np\r\n", b"\r\n\r\n" + PASSWORD.encode() + b"\r\n")
    response = client.post("/login", content=body, headers=MULTIPART)
    assert response.status_code == 303, response.text
    assert client.cookies.get(SESSION_COOKIE)


@pytest.mark.parametrize(("username", "extra", "message"), [
    (b"x\x00y", (), "field &#39;username&#39; holds a NUL character, which no text field "
                    "can hold"),
    (b"x\xed\xa0\x80", (), "field &#39;username&#39; is not valid UTF-8 (a lone surrogate or "
                            "a stray byte); send text as valid Unicode"),
    (b"x", ((b'name="note"; filename="a\x00.txt"', b"\x00\x01binary is fine"),),
     "the file name of field &#39;note&#39; holds a NUL character"),
    (b"x", ((b'name="note"; filename="a\xed\xa0\x80.txt"', b"data"),),
     "the file name of field &#39;note&#39; is not valid UTF-8"),
    (b"x", ((b'name="n\x00"', b"v"),), "multipart field 4&#39;s name holds a NUL character"),
], ids=["nul_field", "surrogate_field", "nul_filename", "surrogate_filename", "nul_name"])
def test_nul_and_lone_surrogates_in_multipart_forms_are_a_400(
        review: Site, username: bytes, extra: tuple, message: str) -> None:
    client, body = _login_parts(review, username, extra)
    response = client.post("/login", content=body, headers=MULTIPART)
    assert response.status_code == 400, response.text
    assert message in response.text


def test_multipart_nul_is_refused_on_the_json_api_too(review: Site) -> None:
    """The check is in the middleware, before any route: an API path answers in JSON."""
    client, headers = _client(review.client.app, review.store, "reviewer")
    response = client.post("/api/tasks/1/rating", headers={**headers, **MULTIPART},
                           content=_multipart((b'name="note"', b"a\x00")))
    assert response.status_code == 400
    assert response.json() == {"error": "field 'note' holds a NUL character, which no text "
                                        "field can hold"}


@pytest.mark.parametrize("content_type", ["multipart/form-data",
                                          f"multipart/form-data; boundary={BOUNDARY}"])
def test_a_malformed_multipart_body_is_a_400(review: Site, content_type: str) -> None:
    client, _ = _client(review.client.app, review.store, None)
    response = client.post("/login", content=b"--nope\r\ngarbage" + b"\x00" * 10,
                           headers={"content-type": content_type})
    assert response.status_code == 400, response.text


def test_a_raw_nul_byte_in_a_urlencoded_form_is_a_400(review: Site) -> None:
    client, _ = _client(review.client.app, review.store, None)
    response = client.post("/login", content=b"username=x\x00&password=p",
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and "NUL character" in response.text


# --- deep and large bodies -----------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/feedback"])
def test_json_nested_100000_deep_is_refused_on_the_chat_api(chat: ChatSite, path: str) -> None:
    client, headers = _client(chat.app, chat.store, "alice")
    response = client.post(path, headers={**headers, **JSON}, content=DEEP)
    assert response.status_code == 400 and response.json() == {"error": DEEP_MESSAGE}


def test_json_nested_100000_deep_is_refused_on_v1(chat: ChatSite) -> None:
    client, _ = _client(chat.app, chat.store, None)
    response = client.post("/v1/chat/completions", content=DEEP,
                           headers={"authorization": f"Bearer {chat.key()}", **JSON})
    _openai_error(response, 400, DEEP_MESSAGE)


def test_deep_json_is_refused_even_without_signing_in(chat: ChatSite) -> None:
    client, _ = _client(chat.app, chat.store, None)
    response = client.post("/v1/chat/completions", content=DEEP, headers=JSON)
    _openai_error(response, 400, DEEP_MESSAGE)


def test_brackets_inside_strings_do_not_count_as_nesting(chat: ChatSite) -> None:
    client, _ = _client(chat.app, chat.store, None)
    text = "[" * 500 + "{" * 500
    response = client.post("/v1/chat/completions",
                           headers={"authorization": f"Bearer {chat.key()}"},
                           json={"model": "nope", "messages": [{"role": "user",
                                                                "content": text}]})
    assert response.status_code == 404  # it reached the route: the model is not served


def test_an_oversized_body_is_refused_before_it_is_read(chat: ChatSite) -> None:
    client, _ = _client(chat.app, chat.store, None)
    body = b'{"model": "tiny", "messages": [{"role": "user", "content": "' + b"a" * 1_100_000
    response = client.post("/v1/chat/completions", content=body + b'"}]}',
                           headers={"authorization": f"Bearer {chat.key()}", **JSON})
    assert response.status_code == 413
    assert response.json()["error"]["message"] == ("the request body is larger than 1,000,000 "
                                                   "bytes")


def test_an_oversized_streamed_body_is_refused_while_it_is_read(review: Site) -> None:
    """No Content-Length (chunked): the limit holds while reading."""
    client, _ = _client(review.client.app, review.store, None)

    def chunks() -> Iterator[bytes]:
        for _ in range(12):
            yield b" " * 100_000

    response = client.post("/api/login", content=chunks(), headers=JSON)
    assert response.status_code == 413
    assert response.json() == {"error": "the request body is larger than 1,000,000 bytes"}


# --- integers beyond 64 bits ---------------------------------------------------------

def test_a_path_id_beyond_64_bits_is_a_422(review: Site) -> None:
    client, _ = _client(review.client.app, review.store, "reviewer")
    response = client.get(f"/api/tasks/{BIG}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "task_id"]
    assert response.json()["detail"][0]["msg"] == ("Input should be less than or equal to "
                                                   "9223372036854775807")


def test_a_page_id_beyond_64_bits_is_an_error_page(review: Site) -> None:
    client, headers = _client(review.client.app, review.store, "reviewer")
    for response in (client.get(f"/tasks/{BIG}"),
                     client.post(f"/batches/{BIG}/next", headers=headers)):
        assert response.status_code == 422
        assert "text/html" in response.headers["content-type"]
        assert "task_id" in response.text or "batch_id" in response.text


def test_a_json_integer_beyond_64_bits_is_a_422(review: Site) -> None:
    client, headers = _client(review.client.app, review.store, "admin")
    response = client.post("/api/admin/batches", headers=headers, json={
        "name": "b", "model_version": "canned", "spec_version": review.spec_version,
        "prompts": 2, "overlap": BIG})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "overlap"]


def test_a_form_integer_beyond_64_bits_is_a_400_page(review: Site) -> None:
    client, headers = _client(review.client.app, review.store, "admin")
    response = client.post("/admin/batches", data={
        "name": "b", "model_version": "canned", "spec_version": review.spec_version,
        "prompts": "2", "overlap": str(BIG), "completions_per_prompt": "1", "seed": "0",
        "csrf_token": headers[CSRF_HEADER]})
    assert response.status_code == 400
    assert f"overlap: {BIG} is outside -9223372036854775808..9223372036854775807" not in \
        response.text  # low is 0 here
    assert f"overlap: {BIG} is outside 0..9223372036854775807" in response.text


def test_a_superscript_digit_is_not_a_statement_number(chat: ChatSite) -> None:
    """'²'.isdigit() is True, int('²') raises: only ASCII digits are numbers."""
    from accord.deliberate import create_deliberation

    with chat.store.session() as session:
        create_deliberation(session, "hostile", "Q?", seed_statements=["one", "two"],
                            created_by=chat.users["admin"])
    client, headers = _client(chat.app, chat.store, "alice")
    response = client.post("/deliberations/hostile/vote",
                           data={"statement": "²", "vote": "agree",
                                 "csrf_token": headers[CSRF_HEADER]})
    assert response.status_code == 400
    assert "statement: &#39;²&#39; is not a whole number" in response.text


def test_every_integer_parameter_of_every_route_is_bounded(review: Site) -> None:
    """A structural guard: a new route with a bare ``int`` path or query parameter fails."""
    from fastapi.routing import APIRoute

    bare = []
    for route in review.client.app.routes:
        if not isinstance(route, APIRoute):
            continue
        for param in [*route.dependant.path_params, *route.dependant.query_params]:
            if param.field_info.annotation not in (int, int | None):
                continue
            bounds = {type(m).__name__ for m in param.field_info.metadata}
            if not {"Ge", "Le"} <= bounds:
                bare.append(f"{route.path} {param.name}")
    assert bare == []


# --- the catch-all -------------------------------------------------------------------

def test_an_unexpected_error_is_a_logged_id_in_a_well_formed_500(
        review: Site, caplog: pytest.LogCaptureFixture) -> None:
    """A route that fails in a way nobody foresaw (here a route added for the test that
    raises) answers a 500 in the path's shape naming an error id, which the log has too;
    the cookie, the CSRF token and the query string are not logged."""
    from accord.accounts import PUBLIC
    from accord.serve import guard

    app = review.client.app

    def broken(secret: str = "", viewer=guard(PUBLIC)) -> None:
        raise RuntimeError("boom")

    for path in ("/api/broken", "/v1/broken", "/broken"):
        app.add_api_route(path, broken, methods=["GET"])
    client, headers = _client(app, review.store, "reviewer")
    token = client.cookies.get(SESSION_COOKIE)
    with caplog.at_level(logging.ERROR, logger="accord.serve"):
        api = client.get("/api/broken?secret=hunter2", headers=headers)
        v1 = client.get("/v1/broken?secret=hunter2", headers=headers)
        page = client.get("/broken?secret=hunter2", headers=headers)
    assert api.status_code == v1.status_code == page.status_code == 500
    assert api.json()["error"].startswith("something went wrong on our side (error id ")
    assert v1.json()["error"]["type"] == "server_error"
    assert "text/html" in page.headers["content-type"] and "error id" in page.text
    error_id = api.json()["error"].split("error id ")[1].split(")")[0]
    logged = caplog.text
    assert f"unexpected error {error_id} on GET /api/broken" in logged
    assert "RuntimeError: boom" in logged
    for secret in ("hunter2", token, headers[CSRF_HEADER]):
        assert secret not in logged


@pytest.mark.parametrize(("body", "message"), [
    (b'{"values": 1e400}', "the JSON body holds the number 1e400, too large for a float"),
    (b'{"values": NaN}', "the JSON body holds NaN, which is not a JSON number"),
    (b'{"values": -Infinity}', "the JSON body holds -Infinity, which is not a JSON number"),
])
def test_non_finite_json_numbers_are_refused(review: Site, body: bytes, message: str) -> None:
    client, _ = _client(review.client.app, review.store, None)
    response = client.post("/api/login", content=body, headers=JSON)
    assert response.status_code == 400 and response.json() == {"error": message}


def test_hostile_corpus_never_gets_a_500(review: Site) -> None:
    """A sweep of the cases above across the review API: never a 500 or a dropped answer."""
    client, headers = _client(review.client.app, review.store, "admin")
    bodies = [DEEP, b'{"x": "\\ud800"}', b"\xff\xfe", b"{", b"null", b"[]", b'"x"',
              b"1e999999", b"-" * 10, b'{"values": 1e400}', b'{"note": NaN}',
              b'{"prompts": ' + b"9" * 5000 + b"}", b'{"tiers": [[' + b"9" * 30 + b"]]}"]
    for path in ("/api/login", "/api/admin/batches", "/api/survey", "/api/tasks/1/rating",
                 "/api/tasks/1/ranking"):
        for body in bodies:
            response = client.post(path, content=body, headers={**headers, **JSON})
            assert 400 <= response.status_code < 500, (path, body[:20], response.text)
