"""A live server (uvicorn in a thread) over a seeded SQLite store, and Debian's Chromium."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from _resources import missing_resource

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serve"))
from serve_site import Site, build_site, live_server

from accord.store import Store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Site]]:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('live') / 'accord.sqlite3'}")
    site = build_site(store)
    try:
        with live_server(site.client.app) as base:
            yield base, site
    finally:
        store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        missing_resource(f"{CHROMIUM} is missing; install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots() -> Path:
    """Where screenshots go (ACCORD_SCREENSHOTS, else a temporary folder)."""
    folder = Path(os.environ.get("ACCORD_SCREENSHOTS") or tempfile.mkdtemp(prefix="accord-shots-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
