"""Pages for everyone signed in: sign in/out, dashboard, review tasks, the survey.

Plain HTML forms that work without JavaScript; static/review.js adds the keyboard.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlparse

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from accord.accounts import (
    MIN_PASSWORD_LENGTH,
    PUBLIC,
    REVIEW,
    SIGNED_IN,
    SURVEY,
    AccountError,
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
from accord.serve._api import change_password_counted, client_address, set_session_cookie
from accord.serve._db import reading, writing
from accord.serve._inputs import Id, form_int
from accord.serve._permissions import PASSWORD_PAGE, SESSION_COOKIE, Viewer, guard
from accord.serve._queries import batch_list
from accord.serve._render import STATIC_DIR, redirect, render
from accord.serve._signin_limit import SignInThrottled, sign_in_limiter
from accord.spec import FlagsScale

router = APIRouter()
_STATIC = {"review.js": "text/javascript", "site.js": "text/javascript", "style.css": "text/css"}



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
    try:  # the counts are in the store: off the event loop, like every database call
        attempt = await run_in_threadpool(limiter.attempt, username, client_address(request))
    except SignInThrottled as exc:
        response = render(request, "login.html", status=429, next=target, error=str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    def sign_in() -> tuple[str, bool] | None:
        with writing(request) as session:
            user = authenticate(session, username.strip(), password)
            if user is None:
                return None
            return start_session(session, user)[0], user.must_change_password

    started = await run_in_threadpool(sign_in)
    if started is None:
        await run_in_threadpool(limiter.failed, attempt)
        return render(request, "login.html", status=401, next=target,
                      error="Wrong username or password.")
    await run_in_threadpool(limiter.succeeded, attempt)
    token, must_change = started
    # A handed-out password is good for this one sign-in: replace it before anything else.
    response = redirect(f"{PASSWORD_PAGE}?next={quote(target)}" if must_change else target)
    set_session_cookie(request, response, token)
    return response


@router.get("/account/password")
def password_page(request: Request, next: str = "/",
                  viewer: Viewer = guard(SIGNED_IN, password_change=True)) -> Response:
    return _password_form(request, next=_local(next), error="")


def _password_form(request: Request, *, status: int = 200, next: str, error: str) -> Response:
    return render(request, "password.html", status=status, next=next, error=error,
                  min_length=MIN_PASSWORD_LENGTH)


@router.post("/account/password")
async def password_change(request: Request,
                          viewer: Viewer = guard(SIGNED_IN, password_change=True)) -> Response:
    """Replace one's own password; a wrong current one counts as a failed sign-in."""
    form = await request.form()
    target = _local(str(form.get("next", "/")))
    new, repeat = str(form.get("new_password", "")), str(form.get("repeat_password", ""))
    account = viewer.account
    assert account is not None
    if new != repeat:
        return _password_form(request, status=422, next=target,
                      error="The two new passwords differ.")
    try:
        await run_in_threadpool(change_password_counted, request, account.username,
                                account.id, str(form.get("current_password", "")), new,
                                viewer.session_token)
    except SignInThrottled as exc:
        response = _password_form(request, status=429, next=target, error=str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AccountError as exc:
        return _password_form(request, status=422, next=target,
                      error=f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    return redirect(target)


@router.post("/logout")
def logout(request: Request, viewer: Viewer = guard(SIGNED_IN, password_change=True)
           ) -> Response:
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


@router.post("/batches/{batch_id}/next")
def next_page(batch_id: Id, request: Request, viewer: Viewer = guard(REVIEW)) -> Response:
    """Hand out the next task and go to it (or to the batch's "done" page). A POST, from a
    button: handing out a task changes state, so a link or a prefetch must not do it."""
    with writing(request) as session:
        return redirect(_next_url(session, batch_id, viewer.user_id))


def _next_url(session: Any, batch_id: int, reviewer_id: int) -> str:
    task = next_task(session, batch_id, reviewer_id)
    return f"/tasks/{task.id}" if task is not None else f"/batches/{batch_id}/done"


@router.get("/batches/{batch_id}/done")
def done_page(batch_id: Id, request: Request, viewer: Viewer = guard(REVIEW)) -> Response:
    """Where a reviewer lands when a batch has nothing more for them (read only)."""
    with reading(request) as session:
        name = get_batch(session, batch_id).name
        left = reviewer_progress(session, batch_id, viewer.user_id)["left"]
    return render(request, "done.html", batch_id=batch_id, batch_name=name, left=left)


@router.get("/tasks/{task_id}")
def task_page(task_id: Id, request: Request, viewer: Viewer = guard(REVIEW)) -> Response:
    with reading(request) as session:
        task = own_task(session, task_id, viewer.user_id)
        if task.status != "assigned":
            return redirect(f"/batches/{task.batch_id}/done")
        return _task_response(request, session, task, viewer.user_id)


def _task_response(request: Request, session: Any, task: Any, reviewer_id: int, *,
                   answers: dict[str, Any] | None = None, unclear: list[str] | None = None,
                   note: str = "", missing: list[Any] | None = None) -> Response:
    """The task page; after a submission with unanswered categories, the same page again
    with the answers given kept and every missing category named (status 422)."""
    view = task_view(session, task)
    progress = reviewer_progress(session, task.batch_id, reviewer_id)
    name = get_batch(session, task.batch_id).name
    return render(request, "task.html", status=422 if missing else 200, task=view,
                  progress=progress, batch_name=name,
                  system=[m["content"] for m in view.messages if m["role"] == "system"],
                  turns=[m for m in view.messages if m["role"] != "system"],
                  flags_type=FlagsScale, answers=answers or {}, unclear=unclear or [],
                  note=note, missing=missing or [],
                  missing_ids={c.id for c in missing or []})


@router.post("/tasks/{task_id}/rating")
async def rating_form(task_id: Id, request: Request,
                      viewer: Viewer = guard(REVIEW)) -> Response:
    form = await request.form()

    def save() -> int | Response:
        with writing(request) as session:
            task = own_task(session, task_id, viewer.user_id)
            view = task_view(session, task)
            values = _rating_values(form, view.categories)
            unclear = [str(v) for v in form.getlist("unclear")]
            note = str(form.get("note", ""))
            missing = [c for c in view.categories
                       if not isinstance(c.scale, FlagsScale) and c.id not in values]
            if missing and task.status == "assigned":
                # Validate in place: the same task, every answer kept, every gap named.
                return _task_response(request, session, task, viewer.user_id, answers=values,
                                      unclear=unclear, note=note, missing=missing)
            submit_rating(session, task_id, viewer.user_id, values, note=note, unclear=unclear)
            return view.batch_id

    saved = await run_in_threadpool(save)
    if isinstance(saved, Response):
        return saved
    return redirect(await run_in_threadpool(_then_next, request, saved, viewer.user_id))


def _then_next(request: Request, batch_id: int, reviewer_id: int) -> str:
    # After an answer is committed, the next task is handed out by the same POST (a
    # redirect can only lead to a GET, and a GET hands out nothing).
    with writing(request) as session:
        return _next_url(session, batch_id, reviewer_id)


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
async def ranking_form(task_id: Id, request: Request,
                       viewer: Viewer = guard(REVIEW)) -> Response:
    form = await request.form()

    def save() -> int:
        with writing(request) as session:
            view = task_view(session, own_task(session, task_id, viewer.user_id))
            ranks: dict[int, list[int]] = {}
            for cid, _ in view.completions:
                rank = form_int(form, f"rank.{cid}", low=1, high=len(view.completions),
                                default=len(view.completions))
                ranks.setdefault(rank, []).append(cid)
            tiers = [ranks[r] for r in sorted(ranks)]
            submit_ranking(session, task_id, viewer.user_id, tiers,
                           note=str(form.get("note", "")), unclear=bool(form.get("unclear")))
            return view.batch_id

    return redirect(await run_in_threadpool(_then_next, request, await run_in_threadpool(save),
                                            viewer.user_id))


@router.post("/tasks/{task_id}/skip")
def skip_form(task_id: Id, request: Request, viewer: Viewer = guard(REVIEW)) -> Response:
    with writing(request) as session:
        batch_id = skip_task(session, task_id, viewer.user_id).batch_id
    return redirect(_then_next(request, batch_id, viewer.user_id))


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
