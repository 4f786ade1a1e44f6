"""The ``en_US.UTF-8`` locale that the hatesonar classifier needs, built without root.

hatesonar's ONNX model normalises strings in that locale and fails to load without it.
``accord.graders`` loads hatesonar (for the meter, the rewards and the screens alike) and
calls this first; it sits at the top level because it is plain environment set-up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from accord.errors import AccordError

LOCALE = "en_US.UTF-8"


def cache_dir() -> Path:
    """Where built artefacts go: ``$ACCORD_CACHE`` or ``~/.cache/accord``."""
    root = os.environ.get("ACCORD_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "accord"


def ensure_utf8_locale() -> Path:
    """Build ``en_US.UTF-8`` into ``<cache>/locale`` once and point ``LOCPATH`` at it.

    Returns:
        The folder ``LOCPATH`` now names.

    Raises:
        AccordError: ``localedef`` or the locale sources are missing (install the
            ``locales`` package), or the cache folder is not writable.
    """
    current = os.environ.get("LOCPATH")
    if current and (Path(current) / LOCALE).is_dir():
        return Path(current)
    target = cache_dir() / "locale"
    if not (target / LOCALE).is_dir():
        localedef = shutil.which("localedef")
        if localedef is None:
            raise AccordError(
                "hatesonar needs the en_US.UTF-8 locale and `localedef` is not on PATH to "
                "build it. Install the `locales` package (apt-get install locales) and run "
                "again.")
        try:
            target.mkdir(parents=True, exist_ok=True)
            # Build beside the target and rename into place, so concurrent processes never
            # see a half-written locale.
            with tempfile.TemporaryDirectory(dir=target) as tmp:
                built = Path(tmp) / LOCALE
                # localedef exits 1 on harmless warnings; the built folder is what counts.
                proc = subprocess.run([localedef, "-i", "en_US", "-f", "UTF-8", str(built)],
                                      capture_output=True, text=True, check=False)
                if not built.is_dir():
                    raise AccordError(
                        f"building the {LOCALE} locale failed (localedef exit "
                        f"{proc.returncode}: {proc.stderr.strip()[:300]}). Install the "
                        "`locales` package (it provides the en_US source) and run again.")
                with contextlib.suppress(OSError):  # another process got there first
                    built.rename(target / LOCALE)
        except OSError as exc:
            raise AccordError(f"cannot write the {LOCALE} locale under {target}: {exc}; "
                              "set ACCORD_CACHE to a writable folder") from exc
    os.environ["LOCPATH"] = str(target)
    return target
