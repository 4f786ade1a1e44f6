"""HTML rendering: Jinja2 templates shipped in the package, autoescaped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from accord.serve._permissions import ANON_CSRF_COOKIE, Viewer, new_csrf_token

_HERE = Path(__file__).parent
_env = Environment(loader=FileSystemLoader(_HERE / "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True,
                   lstrip_blocks=True)
_env.filters["tojson_attr"] = lambda value: json.dumps(value, ensure_ascii=False)
STATIC_DIR = _HERE / "static"


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with the viewer and a CSRF token for its forms."""
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    csrf = viewer.csrf_token if viewer else ""
    new_cookie = ""
    if not csrf:  # a signed-out visitor seeing their first form
        csrf = request.cookies.get(ANON_CSRF_COOKIE) or new_csrf_token()
        new_cookie = csrf if csrf != request.cookies.get(ANON_CSRF_COOKIE) else ""
    html = _env.get_template(template).render(
        viewer=viewer, account=viewer.account if viewer else None, csrf_token=csrf,
        request=request, title=request.app.state.title, **context)
    response = HTMLResponse(html, status_code=status)
    if new_cookie:
        response.set_cookie(ANON_CSRF_COOKIE, new_cookie, httponly=True, samesite="lax",
                            secure=request.app.state.secure_cookies, path="/")
    return response


def redirect(url: str) -> RedirectResponse:
    """See other: after a form POST the browser GETs ``url`` (no resubmission on reload)."""
    return RedirectResponse(url, status_code=303)
