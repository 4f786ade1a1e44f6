"""Lazy package exports (PEP 562): a package lists which private module defines each public
name, and the module is imported on first access. ``accord.model`` uses it so that
``import accord.model`` does not import torch; ``accord.deliberate`` so that the web app and
the math sub-package do not pay for SQLAlchemy models or scikit-learn until used."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(package: str, modules: Mapping[str, Sequence[str]],
                 namespace: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose names load on first use.

    Args:
        package: the package's ``__name__``.
        modules: private module name (``"_decode"``) → the public names it defines.
        namespace: the package's ``globals()``; a loaded name is cached there, so each
            module is imported once and later lookups are ordinary attribute reads.

    Returns:
        ``(__getattr__, __dir__)`` to assign at the package's top level.
    """
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__
