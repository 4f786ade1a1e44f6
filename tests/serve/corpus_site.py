"""A site for the malformed-input corpus: review batches, a served tiny model, a deliberation."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from chat_site import build_chat_site
from fastapi.testclient import TestClient

from accord.accounts import create_user, get_user, start_session
from accord.deliberate import create_deliberation
from accord.review import create_batch, next_task, store_canned_completions, task_view
from accord.serve import CSRF_HEADER, SESSION_COOKIE
from accord.store import Store, latest_spec_version

PASSWORD = "correct horse battery"


class CorpusSite:
    def __init__(self, store: Store, runner: Any) -> None:
        self.store = store
        self.chat = build_chat_site(store, runner, requests_per_minute=100_000)
        self.app = self.chat.app
        with store.session() as session:
            row = latest_spec_version(session)
            self.spec = row.version
            store_canned_completions(session, row, prompts=6, completions_per_prompt=2)
            reviewer = create_user(session, "reviewer", PASSWORD, ["reviewer"]).id
            create_user(session, "pat", PASSWORD, ["participant"])
            rating = create_batch(
                session,
                name="r",
                kind="rating",
                model_version="canned",
                spec_version=row.id,
                prompts=6,
                completions_per_prompt=2,
                overlap=2,
            )
            comparison = create_batch(
                session,
                name="c",
                kind="comparison",
                model_version="canned",
                spec_version=row.id,
                prompts=6,
                completions_per_prompt=2,
                overlap=2,
            )
            self.task = next_task(session, rating.id, reviewer).id
            assignment = next_task(session, comparison.id, reviewer)
            self.ctask = assignment.id
            self.ccid = task_view(session, assignment).completions[0][0]
            create_deliberation(session, "corpus", "Q?", seed_statements=["one", "two"])
        self.key = self.chat.key("alice", "corpus")

    def client(self, who: str | None) -> tuple[TestClient, dict[str, str]]:
        client = TestClient(self.app, follow_redirects=False, raise_server_exceptions=False)
        if who == "key":
            return client, {"authorization": f"Bearer {self.key}"}
        if who is None:
            client.get("/login")
            return client, {"x-anon-csrf": client.cookies.get("accord_csrf") or ""}
        with self.store.session() as session:
            token, csrf = start_session(session, get_user(session, who))
        client.cookies.set(SESSION_COOKIE, token)
        return client, {CSRF_HEADER: csrf}

    def fill(self, text: str) -> str:
        return (
            text.replace("{task}", str(self.task))
            .replace("{ctask}", str(self.ctask))
            .replace("{ccid}", str(self.ccid))
            .replace("{spec}", self.spec)
        )


def outcome(response: Any) -> tuple[int, str]:
    """(status, the message a client reads) in whichever shape the surface answers."""
    status = response.status_code
    if status in (302, 303):
        return status, "-> " + response.headers["location"]
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/json"):
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):  # OpenAI's shape
            return status, f"{error['type']}: {error['message']} (param {error['param']})"
        if isinstance(error, str):
            return status, error
        if isinstance(body, dict) and isinstance(body.get("detail"), str):
            return status, "detail: " + body["detail"]
        if isinstance(body, dict) and "detail" in body:
            first = body["detail"][0]
            return status, f"{first['type']} at {'.'.join(map(str, first['loc']))}: {first['msg']}"
        return status, json.dumps(body)[:200]
    if kind.startswith("text/html"):
        found = re.search(r'<p class="error"[^>]*>(.*?)</p>', response.text, re.S)
        if found:
            return status, html.unescape(found.group(1)).strip()
        title = re.search(r"<h1>(.*?)</h1>", response.text, re.S)
        return status, "page: " + (html.unescape(title.group(1)).strip() if title else "?")
    return status, response.text[:200]
