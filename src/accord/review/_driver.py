"""Simulated reviewers working through the same HTTP API the web pages use.

The rating logic is :class:`accord.review.SimulatedReviewer`; this module only signs in,
asks for tasks, submits answers and keeps count. Accounts it uses must be flagged
simulated (:func:`register_simulated_reviewers`), so every report can say so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.accounts import User, create_user, generate_password, roles_of, set_password
from accord.errors import AccordError
from accord.review._agreement import CategoryInfo
from accord.review._simulate import ReviewerProfile, SimulatedReviewer
from accord.review._survey import PREFER_NOT_TO_SAY
from accord.store import ConflictError

CSRF_HEADER = "x-csrf-token"


@dataclass
class DriveResult:
    """What one simulated reviewer did, as acknowledged by the server."""

    username: str
    acknowledged: list[dict[str, Any]] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    retries: int = 0
    errors: list[str] = field(default_factory=list)


def register_simulated_reviewers(session: Session, profiles: Sequence[ReviewerProfile],
                                 ) -> list[tuple[str, str]]:
    """A reviewer account flagged simulated for each profile (username = profile id,
    lowercased); returns (username, one-time password) pairs for the driver.

    An account of that name that the simulator made before (flagged simulated, an active
    reviewer: an earlier run with the same panel seed, on another batch or one whose server
    was not up) is reused with a fresh password, so the same simulated reviewer keeps one
    id across batches and a failed run never blocks the next. Every name is checked before
    any account is created or changed.

    Raises:
        ConflictError: a name is taken by an account that is not a simulated reviewer.
    """
    taken = []
    existing = set()
    for profile in profiles:
        username = profile.id.lower()
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            continue
        reusable = (user.is_simulated and user.is_active
                    and "reviewer" in roles_of(session, user.id))
        if not reusable:
            taken.append(username)
        existing.add(username)
    if taken:
        names = ", ".join(map(repr, taken))
        which = f"username {names} is" if len(taken) == 1 else f"usernames {names} are"
        raise ConflictError(f"{which} taken by an account that is not an active simulated "
                            "reviewer; choose another panel --seed")
    credentials = []
    for profile in profiles:
        username, password = profile.id.lower(), generate_password()
        if username in existing:
            set_password(session, username, password)
        else:
            create_user(session, username, password, ["reviewer"], simulated=True)
        credentials.append((username, password))
    return credentials


def check_review_server(base_url: str, *, timeout_s: float = 10.0) -> None:
    """Make sure an Accord server answers at ``base_url`` (its ``/api/health``), before any
    account is made for it.

    Raises:
        AccordError: the URL is not an http(s) URL, nothing answers there, or what answers
            is not an Accord server.
    """
    hint = "start the review server first (`accord serve -p PROJECT`) and give its address " \
           "with --url"
    try:
        with httpx.Client(base_url=base_url, timeout=timeout_s) as client:
            answer = client.get("/api/health")
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise AccordError(f"--url {base_url!r} is not a usable http(s) URL ({exc}); give "
                          "the review server's address, e.g. http://127.0.0.1:8000") from None
    except httpx.TransportError as exc:
        raise AccordError(f"no review server answers at {base_url} ({exc}); {hint}") from None
    try:
        healthy = answer.status_code == 200 and answer.json().get("status") == "ok"
    except (ValueError, AttributeError):
        healthy = False
    if not healthy:
        raise AccordError(f"{base_url} answered HTTP {answer.status_code} to /api/health: not "
                          f"an Accord review server; {hint}")


def simulate_over_http(base_url: str, credentials: tuple[str, str], batch_id: int,
                       reviewer: SimulatedReviewer, *, max_tasks: int | None = None,
                       think_s: Callable[[], float] | None = None, survey: bool = True,
                       stop: Callable[[], bool] | None = None,
                       on_ready: Callable[[], None] | None = None, retry_for_s: float = 60.0,
                       timeout_s: float = 30.0) -> DriveResult:
    """Review ``batch_id`` as ``reviewer`` until no task is left (or ``max_tasks``).

    Connection failures (a restarting server) are retried for up to ``retry_for_s``; a
    rating is counted as acknowledged only when the server answered 200, which it does
    after committing. Resubmitting the same answer is accepted by the server, so a retry
    after a lost response neither fails nor duplicates.

    Args:
        base_url: e.g. ``http://127.0.0.1:8000``.
        credentials: (username, password) of a simulated account.
        batch_id: the batch to review.
        reviewer: decides the answers.
        max_tasks: stop after this many submissions.
        think_s: returns seconds to pause before each submission (pacing like a person).
        survey: answer the demographic survey first if the profile opted in.
        stop: checked between tasks; True ends the loop.
        on_ready: called once signed in (and surveyed), before the first task.
        retry_for_s: how long to keep retrying a request the server did not answer.
        timeout_s: per-request timeout.
    """
    username, password = credentials
    result = DriveResult(username)
    with httpx.Client(base_url=base_url, timeout=timeout_s) as client:

        def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
            deadline = time.monotonic() + retry_for_s
            while True:
                try:
                    return client.request(method, url, **kwargs)
                except httpx.TransportError as exc:
                    if time.monotonic() > deadline:
                        raise
                    result.retries += 1
                    result.errors.append(type(exc).__name__)
                    time.sleep(0.2)

        login = call("POST", "/api/login", json={"username": username, "password": password})
        login.raise_for_status()
        headers = {CSRF_HEADER: login.json()["csrf_token"]}
        if survey and reviewer.profile.opt_in:
            _answer_survey(call, headers, reviewer.profile)
        if on_ready is not None:
            on_ready()
        while max_tasks is None or len(result.acknowledged) < max_tasks:
            if stop is not None and stop():
                break
            # A POST with the CSRF header: handing out a task changes state.
            task = call("POST", "/api/tasks/next", params={"batch": batch_id},
                        headers=headers)
            task.raise_for_status()
            view = task.json()["task"]
            if view is None:
                break
            if think_s is not None:
                time.sleep(think_s())
            url, body = _answer(reviewer, view)
            at, started = time.time(), time.perf_counter()
            response = call("POST", url, json=body, headers=headers)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                result.errors.append(f"{response.status_code}: {response.text[:200]}")
                break
            result.latencies_s.append(elapsed)
            timing = response.headers.get("server-timing", "")
            server_ms = float(timing.split("dur=")[1]) if "dur=" in timing else None
            result.acknowledged.append({"task_id": view["id"], "kind": view["kind"], "at": at,
                                        "latency_s": elapsed, "server_ms": server_ms, **body})
    return result


def _answer(reviewer: SimulatedReviewer, view: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    messages = view["messages"]
    if view["kind"] == "comparison":
        texts = {str(c["id"]): c["text"] for c in view["completions"]}
        tiers = reviewer.rank(messages, texts)
        return (f"/api/tasks/{view['id']}/ranking",
                {"tiers": [[int(c) for c in tier] for tier in tiers]})
    infos = [_info(c) for c in view["categories"]]
    completion = view["completions"][0]["text"]
    values = reviewer.rate(messages, completion, infos)
    notes = reviewer.note(str(view["id"]), messages, completion, infos)
    unclear = sorted({n.category for n in notes if n.unclear and n.category})
    return (f"/api/tasks/{view['id']}/rating", {
        "values": {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()},
        "note": " ".join(n.text for n in notes), "unclear": unclear})


def _info(category: dict[str, Any]) -> CategoryInfo:
    scale = category["scale"]
    if scale["type"] == "likert":
        values: tuple[Any, ...] = tuple(sorted(int(p) for p in scale["points"]))
    elif scale["type"] == "binary":
        values = ("yes", "no")
    else:
        values = tuple(o["id"] for o in scale["options"])
    return CategoryInfo(category["id"], category["kind"], scale["type"], values,
                        category["question"])


def _answer_survey(call: Callable[..., httpx.Response], headers: dict[str, str],
                   profile: ReviewerProfile) -> None:
    status = call("GET", "/api/survey").json()
    if status["answered"]:
        return
    answers = {}
    for question in status["fields"]:
        value = profile.demographics.get(question["id"])
        answers[question["id"]] = value if value in question["options"] else PREFER_NOT_TO_SAY
    call("POST", "/api/survey", json={"answers": answers, "consent": True},
         headers=headers).raise_for_status()
