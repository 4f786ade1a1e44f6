"""A project folder: ``accord.toml`` (the configuration), ``spec/`` and ``.accord/`` (state).

Layout::

    DIR/accord.toml        project configuration, one table per pipeline stage
    DIR/spec/              the behaviour spec (see docs/spec.md)
    DIR/.accord/           everything Accord writes: the SQLite store, stage outputs, runs

Each pipeline stage declares a pydantic model for its table; :func:`load_project` checks
every table before anything runs, so a typo in the last stage's settings fails at once.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from accord.errors import AccordError

if TYPE_CHECKING:
    from accord.store import Store

CONFIG_NAMES = ("accord.toml",)


class ProjectError(AccordError):
    """The project folder or its configuration is not usable."""


class ProjectSection(BaseModel):
    """The ``[project]`` table."""

    model_config = ConfigDict(extra="forbid")

    name: str = "accord"
    """A short name, used in model-version names and the report title."""
    spec: str = "spec"
    """The spec folder, relative to the project folder."""
    database_url: str | None = None
    """A SQLAlchemy URL; unset means SQLite under ``.accord/`` (``ACCORD_DATABASE_URL`` wins)."""


@dataclass
class Project:
    """A loaded project folder."""

    root: Path
    config_path: Path | None
    project: ProjectSection
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    profile: str | None = None
    """The ``[profiles.NAME]`` preset merged over the tables (``accord run --profile``)."""
    profiles: tuple[str, ...] = ()
    """Every preset the project defines."""

    @property
    def spec_dir(self) -> Path:
        return (self.root / self.project.spec).resolve()

    @property
    def state_dir(self) -> Path:
        return self.root / ".accord"

    def table(self, name: str) -> dict[str, Any]:
        """The raw ``[name]`` table (empty when absent)."""
        return dict(self.tables.get(name, {}))

    def section(self, name: str, model: type[BaseModel]) -> Any:
        """The ``[name]`` table validated by ``model``, with errors naming the file and key."""
        return validate_table(self.config_path, name, self.table(name), model)


def validate_table(path: Path | None, name: str, raw: dict[str, Any],
                   model: type[BaseModel]) -> Any:
    """Validate one TOML table; the error lists every bad key with what is allowed."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        where = path.name if path else "accord.toml"
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(table)"
            if err["type"] == "extra_forbidden":
                allowed = ", ".join(sorted(model.model_fields))
                msg = f"unknown key; allowed: {allowed}"
            else:
                msg = err["msg"]
                if "input" in err and err["type"] != "missing":
                    msg += f" (got {err['input']!r})"
            lines.append(f"{where}: [{name}] {key}: {msg}")
        raise ProjectError("\n".join(lines)) from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over``'s keys replace ``base``'s; nested tables merge key by key."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_project(root: Path | str, profile: str | None = None) -> Project:
    """Read ``DIR/accord.toml``; a folder without one uses the defaults.

    Args:
        root: the project folder.
        profile: a preset to apply: ``[profiles.NAME.TABLE]`` keys replace those of
            ``[TABLE]`` (e.g. ``quick`` with fewer steps, ``gpu`` with bigger budgets).

    Raises:
        ProjectError: no such folder, a bad ``accord.toml``, or an unknown profile.
    """
    root = Path(root)
    if not root.is_dir():
        raise ProjectError(f"{root}: not a folder; expected a project folder with accord.toml "
                           "and spec/")
    config_path = next((root / n for n in CONFIG_NAMES if (root / n).exists()), None)
    data: dict[str, Any] = {}
    if config_path is not None:
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ProjectError(f"{config_path}: {exc}") from None
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    presets = tables.pop("profiles", {})
    bad = [k for k, v in presets.items() if not isinstance(v, dict)]
    if bad:
        raise ProjectError(f"{config_path}: [profiles] {', '.join(bad)}: each profile is a "
                           "table of tables, e.g. [profiles.quick.sft] max_steps = 5")
    if profile is not None:
        if profile not in presets:
            known = ", ".join(sorted(presets)) or "none (add [profiles.NAME.TABLE])"
            raise ProjectError(f"{config_path or root}: no profile {profile!r}; profiles: "
                               f"{known}")
        for table, keys in presets[profile].items():
            if not isinstance(keys, dict):
                raise ProjectError(f"{config_path}: [profiles.{profile}] {table}: expected a "
                                   f"table of keys for [{table}]")
            tables[table] = _merge(tables.get(table, {}), keys)
    scalars = [k for k, v in data.items() if not isinstance(v, dict)]
    if scalars:
        raise ProjectError(f"{config_path}: top-level keys {', '.join(scalars)} must sit "
                           "inside a table such as [project]")
    project = validate_table(config_path, "project", tables.pop("project", {}), ProjectSection)
    return Project(root=root.resolve(), config_path=config_path, project=project, tables=tables,
                   profile=profile, profiles=tuple(sorted(presets)))


def database_url_of(project: Project) -> str:
    """The database a project uses; ``accord run``, ``accord serve`` and every command with
    ``--project`` ask this one function.

    Args:
        project: a loaded project.

    Returns:
        ``ACCORD_DATABASE_URL`` when it is set (blank counts as unset), else ``[project]
        database_url``, else SQLite at ``.accord/accord.sqlite3`` in the project folder.

    Raises:
        accord.store.DatabaseURLError: the URL is not one Accord can use.
    """
    import os

    from accord.store import DATABASE_URL_ENV, database_url

    if os.environ.get(DATABASE_URL_ENV, "").strip():
        return database_url(project.root)
    return project.project.database_url or database_url(project.root)


def open_project_store(project_dir: Path | str) -> Store:
    """The store of a project folder, opened and migrated to the newest schema.

    Args:
        project_dir: the project folder (``accord.toml`` optional).

    Raises:
        ProjectError: the folder or its ``accord.toml`` is not usable.
    """
    from accord.store import open_store

    return open_store(url=database_url_of(load_project(project_dir)))
