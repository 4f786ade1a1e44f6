"""An audit bundle on disk: the files ``accord audit run`` writes and the manifest that
binds them.

A bundle is a folder holding ``report.json`` (figures per suite), ``items.jsonl`` (one
line per item asked), ``report.html`` and ``manifest.json``; ``accord audit sign`` adds
``signature.json``. The manifest lists the SHA-256 of every file and of every item line,
so a verifier can say which file, and which item, changed. It is written in one canonical
form (sorted keys, two-space indent, UTF-8, a final newline): the signature covers those
exact bytes, and a manifest in any other form is refused, so not even a space may move.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from accord.errors import AccordError

FORMAT = "accord-audit/1"
REPORT = "report.json"
ITEMS = "items.jsonl"
HTML = "report.html"
MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
BUNDLE_FILES = (REPORT, ITEMS, HTML)


def sha256_bytes(data: bytes) -> str:
    """The SHA-256 of ``data`` as hex."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def canonical_bytes(data: Any) -> bytes:
    """The one byte form of a manifest: sorted keys, two-space indent, UTF-8, final
    newline. ``manifest.json`` is written as exactly these bytes and the signature covers
    them."""
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False,
                       allow_nan=False) + "\n").encode("utf-8")


def item_lines(path: Path) -> list[bytes]:
    """The lines of ``items.jsonl`` as bytes, without their newlines."""
    return path.read_bytes().split(b"\n")[:-1] if path.stat().st_size else []


def write_items(path: Path, items: list[dict[str, Any]]) -> list[str]:
    """Write one JSON line per item; return each line's SHA-256 (without the newline)."""
    lines = [json.dumps(it, sort_keys=True, ensure_ascii=False, allow_nan=False).encode("utf-8")
             for it in items]
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return [sha256_bytes(line) for line in lines]


def read_items(folder: Path) -> list[dict[str, Any]]:
    """Every item of a bundle, in order.

    Raises:
        AccordError: the file is missing or a line is not a JSON object.
    """
    path = folder / ITEMS
    if not path.is_file():
        raise AccordError(f"{path}: missing; an audit bundle holds {', '.join(BUNDLE_FILES)} "
                          f"and {MANIFEST}")
    out = []
    for no, line in enumerate(item_lines(path), start=1):
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise AccordError(f"{path}:{no}: not JSON ({exc})") from None
        if not isinstance(item, dict):
            raise AccordError(f"{path}:{no}: not a JSON object")
        out.append(item)
    return out


def read_manifest(folder: Path) -> dict[str, Any]:
    """The bundle's manifest, refused unless it is in its canonical byte form.

    Raises:
        AccordError: no folder, no manifest, not JSON, or edited out of canonical form.
    """
    if not folder.is_dir():
        raise AccordError(f"{folder}: not a folder; give the audit bundle's folder")
    path = folder / MANIFEST
    if not path.is_file():
        raise AccordError(f"{path}: missing; is {folder} an audit bundle (accord audit run)?")
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise AccordError(f"{MANIFEST}: not JSON ({exc}); the manifest was edited") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise AccordError(f"{MANIFEST}: not an Accord audit manifest (format {FORMAT!r})")
    if canonical_bytes(data) != raw:
        raise AccordError(f"{MANIFEST}: its bytes are not the canonical form the signature "
                          "covers; the manifest was edited")
    return data


def write_manifest(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` in canonical form."""
    path = folder / MANIFEST
    path.write_bytes(canonical_bytes(manifest))
    return path


def file_hashes(folder: Path, names: tuple[str, ...] = BUNDLE_FILES) -> dict[str, str]:
    """``{name: sha256}`` of the named files of ``folder``."""
    return {name: sha256_file(folder / name) for name in names}


def model_files(path: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of a local model: every file of its folder, or the one
    ``.gguf`` file."""
    if path.is_file():
        return {path.name: sha256_file(path)}
    return {str(p.relative_to(path)): sha256_file(p)
            for p in sorted(path.rglob("*")) if p.is_file()}
