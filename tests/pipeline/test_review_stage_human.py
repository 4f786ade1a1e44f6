"""The review stage waiting for people: it stops with the progress so far, keeps its
batches, and finishes once they are reviewed (here by simulated reviewers standing in for
people in the browser, through a separately started server)."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from accord.errors import AccordError
from accord.pipeline import run_project
from accord.review import SimulatedReviewer, make_panel, simulate_over_http
from accord.serve import create_app, live_server
from accord.store import open_store

DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo" / "spec"

PROJECT = """
[project]
name = "people"
[world]
n_dialogues = 400
n_review = 10
n_sft = 20
n_rl = 10
[tokenizer]
vocab_size = 400
[pretrain]
size = "tiny"
steps = 4
checkpoint_every = 4
warmup_steps = 1
[eval]
max_new_tokens = 4
max_per_set = 1
in_distribution = 0
agreement_sample = 10
[review.run]
mode = "human"
rating_prompts = 3
comparison_prompts = 2
completions_per_prompt = 2
overlap = 2
comparison_overlap = 1
max_new_tokens = 6
gold = false
poll_s = 0.2
wait_timeout_s = 1.5
"""


@pytest.mark.slow
def test_human_mode_waits_then_resumes_on_the_same_batches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    project = tmp_path / "people"
    project.mkdir()
    shutil.copytree(DEMO_SPEC, project / "spec")
    (project / "accord.toml").write_text(PROJECT)

    with pytest.raises(AccordError, match=r"have 0 of 8 reviews after 2 s"):
        run_project(project, until="review", log=lambda _: None)

    # People review in `accord serve` (another process in real life; the same store).
    stage_dir = next((project / ".accord" / "stages").glob("review-*"))
    rating, comparison = (int(b) for b in
                          (stage_dir / "batches.json").read_text().strip("[]\n").split(","))
    with open_store(project) as store:
        from accord.review import register_simulated_reviewers

        panel = make_panel(2, seed=5)
        with store.session() as session:
            credentials = register_simulated_reviewers(session, panel)
        with live_server(create_app(store)) as url, ThreadPoolExecutor(2) as pool:
            for batch in (rating, comparison):
                list(pool.map(lambda pc, b=batch: simulate_over_http(
                    url, pc[1], b, SimulatedReviewer(pc[0], 5)),
                    zip(panel, credentials, strict=True)))

    result = run_project(project, until="review", log=lambda _: None)
    figures = result.outputs["review"].figures
    assert result.ran == ["review"]
    assert figures["batches"] == {"rating": rating, "comparison": comparison}
    assert figures["submitted"] == 3 * 2 + 2 * 1  # every item by its `overlap` reviewers
    assert figures["simulated"] is False  # the stage did not simulate anyone itself
