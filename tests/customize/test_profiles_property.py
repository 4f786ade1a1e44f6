"""Property tests of the profile resolver (issue 16): any settings a client or a stored
profile can hold (any JSON, any deployment built from the spec's options and junk, any
``Settings:`` line) give an effective profile inside the bounds or a ProfileError naming
each problem, never another exception. Time-boxed with ``max_examples``."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.customize import Deployment, ProfileError, client_messages, resolve_profile
from accord.errors import AccordError
from accord.spec import load_spec

SPEC = load_spec(Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec")
OPTIONS = [o.id for o in SPEC.bounds.customisation]
VALUES = sorted({v for o in SPEC.bounds.customisation for v in o.values})
FORBIDDEN = {(option, value) for bound in SPEC.bounds.hard_bounds
             for option, values in bound.forbids.items() for value in values}
NAMES = st.one_of(st.sampled_from(OPTIONS), st.text(max_size=6))
WORDS = st.one_of(st.sampled_from(VALUES), st.text(max_size=6))
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | WORDS,
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(NAMES, inner, max_size=3), max_leaves=8)
SETTINGS = st.one_of(st.dictionaries(NAMES, st.one_of(WORDS, JSON), max_size=5), JSON)
DEPLOYMENTS = st.builds(
    Deployment, name=st.text(max_size=5),
    allowed=st.dictionaries(NAMES, st.lists(WORDS, max_size=3), max_size=2),
    fixed=st.dictionaries(NAMES, WORDS, max_size=2),
    defaults=st.dictionaries(NAMES, WORDS, max_size=2),
    reasons=st.dictionaries(NAMES, st.text(max_size=8), max_size=2))
BOX = settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


@BOX
@given(deployment=st.one_of(st.none(), DEPLOYMENTS), user=SETTINGS, conversation=SETTINGS,
       locked=st.lists(st.one_of(NAMES, JSON), max_size=3))
def test_any_layers_resolve_inside_the_bounds_or_name_every_problem(
        deployment: Deployment | None, user: object, conversation: object,
        locked: list[object]) -> None:
    try:
        effective = resolve_profile(SPEC, deployment=deployment, user=user,  # type: ignore[arg-type]
                                    user_locked=locked,  # type: ignore[arg-type]
                                    conversation=conversation)  # type: ignore[arg-type]
    except ProfileError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return
    assert set(effective.settings) == set(OPTIONS)
    for option, value in effective.settings.items():
        assert (option, value) not in FORBIDDEN, "a hard bound was crossed"


@BOX
@given(messages=st.lists(st.fixed_dictionaries({
    "role": st.sampled_from(["system", "developer", "user", "assistant"]),
    "content": st.one_of(st.text(max_size=30), st.builds(
        lambda pairs: "Settings: " + "; ".join(pairs),
        st.lists(st.builds(lambda k, v: f"{k}={v}", NAMES, WORDS) | st.text(max_size=6),
                 max_size=4)))}), max_size=4),
       profile=st.one_of(st.none(), st.dictionaries(NAMES, WORDS, max_size=3)))
def test_any_client_messages_split_or_refuse(messages: list[dict[str, str]],
                                             profile: dict[str, str] | None) -> None:
    try:
        turns, chosen = client_messages(messages, profile)
    except AccordError as exc:  # ProfileError is one
        assert str(exc)
        return
    assert turns and turns[-1]["role"] == "user"
    assert all(t["role"] in ("user", "assistant") for t in turns)
    try:
        resolve_profile(SPEC, conversation=chosen)
    except ProfileError as exc:
        assert exc.problems
