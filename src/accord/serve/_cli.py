"""``accord serve``: the web app, the JSON API and, with ``--model``, the chat API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve_command(
    project: Annotated[Path, typer.Option("--project", "-p", help="The project folder "
                                          "(accord.toml; its store, unless "
                                          "ACCORD_DATABASE_URL is set).")] = Path("."),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 1,
    model: Annotated[list[str] | None, typer.Option(
        "--model", metavar="MODEL",
        help="Serve this model (repeatable): a model version name, a saved model "
        "folder, or NAME=PATH. Enables /v1 and the chat page.")] = None,
) -> None:
    """Run the web app and JSON API (creates the first admin if there is none); with
    --model, also the chat page and the OpenAI-compatible API under the bounds."""
    from accord.serve._main import serve

    serve(project, host=host, port=port, workers=workers, echo=typer.echo, models=model)
