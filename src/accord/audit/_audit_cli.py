"""``accord audit``: run suites into a bundle, sign it, verify it, publish it, and grant
auditors scoped API access (docs/audits.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from accord.errors import AccordError

audit_app = typer.Typer(help="Audits anyone can verify: run suites into a signed bundle, "
                        "verify, publish; auditor access.", no_args_is_help=True)
keys_app = typer.Typer(help="Ed25519 signing keys for audit bundles.", no_args_is_help=True)
audit_app.add_typer(keys_app, name="keys")

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="The project folder "
                                          "(accord.toml; its store, unless "
                                          "ACCORD_DATABASE_URL is set).")]
DirArg = Annotated[Path, typer.Argument(help="The audit bundle's folder.", metavar="DIR")]


@audit_app.command("run")
def run_command(
    suite: Annotated[str, typer.Option("--suite", help="Suites, comma-separated (xstest, "
                                       "evenhandedness, bbq, offensive, world, ...).",
                                       metavar="NAME[,NAME...]")],
    out: Annotated[Path, typer.Option("--out", help="The bundle's folder (new or empty).",
                                      metavar="DIR")],
    model: Annotated[str | None, typer.Option("--model", help="A model folder, .gguf file or "
                                              "smollm2; with --endpoint, the served model's "
                                              "name.", metavar="NAME_OR_PATH")] = None,
    endpoint: Annotated[str | None, typer.Option("--endpoint", help="An OpenAI-compatible "
                                                 "base URL (http://host/v1).",
                                                 metavar="URL")] = None,
    api_key: Annotated[str, typer.Option("--api-key", help="The environment variable holding "
                                         "the endpoint's key (the key is never written).",
                                         metavar="ENV_VAR")] = "OPENAI_API_KEY",
    limit: Annotated[int | None, typer.Option(help="At most N items per suite.",
                                              metavar="N")] = None,
    seed: Annotated[int, typer.Option(help="The sampling seed.", metavar="S")] = 0,
    max_new_tokens: Annotated[int, typer.Option(help="Reply length cap.")] = 128,
    data: Annotated[Path | None, typer.Option("--data", help="The public data folder.",
                                              metavar="DIR")] = None,
    project: Annotated[Path | None, typer.Option("--project", "-p", help="A project whose "
                                                 "last run's world the world suite meters.",
                                                 metavar="DIR")] = None,
    auditor: Annotated[str, typer.Option(help="Who runs the audit (in the manifest).")] = "",
    batch_size: Annotated[int, typer.Option(help="Conversations per forward pass.")] = 16,
) -> None:
    """Run suites on a model and write report.json, items.jsonl, report.html and
    manifest.json to --out."""
    from accord.audit._audit_run import run_audit

    if (model is None) == (endpoint is None) and endpoint is None:
        raise AccordError("give --model NAME_OR_PATH, or --endpoint URL with --model NAME")
    if model is None:
        raise AccordError("--endpoint needs --model NAME (the served model's name)")
    bundle = run_audit(suite, out, model=model, endpoint=endpoint, api_key_env=api_key,
                       limit=limit, seed=seed, data_dir=data, project=project,
                       max_new_tokens=max_new_tokens, batch_size=batch_size, auditor=auditor,
                       log=typer.echo)
    typer.echo(bundle.render_text())


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Argument(help="The key's name (file stem).")],
                folder: Annotated[Path, typer.Option("--dir", help="Where to write NAME.key "
                                                     "and NAME.pub.")] = Path(".")) -> None:
    """Make an Ed25519 key pair: NAME.key (private, mode 0600; keep it) and NAME.pub."""
    from accord.audit._audit_sign import create_keys

    private, public, fp = create_keys(name, folder)
    typer.echo(f"private key: {private} (mode 0600; never share it)\npublic key: {public}\n"
               f"fingerprint: {fp}\n\n{public.read_text(encoding='ascii')}")


@audit_app.command("sign")
def sign_command(folder: DirArg,
                 key: Annotated[Path, typer.Option("--key", help="Your private key (PEM).",
                                                   metavar="FILE")]) -> None:
    """Sign the bundle's manifest (writes DIR/signature.json)."""
    from accord.audit._audit_sign import sign_bundle

    record = sign_bundle(folder, key)
    typer.echo(f"signed {folder}/manifest.json with key {record['fingerprint']}")


@audit_app.command("verify")
def verify_command(
    folder: DirArg,
    public_key: Annotated[Path | None, typer.Option("--public-key", help="The auditor's "
                                                    "public key (PEM).",
                                                    metavar="FILE")] = None,
    regrade: Annotated[bool, typer.Option("--regrade", help="Re-run the graders on every "
                                          "item; scores must match.")] = False,
    regenerate: Annotated[int, typer.Option("--regenerate", min=0, help="Re-generate N "
                                            "random items with their seeds (every sampled "
                                            "item if N is more).", metavar="N")] = 0,
    model: Annotated[str | None, typer.Option("--model", help="The model to re-generate "
                                              "with (default: the manifest's path).",
                                              metavar="PATH")] = None,
    api_key: Annotated[str, typer.Option("--api-key", help="Env var with the endpoint's key.",
                                         metavar="ENV_VAR")] = "OPENAI_API_KEY",
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check the signature and every hash; optionally re-grade and re-generate. Exit 2
    naming every failed check."""
    from accord.audit._audit_verify import verify_bundle

    result = verify_bundle(folder, public_key=public_key, regrade=regrade,
                           regenerate=regenerate, model=model, api_key_env=api_key,
                           log=typer.echo)
    typer.echo(json.dumps(result.to_dict(), indent=2) if as_json else result.render_text())
    if not result.ok:
        raise AccordError("verification failed: " + "; ".join(result.failures))


@audit_app.command("publish")
def publish_command(
    folder: DirArg, project: ProjectOpt = Path("."),
    name: Annotated[str | None, typer.Option(help="The public name (default: the folder's "
                                             "name).")] = None,
    public_key: Annotated[Path | None, typer.Option("--public-key", help="The auditor's "
                                                    "public key (PEM).",
                                                    metavar="FILE")] = None,
    regrade: Annotated[bool, typer.Option(help="Re-grade every item first.")] = True,
) -> None:
    """Verify a signed bundle and register it on the public /audits page."""
    from accord.audit._audit_publish import publish_bundle
    from accord.project import open_project_store

    store = open_project_store(project)
    with store, store.session() as session:
        row = publish_bundle(session, folder, name=name, public_key=public_key,
                             regrade=regrade, log=typer.echo)
        out = f"published {row.name}: {row.model_name}, suites {', '.join(row.suites)}"
    typer.echo(out + " (listed at /audits)")


@audit_app.command("grant")
def grant_command(
    username: Annotated[str, typer.Argument(help="The auditor's account.")],
    model: Annotated[list[str], typer.Option("--model", help="A model version the auditor "
                                             "may call (repeat for more).",
                                             metavar="VERSION")],
    audit: Annotated[str, typer.Option("--audit", help="What the access is for; requests "
                                       "are logged under it.")],
    tokens: Annotated[int, typer.Option(help="Token budget per model version.")] = 200_000,
    per_minute: Annotated[int, typer.Option(help="Requests per minute.")] = 60,
    project: ProjectOpt = Path("."),
) -> None:
    """Give an account the auditor role and /v1 access to model versions (an admin's
    command; make the auditor an API key with `accord customize keys create`)."""
    from accord.audit._audit_access import grant_audit
    from accord.project import open_project_store

    store = open_project_store(project)
    with store, store.session() as session:
        rows = grant_audit(session, username, model, audit=audit, token_budget=tokens,
                           per_minute=per_minute)
        lines = [f"grant {r.id}: {username} may call {r.model_version} ({tokens} tokens, "
                 f"{per_minute}/min) for audit {r.audit!r}" for r in rows]
    typer.echo("\n".join(lines))


@audit_app.command("grants")
def grants_command(project: ProjectOpt = Path(".")) -> None:
    """List auditor grants with their use."""
    from accord.audit._audit_access import list_grants
    from accord.project import open_project_store

    store = open_project_store(project)
    with store, store.session() as session:
        lines = [f"{g.id}\t{name}\t{g.model_version}\t{g.audit}\t{g.tokens_used}/"
                 f"{g.token_budget} tokens\t{n} requests\t"
                 f"{'revoked' if g.revoked_at else 'live'}"
                 for g, name, n in list_grants(session)]
    typer.echo("\n".join(lines) or "no audit grants")


@audit_app.command("revoke")
def revoke_command(grant: Annotated[int, typer.Argument(help="The grant's id.")],
                   project: ProjectOpt = Path(".")) -> None:
    """Revoke an auditor grant (its request log stays)."""
    from accord.audit._audit_access import revoke_grant
    from accord.project import open_project_store

    store = open_project_store(project)
    with store, store.session() as session:
        row = revoke_grant(session, grant)
        out = f"revoked grant {row.id} ({row.model_version})"
    typer.echo(out)


@audit_app.command("import-inspect")
def import_inspect_command(
    log_file: Annotated[Path, typer.Argument(help="An Inspect eval log of an Accord task.",
                                             metavar="LOG")],
    out: Annotated[Path, typer.Option("--out", help="The bundle's folder (new or empty).",
                                      metavar="DIR")],
    data: Annotated[Path | None, typer.Option("--data", help="The public data folder.",
                                              metavar="DIR")] = None,
    auditor: Annotated[str, typer.Option(help="Who ran the Inspect eval.")] = "",
) -> None:
    """Turn an Inspect log into an audit bundle (figures re-measured by Accord's graders
    from the log's answers); sign and publish it like any audit."""
    from accord.audit._audit_run import import_inspect_bundle

    bundle = import_inspect_bundle(log_file, out, data_dir=data, auditor=auditor)
    typer.echo(bundle.render_text())
