"""Loading the models ``accord serve --model`` names, once, into a chat service.

Called only when models are served: it imports torch (through
``accord.customize.load_runner``) at call time, never when the web app is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from accord.errors import AccordError

if TYPE_CHECKING:
    from accord.customize import ChatService, CustomizeSettings
    from accord.project import Project
    from accord.store import Store


def resolve_models(store: Store, names: list[str]) -> list[tuple[str, Path]]:
    """(served name, model folder) for each ``--model``: ``NAME=PATH``, a model version
    name from the registry, or a ``save_pretrained`` folder (served under the registry
    name whose artifact it is, else under the folder's name).

    Raises:
        AccordError: not a registered version nor a model folder; a name given twice.
    """
    from sqlalchemy import select

    from accord.store import ModelVersion

    out: list[tuple[str, Path]] = []
    with store.session() as session:
        for given in names:
            name, sep, path_text = given.partition("=")
            if sep:
                path = Path(path_text)
            else:
                row = session.scalars(select(ModelVersion).where(
                    ModelVersion.name == given)).one_or_none()
                if row is not None:
                    name, path = row.name, Path(row.artifact_path)
                else:
                    path = Path(given)
                    by_path = session.scalars(select(ModelVersion).where(
                        ModelVersion.artifact_path == str(path.resolve()))).first()
                    name = by_path.name if by_path is not None else path.resolve().name
            if not (path / "config.json").is_file():
                known = ", ".join(session.scalars(select(ModelVersion.name)).all()) or "none"
                raise AccordError(f"--model {given!r}: not a registered model version nor a "
                                  f"saved model folder ({path} has no config.json); "
                                  f"registered versions: {known}")
            if any(n == name for n, _ in out):
                raise AccordError(f"--model {given!r}: the name {name!r} is served twice; "
                                  "give one of them as NAME=PATH")
            out.append((name, path))
    return out


def chat_service(project: Project, store: Store, settings: CustomizeSettings,
                 models: list[str]) -> ChatService:
    """The chat service for a project: its spec, ``[customize]`` and the named models."""
    from accord.customize import ChatService, load_runner
    from accord.spec import load_spec

    spec = load_spec(project.spec_dir)
    runners = {name: load_runner(name, path) for name, path in resolve_models(store, models)}
    return ChatService(spec, settings, runners, store=store)
