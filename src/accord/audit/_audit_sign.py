"""Ed25519 keys and signatures for audit bundles (``cryptography``).

``accord audit keys create NAME`` writes ``NAME.key`` (the private key, PEM, mode 0600:
it stays with the auditor) and ``NAME.pub`` (the public key, PEM: give it to whoever
verifies). ``accord audit sign`` signs the manifest's canonical bytes and writes
``signature.json`` with the signature, the signer's public key and its fingerprint (the
SHA-256 of the raw 32-byte public key). A verifier who holds the auditor's public key
checks against it; one who does not learns only that the bundle is intact as signed by
the key inside it.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from accord.audit._audit_bundle import MANIFEST, SIGNATURE, canonical_bytes, read_manifest
from accord.errors import AccordError

ALGORITHM = "ed25519"


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:  # pragma: no cover - a dependency of the package
        raise AccordError("signing needs the `cryptography` package (pip install "
                          "cryptography)") from None
    return ed25519


def _raw_public(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public_key: Any) -> str:
    """The SHA-256 (hex) of a public key's raw 32 bytes: how people name a key."""
    import hashlib

    return hashlib.sha256(_raw_public(public_key)).hexdigest()


def create_keys(name: str, folder: Path | str = ".") -> tuple[Path, Path, str]:
    """A new Ed25519 key pair: ``NAME.key`` (private, 0600) and ``NAME.pub`` (public).

    Args:
        name: the key's file name stem (letters, digits, ``-``, ``_``, ``.``).
        folder: where to write them.

    Returns:
        The private key's path, the public key's path and its fingerprint.

    Raises:
        AccordError: a bad name, or a key of that name exists (never overwritten).
    """
    from cryptography.hazmat.primitives import serialization

    if not name or any(not (c.isalnum() or c in "-_.") for c in name) or name.startswith("."):
        raise AccordError(f"key name {name!r}: use letters, digits, '-', '_' and '.'")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    private_path, public_path = out / f"{name}.key", out / f"{name}.pub"
    for path in (private_path, public_path):
        if path.exists():
            raise AccordError(f"{path} exists; a key is never overwritten (choose another "
                              "name, or delete it yourself)")
    key = _crypto().Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    # Created 0600 from the start, so the key is never readable by others, not even briefly.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public = key.public_key()
    public_path.write_bytes(public.public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo))
    return private_path, public_path, fingerprint(public)


def load_private_key(path: Path | str) -> Any:
    """An Ed25519 private key from a PEM file.

    Raises:
        AccordError: missing, unreadable, or not an Ed25519 private key.
    """
    from cryptography.hazmat.primitives import serialization

    p = Path(path)
    if not p.is_file():
        raise AccordError(f"--key {p}: not found (make one with `accord audit keys create`)")
    try:
        key = serialization.load_pem_private_key(p.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise AccordError(f"--key {p}: not a PEM private key ({exc})") from None
    if not isinstance(key, _crypto().Ed25519PrivateKey):
        raise AccordError(f"--key {p}: not an Ed25519 key")
    return key


def load_public_key(path: Path | str) -> Any:
    """An Ed25519 public key from a PEM file.

    Raises:
        AccordError: missing, or not an Ed25519 public key.
    """
    from cryptography.hazmat.primitives import serialization

    p = Path(path)
    if not p.is_file():
        raise AccordError(f"--public-key {p}: not found")
    try:
        key = serialization.load_pem_public_key(p.read_bytes())
    except (ValueError, TypeError) as exc:
        raise AccordError(f"--public-key {p}: not a PEM public key ({exc})") from None
    if not isinstance(key, _crypto().Ed25519PublicKey):
        raise AccordError(f"--public-key {p}: not an Ed25519 key")
    return key


def sign_bundle(folder: Path | str, key_path: Path | str) -> dict[str, Any]:
    """Sign the bundle's manifest; write and return ``signature.json``.

    Args:
        folder: the audit bundle.
        key_path: the auditor's private key (PEM).

    Raises:
        AccordError: no manifest, a manifest out of canonical form, a bad key.
    """
    from cryptography.hazmat.primitives import serialization

    folder = Path(folder)
    manifest = read_manifest(folder)
    key = load_private_key(key_path)
    public = key.public_key()
    record = {
        "algorithm": ALGORITHM,
        "signed_file": MANIFEST,
        "signature": base64.b64encode(key.sign(canonical_bytes(manifest))).decode("ascii"),
        "public_key": public.public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo
                                          ).decode("ascii"),
        "fingerprint": fingerprint(public),
    }
    (folder / SIGNATURE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def check_signature(folder: Path, manifest: dict[str, Any],
                    public_key_path: Path | str | None) -> tuple[str, bool]:
    """Check ``signature.json`` against the manifest.

    Args:
        folder: the bundle.
        manifest: its manifest (already read in canonical form).
        public_key_path: the auditor's public key; None trusts the key in the bundle.

    Returns:
        The signer's fingerprint, and whether it was checked against a key the verifier
        brought.

    Raises:
        AccordError: unsigned, a malformed signature file, a wrong key, a bad signature.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    path = folder / SIGNATURE
    if not path.is_file():
        raise AccordError(f"{SIGNATURE}: missing; the bundle is not signed (accord audit sign "
                          f"{folder} --key FILE)")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        signature = base64.b64decode(record["signature"], validate=True)
        embedded = serialization.load_pem_public_key(record["public_key"].encode("ascii"))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AccordError(f"{SIGNATURE}: malformed ({exc})") from None
    if record.get("algorithm") != ALGORITHM or not isinstance(
            embedded, _crypto().Ed25519PublicKey):
        raise AccordError(f"{SIGNATURE}: not an {ALGORITHM} signature")
    if record.get("fingerprint") != fingerprint(embedded):
        raise AccordError(f"{SIGNATURE}: its fingerprint does not match the public key in it")
    brought = public_key_path is not None
    key = load_public_key(public_key_path) if brought else embedded
    if brought and fingerprint(key) != fingerprint(embedded):
        raise AccordError(f"wrong key: the bundle was signed by key {fingerprint(embedded)}, "
                          f"not by --public-key {public_key_path} ({fingerprint(key)})")
    try:
        key.verify(signature, canonical_bytes(manifest))
    except InvalidSignature:
        raise AccordError(f"signature: does not match {MANIFEST} under key {fingerprint(key)}; "
                          "the manifest or the signature was changed") from None
    return fingerprint(key), brought
