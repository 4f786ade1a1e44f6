"""Checks that need more than one value: duplicates, references, scales, formulas, cycles.

They run on whatever validated, item by item, so a structural mistake in one category
does not hide a bad example rating in another: every problem is reported in one pass.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from accord.spec._bounds import LAYERS, CustomisationOption, Default
from accord.spec._formula import FormulaError, formula_names, parse_formula
from accord.spec._guidelines import Category, FlagsScale, LikertScale
from accord.spec._issues import Path
from accord.spec._pyerrors import Problem
from accord.spec._rules import Proposition, ResponseType
from accord.spec._yaml import KEY

G, B, C, R = "guidelines.yaml", "bounds.yaml", "constitution.yaml", "rules.yaml"


@dataclass
class FileState:
    """One file after structural validation: raw data, and the model if it validated."""

    name: str
    data: Any
    model: BaseModel | None

    @property
    def loaded(self) -> bool:
        """Whether the file parsed into a mapping (so its ids can be trusted)."""
        return isinstance(self.data, dict)

    def items(self, section: str, model: type[BaseModel]) -> list[tuple[int, Any]]:
        """(index, validated item) for each item of a list section that validates alone."""
        if self.model is not None:
            return list(enumerate(getattr(self.model, section)))
        raw = self.data.get(section) if self.loaded else None
        out: list[tuple[int, Any]] = []
        for index, item in enumerate(raw if isinstance(raw, list) else []):
            try:
                out.append((index, model.model_validate(item)))
            except ValidationError:
                continue  # already reported by the structural pass
        return out

    def raw_items(self, section: str) -> list[tuple[int, dict[str, Any]]]:
        """(index, raw mapping) for each mapping item of a list section, valid or not."""
        raw = self.data.get(section) if self.loaded else None
        items = enumerate(raw if isinstance(raw, list) else [])
        return [(index, item) for index, item in items if isinstance(item, dict)]

    def ids(self, section: str) -> dict[str, int]:
        """id -> index of its first occurrence, from the raw data (valid items or not)."""
        raw = self.data.get(section) if self.loaded else None
        out: dict[str, int] = {}
        for index, item in enumerate(raw if isinstance(raw, list) else []):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                out.setdefault(item["id"], index)
        return out


Where = Callable[[str, Path], str]


class Checker:
    """Runs every cross-value check and collects problems.

    Args:
        files: the five files by name (``spec.yaml`` may be absent).
        where: describes a location for messages ("line 4", or the path without a file).
    """

    def __init__(self, files: dict[str, FileState], where: Where) -> None:
        self.files = files
        self.where = where
        self.problems: list[Problem] = []

    def add(self, file: str, path: Path, message: str, at: str = "value") -> None:
        """Record one problem."""
        self.problems.append(Problem(file, path, message, at))

    def run(self) -> list[Problem]:
        """Run all checks; returns the problems found."""
        for name, section in [
            (G, "categories"),
            (B, "hard_bounds"),
            (B, "customisation"),
            (B, "defaults"),
            (C, "principles"),
            (R, "graders"),
            (R, "propositions"),
            (R, "response_types"),
        ]:
            self._duplicates(name, section)
        self._guidelines()
        self._bounds()
        self._rules()
        return self.problems

    def _duplicates(self, file: str, section: str) -> None:
        state = self.files.get(file)
        raw = state.data.get(section) if state is not None and state.loaded else None
        first: dict[str, int] = {}
        for index, item in enumerate(raw if isinstance(raw, list) else []):
            item_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(item_id, str):
                continue
            if item_id in first:
                earlier = self.where(file, (section, first[item_id], "id"))
                self.add(
                    file,
                    (section, index, "id"),
                    f"duplicate id '{item_id}'; first defined at {earlier}",
                )
            else:
                first[item_id] = index

    # guidelines.yaml ------------------------------------------------------------------

    def _guidelines(self) -> None:
        state = self.files.get(G)
        if state is None:
            return
        for i, category in state.items("categories", Category):
            scale = category.scale
            if isinstance(scale, LikertScale):
                keys = sorted(scale.points)
                if keys != list(range(keys[0], keys[0] + len(keys))):
                    self.add(
                        G,
                        ("categories", i, "scale", "points"),
                        "likert points must be consecutive integers; got "
                        + ", ".join(map(str, keys)),
                        KEY,
                    )
            if isinstance(scale, FlagsScale):
                seen: dict[str, int] = {}
                for j, option in enumerate(scale.options):
                    if option.id in seen:
                        earlier = self.where(
                            G, ("categories", i, "scale", "options", seen[option.id], "id")
                        )
                        self.add(
                            G,
                            ("categories", i, "scale", "options", j, "id"),
                            f"duplicate flag id '{option.id}'; first defined at {earlier}",
                        )
                    seen.setdefault(option.id, j)
            for j, example in enumerate(category.examples):
                self._rating(i, j, scale, example.rating)

    def _rating(self, i: int, j: int, scale: Any, rating: Any) -> None:
        path: Path = ("categories", i, "examples", j, "rating")
        allowed = ", ".join(map(str, scale.values()))
        if isinstance(scale, FlagsScale):
            if not isinstance(rating, list):
                self.add(
                    G,
                    path,
                    f"expected a list of flag ids, got {rating!r}; allowed flags: {allowed}",
                )
                return
            for k, flag in enumerate(rating):
                if flag not in scale.values():
                    self.add(
                        G,
                        (*path, k),
                        f"{flag!r} is not a flag of this category; allowed: {allowed}",
                    )
        elif isinstance(rating, list) or rating not in scale.values():
            self.add(
                G, path, f"rating {rating!r} is not on the {scale.type} scale; allowed: {allowed}"
            )

    # bounds.yaml ----------------------------------------------------------------------

    def _bounds(self) -> None:
        state = self.files.get(B)
        if state is None or not state.loaded:
            return
        self._chain(state.data.get("chain_of_command"))
        options: dict[str, tuple[int, CustomisationOption]] = {}
        for i, option in state.items("customisation", CustomisationOption):
            self._option(i, option)
            options.setdefault(option.id, (i, option))  # a duplicate id is reported above
        option_ids = state.ids("customisation")
        rules = self.files.get(R)
        propositions = rules.ids("propositions") if rules is not None and rules.loaded else None
        # Read from the raw items: a bound with a bad threshold must still have its
        # references and forbidden values checked, or fixing one mistake reveals another.
        for i, bound in state.raw_items("hard_bounds"):
            check = bound.get("check")
            prop = check.get("proposition") if isinstance(check, dict) else None
            if isinstance(prop, str) and propositions is not None and prop not in propositions:
                self.add(
                    B,
                    ("hard_bounds", i, "check", "proposition"),
                    _unknown("proposition", prop, propositions, "rules.yaml"),
                )
            forbids = bound.get("forbids")
            for option_id, values in (forbids if isinstance(forbids, dict) else {}).items():
                if not isinstance(option_id, str):
                    continue
                if option_id not in option_ids:
                    self.add(
                        B,
                        ("hard_bounds", i, "forbids", option_id),
                        _unknown("customisation option", option_id, option_ids),
                        KEY,
                    )
                elif option_id in options and isinstance(values, list):
                    self._forbidden(str(bound.get("id")), i, options[option_id], values)
        for i, default in state.items("defaults", Default):
            self._default(i, default, options, option_ids)

    def _chain(self, chain: Any) -> None:
        if not (isinstance(chain, list) and all(c in LAYERS for c in chain)):
            return  # absent (the default applies) or reported structurally
        path: Path = ("chain_of_command",)
        for j, layer in enumerate(chain):
            if layer in chain[:j]:
                self.add(B, (*path, j), f"layer '{layer}' appears twice; each layer goes once")
        missing = [layer for layer in LAYERS if layer not in chain]
        if missing:
            self.add(
                B,
                path,
                f"missing layer(s): {', '.join(missing)}; the chain has all of {', '.join(LAYERS)}",
                KEY,
            )
        if chain and chain[0] != "platform":
            self.add(B, (*path, 0), f"the chain must start with 'platform', not '{chain[0]}'")

    def _option(self, i: int, option: CustomisationOption) -> None:
        path: Path = ("customisation", i)
        for j, value in enumerate(option.values):
            if value in option.values[:j]:
                self.add(B, (*path, "values", j), f"duplicate value '{value}'")
        allowed = ", ".join(option.values)
        if option.default not in option.values:
            self.add(
                B,
                (*path, "default"),
                f"default '{option.default}' is not one of the values: {allowed}",
            )
        for value in option.disclosure:
            if value not in option.values:
                self.add(
                    B,
                    (*path, "disclosure", value),
                    f"'{value}' is not one of the values: {allowed}",
                    KEY,
                )

    def _forbidden(self, bound_id: str, i: int, found: tuple[int, Any], values: list[Any]) -> None:
        k, option = found
        for value in values:
            if value in option.values:
                j = option.values.index(value)
                where = self.where(B, ("hard_bounds", i, "forbids", option.id))
                self.add(
                    B,
                    ("customisation", k, "values", j),
                    f"'{value}' is forbidden by hard bound '{bound_id}' ({where}); "
                    "the spec must not offer it",
                )

    def _default(
        self, i: int, default: Default, options: dict[str, Any], ids: dict[str, int]
    ) -> None:
        path: Path = ("defaults", i)
        if (default.option is None) != (default.value is None):
            self.add(B, path, "'option' and 'value' go together: give both or neither", KEY)
            return
        if default.option is None:
            return
        if default.option not in ids:
            self.add(B, (*path, "option"), _unknown("customisation option", default.option, ids))
            return
        if default.option not in options:
            return
        option = options[default.option][1]
        if default.value not in option.values:
            self.add(
                B,
                (*path, "value"),
                f"'{default.value}' is not one of the values of '{option.id}': "
                f"{', '.join(option.values)}",
            )
        elif default.value != option.default and option.default in option.values:
            self.add(
                B,
                (*path, "value"),
                f"'{default.value}' is not the default of option '{option.id}' "
                f"('{option.default}'); a default behaviour must match the option's default",
            )

    # rules.yaml -----------------------------------------------------------------------

    def _rules(self) -> None:
        state = self.files.get(R)
        if state is None or not state.loaded:
            return
        graders = state.ids("graders")
        props = state.ids("propositions")
        for i, prop in state.items("propositions", Proposition):
            if prop.grader not in graders:
                self.add(R, ("propositions", i, "grader"), _unknown("grader", prop.grader, graders))
        raw_defs = state.data.get("definitions")
        defs = (
            {k: v for k, v in raw_defs.items() if isinstance(v, str)}
            if isinstance(raw_defs, dict)
            else {}
        )
        known: dict[str, int] | None = {**props, **dict.fromkeys(defs, 0)}
        if raw_defs is not None and not isinstance(raw_defs, dict):
            known = None  # definitions are unreadable: unknown names would be guesses
        deps: dict[str, list[str]] = {}
        for name, text in defs.items():
            if name in props:
                self.add(
                    R,
                    ("definitions", name),
                    f"'{name}' is already a proposition; a definition needs its own name",
                    KEY,
                )
            names = self._formula(("definitions", name), text, known)
            # a name that is also a proposition means the proposition (as in evaluate)
            deps[name] = [n for n in names if n in defs and n not in props]
        for i, kind in state.items("response_types", ResponseType):
            for cls, text in kind.classes.items():
                self._formula(("response_types", i, "classes", cls), text, known)
        self._cycles(deps)

    def _formula(self, path: Path, text: str, known: dict[str, int] | None) -> list[str]:
        try:
            names = formula_names(parse_formula(text))
        except FormulaError as exc:
            self.add(
                R,
                path,
                f"formula does not parse: {exc.reason} (column {exc.column} of the formula)",
            )
            return []
        for name in names:
            if known is not None and name not in known:
                self.add(
                    R, path, _unknown("proposition or definition", name, known, f"formula {text!r}")
                )
        return names

    def _cycles(self, deps: dict[str, list[str]]) -> None:
        reported: set[frozenset[str]] = set()
        for start in deps:
            stack = [(start, [start])]
            while stack:
                node, trail = stack.pop()
                for nxt in deps.get(node, []):
                    if nxt == start:
                        key = frozenset(trail)
                        if key not in reported:
                            reported.add(key)
                            cycle = " -> ".join([*trail, start])
                            self.add(R, ("definitions", start), f"definition cycle: {cycle}", KEY)
                    elif nxt not in trail:
                        stack.append((nxt, [*trail, nxt]))


def _unknown(what: str, name: str, known: Iterable[str], where: str | None = None) -> str:
    known = list(known)
    message = f"unknown {what} '{name}'"
    if where:
        message += f" in {where}" if where.startswith("formula") else f" (not in {where})"
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"{message}; did you mean '{close[0]}'?"
    return f"{message}; known: {', '.join(known) if known else 'none'}"
