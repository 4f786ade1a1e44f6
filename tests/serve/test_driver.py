"""Simulated reviewers review through the HTTP API, flagged simulated everywhere."""

from __future__ import annotations

from serve_site import Site, live_server
from sqlalchemy import func, select

from accord.review import (
    Ranking,
    Rating,
    SimulatedReviewer,
    SurveyResponse,
    batch_agreement,
    make_panel,
    register_simulated_reviewers,
    reviewer_quality,
    simulate_over_http,
)


def test_simulated_reviewers_use_the_http_api_and_are_marked(site: Site):
    panel = make_panel(2, seed=3)
    with site.store.session() as s:
        credentials = register_simulated_reviewers(s, panel)
    with live_server(site.client.app) as base:
        results = [simulate_over_http(base, cred, site.rating_batch,
                                      SimulatedReviewer(profile, seed=3), max_tasks=4)
                   for profile, cred in zip(panel, credentials, strict=True)]
        ranked = simulate_over_http(base, credentials[0], site.comparison_batch,
                                    SimulatedReviewer(panel[0], seed=3), max_tasks=2)
    assert [len(r.acknowledged) for r in results] == [4, 4]
    assert not any(r.errors for r in results) and len(ranked.acknowledged) == 2
    with site.store.session() as s:
        stored = dict(s.execute(select(Rating.assignment_id, Rating.values)).all())
        for result in results:
            for ack in result.acknowledged:
                assert stored[ack["task_id"]] == ack["values"]
        assert s.scalar(select(func.count()).select_from(Ranking)) == 2
        quality = reviewer_quality(s, site.rating_batch)
        assert {q["username"] for q in quality} == {p.id.lower() for p in panel}
        assert all(q["simulated"] for q in quality)
        assert batch_agreement(s, site.rating_batch)["simulated_reviewers"] is True
        opted_in = sum(p.opt_in for p in panel)
        survey = s.scalars(select(SurveyResponse)).all()
        assert len(survey) == opted_in and all(r.is_simulated for r in survey)
