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


# The site's navigation: label and page. A link shows only when the app has that page and
# the permission table lets the viewer open it (so nobody is offered a 403).
NAV = (("Batches", "/"), ("Chat", "/chat"), ("API keys", "/keys"),
       ("Deliberations", "/deliberations"), ("About you (optional)", "/survey"),
       ("Admin", "/admin"), ("Accounts", "/admin/users"), ("Feedback", "/admin/feedback"),
       ("Moderation", "/admin/deliberations"), ("Audits", "/audits"))


def nav_links(request: Request, viewer: Viewer | None) -> list[tuple[str, str, bool]]:
    """(label, href, is the current page) for every :data:`NAV` page ``viewer`` may open.

    Args:
        request: The request being answered (its app's routes, its path).
        viewer: Who is asking; signed-out visitors get no navigation.
    """
    if viewer is None or viewer.account is None:
        return []
    state = request.app.state
    table = getattr(state, "nav_permissions", None)
    if table is None:
        from accord.serve._permissions import route_permissions

        table = {path: perm for (method, path), perm in route_permissions(request.app).items()
                 if method == "GET"}
        state.nav_permissions = table
    path = request.url.path
    links = [(label, href, path == href or (href != "/" and path.startswith(href + "/")))
             for label, href in NAV if href in table and viewer.can(table[href])]
    # Only the most specific link is current (/admin/users, not also /admin).
    current = max((len(h) for _, h, c in links if c), default=0)
    return [(label, href, c and len(href) == current) for label, href, c in links]


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
        request=request, title=request.app.state.title, nav=nav_links(request, viewer),
        **context)
    response = HTMLResponse(html, status_code=status)
    if new_cookie:
        response.set_cookie(ANON_CSRF_COOKIE, new_cookie, httponly=True, samesite="lax",
                            secure=request.app.state.secure_cookies, path="/")
    return response


def redirect(url: str) -> RedirectResponse:
    """See other: after a form POST the browser GETs ``url`` (no resubmission on reload)."""
    return RedirectResponse(url, status_code=303)
