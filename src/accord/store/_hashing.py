"""Content hashes: the same content gives the same hash on every machine."""

from __future__ import annotations

import hashlib
import json
from typing import Any

SHORT_HASH_LENGTH = 12


def content_hash(value: Any) -> str:
    """sha256 hex of ``value`` as canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
