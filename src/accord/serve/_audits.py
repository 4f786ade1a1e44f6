"""The public ``/audits`` pages: signed audit reports registered with ``accord audit
publish``, each with its auditor, model, suites, headline figures, verification status and
the bundle to download and verify again (docs/audits.md).

A bundle's own ``report.html`` is never served from this site: it came from outside, and
HTML from outside on this origin could run script in a visitor's session. The detail page
is drawn here from the bundle's numbers instead.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from accord.accounts import PUBLIC
from accord.audit import figures_chart, get_published, list_published
from accord.serve._db import reading
from accord.serve._permissions import Viewer, guard
from accord.serve._render import render

router = APIRouter()


def _summary(row: Any) -> dict[str, Any]:
    checks = row.verification.get("checks", [])
    return {"name": row.name, "auditor": row.auditor, "model": row.model_name,
            "kind": row.model_kind, "suites": list(row.suites), "headline": list(row.headline),
            "fingerprint": row.fingerprint, "key_registered": row.key_registered,
            "verified": bool(row.verification.get("ok")),
            "regraded": row.verification.get("regraded", 0), "checks": checks,
            "audited_at": row.audited_at, "published_at": row.published_at,
            "size": len(row.bundle), "bundle_sha256": row.bundle_sha256,
            "manifest_sha256": row.manifest_sha256}


@router.get("/audits")
def audits_page(request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    """Every published audit, newest first."""
    with reading(request) as session:
        rows = [_summary(r) for r in list_published(session)]
    return render(request, "audits.html", audits=rows, audit=None)


@router.get("/audits/{name}")
def audit_page(name: str, request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    """One audit: its figures with intervals, drawn from the bundle's report.json."""
    with reading(request) as session:
        row = get_published(session, name)  # NotFoundError → 404
        summary = _summary(row)
        report = _report_of(row.bundle)
    suites = [{"suite": s["suite"], "figures": s["figures"], "warnings": s["warnings"],
               "chart": Markup(figures_chart(s["figures"]))} for s in report.get("suites", [])]
    return render(request, "audits.html", audits=None, audit=summary, suites=suites)


@router.get("/audits/{name}/bundle")
def audit_bundle(name: str, request: Request, viewer: Viewer = guard(PUBLIC)) -> Response:
    """The bundle as verified at publication: a zip to run ``accord audit verify`` on."""
    with reading(request) as session:
        row = get_published(session, name)
        data, digest = row.bundle, row.bundle_sha256
    return Response(data, media_type="application/zip", headers={
        "content-disposition": f'attachment; filename="{name}.zip"',
        "x-content-sha256": digest})


def _report_of(bundle: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        report = next(n for n in z.namelist() if n.endswith("/report.json"))
        return json.loads(z.read(report))



def audit_scope(request: Request, key: Any, model: str, tokens: int) -> None:
    """The auditor check for one ``/v1`` request (``accord.audit.audit_gate``), in a
    writing session; an account without the ``audit`` permission passes untouched.

    Args:
        request: the request (its store and path).
        key: the resolved API key (``user_id``, ``id``).
        model: the model the request names.
        tokens: the most tokens it may use (its cap × choices).

    Raises:
        ApiError: 403 (model not granted), 429 (the grant's rate or token budget), in
            OpenAI's error shape.
    """
    from accord.accounts import roles_of
    from accord.audit import audit_gate
    from accord.serve._db import writing
    from accord.serve._v1_common import ApiError

    with writing(request) as session:
        refused = audit_gate(session, user_id=key.user_id, roles=roles_of(session, key.user_id),
                             api_key_id=key.id, path=request.url.path, model=model,
                             tokens=tokens)
    if refused is not None:
        raise ApiError(refused.status, refused.message, type=refused.type, code=refused.code)
