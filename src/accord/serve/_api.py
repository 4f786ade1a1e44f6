"""The JSON API. Pages and simulated reviewers use the same calls and the same package
functions; every acknowledged write is committed before the response is sent."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from accord.accounts import (
    ADMIN,
    PUBLIC,
    REVIEW,
    SIGNED_IN,
    SURVEY,
    AccountError,
    authenticate,
    change_password,
    end_session,
    start_session,
)
from accord.review import (
    batch_agreement,
    batch_progress,
    create_batch,
    disagreements,
    get_batch,
    has_survey,
    next_task,
    own_task,
    record_survey,
    reviewer_progress,
    reviewer_quality,
    skip_task,
    submit_ranking,
    submit_rating,
    task_view,
    withdraw_survey,
)
from accord.serve._db import reading, writing
from accord.serve._inputs import Count, Id, Int64, QueryId
from accord.serve._permissions import SESSION_COOKIE, Viewer, guard
from accord.serve._queries import batch_list
from accord.serve._signin_limit import SignInThrottled, client_address, sign_in_limiter

router = APIRouter(prefix="/api")



class LoginBody(BaseModel):
    username: str
    password: str


class RatingBody(BaseModel):
    values: dict[str, Any]
    note: str = Field("", max_length=5000)
    unclear: list[str] = Field(default_factory=list)


class RankingBody(BaseModel):
    tiers: list[list[Int64]]
    note: str = Field("", max_length=5000)
    unclear: bool = False


class SurveyBody(BaseModel):
    answers: dict[str, str]
    consent: bool


class BatchBody(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    kind: str = "rating"
    model_version: str
    spec_version: str
    prompts: Count
    completions_per_prompt: Count = 1
    overlap: Count = 2
    seed: Int64 = 0
    split: str | None = "review"


@router.get("/health")
def health(viewer: Viewer = guard(PUBLIC)) -> dict[str, str]:
    return {"status": "ok"}


@router.post("/login")
def login(body: LoginBody, request: Request, viewer: Viewer = guard(PUBLIC)) -> JSONResponse:
    """Sign in; the session cookie is set and the CSRF token returned for later calls.
    Repeated failures are throttled (429 with ``Retry-After``; see _signin_limit)."""
    limiter = sign_in_limiter(request.app)
    try:
        attempt = limiter.attempt(body.username, client_address(request))
    except SignInThrottled as exc:
        return JSONResponse({"error": str(exc), "retry_after": exc.retry_after},
                            status_code=429, headers={"Retry-After": str(exc.retry_after)})
    payload: dict[str, Any] | None = None
    with writing(request) as session:
        user = authenticate(session, body.username, body.password)
        if user is not None:
            token, csrf = start_session(session, user)
            payload = {"username": user.username, "csrf_token": csrf,
                       "simulated": user.is_simulated,
                       "must_change_password": user.must_change_password}
    # Counted after the transaction: the limiter writes to the store too, and on SQLite
    # one request must not wait for its own write lock.
    if payload is None:
        limiter.failed(attempt)
        return JSONResponse({"error": "wrong username or password"}, status_code=401)
    limiter.succeeded(attempt)
    response = JSONResponse(payload)
    set_session_cookie(request, response, token)
    return response


def set_session_cookie(request: Request, response: Any, token: str) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (not sent on cross-site POSTs)."""
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
                        secure=request.app.state.secure_cookies)


class PasswordBody(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


@router.post("/account/password")
def change_own_password(body: PasswordBody, request: Request,
                        viewer: Viewer = guard(SIGNED_IN, password_change=True)
                        ) -> JSONResponse:
    """Replace one's own password (the one-time one first of all); other sessions end.
    A wrong current password counts as a failed sign-in (it is a guess too)."""
    account = viewer.account
    assert account is not None
    try:
        change_password_counted(request, account.username, account.id,
                                body.current_password, body.new_password,
                                viewer.session_token)
    except SignInThrottled as exc:
        return JSONResponse({"error": str(exc), "retry_after": exc.retry_after},
                            status_code=429, headers={"Retry-After": str(exc.retry_after)})
    return JSONResponse({"changed": True})


def change_password_counted(request: Request, username: str, user_id: int, current: str,
                            new: str, session_token: str) -> None:
    """:func:`accord.accounts.change_password`, throttled like a sign-in.

    Raises:
        SignInThrottled: too many wrong passwords for the account or from the address.
        AccountError: wrong current password, or the new one is not acceptable.
    """
    limiter = sign_in_limiter(request.app)
    attempt = limiter.attempt(username, client_address(request))
    try:
        with writing(request) as session:
            change_password(session, user_id, current, new, keep_session=session_token)
    except AccountError as exc:
        if "current password" in str(exc):
            limiter.failed(attempt)
        raise
    limiter.succeeded(attempt)


@router.post("/logout")
def logout(request: Request, viewer: Viewer = guard(SIGNED_IN, password_change=True)
           ) -> JSONResponse:
    with writing(request) as session:
        end_session(session, viewer.session_token)
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me")
def me(viewer: Viewer = guard(SIGNED_IN, password_change=True)) -> dict[str, Any]:
    account = viewer.account
    assert account is not None
    return {"username": account.username, "roles": list(account.roles),
            "simulated": account.is_simulated, "permissions": sorted(viewer.permissions),
            "must_change_password": account.must_change_password}


@router.get("/batches")
def batches(request: Request, viewer: Viewer = guard(REVIEW)) -> dict[str, Any]:
    with reading(request) as session:
        return {"batches": batch_list(session, viewer.user_id)}


@router.get("/batches/{batch_id}")
def batch(batch_id: Id, request: Request, viewer: Viewer = guard(REVIEW)) -> dict[str, Any]:
    """A batch's progress, and the caller's own progress in it."""
    with reading(request) as session:
        row = get_batch(session, batch_id)
        return {"id": row.id, "name": row.name, "kind": row.kind, "overlap": row.overlap,
                "progress": batch_progress(session, batch_id).to_dict(),
                "mine": reviewer_progress(session, batch_id, viewer.user_id)}


@router.post("/tasks/next")
def next_one(batch: QueryId, request: Request, viewer: Viewer = guard(REVIEW)) -> dict[str, Any]:
    """The caller's next task in ``batch`` (assigned now, committed), or ``task: null``.
    A POST: it changes state (GET answers 405), so it needs the CSRF header."""
    with writing(request) as session:
        task = next_task(session, batch, viewer.user_id)
        return {"task": task_view(session, task).to_dict() if task else None}


@router.get("/tasks/next", include_in_schema=False)
def next_by_get(viewer: Viewer = guard(PUBLIC)) -> JSONResponse:
    """405: taking a task is a POST. (Without this route ``GET /api/tasks/next`` would
    reach ``/tasks/{task_id}`` and be refused as a bad id.)"""
    return JSONResponse({"error": "taking a task changes state: use POST /api/tasks/next"
                                  "?batch=ID with the X-CSRF-Token header"},
                        status_code=405, headers={"Allow": "POST"})


@router.get("/tasks/{task_id}")
def task(task_id: Id, request: Request, viewer: Viewer = guard(REVIEW)) -> dict[str, Any]:
    with reading(request) as session:
        return task_view(session, own_task(session, task_id, viewer.user_id)).to_dict()


@router.post("/tasks/{task_id}/rating")
def rating(task_id: Id, body: RatingBody, request: Request,
           viewer: Viewer = guard(REVIEW)) -> dict[str, Any]:
    with writing(request) as session:
        row = submit_rating(session, task_id, viewer.user_id, body.values, note=body.note,
                            unclear=body.unclear)
        rating_id = row.id
    return {"rating_id": rating_id, "task_id": task_id, "committed": True}


@router.post("/tasks/{task_id}/ranking")
def ranking(task_id: Id, body: RankingBody, request: Request,
            viewer: Viewer = guard(REVIEW)) -> dict[str, Any]:
    with writing(request) as session:
        row = submit_ranking(session, task_id, viewer.user_id, body.tiers, note=body.note,
                             unclear=body.unclear)
        ranking_id = row.id
    return {"ranking_id": ranking_id, "task_id": task_id, "committed": True}


@router.post("/tasks/{task_id}/skip")
def skip(task_id: Id, request: Request, viewer: Viewer = guard(REVIEW)) -> dict[str, Any]:
    with writing(request) as session:
        skip_task(session, task_id, viewer.user_id)
    return {"task_id": task_id, "skipped": True}


@router.get("/survey")
def survey_status(request: Request, viewer: Viewer = guard(SURVEY)) -> dict[str, Any]:
    """Whether the caller has answered (never the answers); the questions if not."""
    with reading(request) as session:
        answered = has_survey(session, viewer.user_id)
    fields = [] if answered else [f.model_dump() for f in request.app.state.survey_fields]
    return {"answered": answered, "fields": fields}


@router.post("/survey")
def survey_submit(body: SurveyBody, request: Request,
                  viewer: Viewer = guard(SURVEY)) -> dict[str, Any]:
    with writing(request) as session:
        record_survey(session, viewer.user_id, body.answers, request.app.state.survey_fields,
                      consent=body.consent)
    return {"answered": True}


@router.post("/survey/withdraw")
def survey_withdraw(request: Request, viewer: Viewer = guard(SURVEY)) -> dict[str, Any]:
    with writing(request) as session:
        deleted = withdraw_survey(session, viewer.user_id)
    return {"answered": False, "deleted": deleted}


@router.post("/admin/batches")
def admin_create_batch(body: BatchBody, request: Request,
                       viewer: Viewer = guard(ADMIN)) -> dict[str, Any]:
    """Draw a batch from completions already stored for a model version (no model runs)."""
    with writing(request) as session:
        row = create_batch(session, name=body.name, kind=body.kind,
                           model_version=body.model_version, spec_version=body.spec_version,
                           prompts=body.prompts,
                           completions_per_prompt=body.completions_per_prompt,
                           overlap=body.overlap, seed=body.seed, split=body.split,
                           created_by=viewer.user_id)
        batch_id = row.id
    return {"id": batch_id}


@router.get("/admin/batches/{batch_id}/report")
def admin_report(batch_id: Id, request: Request,
                 viewer: Viewer = guard(ADMIN)) -> dict[str, Any]:
    """Progress, agreement, reviewer quality (simulated reviewers marked), disagreements."""
    with reading(request) as session:
        return {"progress": batch_progress(session, batch_id).to_dict(),
                "agreement": batch_agreement(session, batch_id),
                "reviewers": reviewer_quality(session, batch_id),
                "disagreements": disagreements(session, batch_id)}
