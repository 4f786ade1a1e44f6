"""``accord users``: create, list and reset accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

users_app = typer.Typer(help="Accounts for the review web app.", no_args_is_help=True)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="The project folder "
                                          "(accord.toml; its store, unless "
                                          "ACCORD_DATABASE_URL is set).")]


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Lowercase letters, digits, _ . -")],
    project: ProjectOpt = Path("."),
    role: Annotated[list[str] | None, typer.Option(
        metavar="ROLE", help="A role (repeatable): admin, reviewer, participant, "
                             "auditor.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Same as --role admin.")] = False,
    simulated: Annotated[bool, typer.Option(help="The account is a simulated reviewer.")
                         ] = False,
) -> None:
    """Create an account and print its one-time password."""
    from accord.accounts import create_user, generate_password
    from accord.project import open_project_store

    roles = sorted({*(role or []), *(["admin"] if admin else [])}) or ["reviewer"]
    password = generate_password()
    with open_project_store(project) as store, store.session() as session:
        create_user(session, username, password, roles, simulated=simulated,
                    one_time=not simulated)
    typer.echo(f"created {username} ({', '.join(roles)}); one-time password: {password}"
               + ("" if simulated else " (to be changed at the first sign-in)"))


@users_app.command("list")
def users_list(project: ProjectOpt = Path(".")) -> None:
    """List accounts with their roles."""
    from accord.accounts import list_users
    from accord.project import open_project_store

    with open_project_store(project) as store, store.session() as session:
        for user, roles in list_users(session):
            flags = " simulated" if user.is_simulated else ""
            typer.echo(f"{user.username}\t{','.join(roles)}{flags}")


@users_app.command("reset-password")
def users_reset(username: Annotated[str, typer.Argument(help="The account.")],
                project: ProjectOpt = Path(".")) -> None:
    """Give an account a new one-time password (signs out all its sessions)."""
    from accord.accounts import generate_password, set_password
    from accord.project import open_project_store

    password = generate_password()
    with open_project_store(project) as store, store.session() as session:
        set_password(session, username, password, one_time=True)
    typer.echo(f"new one-time password for {username}: {password}")
