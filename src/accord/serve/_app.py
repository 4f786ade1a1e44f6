"""The FastAPI application: wiring, error pages, and the startup permission check."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.accounts import AccountError
from accord.errors import AccordError
from accord.review import DEFAULT_FIELDS, BatchError, RatingError, SurveyError, SurveyField
from accord.serve._inputs import InputError, InputLimits, log_unexpected
from accord.serve._permissions import Denied, route_permissions
from accord.serve._render import redirect, render
from accord.store import ConflictError, NotFoundError, Store

if TYPE_CHECKING:
    from accord.customize import ChatService, CustomizeSettings

_STATUS = ((NotFoundError, 404), (ConflictError, 409),
           ((RatingError, SurveyError, AccountError, BatchError), 422))


def create_app(store: Store, *, survey_fields: Sequence[SurveyField] = DEFAULT_FIELDS,
               title: str = "Accord review", secure_cookies: bool = False,
               chat: ChatService | None = None,
               customize: CustomizeSettings | None = None,
               spec_dir: Path | None = None,
               trusted_proxies: Sequence[str] = ()) -> FastAPI:
    """The web app: HTML pages and the JSON API over ``store``.

    Args:
        store: an opened (migrated) store.
        survey_fields: the demographic self-report's questions (``[review.survey]``).
        title: shown in page titles.
        secure_cookies: mark cookies ``Secure`` (set when served over HTTPS).
        chat: the served models under the bounds (``/v1``, the chat page); None: none.
        customize: ``[customize]`` (deployment layer, limits); defaults when None.
        spec_dir: the served project's spec folder (the ratify pages offer to write new
            versions there); None: no project, the pages do not offer it.
        trusted_proxies: reverse proxies whose ``X-Forwarded-For`` names the client
            (``[review] trusted_proxies``); empty: the connection's address is the client's.

    Raises:
        RuntimeError: a route was registered without a permission guard.
    """
    from accord.customize import CustomizeSettings
    from accord.serve import (
        _admin,
        _api,
        _audits,
        _chat,
        _chat_admin,
        _deliberate,
        _openapi,
        _pages,
        _v1,
    )
    from accord.serve._chat_state import RateLimiter
    from accord.serve._signin_limit import trusted_networks

    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.survey_fields = list(survey_fields)
    app.state.title = title
    app.state.secure_cookies = secure_cookies
    app.state.sqlite_write_lock = threading.Lock()  # see _db.writing
    app.state.chat = chat
    app.state.customize = customize or CustomizeSettings()
    app.state.trusted_proxies = trusted_networks(trusted_proxies)  # see client_address
    app.state.chat_limiter = RateLimiter(store, app.state.customize.requests_per_minute,
                                         lock=app.state.sqlite_write_lock)
    app.state.spec_dir = spec_dir
    for module in (_api, _pages, _admin, _chat, _chat_admin, _v1, _deliberate, _audits,
                   _openapi):
        app.include_router(module.router)
    app.state.permissions = route_permissions(app)  # raises if a route has no guard
    # Starlette wraps the last added middleware outermost: the limits run inside the
    # timing (whose headers every answer gets), before any route reads the body.
    app.add_middleware(InputLimits, respond=_refusal)
    app.add_middleware(_ServerTiming)

    @app.exception_handler(Denied)
    async def _denied(request: Request, exc: Denied) -> Response:
        if request.url.path.startswith("/v1/"):
            return _v1.openai_error(exc.status, exc.message)
        if _is_api(request):
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        if exc.status == 401:
            return redirect(f"/login?next={quote(request.url.path)}")
        return render(request, "error.html", status=exc.status, message=exc.message)

    @app.exception_handler(AccordError)
    async def _user_error(request: Request, exc: AccordError) -> Response:
        status = next((code for kinds, code in _STATUS if isinstance(exc, kinds)), 400)
        if isinstance(exc, InputError):
            status = exc.status
        return error_response(request, status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):  # FastAPI's own 422 shape, as the OpenAPI document says
            return await request_validation_exception_handler(request, exc)
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: "
                             f"{e['msg']}" for e in exc.errors()[:3])
        status = 400 if request.url.path.startswith("/v1/") else 422
        return error_response(request, status, problems or "the request is not valid")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return error_response(request, 500, log_unexpected(request.method, request.url.path, exc))

    return app


def error_response(request: Request, status: int, message: str) -> Response:
    """An error in the shape the path's clients read: OpenAI's on ``/v1``, ``{"error"}``
    on ``/api``, the error page elsewhere.

    Args:
        request: the request that failed.
        status: the HTTP status.
        message: what went wrong, for the client.
    """
    from accord.serve import _v1

    if request.url.path.startswith("/v1/"):
        return _v1.openai_error(status, message)
    if _is_api(request):
        return JSONResponse({"error": message}, status_code=status)
    return render(request, "error.html", status=status, message=message)


def _refusal(scope: Scope, exc: InputError) -> Response:
    return error_response(Request(scope), exc.status, str(exc))


_SECURITY_HEADERS = [
    # Scripts and styles come from /static only (no inline code), so a script injected
    # into a page would not run; no page may be framed (click-jacking).
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class _ServerTiming:
    """Adds ``Server-Timing: app;dur=<ms>`` (clients and benchmarks can tell time in the
    app from queueing), the security headers above, and ``Cache-Control: no-store`` on
    everything but /static (task pages, one-time passwords and reports are per person)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                headers = [*message.get("headers", []), *_SECURITY_HEADERS,
                           (b"server-timing", f"app;dur={took:.1f}".encode())]
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, timed_send)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")
