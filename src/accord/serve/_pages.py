"""Pages for everyone signed in: sign in/out, dashboard, review tasks, the survey.

Plain HTML forms that work without JavaScript; static/review.js adds the keyboard.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from accord.accounts import (
    PUBLIC,
    REVIEW,
    SIGNED_IN,
    SURVEY,
    authenticate,
    end_session,
    start_session,
)
from accord.review import (
    CONSENT_TEXT,
    PREFER_NOT_TO_SAY,
    get_batch,
    has_survey,
    next_task,
    own_task,
    record_survey,
    reviewer_progress,
    skip_task,
    submit_ranking,
    submit_rating,
    task_view,
    withdraw_survey,
)
from accord.serve._api import client_address, set_session_cookie
from accord.serve._db import reading, writing
from accord.serve._permissions import SESSION_COOKIE, Viewer, guard
from accord.serve._queries import batch_list
from accord.serve._render import STATIC_DIR, redirect, render
from accord.serve._signin_limit import SignInThrottled, sign_in_limiter
from accord.spec import FlagsScale

router = APIRouter()
_STATIC = {"review.js": "text/javascript", "style.css": "text/css"}



@router.get("/static/{name}")
def static(name: str, viewer: Viewer = guard(PUBLIC)) -> Response:
    if name not in _STATIC:  # a fixed list: no path ever reaches the file system
        return Response("not found", status_code=404)
    return FileResponse(STATIC_DIR / name, media_type=_STATIC[name],
                        headers={"Cache-Control": "no-cache"})


@router.get("/login")
def login_page(request: Request, next: str = "/", viewer: Viewer = guard(PUBLIC)) -> Response:
    return render(request, "login.html", next=_local(next), error="")


@router.post("/login")
async def login(request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    form = await request.form()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = _local(str(form.get("next", "/")))
    limiter = sign_in_limiter(request.app)
    try:
        attempt = limiter.attempt(username, client_address(request))
    except SignInThrottled as exc:
        response = render(request, "login.html", status=429, next=target, error=str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    def sign_in() -> tuple[str, str] | None:
        with writing(request) as session:
            user = authenticate(session, username.strip(), password)
            return start_session(session, user) if user else None

    started = await run_in_threadpool(sign_in)
    if started is None:
        limiter.failed(attempt)
        return render(request, "login.html", status=401, next=target,
                      error="Wrong username or password.")
    limiter.succeeded(attempt)
    response = redirect(target)
    set_session_cookie(request, response, started[0])
    return response


@router.post("/logout")
def logout(request: Request, viewer: Viewer = guard(SIGNED_IN)) -> Response:
    with writing(request) as session:
        end_session(session, viewer.session_token)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def dashboard(request: Request, viewer: Viewer = guard(SIGNED_IN)) -> Response:
    can_review = viewer.can(REVIEW)
    with reading(request) as session:
        batches = batch_list(session, viewer.user_id) if can_review else []
        answered = has_survey(session, viewer.user_id) if viewer.can(SURVEY) else False
    return render(request, "dashboard.html", batches=batches, answered=answered)


@router.get("/batches/{batch_id}/next")
def next_page(batch_id: int, request: Request, viewer: Viewer = guard(REVIEW)) -> Response:
    """Hand out the next task and show it (or say the batch is done for you)."""
    with writing(request) as session:
        task = next_task(session, batch_id, viewer.user_id)
        name = get_batch(session, batch_id).name
    if task is None:
        return render(request, "done.html", batch_id=batch_id, batch_name=name)
    return redirect(f"/tasks/{task.id}")


@router.get("/tasks/{task_id}")
def task_page(task_id: int, request: Request, viewer: Viewer = guard(REVIEW)) -> Response:
    with reading(request) as session:
        task = own_task(session, task_id, viewer.user_id)
        if task.status != "assigned":
            return redirect(f"/batches/{task.batch_id}/next")
        view = task_view(session, task)
        progress = reviewer_progress(session, task.batch_id, viewer.user_id)
        name = get_batch(session, task.batch_id).name
    return render(request, "task.html", task=view, progress=progress, batch_name=name,
                  system=[m["content"] for m in view.messages if m["role"] == "system"],
                  turns=[m for m in view.messages if m["role"] != "system"],
                  flags_type=FlagsScale)


@router.post("/tasks/{task_id}/rating")
async def rating_form(task_id: int, request: Request,
                      viewer: Viewer = guard(REVIEW)) -> Response:
    form = await request.form()

    def save() -> int:
        with writing(request) as session:
            view = task_view(session, own_task(session, task_id, viewer.user_id))
            values = _rating_values(form, view.categories)
            unclear = [str(v) for v in form.getlist("unclear")]
            submit_rating(session, task_id, viewer.user_id, values,
                          note=str(form.get("note", "")), unclear=unclear)
            return view.batch_id

    return redirect(f"/batches/{await run_in_threadpool(save)}/next")


def _rating_values(form: FormData, categories: list[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for category in categories:
        key = f"c.{category.id}"
        if isinstance(category.scale, FlagsScale):
            # An unticked box sends nothing: for flags that means "none of these".
            values[category.id] = [str(v) for v in form.getlist(key)]
        elif form.get(key):
            values[category.id] = str(form.get(key))
    return values


@router.post("/tasks/{task_id}/ranking")
async def ranking_form(task_id: int, request: Request,
                       viewer: Viewer = guard(REVIEW)) -> Response:
    form = await request.form()

    def save() -> int:
        with writing(request) as session:
            view = task_view(session, own_task(session, task_id, viewer.user_id))
            ranks: dict[int, list[int]] = {}
            for cid, _ in view.completions:
                raw = str(form.get(f"rank.{cid}", "")).strip()
                rank = int(raw) if raw.isdigit() else len(view.completions)
                ranks.setdefault(rank, []).append(cid)
            tiers = [ranks[r] for r in sorted(ranks)]
            submit_ranking(session, task_id, viewer.user_id, tiers,
                           note=str(form.get("note", "")), unclear=bool(form.get("unclear")))
            return view.batch_id

    return redirect(f"/batches/{await run_in_threadpool(save)}/next")


@router.post("/tasks/{task_id}/skip")
def skip_form(task_id: int, request: Request, viewer: Viewer = guard(REVIEW)) -> Response:
    with writing(request) as session:
        batch_id = skip_task(session, task_id, viewer.user_id).batch_id
    return redirect(f"/batches/{batch_id}/next")


@router.get("/survey")
def survey_page(request: Request, viewer: Viewer = guard(SURVEY)) -> Response:
    with reading(request) as session:
        answered = has_survey(session, viewer.user_id)
    return render(request, "survey.html", answered=answered, consent_text=CONSENT_TEXT,
                  fields=request.app.state.survey_fields, prefer_not=PREFER_NOT_TO_SAY)


@router.post("/survey")
async def survey_submit(request: Request, viewer: Viewer = guard(SURVEY)) -> Response:
    form = await request.form()
    answers = {f.id: str(form.get(f.id, "")) for f in request.app.state.survey_fields}

    def save() -> None:
        with writing(request) as session:
            record_survey(session, viewer.user_id, answers, request.app.state.survey_fields,
                          consent=form.get("consent") == "yes")

    await run_in_threadpool(save)
    return redirect("/survey")


@router.post("/survey/withdraw")
def survey_withdraw(request: Request, viewer: Viewer = guard(SURVEY)) -> Response:
    with writing(request) as session:
        withdraw_survey(session, viewer.user_id)
    return redirect("/survey")


def _local(target: str) -> str:
    """Only same-site paths: ``next=https://evil.example`` must not redirect away."""
    parsed = urlparse(target)
    # Browsers read "/\\host" as "//host": a backslash anywhere is refused too.
    if (parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target):
        return "/"
    return target
