"""Turn a configuration dataclass into a strict pydantic model for its ``accord.toml`` table.

Packages keep plain dataclasses (``WorldConfig``, ``PretrainConfig``) with a comment on
every field; the pipeline validates a table against them without repeating the fields.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model, model_validator

from accord.errors import AccordError


def section_model(name: str, dataclass_type: type, *, exclude: tuple[str, ...] = (),
                  check: bool = False, **extra: tuple[Any, Any]) -> type[BaseModel]:
    """A pydantic model with the dataclass's fields (and defaults), plus ``extra`` fields.

    Args:
        name: the model's name (shown in nothing user-facing; for debugging).
        dataclass_type: the configuration dataclass.
        exclude: fields the table may not set (e.g. ones the pipeline decides).
        check: also build the dataclass while validating the table, so the checks of its
            ``__post_init__`` (ranges) fail before the run starts, naming the table.
        extra: more fields as ``name=(type, default)``.
    """
    hints = typing.get_type_hints(dataclass_type)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(dataclass_type):
        if f.name in exclude:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = ...
        fields[f.name] = (hints[f.name], default)
    fields.update(extra)
    validators = {}
    if check:
        def _check(section: BaseModel) -> BaseModel:
            try:
                build_dataclass(dataclass_type, section)
            except AccordError as exc:
                raise ValueError(str(exc)) from None  # pydantic reports it with the table
            return section

        validators["check_dataclass"] = model_validator(mode="after")(_check)
    return create_model(name, __config__=ConfigDict(extra="forbid"),
                        __validators__=validators, **fields)


def build_dataclass(dataclass_type: type, section: BaseModel, **override: Any) -> Any:
    """Instantiate ``dataclass_type`` from the validated table's matching fields."""
    names = {f.name for f in dataclasses.fields(dataclass_type)}
    values = {k: v for k, v in section.model_dump().items() if k in names}
    values.update(override)
    return dataclass_type(**values)
