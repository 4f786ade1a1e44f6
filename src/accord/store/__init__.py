"""Accord's database: SQLAlchemy models, engine and sessions, Alembic migrations.

SQLite in the project folder by default (``<project>/.accord/accord.sqlite3``), or
PostgreSQL when ``ACCORD_DATABASE_URL`` is set. Opening a store upgrades its schema::

    from accord.store import open_store, record_spec_version

    store = open_store(project_dir)
    with store.session() as session:  # commits on success, rolls back on error
        record_spec_version(session, hash=digest, content=content, name="demo")

See docs/store.md for the tables, migrations and durability.
"""

from accord.store._base import (
    NAMING_CONVENTION,
    Base,
    JSONType,
    UTCDateTime,
    import_all_models,
    utcnow,
)
from accord.store._cli import db_app
from accord.store._engine import (
    DATABASE_URL_ENV,
    database_url,
    make_engine,
    normalise_url,
    safe_url,
)
from accord.store._errors import ConflictError, DatabaseURLError, NotFoundError, StoreError
from accord.store._hashing import SHORT_HASH_LENGTH, content_hash
from accord.store._migrate import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    new_revision,
    upgrade,
)
from accord.store._models import Completion, ModelVersion, Prompt, SpecVersion
from accord.store._prompts import ROLES, add_completions, prompt_hash, upsert_prompt
from accord.store._registry import (
    SIGNAL_KEY,
    find_model_by_path,
    get_model_version,
    lineage,
    model_path,
    register_model_version,
    store_root,
    training_signal,
)
from accord.store._specs import get_spec_version, latest_spec_version, record_spec_version
from accord.store._store import Store, open_store

__all__ = [
    "DATABASE_URL_ENV",
    "NAMING_CONVENTION",
    "ROLES",
    "SHORT_HASH_LENGTH",
    "SIGNAL_KEY",
    "Base",
    "Completion",
    "ConflictError",
    "DatabaseURLError",
    "JSONType",
    "ModelVersion",
    "NotFoundError",
    "Prompt",
    "SpecVersion",
    "Store",
    "StoreError",
    "UTCDateTime",
    "add_completions",
    "alembic_config",
    "content_hash",
    "current_revision",
    "database_url",
    "db_app",
    "downgrade",
    "find_model_by_path",
    "get_model_version",
    "get_spec_version",
    "head_revision",
    "import_all_models",
    "latest_spec_version",
    "lineage",
    "make_engine",
    "model_path",
    "new_revision",
    "normalise_url",
    "open_store",
    "prompt_hash",
    "record_spec_version",
    "register_model_version",
    "safe_url",
    "store_root",
    "training_signal",
    "upgrade",
    "upsert_prompt",
    "utcnow",
]
