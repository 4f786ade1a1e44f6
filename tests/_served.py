"""A model folder served by Accord's own server: the app ``accord serve`` builds (demo
spec, hard bounds screened by the world screens, API keys, rate limits) on a live uvicorn
on 127.0.0.1. Tests of endpoint back ends (the LLM judge, CAI, the audit suites, Inspect)
use it instead of a stand-in, so they check that Accord can use its own server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEMO_SPEC = Path(__file__).resolve().parents[1] / "examples" / "demo" / "spec"


@contextmanager
def served_model(model_dir: Path, work: Path, *, name: str = "tiny",
                 key_env: str = "OPENAI_API_KEY", **customize: Any) -> Iterator[str]:
    """Serve ``model_dir`` as ``name``; yields the ``/v1`` base URL.

    Args:
        model_dir: a ``save_pretrained`` folder with a chat template.
        work: an empty folder for the server's SQLite store.
        name: the model name clients ask for.
        key_env: environment variable that holds a valid API key while served (the
            OpenAI-compatible back ends read their key from it).
        customize: more ``CustomizeSettings`` (e.g. ``max_resamples=0``).
    """
    from accord.accounts import create_user
    from accord.customize import ChatService, CustomizeSettings, create_api_key, load_runner
    from accord.serve import create_app, live_server
    from accord.spec import load_spec
    from accord.store import Store, record_spec_version

    runner = load_runner(name, model_dir)
    store = Store.open(f"sqlite:///{work / 'accord.sqlite3'}")
    before = os.environ.get(key_env)
    try:
        spec = load_spec(DEMO_SPEC)
        with store.session() as session:
            record_spec_version(session, hash=spec.hash, content=spec.content(), name="demo")
            user = create_user(session, "auditor", "correct horse battery", ["reviewer"]).id
            key = create_api_key(session, user, "tests")[1]
        settings = CustomizeSettings(**{"requests_per_minute": 100_000,
                                        "max_tokens_limit": 512, **customize})
        service = ChatService(spec, settings, {name: runner}, store=store,
                              world_models={name})
        app = create_app(store, chat=service, customize=settings)
        service.lock = app.state.sqlite_write_lock
        os.environ[key_env] = key
        with live_server(app) as base:
            yield f"{base}/v1"
    finally:
        if before is None:
            os.environ.pop(key_env, None)
        else:
            os.environ[key_env] = before
        store.close()
