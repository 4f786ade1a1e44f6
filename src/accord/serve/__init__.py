"""The web app: HTML pages for reviewers and admins and the JSON API, over ``accord.review``.

``create_app(store)`` builds it; ``accord serve`` runs it with uvicorn. Permissions are
checked in one place (``_permissions.guard``); see docs/serve.md for every route.
"""

from accord.serve._app import create_app
from accord.serve._chat_state import RateLimiter
from accord.serve._cli import serve_command
from accord.serve._live import live_server
from accord.serve._permissions import (
    ANON_CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    Denied,
    Viewer,
    guard,
    route_permissions,
)
from accord.serve._serving import resolve_models
from accord.serve._signin_limit import SignInLimiter

__all__ = [
    "ANON_CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "Denied",
    "RateLimiter",
    "SignInLimiter",
    "Viewer",
    "create_app",
    "guard",
    "live_server",
    "resolve_models",
    "route_permissions",
    "serve_command",
]
