"""The one registry: named graders built on first use, listed, replaced and removed;
exchanges built from texts and the world's prompt records."""

from __future__ import annotations

import pytest

from accord.graders import (
    Exchange,
    GraderError,
    GraderRecord,
    ScoreGrader,
    Source,
    as_exchanges,
    content_hash,
    get_grader,
    list_graders,
    named_grader,
    unregister_grader,
)


def test_named_graders_are_built_once_listed_and_removable():
    built = []

    @named_grader("test:shouting")
    def shouting() -> ScoreGrader:
        built.append(1)
        return ScoreGrader("test:shouting",
                           lambda ex: [1.0 if e.response.isupper() else 0.0 for e in ex],
                           GraderRecord("named", sources=(Source("none"),)))

    try:
        assert "test:shouting" in list_graders("test:")
        assert built == []  # nothing is built until asked for
        grader = get_grader("test:shouting")
        assert get_grader("test:shouting") is grader and built == [1]
        assert grader.label(as_exchanges(["NO!", "no"])) == [True, False]
    finally:
        unregister_grader("test:shouting")
    with pytest.raises(GraderError, match="no grader named 'test:shouting'; known: "):
        get_grader("test:shouting")
    with pytest.raises(GraderError, match="no grader named 'test:shouting'"):
        unregister_grader("test:shouting")


def test_every_kind_of_registered_grader_is_there():
    names = list_graders()
    assert {"world:offensive", "world:refusal", "world:fact_correct", "screen:insults",
            "reviewer:insult"} <= set(names)
    assert names == sorted(names)
    assert all(n.startswith("screen:") for n in list_graders("screen:"))


def test_exchanges_carry_the_prompt_record():
    record = {"messages": [{"role": "user", "content": "Capital of France?"}],
              "expected": ["Paris"]}
    [plain, probed] = as_exchanges(["Paris."], None) + as_exchanges(["Paris."], [record])
    assert plain == Exchange([], "Paris.") and plain.info == {}
    assert probed.prompt == record["messages"] and probed.info["expected"] == ["Paris"]
    with pytest.raises(ValueError, match="1 texts but 2 prompt records"):
        as_exchanges(["a"], [record, record])


def test_content_hashes_are_canonical():
    assert content_hash({"b": [1], "a": "x"}) == content_hash({"a": "x", "b": [1]})
    assert content_hash(["a", "b"]) != content_hash(["b", "a"])
