"""A chat site for the API and browser tests: a store with the demo spec and accounts, a
real tiny model served under the bounds, and the app around them."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "customize"))
from tiny_world_model import build_tiny_world_model

from accord.accounts import create_user
from accord.customize import ChatService, CustomizeSettings, create_api_key
from accord.serve import create_app
from accord.spec import load_spec
from accord.store import Store, record_spec_version

DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"
PASSWORD = "correct horse battery"


def tiny_model_dir(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny misbehaving world model (see tests/customize/tiny_world_model.py)."""
    cache = getattr(request.config, "cache", None)
    folder = (cache.mkdir("accord-tiny-world-model") if cache is not None
              else tmp_path_factory.mktemp("tiny-world-model"))
    return build_tiny_world_model(Path(folder))


@dataclass
class ChatSite:
    store: Store
    app: FastAPI
    service: ChatService
    users: dict[str, int]

    def key(self, username: str = "alice", name: str = "test", profile: str | None = None
            ) -> str:
        with self.store.session() as session:
            return create_api_key(session, self.users[username], name, profile)[1]


def build_chat_site(store: Store, runner: Any, **settings: Any) -> ChatSite:
    """Accounts alice and bob (reviewers) and admin; the demo spec; ``runner`` as "tiny"."""
    spec = load_spec(DEMO_SPEC)
    with store.session() as session:
        record_spec_version(session, hash=spec.hash, content=spec.content(), name="demo")
        users = {name: create_user(session, name, PASSWORD, roles).id
                 for name, roles in (("alice", ["reviewer"]), ("bob", ["reviewer"]),
                                     ("admin", ["admin"]))}
    customize = CustomizeSettings(**settings)
    service = ChatService(spec, customize, {"tiny": runner}, store=store,
                          world_models={"tiny"})
    app = create_app(store, chat=service, customize=customize)
    service.lock = app.state.sqlite_write_lock
    return ChatSite(store, app, service, users)
