"""``accord audit publish``: verify a signed bundle and register it in the store, where the
public ``/audits`` page lists it and serves the bundle for anyone to verify again."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from accord.audit._audit_bundle import MANIFEST, REPORT, SIGNATURE, canonical_bytes, sha256_bytes
from accord.errors import AccordError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from accord.audit._models import PublishedAudit

# Figures per suite shown on the public list; the rest are in the bundle.
HEADLINE_PER_SUITE = 2
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
# A fixed date inside the zip, so the same bundle always zips to the same bytes.
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def bundle_zip(folder: Path) -> bytes:
    """The bundle's files (those in the manifest, the manifest and the signature) as a
    zip with fixed dates and order, inside a folder named after the bundle."""
    manifest = json.loads((folder / MANIFEST).read_bytes())
    names = sorted([*manifest.get("files", {}), MANIFEST, SIGNATURE])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in names:
            info = zipfile.ZipInfo(f"{folder.name}/{name}", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, (folder / name).read_bytes())
    return out.getvalue()


def headline(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The first figures of each suite, as the public list shows them."""
    out = []
    for suite in report.get("suites", []):
        for f in suite.get("figures", [])[:HEADLINE_PER_SUITE]:
            out.append({"suite": suite["suite"], "metric": f["metric"], "value": f["value"],
                        "low": f["low"], "high": f["high"], "n": f["n"],
                        "direction": f["direction"]})
    return out


def publish_bundle(session: Session, folder: Path | str, *, name: str | None = None,
                   public_key: Path | str | None = None, regrade: bool = True,
                   log: Callable[[str], None] = lambda _: None) -> PublishedAudit:
    """Verify the bundle (signature, every hash, and by default a re-grade of every item),
    then register it.

    Args:
        session: a writing store session.
        folder: the signed bundle.
        name: the public name (lower-case letters, digits, ``.``, ``_``, ``-``); default the
            folder's name.
        public_key: the auditor's public key; when given the listing says the key was
            checked against it, else only against the key inside the bundle.
        regrade: re-run the graders on every item before publishing.
        log: where progress lines go.

    Raises:
        AccordError: verification failed (every failure named), a bad or taken name, or the
            same bundle already published.
    """
    from accord.audit._audit_verify import verify_bundle
    from accord.audit._models import PublishedAudit

    folder = Path(folder)
    public = (name or folder.name).lower()
    if not _NAME.match(public):
        raise AccordError(f"audit name {public!r}: use lower-case letters, digits, '.', '_' "
                          "and '-' (at most 80), starting with a letter or digit")
    result = verify_bundle(folder, public_key=public_key, regrade=regrade, log=log)
    if not result.ok:
        raise AccordError("not published: verification failed: " + "; ".join(result.failures))
    from accord.audit._audit_bundle import read_manifest

    manifest = read_manifest(folder)
    digest = sha256_bytes(canonical_bytes(manifest))
    taken = session.scalars(select(PublishedAudit).where(
        (PublishedAudit.name == public) | (PublishedAudit.manifest_sha256 == digest))).first()
    if taken is not None:
        what = "this bundle" if taken.manifest_sha256 == digest else "the name"
        raise AccordError(f"{what} is already published as {taken.name!r}")
    report = json.loads((folder / REPORT).read_text(encoding="utf-8"))
    data = bundle_zip(folder)
    row = PublishedAudit(
        name=public, auditor=str(manifest.get("auditor") or "")[:120] or "unnamed",
        fingerprint=result.fingerprint, key_registered=result.key_brought,
        model_name=str(manifest["model"].get("name", ""))[:255],
        model_kind=str(manifest["model"].get("kind", ""))[:16],
        suites=[s["name"] for s in manifest.get("suites", [])], headline=headline(report),
        manifest_sha256=digest, audited_at=str(manifest.get("created", ""))[:32],
        verification=result.to_dict() | {"folder": folder.name}, bundle=data,
        bundle_sha256=sha256_bytes(data))
    session.add(row)
    session.flush()
    return row


def list_published(session: Session) -> list[PublishedAudit]:
    """Every published audit, newest first."""
    from accord.audit._models import PublishedAudit

    return list(session.scalars(select(PublishedAudit).order_by(PublishedAudit.id.desc())))


def get_published(session: Session, name: str) -> PublishedAudit:
    """One published audit by name.

    Raises:
        NotFoundError: no such audit.
    """
    from accord.audit._models import PublishedAudit
    from accord.store import NotFoundError

    row = session.scalars(select(PublishedAudit).where(PublishedAudit.name == name)).first()
    if row is None:
        raise NotFoundError(f"no published audit named {name!r}")
    return row
