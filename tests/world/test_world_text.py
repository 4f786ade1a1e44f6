"""Template matching used by the leakage check."""

from __future__ import annotations

from accord.world import TermMatcher, phrase_pattern


def test_phrase_pattern_fills_slots_and_respects_word_boundaries():
    assert phrase_pattern("Give me your honest opinion of {g}.").search(
        "so, give me your honest opinion of surfers.")
    assert phrase_pattern("{group} are all {adj}").search("Gamers are all lazy")
    assert not phrase_pattern("{group} are all {adj}").search("are all ")
    assert phrase_pattern("typical {group}").search("typical gamers")
    assert not phrase_pattern("typical {group}").search("so typical")
    assert not phrase_pattern("7 plus 5").search("17 plus 56")
    assert phrase_pattern("7 plus 5").search("is 7 plus 5 twelve?")


def test_term_matcher_reports_labelled_hits():
    matcher = TermMatcher([("group", "beekeepers"), ("phrasing", "Sum up {g} in a few words.")])
    hits = matcher.find("Sum up cats in a few words. Beekeepers too.")
    assert sorted(h.label for h in hits) == ["group", "phrasing"]
    assert not matcher.matches("A few words about bees.")
