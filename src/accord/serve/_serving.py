"""Loading the models ``accord serve --model`` names, once, into a chat service, and
choosing each one's screens.

A model whose lineage in the store starts at a pretrain on the demo world is screened with
the world screens; every other model (a base or external model such as SmolLM2, a folder
the store does not know) with the real-text graders (``[customize] screens``,
docs/customize.md). Called only when models are served: it imports torch (through
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
    name from the registry, ``smollm2`` (SmolLM2-135M-Instruct, offline), or a
    ``save_pretrained`` folder (served under the registry name whose artifact it is, else
    under the folder's name).

    Raises:
        AccordError: not a registered version nor a model folder; a name given twice.
    """
    from sqlalchemy import select

    from accord.store import ModelVersion, find_model_by_path, model_path

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
                    name, path = row.name, model_path(session, row)
                elif given == "smollm2":  # the offline SmolLM2-135M-Instruct (accord.model)
                    from accord.model import resolve_model

                    name, path = given, resolve_model(given, what="--model")
                else:
                    path = Path(given)
                    by_path = find_model_by_path(session, path)
                    name = by_path.name if by_path is not None else path.resolve().name
            from accord.model import is_adapter_dir  # torch-free

            if not (path / "config.json").is_file() and not is_adapter_dir(path):
                known = ", ".join(session.scalars(select(ModelVersion.name)).all()) or "none"
                raise AccordError(f"--model {given!r}: not a registered model version nor a "
                                  f"saved model folder ({path} has no config.json); "
                                  f"registered versions: {known}")
            if any(n == name for n, _ in out):
                raise AccordError(f"--model {given!r}: the name {name!r} is served twice; "
                                  "give one of them as NAME=PATH")
            out.append((name, path))
    return out


def is_world_model(store: Store, path: Path) -> bool:
    """Whether the model folder at ``path`` is the demo world's: a registered model version
    whose first ancestor is a pretrain on the demo world's corpus (``datasets`` names a
    ``world`` and no ``base_model`` was imported). A folder the store does not know, or a
    lineage that starts at an imported base model, is not.

    Args:
        store: the project's store (model versions and their parents).
        path: the served model folder.
    """
    from accord.store import ModelVersion, find_model_by_path

    with store.session() as session:
        row = find_model_by_path(session, path)
        seen: set[int] = set()
        while row is not None and row.parent_id is not None and row.id not in seen:
            seen.add(row.id)
            row = session.get(ModelVersion, row.parent_id)
        if row is None:
            return False
        return (row.stage == "pretrain" and "world" in (row.datasets or {})
                and not (row.config or {}).get("base_model"))


def chat_service(project: Project, store: Store, settings: CustomizeSettings,
                 models: list[str]) -> ChatService:
    """The chat service for a project: its spec, ``[customize]`` and the named models,
    each screened by its lineage (:func:`is_world_model`)."""
    from accord.customize import ChatService, load_runner
    from accord.spec import load_spec

    spec = load_spec(project.spec_dir)
    resolved = resolve_models(store, models)
    world = {name for name, path in resolved if is_world_model(store, path)}
    runners = {name: load_runner(name, path) for name, path in resolved}
    return ChatService(spec, settings, runners, store=store, world_models=world)
