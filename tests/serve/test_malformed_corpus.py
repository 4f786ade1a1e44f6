"""A malformed-input corpus for the web surfaces (issue 16): JSON bodies on ``/api`` and
``/v1`` and form posts on the pages, each with the exact status and message a client gets
(OpenAI's error shape on ``/v1``: ``type: message (param ...)``). No case may answer 500.

Decisions the corpus pins: JSON text with a lone surrogate or a NUL is refused (400);
form text is percent-decoded with replacement, so a stray surrogate becomes U+FFFD
(normalised), while a NUL (``%00``) is refused; integers are ASCII digits within 64 bits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from chat_site import tiny_model_dir
from corpus_site import CorpusSite, outcome

from accord.store import Store

BIG = 2**63  # one past the largest signed 64-bit integer
DEEP = b"[" * 100_000 + b"]" * 100_000
LARGE = b'{"model": "tiny", "messages": [{"role": "user", "content": "' + b"a" * 1_000_001 + b'"}]}'

API = [
    pytest.param(
        None, "/api/login", b"{", 400, "the request body is not valid JSON", id="login_not_json"
    ),
    pytest.param(
        None, "/api/login", b"", 422, "missing at body: Field required", id="login_empty_body"
    ),
    pytest.param(
        None,
        "/api/login",
        b"[]",
        422,
        (
            'model_attributes_type at body: Input should be a valid dictionary or object to '
            'extract fields from'
        ),
        id="login_array",
    ),
    pytest.param(
        None,
        "/api/login",
        {"username": "x"},
        422,
        "missing at body.password: Field required",
        id="login_missing_password",
    ),
    pytest.param(
        None,
        "/api/login",
        {"username": 5, "password": "p"},
        422,
        "string_type at body.username: Input should be a valid string",
        id="login_number_name",
    ),
    pytest.param(
        None,
        "/api/login",
        b'{"username": "x\\ud800", "password": "p"}',
        400,
        "the JSON body holds an unpaired UTF-16 surrogate (\\ud800); send text as valid Unicode",
        id="login_surrogate",
    ),
    pytest.param(
        None, "/api/login", DEEP, 400, "the JSON body nests deeper than 32 levels", id="login_deep"
    ),
    pytest.param(
        None,
        "/api/login",
        b'{"username": NaN, "password": "p"}',
        400,
        "the JSON body holds NaN, which is not a JSON number",
        id="login_nan",
    ),
    pytest.param(
        None,
        "/api/login",
        b'{"username": ' + b"9" * 5000 + b', "password": "p"}',
        400,
        "the request body is not valid JSON",
        id="login_huge_int_text",
    ),
    pytest.param(
        None,
        "/api/login",
        b'{"username": "\xff", "password": "p"}',
        400,
        "the request body is not valid JSON",
        id="login_bad_utf8",
    ),
    pytest.param(
        "reviewer",
        "/api/tasks/{task}/rating",
        {"values": [1]},
        422,
        "dict_type at body.values: Input should be a valid dictionary",
        id="rating_values_not_object",
    ),
    pytest.param(
        "reviewer",
        "/api/tasks/{task}/rating",
        {"values": {}, "note": "n" * 5001},
        422,
        "string_too_long at body.note: String should have at most 5000 characters",
        id="rating_note_too_long",
    ),
    pytest.param(
        "reviewer",
        "/api/tasks/{task}/rating",
        b'{"values": {}, "note": "x\\udc00"}',
        400,
        "the JSON body holds an unpaired UTF-16 surrogate (\\udc00); send text as valid Unicode",
        id="rating_note_surrogate",
    ),
    pytest.param(
        "reviewer",
        "/api/tasks/{task}/rating",
        {"values": {"nope": 1}},
        422,
        (
            "unknown categories ['nope']; this guideline version has: offensive, one_sided, "
            'objectionable, over_refusal, preachy, helpful, follows_customisation, issues'
        ),
        id="rating_unknown_category",
    ),
    pytest.param(
        "reviewer",
        "/api/tasks/{task}/rating",
        b'{"values": {"helpful": 1e999}}',
        400,
        "the JSON body holds the number 1e999, too large for a float",
        id="rating_float_overflow",
    ),
    pytest.param(
        "reviewer",
        f"/api/tasks/{BIG}/rating",
        {"values": {}},
        422,
        (
            'less_than_equal at path.task_id: Input should be less than or equal to '
            '9223372036854775807'
        ),
        id="rating_task_beyond_64_bits",
    ),
    pytest.param(
        "reviewer",
        "/api/tasks/0/rating",
        {"values": {}},
        422,
        "greater_than_equal at path.task_id: Input should be greater than or equal to 1",
        id="rating_task_zero",
    ),
    pytest.param(
        "reviewer",
        "/api/tasks/abc/rating",
        {"values": {}},
        422,
        (
            'int_parsing at path.task_id: Input should be a valid integer, unable to parse string '
            'as an integer'
        ),
        id="rating_task_not_a_number",
    ),
    pytest.param(
        "reviewer",
        "/api/tasks/{task}/ranking",
        {"tiers": [[BIG]]},
        422,
        (
            'less_than_equal at body.tiers.0.0: Input should be less than or equal to '
            '9223372036854775807'
        ),
        id="ranking_tiers_beyond_64_bits",
    ),
    pytest.param(
        "reviewer",
        "/api/tasks/{task}/ranking",
        {"tiers": [1, 2]},
        422,
        "list_type at body.tiers.0: Input should be a valid list",
        id="ranking_tiers_not_lists",
    ),
    pytest.param(
        "reviewer",
        "/api/survey",
        {"answers": {"region": 1}, "consent": True},
        422,
        "string_type at body.answers.region: Input should be a valid string",
        id="survey_answers_not_text",
    ),
    pytest.param(
        "reviewer",
        "/api/survey",
        {"answers": {}, "consent": "maybe"},
        422,
        "bool_parsing at body.consent: Input should be a valid boolean, unable to interpret input",
        id="survey_without_consent",
    ),
    pytest.param(
        "admin",
        "/api/admin/batches",
        {
            "name": "b",
            "model_version": "canned",
            "spec_version": "{spec}",
            "prompts": 2,
            "overlap": BIG,
        },
        422,
        (
            'less_than_equal at body.overlap: Input should be less than or equal to '
            '9223372036854775807'
        ),
        id="batch_overlap_beyond_64_bits",
    ),
    pytest.param(
        "admin",
        "/api/admin/batches",
        {"name": "b", "model_version": "canned", "spec_version": "{spec}", "prompts": -1},
        422,
        "greater_than_equal at body.prompts: Input should be greater than or equal to 0",
        id="batch_prompts_negative",
    ),
    pytest.param(
        "admin",
        "/api/admin/batches",
        {
            "name": "b",
            "model_version": "canned",
            "spec_version": "{spec}",
            "prompts": 2,
            "seed": -BIG - 1,
        },
        422,
        (
            'greater_than_equal at body.seed: Input should be greater than or equal to '
            '-9223372036854775808'
        ),
        id="batch_seed_below_64_bits",
    ),
    pytest.param(
        "admin",
        "/api/admin/batches",
        {"name": "", "model_version": "canned", "spec_version": "{spec}", "prompts": 2},
        422,
        "string_too_short at body.name: String should have at least 1 character",
        id="batch_name_empty",
    ),
    pytest.param(
        "admin",
        "/api/admin/batches",
        {"name": "b", "model_version": "canned", "spec_version": "nope", "prompts": 2},
        404,
        (
            "no spec version 'nope'; pass a full sha256 hash, a 12-character version or an id. "
            'Newest stored: e9dcc3aa8f12 (id 1, demo)'
        ),
        id="batch_unknown_spec",
    ),
    pytest.param(
        "reviewer",
        f"/api/tasks/next?batch={BIG}",
        None,
        422,
        "less_than_equal at query.batch: Input should be less than or equal to 9223372036854775807",
        id="next_task_batch_beyond_64_bits",
    ),
    pytest.param(
        "reviewer",
        "/api/tasks/next?batch=%C2%B2",
        None,
        422,
        (
            'int_parsing at query.batch: Input should be a valid integer, unable to parse string '
            'as an integer'
        ),
        id="next_task_batch_superscript",
    ),
    pytest.param(
        "alice",
        "/api/chat",
        {"messages": []},
        400,
        "messages: List should have at least 1 item after validation, not 0",
        id="chat_messages_empty",
    ),
    pytest.param(
        "alice",
        "/api/chat",
        {"messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}]},
        400,
        (
            'messages.0: each message is {role: user|assistant, content}; settings go in '
            "'settings', not in system messages"
        ),
        id="chat_system_message",
    ),
    pytest.param(
        "alice",
        "/api/chat",
        {"messages": [{"role": "user", "content": "hi"}], "seed": 4294967296},
        400,
        "seed: Input should be less than or equal to 4294967295",
        id="chat_seed_beyond_32_bits",
    ),
    pytest.param(
        "alice",
        "/api/chat",
        b'{"messages": [{"role": "user", "content": "x\\ud800"}]}',
        400,
        "the JSON body holds an unpaired UTF-16 surrogate (\\ud800); send text as valid Unicode",
        id="chat_surrogate",
    ),
    pytest.param(
        "alice",
        "/api/chat",
        b'{"a":' * 50 + b"1" + b"}" * 50,
        400,
        "the JSON body nests deeper than 32 levels",
        id="chat_deep",
    ),
    pytest.param(
        "alice",
        "/api/chat",
        b'{"messages": [{"role": "user", "content": "a\\u0000"}]}',
        400,
        "the JSON body holds a NUL character (\\u0000), which no text field can hold",
        id="chat_nul",
    ),
    pytest.param(
        "reviewer",
        "/api/tasks/{task}/rating",
        b'{"values": {}, "note": "a\\u0000"}',
        400,
        "the JSON body holds a NUL character (\\u0000), which no text field can hold",
        id="rating_note_nul",
    ),
    pytest.param(
        "alice",
        "/api/chat/feedback",
        DEEP,
        400,
        "the JSON body nests deeper than 32 levels",
        id="chat_feedback_deep",
    ),
    pytest.param(
        "alice",
        "/api/chat/feedback",
        {"answer_id": "nope", "kind": "up"},
        404,
        "no answer 'nope' of yours; feedback refers to the id returned with an answer you received",
        id="chat_feedback_unknown_answer",
    ),
    pytest.param(
        "alice",
        "/api/chat/profile",
        {"settings": {}, "locked": "tone"},
        400,
        "locked: Input should be a valid list",
        id="chat_profile_locked_not_list",
    ),
    pytest.param(
        "key",
        "/v1/chat/completions",
        b"{",
        400,
        "invalid_request_error: the request body is not valid JSON (param None)",
        id="v1_not_json",
    ),
    pytest.param(
        "key",
        "/v1/chat/completions",
        b"[1]",
        400,
        "invalid_request_error: the request body must be a JSON object (param None)",
        id="v1_array",
    ),
    pytest.param(
        "key",
        "/v1/chat/completions",
        {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "funky": 1},
        400,
        "invalid_request_error: unrecognized request argument supplied: funky (param funky)",
        id="v1_unknown_field",
    ),
    pytest.param(
        "key",
        "/v1/chat/completions",
        {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "seed": BIG},
        400,
        (
            'invalid_request_error: seed: Input should be less than or equal to '
            '9223372036854775807 (param seed)'
        ),
        id="v1_seed_beyond_64_bits",
    ),
    pytest.param(
        "key",
        "/v1/chat/completions",
        {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "temperature": 3},
        400,
        (
            'invalid_request_error: temperature: Input should be less than or equal to 2 (param '
            'temperature)'
        ),
        id="v1_temperature_too_high",
    ),
    pytest.param(
        "key",
        "/v1/chat/completions",
        {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "n": 9},
        400,
        "invalid_request_error: n: Input should be less than or equal to 8 (param n)",
        id="v1_n_too_many",
    ),
    pytest.param(
        "key",
        "/v1/chat/completions",
        b'{"model": "tiny", "messages": [{"role": "user", "content": "x\\ud800"}]}',
        400,
        (
            'invalid_request_error: the JSON body holds an unpaired UTF-16 surrogate (\\ud800); '
            'send text as valid Unicode (param None)'
        ),
        id="v1_surrogate",
    ),
    pytest.param(
        "key",
        "/v1/chat/completions",
        DEEP,
        400,
        "invalid_request_error: the JSON body nests deeper than 32 levels (param None)",
        id="v1_deep",
    ),
    pytest.param(
        "key",
        "/v1/chat/completions",
        LARGE,
        413,
        "invalid_request_error: the request body is larger than 1,000,000 bytes (param None)",
        id="v1_too_large",
    ),
    pytest.param(
        None,
        "/v1/chat/completions",
        {"model": "tiny", "messages": [{"role": "user", "content": "hi"}]},
        401,
        (
            "invalid_request_error: missing API key: send 'Authorization: Bearer <key>' (make a "
            'key at /keys or with `accord customize keys create`) (param None)'
        ),
        id="v1_no_key",
    ),
    pytest.param(
        "key",
        "/v1/chat/completions",
        {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": BIG},
        400,
        (
            'invalid_request_error: max_tokens is 9223372036854775808; this server allows at most '
            '512 (param max_tokens)'
        ),
        id="v1_max_tokens_too_many",
    ),
    pytest.param(
        "key",
        "/v1/feedback",
        {"answer_id": "x", "kind": "meh"},
        400,
        "invalid_request_error: kind: Input should be 'up', 'down' or 'flag' (param kind)",
        id="v1_feedback_bad_kind",
    ),
    pytest.param(
        "key",
        "/v1/chat/completions",
        {"model": "nope", "messages": [{"role": "user", "content": "hi"}]},
        404,
        (
            "not_found_error: the model 'nope' does not exist or is not served here (served: tiny) "
            '(param model)'
        ),
        id="v1_unknown_model",
    ),
]
FORMS = [
    pytest.param(
        None,
        "/login",
        "username=x%ED%A0%80&password=p",
        401,
        "Wrong username or password.",
        id="login_surrogate_name",
    ),
    pytest.param(
        None, "/login", "username=&password=", 401, "Wrong username or password.", id="login_empty"
    ),
    pytest.param(
        "pat",
        "/deliberations/corpus/vote",
        "statement=%C2%B2&vote=agree",
        400,
        "statement: '²' is not a whole number",
        id="vote_superscript",
    ),
    pytest.param(
        "pat",
        "/deliberations/corpus/vote",
        f"statement={BIG}&vote=agree",
        400,
        "statement: 9223372036854775808 is outside 0..9223372036854775807",
        id="vote_beyond_64_bits",
    ),
    pytest.param(
        "pat",
        "/deliberations/corpus/vote",
        "statement=-1&vote=agree",
        400,
        "statement: -1 is outside 0..9223372036854775807",
        id="vote_negative",
    ),
    pytest.param(
        "pat",
        "/deliberations/corpus/vote",
        "statement=&vote=agree",
        400,
        "statement: '' is not a whole number",
        id="vote_empty",
    ),
    pytest.param(
        "pat",
        "/deliberations/corpus/vote",
        "statement=0&vote=maybe",
        400,
        "vote 'maybe' is not one of agree, disagree, pass",
        id="vote_unknown_choice",
    ),
    pytest.param(
        "pat",
        "/deliberations/corpus/vote",
        "statement=99&vote=agree",
        404,
        "deliberation 'corpus' has no statement 99",
        id="vote_unknown_statement",
    ),
    pytest.param(
        "pat",
        "/deliberations/corpus/vote",
        "statement=%D9%A1&vote=agree",
        400,
        "statement: '١' is not a whole number",
        id="vote_arabic_digits",
    ),
    pytest.param(
        "pat",
        "/deliberations/corpus/statements",
        "text=",
        400,
        "the statement is empty; write one sentence to vote on",
        id="statement_empty",
    ),
    pytest.param(
        "pat",
        "/deliberations/corpus/statements",
        "text=" + "a" * 2000,
        400,
        "the statement has 2000 characters; at most 280 are allowed",
        id="statement_too_long",
    ),
    pytest.param(
        "pat",
        "/deliberations/corpus/statements",
        "text=a%00b",
        400,
        "the form holds a NUL character (%00), which no text field can hold",
        id="statement_nul",
    ),
    pytest.param(
        None,
        "/login",
        "username=a%00&password=p",
        400,
        "the form holds a NUL character (%00), which no text field can hold",
        id="login_nul",
    ),
    pytest.param(
        "admin",
        "/admin/batches",
        (
            f"name=b&model_version=canned&spec_version={{spec}}&prompts=2&overlap={BIG}&"
            f"completions_per_prompt=1&seed=0"
        ),
        400,
        "overlap: 9223372036854775808 is outside 0..9223372036854775807",
        id="batch_overlap_beyond_64_bits",
    ),
    pytest.param(
        "admin",
        "/admin/batches",
        (
            'name=b&model_version=canned&spec_version={spec}&prompts=%C2%B2&overlap=1&'
            'completions_per_prompt=1&seed=0'
        ),
        400,
        "prompts: '²' is not a whole number",
        id="batch_prompts_superscript",
    ),
    pytest.param(
        "admin",
        "/admin/batches",
        (
            'name=b&model_version=canned&spec_version={spec}&prompts=2.5&overlap=1&'
            'completions_per_prompt=1&seed=0'
        ),
        400,
        "prompts: '2.5' is not a whole number",
        id="batch_prompts_float",
    ),
    pytest.param(
        "admin",
        "/admin/batches",
        (
            'name=b&model_version=canned&spec_version={spec}&prompts=2&overlap=1&'
            'completions_per_prompt=1'
        ),
        400,
        "seed: '' is not a whole number",
        id="batch_seed_missing",
    ),
    pytest.param(
        "admin",
        "/admin/batches",
        (
            'name=b&model_version=canned&spec_version=nope&prompts=2&overlap=1&'
            'completions_per_prompt=1&seed=0'
        ),
        404,
        (
            "no spec version 'nope'; pass a full sha256 hash, a 12-character version or an id. "
            'Newest stored: e9dcc3aa8f12 (id 1, demo)'
        ),
        id="batch_unknown_spec",
    ),
    pytest.param(
        "admin",
        "/admin/deliberations",
        "name=d2&question=Q&min_votes=2.5",
        400,
        "min_votes: '2.5' is not a whole number",
        id="deliberation_min_votes_float",
    ),
    pytest.param(
        "admin",
        "/admin/deliberations",
        f"name=d2&question=Q&min_votes={BIG}",
        400,
        "min_votes: 9223372036854775808 is outside 0..9223372036854775807",
        id="deliberation_min_votes_huge",
    ),
    pytest.param(
        "admin",
        "/admin/deliberations",
        "name=d2&question=Q&min_group_agree=nan",
        400,
        "min_group_agree: 'nan' is not a finite number",
        id="deliberation_agree_nan",
    ),
    pytest.param(
        "admin",
        "/admin/deliberations",
        "name=d2&question=Q&min_group_agree=inf",
        400,
        "min_group_agree: 'inf' is not a finite number",
        id="deliberation_agree_inf",
    ),
    pytest.param(
        "admin",
        "/admin/deliberations",
        "name=a%20b&question=Q",
        400,
        (
            "deliberation name 'a b' is not allowed: use 1-100 letters, digits, '.', '_' or '-', "
            'starting with a letter or digit'
        ),
        id="deliberation_bad_name",
    ),
    pytest.param(
        "admin",
        "/admin/deliberations",
        "name=d3&question=",
        400,
        "the question is empty; say what participants deliberate on",
        id="deliberation_no_question",
    ),
    pytest.param(
        "admin",
        f"/admin/deliberations/corpus/statements/{BIG}/moderation",
        "state=accepted",
        422,
        "number: Input should be less than or equal to 9223372036854775807",
        id="moderate_number_beyond_64_bits",
    ),
    pytest.param(
        "admin",
        "/admin/deliberations/corpus/statements/0/moderation",
        "state=maybe",
        400,
        "moderation 'maybe' is not one of accepted, rejected, meta, unmoderated",
        id="moderate_unknown_state",
    ),
    pytest.param(
        "reviewer",
        "/tasks/{ctask}/ranking",
        "rank.{ccid}=%C2%B2",
        400,
        "rank.9: '²' is not a whole number",
        id="ranking_superscript",
    ),
    pytest.param(
        "reviewer",
        "/tasks/{ctask}/ranking",
        f"rank.{{ccid}}={BIG}",
        400,
        "rank.9: 9223372036854775808 is outside 1..2",
        id="ranking_beyond_64_bits",
    ),
    pytest.param(
        "reviewer",
        f"/tasks/{BIG}/rating",
        "helpful=5",
        422,
        "task_id: Input should be less than or equal to 9223372036854775807",
        id="rating_form_task_beyond_64_bits",
    ),
    pytest.param(
        "reviewer",
        "/tasks/0/skip",
        "",
        422,
        "task_id: Input should be greater than or equal to 1",
        id="skip_task_zero",
    ),
    pytest.param(
        "reviewer",
        f"/batches/{BIG}/next",
        "",
        422,
        "batch_id: Input should be less than or equal to 9223372036854775807",
        id="next_batch_beyond_64_bits",
    ),
    pytest.param(
        "admin",
        f"/admin/items/{BIG}/adjudication",
        "helpful=5",
        422,
        "item_id: Input should be less than or equal to 9223372036854775807",
        id="adjudicate_item_beyond_64_bits",
    ),
    pytest.param(
        "admin",
        f"/admin/feedback/{BIG}",
        "action=close",
        422,
        "feedback_id: Input should be less than or equal to 9223372036854775807",
        id="feedback_triage_beyond_64_bits",
    ),
    pytest.param(
        "reviewer",
        "/survey",
        "region=%ED%A0%80&consent=yes",
        422,
        (
            "region: '���' is not offered; choose one of: Africa, Asia, Europe, Latin America, "
            'North America, Oceania, Middle East, prefer not to say'
        ),
        id="survey_form_surrogate",
    ),
    pytest.param(
        "pat",
        "/deliberations/corpus/about-you",
        "region=%ED%A0%80",
        400,
        "your answers are stored only with your consent; tick the consent box",
        id="about_you_surrogate",
    ),
    pytest.param(
        "alice",
        f"/keys/{BIG}/revoke",
        "",
        422,
        "key_id: Input should be less than or equal to 9223372036854775807",
        id="key_revoke_beyond_64_bits",
    ),
    pytest.param(
        "admin",
        "/admin/users",
        "username=zed&role=emperor",
        422,
        (
            "roles ['emperor'] are not allowed; an account needs at least one of: admin, reviewer, "
            'participant, auditor'
        ),
        id="user_create_bad_role",
    ),
]


@pytest.fixture(scope="module")
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CorpusSite]:
    from accord.customize import load_runner

    runner = load_runner("tiny", tiny_model_dir(request, tmp_path_factory))
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'accord.sqlite3'}")
    try:
        yield CorpusSite(store, runner)
    finally:
        store.close()


@pytest.mark.parametrize(("who", "path", "body", "status", "message"), API)
def test_api_body(
    site: CorpusSite, who: str | None, path: str, body: object, status: int, message: str
) -> None:
    client, headers = site.client(who)
    headers.pop("x-anon-csrf", None)
    content = site.fill(json.dumps(body)).encode() if isinstance(body, dict) else body or b""
    response = client.post(
        site.fill(path), content=content, headers={**headers, "content-type": "application/json"}
    )
    assert outcome(response) == (status, site.fill(message))


@pytest.mark.parametrize(("who", "path", "body", "status", "message"), FORMS)
def test_form_post(
    site: CorpusSite, who: str | None, path: str, body: str, status: int, message: str
) -> None:
    client, headers = site.client(who)
    csrf = headers.pop("x-anon-csrf", None) or headers.pop("x-csrf-token")
    content = site.fill(body) + ("&" if body else "") + "csrf_token=" + quote(csrf)
    response = client.post(
        site.fill(path),
        content=content.encode(),
        headers={**headers, "content-type": "application/x-www-form-urlencoded"},
    )
    assert outcome(response) == (status, site.fill(message))


def test_each_corpus_has_thirty_cases() -> None:
    assert len(API) >= 30 and len(FORMS) >= 30
