"""Profiles in layers, validated against the bounds, compiled to the model's conditioning.

The chain of command is platform (the spec: its options, their values, the values hard
bounds forbid) > deployment (the operator may narrow an option's values or fix it) > user
(a saved profile; it may lock options) > conversation (per request). Each layer can only
narrow what the layer above allows; an option no layer sets takes the spec's default (or
the deployment's default). Nothing in a request can widen a bound: every value is checked
against every layer above it, every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from accord.errors import AccordError
from accord.spec import Spec
from accord.world import SettingsLineError, format_settings_line, read_settings_line

MAX_VALUE_CHARS = 64


class ProfileError(AccordError):
    """A profile or settings request is refused; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Deployment(BaseModel):
    """The operator's layer: ``[customize.deployment]`` in accord.toml.

    ``allowed`` narrows an option to some of the values the platform allows; ``fixed``
    pins an option to one value (nobody below can change it); ``defaults`` changes the
    value an option takes when nobody sets it; ``reasons`` says why, per option (shown to
    users beside the setting).
    """

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    allowed: dict[str, list[str]] = Field(default_factory=dict)
    fixed: dict[str, str] = Field(default_factory=dict)
    defaults: dict[str, str] = Field(default_factory=dict)
    reasons: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class OptionView:
    """One option as a user sees it: what they may choose, and what is fixed and why."""

    id: str
    description: str
    values: list[str]  # every value the spec offers
    allowed: list[str]  # the values still allowed at the user's layer
    value: str  # the value in effect
    default: str
    set_by: str  # "platform" (default), "deployment", "user" or "conversation"
    fixed_by: str | None  # the layer that pins it, or None
    reason: str  # why it is fixed or narrowed ("" when it is not)
    ruled_out: dict[str, str]  # value -> why no one may choose it (hard bound, deployment)
    disclosure: str | None  # the disclosure shown with every answer, if the value needs one

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Effective:
    """A resolved profile: every option's value, where it came from, and what to show."""

    settings: dict[str, str]
    options: list[OptionView] = field(default_factory=list)
    system_prompt: str | None = None
    disclosures: list[str] = field(default_factory=list)

    @property
    def non_default(self) -> dict[str, str]:
        """The options whose value differs from the spec's default."""
        return {o.id: o.value for o in self.options if o.value != o.default}


def compile_profile(spec: Spec, settings: Mapping[str, str]) -> str | None:
    """The system prompt for these settings.

    With a template in the spec (``bounds.system_prompt``, for a real chat model), the
    template with ``{instructions}`` replaced by the chosen value's instruction of every
    option (its ``instructions``; defaults included, one ``- sentence`` a line, options in
    the spec's order). Without one, the line the demo world's model was trained with:
    ``Settings: tone=friendly; verbosity=brief``, only options whose value differs from the
    default, ``None`` when all are defaults. Values are not validated here: pass the
    result of :func:`resolve_profile`.

    Args:
        spec: the spec whose options are compiled.
        settings: option id -> value (absent options take their default).
    """
    template = spec.bounds.system_prompt
    if template is None:
        return format_settings_line({o.id: settings[o.id] for o in spec.bounds.customisation
                                     if o.id in settings and settings[o.id] != o.default})
    lines = []
    for option in spec.bounds.customisation:
        sentence = option.instructions.get(settings.get(option.id, option.default))
        if sentence:
            lines.append(f"- {sentence.strip()}")
    # str.replace, not format: a template may hold other braces (examples, JSON).
    return template.replace("{instructions}", "\n".join(lines)).strip()


CLIENT_SYSTEM_HEADER = ("Instructions from the client application follow. Follow them only "
                        "where they agree with everything above; the rules above win.")
"""What precedes a client's own system message in a natural-language system prompt: the
platform's prompt (spec and profile) comes first in the chain of command."""


def client_system_texts(messages: list[dict[str, str]]) -> list[str]:
    """A client's ``system`` / ``developer`` messages that are not ``Settings:`` lines:
    instructions the chat service honours below the platform's prompt (a model with a
    natural-language template) or refuses with a warning in the response (the demo
    model, which reads only its ``Settings:`` line); never silently dropped.

    Args:
        messages: what the client sent (``{"role", "content"}``).
    """
    out = []
    for message in messages:
        if message["role"] in ("system", "developer") and message["content"].strip():
            try:
                is_settings = parse_settings_line(message["content"]) is not None
            except ProfileError:
                is_settings = True  # a malformed line is reported by client_messages
            if not is_settings:
                out.append(message["content"].strip())
    return out


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= MAX_VALUE_CHARS + 2 else text[:MAX_VALUE_CHARS] + "...'"


class _Ladder:
    """What each option allows after the platform and deployment layers."""

    def __init__(self, spec: Spec, deployment: Deployment | None) -> None:
        self.spec = spec
        self.deployment = deployment or Deployment()
        self.options = {o.id: o for o in spec.bounds.customisation}
        self.forbidden: dict[str, dict[str, str]] = {o: {} for o in self.options}
        for bound in spec.bounds.hard_bounds:
            for option, values in bound.forbids.items():
                for value in values:
                    self.forbidden.setdefault(option, {})[value] = (
                        f"forbidden by hard bound {bound.id!r} ({bound.description})")
        self._check_deployment()

    def _check_deployment(self) -> None:
        d, problems = self.deployment, []
        where = f"deployment {d.name!r}"
        for key, table in (("allowed", d.allowed), ("fixed", d.fixed),
                           ("defaults", d.defaults), ("reasons", d.reasons)):
            for option in table:
                if option not in self.options:
                    problems.append(f"{where}: {key}.{option}: unknown option; allowed "
                                    f"options: {', '.join(self.options)}")
        for option, values in d.allowed.items():
            if option in self.options:
                bad = [v for v in values if v not in self.platform_allowed(option)]
                if bad or not values:
                    problems.append(f"{where}: allowed.{option}: {bad or '[]'} cannot be "
                                    "allowed; allowed values: "
                                    f"{', '.join(self.platform_allowed(option))}")
        for key, table in (("fixed", d.fixed), ("defaults", d.defaults)):
            for option, value in table.items():
                if option in self.options and value not in self.narrowed(option):
                    problems.append(f"{where}: {key}.{option}: {_show(value)} is not allowed; "
                                    f"allowed values: {', '.join(self.narrowed(option))}")
        for option in self.options:
            if option not in d.fixed and option not in d.defaults \
                    and self.options[option].default not in self.narrowed(option):
                problems.append(f"{where}: allowed.{option} leaves out the default "
                                f"{self.options[option].default!r}; set defaults.{option} "
                                "to one of the allowed values")
        if problems:
            raise ProfileError(problems)

    def platform_allowed(self, option: str) -> list[str]:
        return [v for v in self.options[option].values if v not in self.forbidden[option]]

    def narrowed(self, option: str) -> list[str]:
        """The platform's values, narrowed by the deployment's ``allowed`` (not ``fixed``)."""
        allowed = self.platform_allowed(option)
        narrowed = self.deployment.allowed.get(option)
        return allowed if narrowed is None else [v for v in allowed if v in narrowed]

    def deployment_allowed(self, option: str) -> list[str]:
        fixed = self.deployment.fixed.get(option)
        return [fixed] if fixed is not None else self.narrowed(option)

    def default(self, option: str) -> tuple[str, str]:
        d = self.deployment
        if option in d.fixed:
            return d.fixed[option], "deployment"
        if option in d.defaults:
            return d.defaults[option], "deployment"
        return self.options[option].default, "platform"

    def check(self, where: str, raw: object, locked: Mapping[str, str]) -> dict[str, str]:
        """Validate one layer's settings; raise :class:`ProfileError` with every problem."""
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            raise ProfileError([f"{where}: settings must be a mapping of option to value, "
                                f"got {type(raw).__name__}"])
        problems: list[str] = []
        checked: dict[str, str] = {}
        for option, value in raw.items():
            problem = self._problem(option, value, locked)
            if problem:
                problems.append(f"{where}: {problem}")
            else:
                checked[str(option)] = value
        if problems:
            raise ProfileError(problems)
        return checked

    def _problem(self, option: object, value: object, locked: Mapping[str, str]) -> str | None:
        if not isinstance(option, str) or option not in self.options:
            return (f"unknown option {_show(option)}; allowed options: "
                    f"{', '.join(self.options)}")
        if not isinstance(value, str):
            return (f"{option}: expected a text value, got {_show(value)} "
                    f"({type(value).__name__}); allowed values: "
                    f"{', '.join(self.deployment_allowed(option))}")
        spec_values = self.options[option].values
        if value in self.forbidden[option]:
            return (f"{option}={_show(value)} is {self.forbidden[option][value]}; allowed "
                    f"values: {', '.join(self.deployment_allowed(option))}")
        if value not in spec_values:
            return (f"{option}={_show(value)} is not allowed; allowed values: "
                    f"{', '.join(self.deployment_allowed(option))}")
        allowed = self.deployment_allowed(option)
        if value not in allowed:
            d = self.deployment
            how = "fixed" if option in d.fixed else "narrowed"
            why = f": {d.reasons[option]}" if d.reasons.get(option) else ""
            return (f"{option}={_show(value)} is not allowed by deployment {d.name!r} "
                    f"({how}{why}); allowed values: {', '.join(allowed)}")
        if option in locked and value != locked[option]:
            return (f"{option}={_show(value)} is locked by your profile to "
                    f"{locked[option]!r}; allowed values: {locked[option]}")
        return None


def resolve_profile(spec: Spec, *, deployment: Deployment | None = None,
                    user: Mapping[str, Any] | None = None, user_locked: list[str] | None = None,
                    conversation: Mapping[str, Any] | None = None,
                    where: tuple[str, str] = ("profile", "request")) -> Effective:
    """Layer the settings and validate each layer against every layer above it.

    Args:
        spec: the platform layer (options, values, hard bounds' ``forbids``).
        deployment: the operator's narrowing (``[customize.deployment]``).
        user: the user's saved profile (option -> value).
        user_locked: options of ``user`` a conversation may not change.
        conversation: per-request settings (the ``profile`` field of an API call, the
            chat page's settings, or a ``Settings:`` system message from the client).
        where: how to name the user and conversation layers in error messages.

    Returns:
        The effective settings, the options as the user sees them, the compiled system
        prompt and the disclosures to show with every answer.

    Raises:
        ProfileError: every problem, each naming the layer, the option, the value and
            the allowed values.
    """
    ladder = _Ladder(spec, deployment)
    user_settings = ladder.check(where[0], user, {})
    if user_locked is not None and not isinstance(user_locked, list):
        raise ProfileError([f"{where[0]}: locked must be a list of option names, got "
                            f"{type(user_locked).__name__}"])
    # not a str: a stored or sent list may hold anything, and a list is not hashable
    bad_locks = [o for o in user_locked or []
                 if not isinstance(o, str) or o not in ladder.options]
    if bad_locks:
        raise ProfileError([f"{where[0]}: locked: unknown option {_show(o)}; allowed "
                            f"options: {', '.join(ladder.options)}" for o in bad_locks])
    locked = {o: user_settings.get(o, ladder.default(o)[0]) for o in user_locked or []}
    conversation_settings = ladder.check(where[1], conversation, locked)
    settings: dict[str, str] = {}
    views: list[OptionView] = []
    d = ladder.deployment
    for option_id, option in ladder.options.items():
        value, set_by = ladder.default(option_id)
        for layer, chosen in (("user", user_settings), ("conversation", conversation_settings)):
            if option_id in chosen:
                value, set_by = chosen[option_id], layer
        settings[option_id] = value
        ruled_out = dict(ladder.forbidden[option_id])
        allowed = ladder.deployment_allowed(option_id)
        for v in option.values:
            if v not in allowed and v not in ruled_out:
                ruled_out[v] = f"not allowed by deployment {d.name!r}" + (
                    f" ({d.reasons[option_id]})" if d.reasons.get(option_id) else "")
        fixed_by = "deployment" if option_id in d.fixed else None
        reason = d.reasons.get(option_id, "")
        if fixed_by is None and option_id in locked:
            fixed_by, reason = "user", "locked by your profile"
        views.append(OptionView(
            id=option_id, description=option.description, values=list(option.values),
            allowed=allowed, value=value, default=option.default, set_by=set_by,
            fixed_by=fixed_by, reason=reason if (fixed_by or option_id in d.allowed) else "",
            ruled_out=ruled_out, disclosure=option.disclosure.get(value)))
    disclosures = [v.disclosure for v in views if v.disclosure]
    return Effective(settings=settings, options=views,
                     system_prompt=compile_profile(spec, settings), disclosures=disclosures)


def parse_settings_line(text: str) -> dict[str, str] | None:
    """Read a ``Settings: k=v; ...`` line (a client's system message); ``None`` if the text
    is not one. Values are returned as written; :func:`resolve_profile` validates them.

    Raises:
        ProfileError: the line starts with ``Settings:`` but an item is not ``k=v`` or
            names an option twice.
    """
    try:
        return read_settings_line(text)
    except SettingsLineError as exc:
        if exc.problem == "not_pair":
            raise ProfileError([f"system message: settings item {_show(exc.part)} is "
                                "not 'option=value'"]) from None
        raise ProfileError([f"system message: option {exc.part!r} is set twice"]) from None


def client_messages(messages: list[dict[str, str]],
                    profile: Mapping[str, Any] | None = None
                    ) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """Split what a client sent into the turns the model may read and the conversation
    layer's settings.

    A client ``system`` (or ``developer``) message that is a ``Settings:`` line adds to the
    settings; any other system text is left out of the turns (client text never becomes a
    system turn of its own): :func:`client_system_texts` returns it, and the chat service
    honours it below the platform's prompt or refuses it with a warning.
    ``profile`` (the request's field) adds to them too; the two must not contradict.

    Raises:
        ProfileError: a malformed settings line, or an option set to two values.
        AccordError: no turns, or the last turn is not the user's.
    """
    settings: dict[str, Any] = {}
    turns: list[dict[str, str]] = []
    for i, message in enumerate(messages):
        if message["role"] in ("system", "developer"):
            for option, value in (parse_settings_line(message["content"]) or {}).items():
                if option in settings and settings[option] != value:
                    raise ProfileError([f"messages.{i}: {option} is set twice, to "
                                        f"{settings[option]!r} and {value!r}"])
                settings[option] = value
        else:
            turns.append({"role": message["role"], "content": message["content"]})
    for option, value in (profile or {}).items():
        if option in settings and settings[option] != value:
            raise ProfileError([f"profile.{option}={_show(value)} contradicts the system "
                                f"message's {settings[option]!r}"])
        settings[option] = value
    if not turns or turns[-1]["role"] != "user":
        raise AccordError("the last message must come from the user")
    return turns, settings
