"""Pydantic's validation errors rewritten for people, located in the YAML file."""

from __future__ import annotations

import difflib
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from accord.spec._issues import Path
from accord.spec._yaml import KEY, VALUE, clean_path


@dataclass
class Problem:
    """A problem before it is located: file, path through the data, message.

    ``at`` says whether to point at the key or the value; ``position`` (1-based line,
    column) overrides the lookup, e.g. for YAML syntax errors.
    """

    file: str
    path: Path
    message: str
    at: str = VALUE
    position: tuple[int, int] | None = None


def describe_value(value: Any) -> str:
    """A short description of a value's type for messages ("a list", "text")."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a true/false value ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _tag_of(model: Any) -> Any:
    field = getattr(model, "model_fields", {}).get("type")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if args else None


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    """The model class that validated the mapping at ``loc`` (following pydantic's loc)."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            members = [m for m in typing.get_args(tp) if m is not type(None)]
            tagged = [m for m in members if _tag_of(m) == part]
            if tagged:
                tp = tagged[0]
                continue  # the tag is consumed
            tp = _unwrap(members[0])
            origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif origin is list:
            tp = typing.get_args(tp)[0]
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _choices(expected: str) -> str:
    """ "'a', 'b' or 'c'" -> "a, b, c"."""
    found = re.findall(r"'([^']*)'", expected)
    return ", ".join(found) if found else expected


def _message(err: Any, model: type[BaseModel]) -> tuple[str, str, Path]:
    """(message, at, extra path) for one pydantic error dict."""
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    got = describe_value(value)
    if kind == "missing":
        return f"missing required key '{err['loc'][-1]}'", KEY, ()
    if kind == "extra_forbidden":
        owner = _model_at(model, tuple(err["loc"][:-1]))
        fields = list(owner.model_fields) if owner else []
        key = str(err["loc"][-1])
        close = difflib.get_close_matches(key, fields, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        allowed = ", ".join(fields) or "none"
        return f"unknown key '{key}'{hint}; allowed: {allowed}", KEY, ()
    if kind == "union_tag_invalid":
        tag = ctx.get("discriminator", "'type'").strip("'")
        choices = _choices(ctx.get("expected_tags", ""))
        return f"{ctx.get('tag')!r} is not allowed; allowed: {choices}", VALUE, (tag,)
    if kind == "union_tag_not_found":
        tag = ctx.get("discriminator", "'type'").strip("'")
        return f"missing required key '{tag}'", KEY, ()
    if kind in ("literal_error", "enum"):
        return f"{value!r} is not allowed; allowed: {_choices(ctx.get('expected', ''))}", VALUE, ()
    if kind == "string_type":
        hint = f"; quote it: '{value}'" if isinstance(value, int | float) else ""
        return f"expected text, got {got}{hint}", VALUE, ()
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {got}", VALUE, ()
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"expected a number, got {got}", VALUE, ()
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}", VALUE, ()
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {got}", VALUE, ()
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping, got {got}", VALUE, ()
    if kind == "string_too_short":
        return "must not be empty", VALUE, ()
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        return ("must not be empty" if least == 1 else f"needs at least {least} entries"), VALUE, ()
    if kind == "string_pattern_mismatch":
        return (
            f"{value!r} is not a valid id; use letters, digits and underscores, "
            "not starting with a digit",
            VALUE,
            (),
        )
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bounds = {
            "greater_than_equal": f"at least {ctx.get('ge')}",
            "greater_than": f"more than {ctx.get('gt')}",
            "less_than_equal": f"at most {ctx.get('le')}",
            "less_than": f"less than {ctx.get('lt')}",
        }
        return f"{value!r} is out of range; must be {bounds[kind]}", VALUE, ()
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, "), VALUE, ()
    return str(err["msg"]), VALUE, ()


def problems_from_validation(
    file: str, model: type[BaseModel], data: Any, exc: ValidationError
) -> list[Problem]:
    """Rewrite every error of a failed ``model.model_validate(data)``.

    Args:
        file: the file name, for the problems.
        model: the model that was validated.
        data: the plain data it was given.
        exc: the validation error.

    Returns:
        One problem per pydantic error, with paths through the data (union tags removed)
        and messages a person can act on.
    """
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        path, is_key = clean_path(data, tuple(err["loc"]))
        message, at, extra = _message(err, model)
        if err["type"] == "missing" or err["type"] == "union_tag_not_found":
            # reported at the mapping the key is missing from
            path = path[:-1] if err["type"] == "missing" else path
        if is_key:
            at = KEY
            message = message.replace("is not allowed", "is not an allowed key", 1)
        out.append(Problem(file, (*path, *extra), message, at))
    return _merge_missing(out)


def _merge_missing(problems: list[Problem]) -> list[Problem]:
    """One line per mapping for its missing keys: "missing required keys 'a', 'b'"."""
    out: list[Problem] = []
    missing: dict[tuple[Any, ...], Problem] = {}
    for problem in problems:
        prefix = "missing required key "
        if not problem.message.startswith(prefix):
            out.append(problem)
            continue
        earlier = missing.get(problem.path)
        if earlier is None:
            missing[problem.path] = problem
            out.append(problem)
        else:
            key = problem.message.removeprefix(prefix)
            earlier.message = earlier.message.replace(prefix, "missing required keys ", 1)
            earlier.message += f", {key}"
    return out
