"""Running the server: a project's app, the first admin account, uvicorn.

The project folder and the models to serve reach uvicorn's worker processes through two
environment variables, read once when a worker builds its app; requests read the app's
state, never the environment.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from accord.accounts import ensure_admin
from accord.errors import AccordError
from accord.project import database_url_of, load_project
from accord.review import ReviewSettings

PROJECT_ENV = "ACCORD_SERVE_PROJECT"
MODELS_ENV = "ACCORD_SERVE_MODELS"  # JSON list of NAME_OR_PATH given to --model


def app_from_project(project_dir: Path, models: list[str] | None = None) -> FastAPI:
    """The app for a project folder: its store (migrated), its ``[review]`` and
    ``[customize]`` settings, its spec folder and, when ``models`` are named, those models
    served under the project's spec (loaded once, here; see
    :func:`accord.serve._serving.chat_service`).

    Args:
        project_dir: the project folder.
        models: what ``--model`` named (version names, folders or NAME=PATH); None: none.

    Raises:
        accord.project.ProjectError: the folder or a table of its accord.toml is not usable.
    """
    from accord.customize import CustomizeSettings
    from accord.serve._app import create_app
    from accord.serve._db import serving_store
    from accord.store import open_store

    project = load_project(project_dir)
    settings: ReviewSettings = project.section("review", ReviewSettings)
    customize: CustomizeSettings = project.section("customize", CustomizeSettings)
    store = serving_store(open_store(url=database_url_of(project)))
    chat = None
    if models:
        from accord.serve._serving import chat_service

        chat = chat_service(project, store, customize, models)
    app = create_app(store, survey_fields=settings.survey.fields,
                     title=f"{project.project.name} · Accord",
                     secure_cookies=settings.secure_cookies, chat=chat, customize=customize,
                     spec_dir=project.spec_dir, trusted_proxies=settings.trusted_proxies)
    if chat is not None:
        chat.lock = app.state.sqlite_write_lock
    app.state.export_root = project.root / ".accord" / "exports"  # the admin's exports
    app.state.project_root = project.root  # the folder admin forms may point into
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn workers: the project folder comes from ``ACCORD_SERVE_PROJECT``,
    the models to serve from ``ACCORD_SERVE_MODELS``."""
    models = json.loads(os.environ.get(MODELS_ENV, "[]"))
    return app_from_project(Path(os.environ.get(PROJECT_ENV, ".")), models)


def check_can_listen(host: str, port: int) -> None:
    """Bind ``host``:``port`` the way uvicorn will (every address the host resolves to,
    address reuse on), then let go, so that a bad host, a port out of range, a port in use
    or one needing privileges is a clear error before anything starts — not uvicorn's
    logged error, or a server that never listens. (Another process may still take the port
    in the moment between; uvicorn then reports that itself.)

    Raises:
        AccordError: naming the host and port, and why.
    """
    import socket

    where = f"{host}:{port}"
    if not 1 <= port <= 65535:
        raise AccordError(f"cannot serve on {where}: the port must be 1 to 65535")
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise AccordError(f"cannot serve on {where}: the host does not resolve to an address "
                          f"here ({exc}); give --host an address of this machine, e.g. "
                          "127.0.0.1 or 0.0.0.0") from None
    for family, kind, proto, _, address in infos:
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
        except OSError as exc:
            why = {errno.EADDRINUSE: "the port is in use (another server?); choose another "
                                     "--port or stop that server",
                   errno.EACCES: "permission denied (ports below 1024 need privileges); "
                                 "choose another --port",
                   errno.EADDRNOTAVAIL: "the address is not one of this machine's; give "
                                        "--host an address of this machine, e.g. 127.0.0.1 "
                                        "or 0.0.0.0"}.get(exc.errno, exc.strerror or str(exc))
            raise AccordError(f"cannot serve on {where}: {why}") from None


def serve(project_dir: Path, *, host: str, port: int, workers: int,
          echo: Callable[[str], None], models: list[str] | None = None) -> None:
    """Migrate the store, make the first admin if there is none (its one-time password goes
    to ``echo`` — the terminal — and nowhere else), then run uvicorn until stopped.

    Raises:
        AccordError: the project is not usable, or ``host``:``port`` cannot be listened on
            (checked before the store is touched; see :func:`check_can_listen`).
    """
    import uvicorn

    from accord.customize import CustomizeSettings
    from accord.store import open_store

    project = load_project(project_dir)
    project.section("review", ReviewSettings)  # a typo in [review] fails before serving
    project.section("customize", CustomizeSettings)
    check_can_listen(host, port)
    store = open_store(url=database_url_of(project))
    try:
        with store.session() as session:
            password = ensure_admin(session)
        if models:
            from accord.serve._serving import resolve_models

            named = resolve_models(store, models)  # a bad name fails before serving
            echo("Serving models: " + ", ".join(f"{n} ({p})" for n, p in named))
    finally:
        store.close()
    if password is not None:
        echo("Created the first admin account 'admin' with this one-time password (shown "
             f"once, not logged):\n\n    {password}\n\nChange it with: accord users "
             "reset-password admin")
    os.environ[PROJECT_ENV] = str(project.root)
    os.environ[MODELS_ENV] = json.dumps(models or [])
    echo(f"Serving on http://{host}:{port}/ (Ctrl-C stops)")
    uvicorn.run("accord.serve._main:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="warning", access_log=False,
                # uvicorn would otherwise take X-Forwarded-For from 127.0.0.1 as the
                # client's address; Accord reads it itself, from [review] trusted_proxies.
                proxy_headers=False)
