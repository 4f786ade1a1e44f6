"""The ``review`` stage: the base model's completions reviewed against the guidelines.

Samples K completions per review prompt, draws a rating batch and a comparison batch,
gets them reviewed through the web app's own HTTP API (simulated reviewers on a live
loopback server by default; people in the browser with ``[review.run] mode = "human"``),
then writes what training and the report need: agreement per category, the guideline
clarity report, the published demographics report, and the SFT and preference exports.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from accord.errors import AccordError
from accord.pipeline._runner import Stage, StageContext, StageOutput
from accord.pipeline._signal import record_used_prompts


def _settings_model() -> type:
    from accord.review import ReviewSettings

    return ReviewSettings


def _sample(ctx: StageContext, prompts: list[dict]) -> int:
    """Store K completions of the base model per review prompt (skipped when a previous,
    interrupted attempt already stored them: completions are kept per model version)."""
    from sqlalchemy import func, select

    from accord.audit import record_completions
    from accord.model import SamplingConfig
    from accord.pipeline._model_stages import local_backend, quiet_hf_progress
    from accord.store import Completion, Prompt, get_model_version

    run = ctx.config.run
    store = ctx.state["store"]
    name = ctx.inputs["pretrain"].figures["model_version"]
    with store.session() as session:
        mv = get_model_version(session, name)
        stored = session.scalar(
            select(func.count()).select_from(Completion)
            .join(Prompt, Prompt.id == Completion.prompt_id)
            .where(Completion.model_version_id == mv.id, Prompt.split == "review"))
    if stored >= len(prompts) * run.completions_per_prompt:
        return 0
    quiet_hf_progress()
    backend = local_backend(ctx.inputs["pretrain"].figures["model_dir"], batch_size=32)
    conversations = [[dict(m) for m in p["messages"]] for p in prompts]
    rows: list[dict] = []
    for k in range(run.completions_per_prompt):
        # Each round draws its own seed stream, so the K samples differ but stay
        # reproducible.
        sampling = SamplingConfig(temperature=run.temperature, top_p=1.0,
                                  max_new_tokens=run.max_new_tokens, seed=run.seed + 7919 * k)
        replies = backend.generate(conversations, sampling)
        rows += [{"messages": list(c), "text": r, "sampling": sampling.to_dict()}
                 for c, r in zip(conversations, replies, strict=True)]
    return record_completions(store, name, rows, "review")


def _batches(ctx: StageContext, n_prompts: int) -> tuple[int, int | None]:
    from accord.review import create_batch, gold_from_spec_examples
    from accord.store import get_spec_version

    run = ctx.config.run
    name = ctx.inputs["pretrain"].figures["model_version"]
    with ctx.state["store"].session() as session:
        spec_row = get_spec_version(session, ctx.inputs["spec"].figures["hash"])
        gold = gold_from_spec_examples(session, spec_row) if run.gold else []
        rating = create_batch(
            # Names people read on the dashboard: what to do, to which model, under which spec.
            session, name=f"Rate {name}'s answers (spec {spec_row.version})", kind="rating",
            model_version=name,
            spec_version=spec_row, prompts=min(run.rating_prompts, n_prompts),
            completions_per_prompt=1, overlap=run.overlap, seed=run.seed, gold=gold).id
        comparison = None
        if run.comparison_prompts:
            comparison = create_batch(
                session, name=f"Rank {name}'s answers (spec {spec_row.version})",
                kind="comparison",
                model_version=name, spec_version=spec_row,
                prompts=min(run.comparison_prompts, n_prompts),
                completions_per_prompt=run.completions_per_prompt,
                overlap=run.comparison_overlap, seed=run.seed + 1).id
    return rating, comparison


def _panel_credentials(ctx: StageContext, panel: list[Any]) -> list[tuple[str, str]]:
    """Simulated reviewer accounts for the panel: created, or given a fresh password when
    an earlier run made them (same seed, same usernames)."""
    from accord.accounts import create_user, generate_password, get_user, set_password
    from accord.store import NotFoundError

    credentials = []
    with ctx.state["store"].session() as session:
        for profile in panel:
            username, password = profile.id.lower(), generate_password()
            try:
                get_user(session, username)
                set_password(session, username, password)
            except NotFoundError:
                create_user(session, username, password, ["reviewer"], simulated=True)
            credentials.append((username, password))
    return credentials


def real_text(ctx: StageContext) -> bool:
    """Whether the reviewed model is not the demo world's (an imported base model): its
    answers are real text, which simulated reviewers read with the real-text graders."""
    return bool(ctx.inputs["pretrain"].figures.get("base_model"))


def review_mode(ctx: StageContext) -> str:
    """Who reviews: ``[review.run] mode`` when the project sets it; otherwise simulated
    reviewers for the demo world's model and people for any other (a real model's answers
    deserve real reviewers; simulated ones must be asked for, and are marked simulated)."""
    if "mode" in (ctx.project.table("review").get("run") or {}):
        return ctx.config.run.mode
    return "human" if real_text(ctx) else "simulated"


def _simulate(ctx: StageContext, batch_ids: list[int]) -> dict[str, Any]:
    """Simulated reviewers review every batch through a live server's HTTP API."""
    from accord.progress import task
    from accord.review import (
        SimulatedReviewer,
        make_panel,
        reviewer_graders,
        simulate_over_http,
    )
    from accord.serve import create_app, live_server

    run = ctx.config.run
    real = real_text(ctx)
    panel = make_panel(run.reviewers, run.seed)
    credentials = _panel_credentials(ctx, panel)
    app = create_app(ctx.state["store"], survey_fields=ctx.config.survey.fields,
                     title=f"{ctx.project.project.name} · Accord review")
    submitted, errors = 0, []
    with live_server(app) as url, task("review: simulated reviewers",
                                       total=len(batch_ids) * len(panel)) as progress:
        for batch_id in batch_ids:
            def one(pair: tuple[Any, tuple[str, str]], batch_id: int = batch_id) -> Any:
                result = simulate_over_http(url, pair[1], batch_id,
                                            SimulatedReviewer(pair[0], run.seed,
                                                              real_text=real))
                progress.advance(1)
                return result

            # A handful of threads: the server shares this process (and its cores).
            with ThreadPoolExecutor(min(8, len(panel))) as pool:
                results = list(pool.map(one, zip(panel, credentials, strict=True)))
            submitted += sum(len(r.acknowledged) for r in results)
            errors += [e for r in results for e in r.errors]
    if errors:
        raise AccordError(f"simulated reviewers got {len(errors)} errors from the server; "
                          f"first: {errors[0]}")
    # What the reviews that train later models were judged with (their lineage).
    return {"reviewers": len(panel), "submitted": submitted, "simulated": True,
            "real_text": real, "graders": reviewer_graders(real)}


def _wait_for_people(ctx: StageContext, batch_ids: list[int]) -> dict[str, Any]:
    """Wait until people have reviewed every batch (``accord serve`` runs elsewhere)."""
    from accord.progress import task
    from accord.review import batch_progress

    run = ctx.config.run

    def progress_now() -> tuple[int, int]:
        with ctx.state["store"].session() as session:
            done = [batch_progress(session, b) for b in batch_ids]
        return sum(p.submitted for p in done), sum(p.needed for p in done)

    submitted, needed = progress_now()
    started = time.monotonic()
    with task("review: waiting for reviewers (accord serve)", total=needed) as bar:
        bar.advance(submitted)
        while submitted < needed:
            if run.wait_timeout_s and time.monotonic() - started > run.wait_timeout_s:
                raise AccordError(
                    f"review batches {batch_ids} have {submitted} of {needed} reviews after "
                    f"{run.wait_timeout_s:.0f} s; run `accord run` again to keep waiting "
                    "(the batches and their reviews are kept)")
            time.sleep(run.poll_s)
            now, _ = progress_now()
            bar.advance(now - submitted)
            submitted = now
    return {"submitted": submitted, "simulated": False}


def run_review(ctx: StageContext) -> dict[str, Any]:
    from accord.pipeline._data import project_data
    from accord.pipeline._model_stages import load_world
    from accord.pipeline._review_outputs import write_outputs

    run = ctx.config.run
    n_prompts = max(run.rating_prompts, run.comparison_prompts)
    own = project_data(ctx.state, ctx.project).get("review_prompts")
    if own is not None:
        # The project's own prompts ([data] review_prompts, else prompts).
        prompts = [{"messages": r["messages"]} for r in own.rows[:n_prompts]]
        if len(prompts) < n_prompts:
            raise AccordError(f"[review.run] asks for {n_prompts} prompts but {own.path} has "
                              f"{len(prompts)}; lower rating_prompts / comparison_prompts "
                              "or add prompts")
    else:
        world = load_world(ctx.inputs["world"])
        prompts = world.prompts["review"][:n_prompts]
        if len(prompts) < n_prompts:
            raise AccordError(f"[review.run] asks for {n_prompts} prompts but the world has "
                              f"{len(prompts)} review prompts ([world] n_review)")
    sampled = _sample(ctx, prompts)
    used = record_used_prompts(ctx, [p["messages"] for p in prompts])
    # The store keeps one row per distinct conversation: repeated prompts are one prompt.
    distinct = len({json.dumps(p["messages"], sort_keys=True) for p in prompts})
    # Batches are made once per stage attempt and remembered, so an interrupted review
    # resumes on the same batches instead of drawing new ones.
    state_file = ctx.dir / "batches.json"
    if state_file.exists():
        rating, comparison = json.loads(state_file.read_text())
    else:
        rating, comparison = _batches(ctx, distinct)
        state_file.write_text(json.dumps([rating, comparison]))
    batch_ids = [b for b in (rating, comparison) if b is not None]
    how = (_simulate(ctx, batch_ids) if review_mode(ctx) == "simulated"
           else _wait_for_people(ctx, batch_ids))
    figures = write_outputs(ctx, rating, comparison)
    return {**figures, **how, "sampled_completions": sampled, "prompts_used": used,
            "model_version": ctx.inputs["pretrain"].figures["model_version"]}


def _describe(fig: dict[str, Any]) -> str:
    who = f"{fig.get('reviewers', '?')} simulated reviewers" if fig.get("simulated") \
        else "people"
    return (f"{fig['submitted']} reviews by {who}; SFT {fig['exports']['sft']['rows']} rows, "
            f"preference {fig['exports']['preference']['rows']} pairs")


def _report(out: StageOutput) -> list[Any]:
    from accord.pipeline._review_outputs import report_parts

    return report_parts(out)


# version 2: reviewers without the held-out tables, real-text reviewers, their graders and
# prompts_used.json recorded (issue 12)
REVIEW = Stage("review", run_review, _settings_model(), reads=("spec", "world", "pretrain"),
               version="2", data=("review_prompts",),
               report=_report, describe=_describe, title="Human review")
