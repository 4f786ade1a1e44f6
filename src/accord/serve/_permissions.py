"""The one place where the web app decides who may do what.

Every route declares ``viewer: Viewer = guard(PERMISSION)``; :func:`guard` signs the
request in from its session cookie, checks the permission against the viewer's roles
(``accord.review.ROLES``), and checks the CSRF token of every state-changing request.
:func:`route_permissions` lists each route's permission, and ``create_app`` refuses to
start if any route lacks one, so a forgotten check fails closed.

Refusals: anonymous callers get 401 on ``/api/`` and a redirect to the sign-in page
elsewhere; signed-in callers without the permission, and requests with a missing or wrong
CSRF token, get 403.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from accord.accounts import PUBLIC, Account, permissions_of, session_account
from accord.serve._db import lookup_session
from accord.store import Store

SESSION_COOKIE = "accord_session"
# Signed-out visitors get a random token in this cookie and in each form; a POST whose
# two copies differ did not come from our page (double-submit CSRF protection for login).
ANON_CSRF_COOKIE = "accord_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a signed-in account, or nobody (``account`` is None)."""

    account: Account | None
    csrf_token: str
    session_token: str = ""

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.account.roles) if self.account else frozenset({PUBLIC})

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def user_id(self) -> int:
        assert self.account is not None, "guard() let an anonymous viewer through"
        return self.account.id


class Denied(Exception):
    """Raised by :func:`guard`; turned into 401, 403 or a redirect by the app."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


PASSWORD_PAGE = "/account/password"


def guard(permission: str, *, password_change: bool = False) -> Any:
    """A FastAPI dependency that returns the :class:`Viewer` if they hold ``permission``.

    An account signed in with a handed-out (one-time) password may only change it, sign
    out, and read public pages until it has: other pages redirect to the password page,
    other API calls answer 403.

    Args:
        permission: what the route needs (``accord.accounts.PERMISSIONS``).
        password_change: the route stays open to an account that must change its
            password (the password change itself, sign-in and sign-out, ``/api/me``).

    Raises:
        Denied: 401 (signed out), 403 (no permission, a bad CSRF token, or a password to
            change first, on the API).
        HTTPException: 303 to the password page (pages, while the password must change).
    """

    async def check(request: Request) -> Viewer:
        viewer = await run_in_threadpool(_viewer, request)
        if not viewer.can(permission):
            if viewer.account is None:
                raise Denied(401, "sign in first")
            raise Denied(403, f"your account may not do this (it needs the {permission!r} "
                              "permission)")
        if (viewer.account is not None and viewer.account.must_change_password
                and not password_change
                and not (permission == PUBLIC and request.method in _SAFE_METHODS)):
            _password_first(request)
        if request.method not in _SAFE_METHODS:
            await _check_csrf(request, viewer)
        request.state.viewer = viewer
        return viewer

    check.permission = permission  # type: ignore[attr-defined]
    check.password_change = password_change  # type: ignore[attr-defined]
    return Depends(check)


def _password_first(request: Request) -> None:
    path = request.url.path
    if path.startswith(("/api/", "/v1/")):
        raise Denied(403, "change your one-time password first (POST /api/account/password "
                          f"or the page {PASSWORD_PAGE})")
    raise HTTPException(303, "change your one-time password first",
                        headers={"Location": PASSWORD_PAGE})


def _viewer(request: Request) -> Viewer:
    store: Store = request.app.state.store
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        with lookup_session(store) as session:  # every request: two round trips, not four
            account = session_account(session, token)
        if account is not None:
            return Viewer(account, account.csrf_token, token)
    return Viewer(None, request.cookies.get(ANON_CSRF_COOKIE, ""))


async def _check_csrf(request: Request, viewer: Viewer) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    content_type = request.headers.get("content-type", "")
    if not sent and content_type.startswith(("application/x-www-form-urlencoded",
                                            "multipart/form-data")):
        form = await request.form()
        sent = str(form.get(CSRF_FIELD, ""))
    if viewer.account is None and not sent and content_type.startswith("application/json"):
        # A signed-out JSON call (POST /api/login): browsers send application/json
        # cross-site only after a CORS preflight, which this app never grants.
        return
    expected = viewer.csrf_token
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise Denied(403, "missing or wrong CSRF token; reload the page and try again "
                          f"(API clients send the token from /api/login in {CSRF_HEADER})")


def new_csrf_token() -> str:
    """A fresh token for a signed-out visitor's forms."""
    return secrets.token_urlsafe(32)


def route_permissions(app: FastAPI) -> dict[tuple[str, str], str]:
    """{(method, path): permission} for every route of ``app``.

    Raises:
        RuntimeError: a route has no :func:`guard` (fail closed: the app must not start).
    """
    table: dict[tuple[str, str], str] = {}
    for route in _api_routes(app.routes):
        found = [_permission_of(d.call) for d in route.dependant.dependencies]
        perms = [p for p in found if p is not None]
        if len(perms) != 1:
            raise RuntimeError(f"route {sorted(route.methods)} {route.path} must declare "
                               "exactly one guard(PERMISSION)")
        for method in route.methods:
            table[(method, route.path)] = perms[0]
    return table


def _api_routes(routes: Any, prefix: str = "") -> list[APIRoute]:
    """Every APIRoute, looking inside included routers (recent FastAPI keeps them nested).

    Raises:
        RuntimeError: a route of a kind this check cannot see into (e.g. a mounted app).
    """
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            if prefix:
                raise RuntimeError("include routers without a prefix; give it to APIRouter()")
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _api_routes(route.original_router.routes,
                                 prefix + route.include_context.prefix)
        else:
            raise RuntimeError(f"{route!r} is not guarded by a permission; serve files through "
                               "a guarded route instead of mounting them")
    return found


def _permission_of(call: Callable[..., Any] | None) -> str | None:
    return getattr(call, "permission", None)
