"""The ``accord`` command: every command group registered from one list.

Each package owns its commands (``accord.spec.spec_app``, ``accord.pipeline.run_command``,
...); this module only lists them. A command's package is imported when the command runs
or shows its own help, so ``accord --help`` and ``accord spec check`` do not load the
training stack. Commands only parse arguments and call a package API; errors a user can act
on (:class:`accord.errors.AccordError`) are printed without a traceback and exit with 2, and
so are the errors of a bad input file or path that no reader checked first
(:func:`input_error_message`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

import typer
from typer.core import TyperCommand, TyperGroup

from accord.errors import AccordError


def _spec() -> Any:
    from accord.spec import spec_app

    return spec_app


def _db() -> Any:
    from accord.store import db_app

    return db_app


def _run() -> Any:
    from accord.pipeline import run_command

    return run_command


def _init() -> Any:
    from accord.pipeline import init_command

    return init_command


def _report() -> Any:
    from accord.pipeline import report_command

    return report_command


def _eval() -> Any:
    from accord.pipeline import eval_command

    return eval_command


def _serve() -> Any:
    from accord.serve import serve_command

    return serve_command


def _users() -> Any:
    from accord.accounts import users_app

    return users_app


def _review() -> Any:
    from accord.review import review_app

    return review_app


def _train() -> Any:
    from accord.train import train_app

    return train_app


def _rewards() -> Any:
    from accord.rewards import rewards_app

    return rewards_app


def _customize() -> Any:
    from accord.customize import customize_app

    return customize_app


def _graders() -> Any:
    from accord.graders import graders_app

    return graders_app


def _deliberate() -> Any:
    from accord.deliberate import deliberate_app

    return deliberate_app


def _provenance() -> Any:
    from accord.deliberate import provenance_command

    return provenance_command


def _audit() -> Any:
    from accord.audit import audit_app

    return audit_app


def _model() -> Any:
    from accord.model import model_app

    return model_app


# The one list of commands: name, the one-line help ``accord --help`` shows, and where the
# command lives (a Typer group, or a function for a single command).
COMMANDS: list[tuple[str, str, Callable[[], Any]]] = [
    ("init", "Write a ready-to-run project (accord.toml, spec, example data) on a real "
     "chat model.", _init),
    ("run", "The main job: run the pipeline's stages in order, cached and resumable.", _run),
    ("report", "Rebuild a finished run's report.html from its stage folders.", _report),
    ("eval", "Measure any model (stored, folder, GGUF, smollm2, endpoint) on public suites "
     "(XSTest, even-handedness, BBQ, offensive), your probes or the world meter.", _eval),
    ("serve", "Run the web app and JSON API; with --model, also the chat page and the "
     "OpenAI-compatible API.", _serve),
    ("spec", "The behaviour spec: check, show, diff, start one.", _spec),
    ("db", "The store: schema migrations.", _db),
    ("users", "Accounts for the review web app.", _users),
    ("review", "Human review: batches, simulated reviewers, transparency.", _review),
    ("train", "Train one stage (sft, reward, dpo, grpo); runs under accelerate launch.",
     _train),
    ("rewards", "Rule-based rewards: calibrate graders, fit weights, score.", _rewards),
    ("customize", "Customisation within bounds: API keys, profiles, the attack suite.",
     _customize),
    ("graders", "Real-text graders: list, train on public human labels, evaluate, score.",
     _graders),
    ("deliberate", "Public deliberation: statements, votes, opinion groups, consensus, "
     "ratification into the spec.", _deliberate),
    ("provenance", "The chain behind a model version: votes, ratified spec, data, rewards, "
     "measurements.", _provenance),
    ("audit", "Audits anyone can verify: run suites into a signed bundle, verify, publish; "
     "auditor access.", _audit),
    ("model", "Saved models: merge a LoRA adapter into its base, show lineage.", _model),
]


_INT64 = (-(2**63), 2**63 - 1)


def _bound_integers(command: Any) -> None:
    """Every integer argument and option of ``command`` (and its sub-commands) must fit a
    64-bit column: ``--batch 9223372036854775808`` is a usage error (exit 2) naming the
    option, not an OverflowError from the database. Non-ASCII digits (``²``) are already
    refused by the integer type itself."""
    for param in getattr(command, "params", []):
        annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
        if annotation is int or int in get_args(annotation):  # int, list[int], int | None
            param.callback = _in_range(param.callback)
    for sub in getattr(command, "commands", {}).values():
        _bound_integers(sub)


def _in_range(callback: Callable[..., Any] | None) -> Callable[..., Any]:
    def check(ctx: Any, param: Any, value: Any) -> Any:
        for number in value if isinstance(value, list | tuple) else [value]:
            if isinstance(number, int) and not _INT64[0] <= number <= _INT64[1]:
                raise typer.BadParameter(f"{number} is outside {_INT64[0]}..{_INT64[1]}",
                                         ctx=ctx, param=param)
        return callback(ctx, param, value) if callback is not None else value

    return check


def _load(name: str, target: Any) -> TyperCommand | TyperGroup:
    """The click command for a package's Typer group or command function, in the root's
    help style (plain click help: re-wrapped docstrings, no type noise on flags)."""
    wrapper = typer.Typer(rich_markup_mode=None, add_completion=False)
    if isinstance(target, typer.Typer):
        wrapper.add_typer(target, name=name)
        group = typer.main.get_command(wrapper)
        assert isinstance(group, TyperGroup)
        loaded = group.commands[name]
    else:
        wrapper.command(name)(target)
        loaded = typer.main.get_command(wrapper)
    _bound_integers(loaded)
    if name == "run":
        _list_stages(loaded)
    return loaded  # type: ignore[return-value]


def _list_stages(command: Any) -> None:
    """``accord run --help`` names the stages, in order, so ``--from``/``--until``/``--force``
    can be given without reading the docs."""
    from accord.pipeline import STAGES

    listed = " → ".join(s.name for s in STAGES)
    command.help = (f"{command.help or ''}\n\nStages, in order (names for --from, --until "
                    f"and --force): {listed}.")


class _Lazy(TyperCommand):
    """A listed command whose package is imported only when it runs or shows its help."""

    def __init__(self, name: str, short_help: str, load: Callable[[], Any]) -> None:
        super().__init__(name, short_help=short_help, help=short_help)
        self._loader = load
        self._command: TyperCommand | TyperGroup | None = None

    def real(self) -> TyperCommand | TyperGroup:
        """The command itself, its package imported on first use."""
        if self._command is None:
            self._command = _load(self.name or "", self._loader())
        return self._command

    def make_context(self, info_name: str | None, args: list[str],  # type: ignore[override]
                     parent: typer.Context | None = None, **extra: Any) -> typer.Context:
        # The context (and so the parsing, help and invocation) is the real command's.
        return self.real().make_context(info_name, args, parent=parent, **extra)


def _file_in_traceback(exc: BaseException) -> str | None:
    """The file an error was reading, found in its traceback: an open file object, else a
    path held by a local called ``path``/``file``/..., innermost frame first."""
    import io
    from pathlib import Path, PurePath

    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        for value in frame.f_locals.values():
            name = getattr(value, "name", None) if isinstance(value, io.IOBase) else None
            if isinstance(name, str) and not name.isdigit():
                return name
    for frame in reversed(frames):
        for key in ("path", "file", "filename", "source", "src", "self"):
            value = frame.f_locals.get(key)
            # A name that is not an existing file is a stale local, not what was read.
            if isinstance(value, PurePath) and Path(value).is_file():
                return str(value)
    return None


def input_error_message(exc: BaseException) -> str | None:
    """A user's message for an error a bad input file or path caused, or ``None``.

    Readers across the packages raise :class:`AccordError` for what they check; this is
    the net under them, so a file that is missing, a folder, not UTF-8, not JSON, not gzip
    or not an SQLite database never ends in a traceback: OS errors that name a path,
    decoding errors, JSON errors, gzip errors and SQLite's "not a database". Anything else
    (``None``) is a bug and keeps its traceback.

    Args:
        exc: the exception that reached the command line.
    """
    import gzip
    import json

    if isinstance(exc, UnicodeDecodeError):
        where = _file_in_traceback(exc) or "an input file"
        return (f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start}); give a "
                "UTF-8 text file")
    if isinstance(exc, json.JSONDecodeError):
        where = _file_in_traceback(exc) or "an input file"
        return f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    if isinstance(exc, gzip.BadGzipFile):
        where = _file_in_traceback(exc) or "an input file"
        return f"{where}: not a gzip file ({exc})"
    if isinstance(exc, OSError) and exc.filename is not None:
        hints = {FileExistsError: "already exists; choose another path or remove it",
                 IsADirectoryError: "is a folder; give a file",
                 NotADirectoryError: "is not a folder (or a part of the path is a file)",
                 FileNotFoundError: "no such file or folder",
                 PermissionError: "permission denied"}
        hint = next((h for t, h in hints.items() if isinstance(exc, t)), exc.strerror)
        target = f" -> {exc.filename2}" if exc.filename2 is not None else ""
        return f"{exc.filename}{target}: {hint}"
    if type(exc).__module__.startswith("sqlalchemy") and "not a database" in str(exc):
        return ("the database file is not an SQLite database (check --url or "
                "ACCORD_DATABASE_URL)")
    return None


class _AccordGroup(TyperGroup):
    """The root: lists :data:`COMMANDS`, and turns user errors anywhere below it into a
    message on stderr and exit status 2.

    Errors are handled here (not in ``main``) so Typer's test runner sees the same exit
    codes as a shell does.
    """

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [name for name, _, _ in COMMANDS]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> _Lazy | None:
        for name, short_help, load in COMMANDS:
            if name == cmd_name:
                return _Lazy(name, short_help, load)
        return None

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except AccordError as exc:
            typer.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:  # only input errors are handled here; the rest re-raised
            message = input_error_message(exc)
            if message is None:
                raise  # not caused by an input file: a bug, with its traceback
            typer.echo(f"error: {message}", err=True)
            ctx.exit(AccordError.exit_code)


app = typer.Typer(cls=_AccordGroup,
                  help="Accord: shape a chat assistant's behaviour the way a careful lab "
                  "does it, in the open.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, rich_markup_mode=None)


@app.callback()
def _root() -> None:
    # A callback makes Typer build a group even though every command is listed lazily.
    pass


def command(name: str) -> TyperCommand | TyperGroup:
    """The loaded click command ``accord NAME`` runs (for tests and documentation tools).

    Raises:
        KeyError: no command has that name.
    """
    for listed, short_help, load in COMMANDS:
        if listed == name:
            return _Lazy(listed, short_help, load).real()
    raise KeyError(name)


def main() -> None:
    """Entry point of the ``accord`` script."""
    app()


if __name__ == "__main__":
    main()
