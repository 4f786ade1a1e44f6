"""``accord customize``: API keys, profiles, and the attack suite, from a shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from accord.customize import Deployment
    from accord.project import Project
    from accord.spec import Spec
    from accord.store import Store

customize_app = typer.Typer(help="Customisation within bounds: API keys, profiles, the "
                            "attack suite.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for the OpenAI-compatible API.", no_args_is_help=True)
profiles_app = typer.Typer(help="Users' saved profiles.", no_args_is_help=True)
customize_app.add_typer(keys_app, name="keys")
customize_app.add_typer(profiles_app, name="profiles")

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="The project folder "
                                          "(accord.toml; its store, unless "
                                          "ACCORD_DATABASE_URL is set).")]
UserArg = Annotated[str, typer.Argument(help="The account's username.")]


def _project(project: Path) -> tuple[Project, Store]:
    from accord.project import database_url_of, load_project
    from accord.store import open_store

    loaded = load_project(project)
    return loaded, open_store(url=database_url_of(loaded))


def _user_id(session: Session, username: str) -> int:
    from accord.accounts import get_user

    return get_user(session, username).id


@keys_app.command("create")
def keys_create(username: UserArg, project: ProjectOpt = Path("."),
                name: Annotated[str, typer.Option(help="A label for the key.")] = "cli",
                profile: Annotated[str | None, typer.Option(
                    help="The user's profile that calls with this key follow (default: "
                    "their default profile).")] = None) -> None:
    """Make an API key for an account; the key is printed once and only its hash is kept."""
    from accord.customize import create_api_key

    _, store = _project(project)
    with store, store.session() as session:
        row, key = create_api_key(session, _user_id(session, username), name, profile)
        key_id = row.id
    typer.echo(f"API key {key_id} for {username} (shown once, not stored):\n\n    {key}\n")


@keys_app.command("list")
def keys_list(project: ProjectOpt = Path("."),
              username: Annotated[str | None, typer.Option("--user", help="Only this "
                                                           "account's keys.")] = None) -> None:
    """List keys (prefix only; the keys themselves are not stored)."""
    from accord.accounts import User
    from accord.customize import list_api_keys

    _, store = _project(project)
    with store, store.session() as session:
        user_id = _user_id(session, username) if username else None
        for k in list_api_keys(session, user_id):
            owner = session.get(User, k.user_id)
            state = "revoked" if k.revoked_at else "active"
            typer.echo(f"{k.id}\t{owner.username if owner else k.user_id}\t{k.name}\t"
                       f"{k.prefix}…\t{state}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (keys list).")],
                project: ProjectOpt = Path(".")) -> None:
    """Revoke a key; the next request made with it is refused."""
    from accord.customize import revoke_api_key

    _, store = _project(project)
    with store, store.session() as session:
        revoke_api_key(session, key_id)
    typer.echo(f"revoked API key {key_id}")


def _spec_and_deployment(project: Path) -> tuple[Spec, Deployment, Store]:
    from accord.customize import CustomizeSettings
    from accord.spec import load_spec

    loaded, store = _project(project)
    settings = loaded.section("customize", CustomizeSettings)
    return load_spec(loaded.spec_dir), settings.deployment, store


@profiles_app.command("set")
def profiles_set(username: UserArg,
                 settings: Annotated[list[str], typer.Argument(help="option=value pairs.")],
                 project: ProjectOpt = Path("."),
                 name: Annotated[str, typer.Option(help="The profile's name.")] = "default",
                 lock: Annotated[list[str] | None, typer.Option(
                     metavar="OPTION",
                     help="An option conversations may not change (repeatable).")] = None,
                 ) -> None:
    """Save a profile for an account (validated against the bounds; made the default)."""
    from accord.customize import ProfileError, save_profile
    from accord.errors import AccordError

    pairs: dict[str, str] = {}
    for item in settings:
        option, sep, value = item.partition("=")
        if not sep:
            raise AccordError(f"{item!r} is not option=value")
        pairs[option.strip()] = value.strip()
    spec, deployment, store = _spec_and_deployment(project)
    with store, store.session() as session:
        try:
            save_profile(session, spec, _user_id(session, username), name, pairs,
                         locked=lock or [], deployment=deployment)
        except ProfileError as exc:
            raise AccordError("\n".join(exc.problems)) from None
    typer.echo(f"saved profile {name!r} for {username}: "
               + (", ".join(f"{k}={v}" for k, v in pairs.items()) or "all defaults"))


@profiles_app.command("show")
def profiles_show(username: UserArg, project: ProjectOpt = Path("."),
                  name: Annotated[str | None, typer.Option(help="A profile name (default: "
                                                           "the default profile).")] = None,
                  as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show the effective settings of a profile, what is fixed, and the compiled prompt."""
    from accord.customize import get_profile, resolve_profile

    spec, deployment, store = _spec_and_deployment(project)
    with store, store.session() as session:
        row = get_profile(session, _user_id(session, username), name)
        user, locked = (dict(row.settings), list(row.locked)) if row else ({}, [])
    effective = resolve_profile(spec, deployment=deployment, user=user, user_locked=locked)
    if as_json:
        typer.echo(json.dumps({"settings": effective.settings,
                               "system_prompt": effective.system_prompt,
                               "disclosures": effective.disclosures,
                               "options": [o.to_dict() for o in effective.options]}, indent=2))
        return
    for o in effective.options:
        fixed = f"  (fixed by the {o.fixed_by}{': ' + o.reason if o.reason else ''})" \
            if o.fixed_by else ""
        typer.echo(f"{o.id} = {o.value}  [{o.set_by}]{fixed}; allowed: {', '.join(o.allowed)}")
    typer.echo(f"system prompt: {effective.system_prompt or '(none: all defaults)'}")
    for d in effective.disclosures:
        typer.echo(f"disclosure: {d}")


@profiles_app.command("list")
def profiles_list(username: UserArg, project: ProjectOpt = Path(".")) -> None:
    """List an account's profiles."""
    from accord.customize import list_profiles

    _, store = _project(project)
    with store, store.session() as session:
        for p in list_profiles(session, _user_id(session, username)):
            mark = " (default)" if p.is_default else ""
            typer.echo(f"{p.name}{mark}: " + (", ".join(f"{k}={v}" for k, v in
                                                          p.settings.items()) or "defaults"))


def _check_result_path(out: Path) -> None:
    """Refuse ``--out`` before the attack runs: a folder, or an existing file that is not
    an earlier attack result (it would be lost)."""
    from accord.errors import AccordError

    if out.is_dir():
        raise AccordError(f"--out {out} is a folder; give a file name for the JSON result")
    if out.exists():
        try:
            earlier = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            earlier = None
        if not (isinstance(earlier, dict) and {"figures", "attacks"} <= earlier.keys()):
            raise AccordError(f"--out {out} exists and is not an earlier attack result; "
                              "choose a new file (it would be overwritten)")


@customize_app.command("attack")
def attack(model: Annotated[str, typer.Argument(help="A saved model folder, or `smollm2` "
                                                "(SmolLM2-135M-Instruct, offline).")],
           spec_dir: Annotated[Path, typer.Option("--spec", help="The spec folder.")] = Path(
               "examples/demo/spec"),
           suite: Annotated[str, typer.Option(help="world (attacks.yaml), real "
                                              "(attacks_real.yaml) or all.")] = "world",
           world_model: Annotated[bool, typer.Option(
               "--world-model", help="The model was pretrained on the demo world (it is then "
               "screened with the world screens, like `accord serve` does for such a model "
               "version); otherwise it is screened as an external model.")] = False,
           screens: Annotated[str, typer.Option(help="auto, world, real, world+real or "
                                                "none ([customize] screens).")] = "auto",
           judge: Annotated[str | None, typer.Option(
               help="Comma-separated grader names that judge violations (not:NAME fires "
               "when NAME says no); default: graders the screens do not use.")] = None,
           max_new_tokens: Annotated[int, typer.Option(help="Tokens per answer.")] = 64,
           out: Annotated[Path | None, typer.Option(help="Write the JSON result here (a new file, "
                                             "or an earlier result to replace).")] = None,
           seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0) -> None:
    """Run the attack suite against a model under enforcement; print the figures."""
    from accord.customize import ChatService, CustomizeSettings, load_runner
    from accord.customize._attacks import judge_from_names, load_suites, run_attack_suite
    from accord.errors import AccordError
    from accord.model import resolve_model
    from accord.spec import load_spec

    allowed = ("auto", "world", "real", "world+real", "none")
    if screens not in allowed:
        raise AccordError(f"--screens {screens!r}: allowed: {', '.join(allowed)}")
    if out is not None:
        _check_result_path(out)
    entries = load_suites(suite)
    checks = judge_from_names([n.strip() for n in judge.split(",") if n.strip()]) \
        if judge else None
    spec = load_spec(spec_dir)
    path = resolve_model(model, what="attack model")
    runner = load_runner("model", path)
    service = ChatService(spec, CustomizeSettings(screens=screens),  # type: ignore[arg-type]
                          runners={"model": runner},
                          world_models={"model"} if world_model else ())
    result = run_attack_suite(service, "model", seed=seed, suite=entries, judge=checks,
                              max_new_tokens=max_new_tokens)
    typer.echo(result.render_text())
    if out is not None:
        out.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
