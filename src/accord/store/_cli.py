"""``accord db``: the store's schema migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

db_app = typer.Typer(help="The store: schema migrations.", no_args_is_help=True)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="The project folder whose "
                                          "store to use (ACCORD_DATABASE_URL, else [project] "
                                          "database_url, else SQLite under .accord/).")]
UrlOpt = Annotated[str | None, typer.Option("--url", help="A database URL (overrides the "
                                            "project's).")]


def _db_url(project: Path, url: str | None) -> str:
    from accord.project import database_url_of, load_project

    return url or database_url_of(load_project(project))


@db_app.command("upgrade")
def db_upgrade(project: ProjectOpt = Path("."), url: UrlOpt = None,
               revision: Annotated[str, typer.Option(help="Target revision.")] = "head") -> None:
    """Apply schema migrations (up to head by default)."""
    from accord.store import current_revision, upgrade

    target = _db_url(project, url)
    upgrade(target, revision)
    typer.echo(f"database at revision {current_revision(target)}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. base.")],
                 project: ProjectOpt = Path("."), url: UrlOpt = None) -> None:
    """Revert schema migrations down to REVISION."""
    from accord.store import current_revision, downgrade

    target = _db_url(project, url)
    downgrade(target, revision)
    typer.echo(f"database at revision {current_revision(target)}")


@db_app.command("current")
def db_current(project: ProjectOpt = Path("."), url: UrlOpt = None) -> None:
    """Print the database's schema revision and the newest one this code knows."""
    from accord.store import current_revision, head_revision

    target = _db_url(project, url)
    typer.echo(f"current: {current_revision(target) or '(empty database)'}\n"
               f"head: {head_revision()}")
