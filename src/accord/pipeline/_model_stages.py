"""Stages world → tokenizer → pretrain → eval: the demo world, the model, its behaviour.

Each function is glue over one package API (``accord.world``, ``accord.model``,
``accord.audit``); the pipeline runner caches and orders them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from accord.errors import AccordError
from accord.pipeline._config import build_dataclass, section_model
from accord.pipeline._overlap import check_data_overlap
from accord.pipeline._runner import Stage, StageContext, StageOutput, models_figure
from accord.pipeline._suites import SuiteKeys, run_stage_suites
from accord.project import Project
from accord.world import World, WorldConfig


def quiet_hf_progress() -> None:
    """Hugging Face draws its own tqdm bars (weights, shards); in a log they are noise."""
    from accord.progress import is_interactive

    if not is_interactive():
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


# ---------------------------------------------------------------------------- world

WorldSection = section_model("WorldSection", WorldConfig)


def run_world(ctx: StageContext) -> dict[str, Any]:
    """Generate the seeded demo world and save it (JSONL + manifest with its hash)."""
    from accord.world import build_world, check_no_leakage

    world = build_world(build_dataclass(WorldConfig, ctx.config))
    leaks = check_no_leakage(world)
    if leaks:
        raise AccordError("the demo world leaks held-out entities or phrasings into training "
                          "text:\n" + "\n".join(leaks[:20]))
    world.save(ctx.dir / "world")
    summary = world.summary()
    return {"hash": world.hash, **{k: v for k, v in summary.items() if k != "hash"}}


def load_world(out: StageOutput) -> World:
    """The world the stage saved.

    Raises:
        AccordError: the world stage was skipped (no stage of the project was found to read
            it when the run started); the message says what to change.
    """
    if out.skipped:
        raise AccordError(f"the demo world was not generated ({out.skipped}), yet a stage "
                          "asked for it; give that stage's [data] file, or report this "
                          "as a bug (accord.pipeline world_readers missed the stage)")
    return World.load(out.dir / "world")


def world_readers(project: Project, state: dict[str, Any]) -> list[str]:
    """The stages of ``project`` that read the demo world, given its tables and ``[data]``.

    Each reads it only for what the project does not bring itself: pretraining from scratch
    (tokenizer, pretrain), the world meter (eval, ablation with ``world_meter``), and the
    demonstrations, pairs and prompts that ``[data]`` replaces.
    """
    from accord.pipeline._data import project_data
    from accord.pipeline._stages import STAGES

    by_name = {stage.name: stage for stage in STAGES}

    def table(name: str) -> Any:
        return project.section(name, by_name[name].config)

    data = project_data(state, project)
    missing = {kind for kind in ("sft", "preference", "prompts", "review_prompts")
               if data.get(kind) is None}
    readers = []
    if not table("pretrain").base_model:
        readers += ["tokenizer", "pretrain"]
    if table("eval").world_meter:
        readers.append("eval")
    for stage, needs in (("review", {"review_prompts"}), ("sft", {"sft"}),
                         ("reward", {"preference"}), ("dpo", {"preference"}),
                         ("grpo", {"prompts"}), ("cai", {"prompts", "preference"})):
        if needs & missing:
            readers.append(stage)
    if table("rules").source == "world":
        readers.append("rules")
    if table("ablation").world_meter:
        readers.append("ablation")
    return readers


def _skip_world(project: Project, state: dict[str, Any]) -> str | None:
    if world_readers(project, state):
        return None
    return ("no stage of this project reads it: the base model is imported, [data] gives "
            "every training and review set, and the world meter is off")


def _report_world(out: StageOutput) -> list[Any]:
    """Sizes, the configured base rates, and one labelled example per behaviour."""
    from collections import Counter

    from accord.report import paragraph, table

    if out.skipped:
        return [paragraph(f"Not generated: {out.skipped}.")]
    world = load_world(out)
    fig = out.figures
    parts: list[Any] = [paragraph(
        f"World {fig['hash'][:12]}: {fig['documents']:,} pretraining documents "
        f"({fig['dialogues']:,} dialogues, {fig['plain_documents']:,} plain chat texts), "
        f"about {fig['approx_tokens']:,} tokens; probes are held out (no entity or phrasing "
        "of theirs occurs in training text).")]
    rates = [[k, v] for k, v in world.config.to_dict().items()
             if k.startswith("p_") and isinstance(v, float)]
    parts.append(table(["knob", "configured rate"], rates, caption="Base rates"))
    counts: Counter[str] = Counter()
    examples: dict[str, dict] = {}
    for doc in world.pretrain_documents:
        if "messages" not in doc:
            continue
        behaviour = doc["labels"].get("behaviour", "?")
        counts[behaviour] += 1
        examples.setdefault(behaviour, doc)
    total = sum(counts.values())
    rows = []
    for behaviour, n in counts.most_common():
        msgs = examples[behaviour]["messages"]
        user = next((m["content"] for m in msgs if m["role"] == "user"), "")
        reply = next((m["content"] for m in reversed(msgs) if m["role"] == "assistant"), "")
        rows.append([behaviour, n, n / total, user, reply])
    parts.append(table(["behaviour", "dialogues", "share", "example prompt", "example reply"],
                       rows, caption="Behaviours in the pretraining corpus"))
    return parts


# ---------------------------------------------------------------------------- tokenizer


class TokenizerSection(BaseModel):
    """``[tokenizer]``: the byte-level BPE trained on the pretraining corpus."""

    model_config = ConfigDict(extra="forbid")
    vocab_size: int = 4096
    """Target vocabulary, including the 256 byte symbols and the chat special tokens."""


def training_documents(world: World) -> list[dict]:
    """What the tokenizer and pretraining read: the corpus, then the Constitutional-AI
    chats that teach the critique/revision and choice formats (rows are shuffled when
    packed, so their place does not matter). The CAI chats are kept out of
    ``pretrain_documents`` because the meter's agreement and fidelity tables expect every
    chat there to be one labelled exchange."""
    return [*world.pretrain_documents, *world.cai_documents]


def _pretrain_texts(world: World) -> list[str]:
    texts = []
    for doc in training_documents(world):
        if "text" in doc:
            texts.append(doc["text"])
        else:
            texts.extend(m["content"] for m in doc["messages"])
    return texts


def _imports_base_model(project: Project) -> str | None:
    """Stage key part of the tokenizer: a project that imports a base model (``[pretrain]
    base_model``) uses that model's tokenizer, so none is trained (``None`` otherwise, which
    keeps the demo's cached key)."""
    return "base model: no tokenizer" if project.table("pretrain").get("base_model") else None


def _skip_tokenizer(project: Project, state: dict[str, Any]) -> str | None:
    if _imports_base_model(project):
        return "the imported base model brings its tokenizer"
    return None


def run_tokenizer(ctx: StageContext) -> dict[str, Any]:
    from accord.model import train_tokenizer

    world = load_world(ctx.inputs["world"])
    tokenizer = train_tokenizer(_pretrain_texts(world), ctx.config.vocab_size,
                                ctx.dir / "tokenizer")
    return {"vocab_size": len(tokenizer)}


# ---------------------------------------------------------------------------- pretrain


def _pretrain_section() -> type[BaseModel]:
    from accord.model import PretrainConfig

    return section_model(
        "PretrainSection", PretrainConfig, exclude=("device", "num_threads"),
        size=(str, "small"),
        base_model=(str | None, None),
    )


PretrainSection = _pretrain_section()


def _documents(world: World, tokenizer: Any) -> list[str]:
    from accord.model import render_chat

    docs = []
    for doc in training_documents(world):
        docs.append(doc["text"] if "text" in doc else render_chat(tokenizer, doc["messages"]))
    return docs


def run_pretrain(ctx: StageContext) -> dict[str, Any]:
    """Pretrain a Llama-architecture model from scratch, or import ``base_model``."""
    from accord.model import (
        PretrainConfig,
        build_model,
        count_parameters,
        import_base_model,
        load_model,
        pretrain,
    )
    from accord.pipeline._signal import signal
    from accord.store import SIGNAL_KEY, register_model_version

    quiet_hf_progress()
    cfg = ctx.config
    project = ctx.project
    figures: dict[str, Any]
    if cfg.base_model:
        source = Path(cfg.base_model)
        if not source.is_absolute():
            source = project.root / source
        if not source.exists():
            # A name the model layer knows (``smollm2``: the offline SmolLM2 GGUF package).
            from accord.model import resolve_model

            source = resolve_model(cfg.base_model, what="[pretrain] base_model")
        model_dir = import_base_model(source, ctx.dir / "model")
        model, _ = load_model(model_dir)
        figures = {"base_model": str(source), "parameters": count_parameters(model),
                   "model_dir": str(model_dir)}
    else:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(ctx.inputs["tokenizer"].dir / "tokenizer"))
        world = load_world(ctx.inputs["world"])
        model = build_model(cfg.size, tokenizer, seed=cfg.seed)
        result = pretrain(build_dataclass(PretrainConfig, cfg), tokenizer, model,
                          _documents(world, tokenizer), ctx.dir)
        model_dir = result.model_dir
        figures = {"size": cfg.size, "parameters": count_parameters(model),
                   **result.to_dict()}
    name = f"{project.project.name}-base-{ctx.dir.name.rsplit('-', 1)[-1][:8]}"
    spec_id = ctx.inputs["spec"].figures["spec_version_id"]
    # An imported model was trained elsewhere: its training signal is unknown.
    lineage = signal(external=figures.get("base_model"))
    with ctx.state["store"].session() as session:
        register_model_version(
            session, name=name, stage="pretrain", artifact_path=str(model_dir),
            spec_version=spec_id, root=project.root,
            config={**cfg.model_dump(mode="json"), SIGNAL_KEY: lineage},
            datasets=({} if ctx.inputs["world"].skipped
                      else {"world": ctx.inputs["world"].figures["hash"]}),
            metrics={k: v for k, v in figures.items() if isinstance(v, int | float)})
    figures["model_version"] = name
    figures["models"] = models_figure("base", name, figures["model_dir"])
    return figures


def _report_pretrain(out: StageOutput) -> list[Any]:
    from accord.report import image, paragraph, table

    fig = out.figures
    parts: list[Any] = [paragraph(f"Model version {fig['model_version']}: "
                                  f"{fig['parameters']:,} parameters.")]
    png = out.dir / "loss_curve.png"
    if fig.get("loss_curve_png"):
        png = Path(fig["loss_curve_png"])
    if png.exists():
        parts.append(image(png, "pretraining loss curve"))
    rows = [[k, v] for k, v in fig.items() if isinstance(v, int | float | str)
            and k not in {"loss_curve_png", "loss_curve_json"}]
    parts.append(table(["figure", "value"], rows))
    return parts


# ---------------------------------------------------------------------------- eval

WORLD_METER = "measured by the demo world's own inventories"
"""How every figure of the world meter is marked in the report (docs/meter.md)."""


class EvalSection(SuiteKeys):
    """``[eval]``: how the behaviour meter samples the base model on the held-out probes,
    and which public suites it runs (:class:`accord.pipeline._suites.SuiteKeys`)."""

    model_config = ConfigDict(extra="forbid")
    temperature: float = 0.9
    """Sampling temperature; the meter measures what users would see, so not greedy. Near
    1: below it sampling sharpens towards each prompt's most frequent answer and hides
    minority behaviours a model has learnt (docs/meter.md)."""
    top_p: float = 1.0
    max_new_tokens: int = 64
    seed: int = 0
    samples: int = 1
    """Samples per probe; more narrows the intervals."""
    batch_size: int = 32
    max_per_set: int | None = None
    """Cap each probe set at this many probes (quick checks); None = all of them."""
    agreement_sample: int = 1000
    """Corpus responses used to check each meter grader against the world's labels."""
    in_distribution: int | None = 120
    """Also run the meter on up to this many prompts per set from the world's ``rl``
    prompts (seen entities and phrasings), beside the world's own rates: does the base
    model reproduce the world? 0 skips it; None takes every prompt."""

    def sampling(self) -> Any:
        """The meter's ``accord.model.SamplingConfig``."""
        from accord.model import SamplingConfig

        return SamplingConfig(temperature=self.temperature, top_p=self.top_p,
                              max_new_tokens=self.max_new_tokens, seed=self.seed)


def probe_subset(world: World, cap: int | None) -> dict[str, list] | None:
    """The first ``cap`` probes of each set (sets are generated in a fixed order)."""
    if cap is None:
        return None
    return {kind: list(records[:cap]) for kind, records in world.probes.items()}


def local_backend(model_dir: str | Path, batch_size: int) -> Any:
    """An ``accord.model`` backend over a model folder an earlier stage saved."""
    from accord.model import LocalBackend

    return LocalBackend(Path(model_dir), batch_size=batch_size)


def run_eval(ctx: StageContext) -> dict[str, Any]:
    """The behaviour meter on the held-out probes, for the pretrained (base) model."""
    from accord.audit import (
        evaluate,
        fidelity,
        grader_agreement,
        in_distribution_probes,
        model_training_signal,
    )

    quiet_hf_progress()
    cfg = ctx.config
    pre = ctx.inputs["pretrain"]
    backend = local_backend(pre.figures["model_dir"], cfg.batch_size)
    signal = model_training_signal(ctx.state["store"], pre.figures["model_version"])
    # The public suites (and the project's probes) on real text, when configured; first,
    # no [data] prompt the project trains on may be one the suites ask.
    overlap = check_data_overlap(ctx, cfg.suites)
    suites = run_stage_suites(ctx, backend, signal, "base", ctx.dir / "suites")
    (ctx.dir / "suites.json").write_text(json.dumps(suites, indent=2))
    if not cfg.world_meter:
        return {"model_version": pre.figures["model_version"], "suites": suites,
                "prompt_overlap": overlap, "rates": {},
                "measured_by": "public suites (real-text graders)"}
    world = load_world(ctx.inputs["world"])
    held_out = evaluate(backend, world, cfg.sampling(), samples=cfg.samples,
                        probes=probe_subset(world, cfg.max_per_set), training_signal=signal)
    result = held_out.result
    (ctx.dir / "meter.json").write_text(json.dumps(result.to_dict(), indent=2))
    (ctx.dir / "meter.txt").write_text(result.render_text() + "\n")
    in_dist_rates: dict[str, float] = {}
    if cfg.in_distribution != 0:
        # Same meter on prompts whose entities and phrasings the model saw, beside the
        # world's own label rates: did pretraining reproduce the world's behaviour?
        inside = evaluate(backend, world, cfg.sampling(), samples=cfg.samples,
                          probes=in_distribution_probes(world, cap=cfg.in_distribution,
                                                        seed=cfg.seed)).result
        table = fidelity(world, inside, result)
        (ctx.dir / "fidelity.json").write_text(json.dumps(table.to_dict(), indent=2))
        (ctx.dir / "fidelity.txt").write_text(table.render_text() + "\n")
        in_dist_rates = {r.metric: r.rate for r in inside.rows}
    # How far the meter's graders can be trusted: agreement with the world's own labels.
    agreement = grader_agreement(world, n=cfg.agreement_sample, seed=cfg.seed)
    (ctx.dir / "grader_agreement.html").write_text(agreement.to_html())
    (ctx.dir / "grader_agreement.txt").write_text(agreement.render_text() + "\n")
    n = held_out.record(ctx.state["store"], pre.figures["model_version"])
    return {"model_version": pre.figures["model_version"], "completions": n,
            "suites": suites, "rates": {r.metric: r.rate for r in result.rows},
            "in_distribution_rates": in_dist_rates,
            "independence": result.info["independence"]["verdict"],
            "measured_by": WORLD_METER}


def _report_eval(out: StageOutput) -> list[Any]:
    from markupsafe import Markup

    from accord.audit import MeterResult
    from accord.report import paragraph

    parts = _suite_parts(out)
    if not (out.dir / "meter.json").exists():
        return parts
    result = MeterResult.from_dict(json.loads((out.dir / "meter.json").read_text()))
    return [*parts, paragraph(f"Behaviour meter for {out.figures['model_version']} on the held-out "
                      f"probes (95 % Wilson intervals), {WORLD_METER}: its graders read the "
                      "world's phrase tables, so these figures say whether the model writes "
                      "the world's phrases, not how it behaves on real text."),
            Markup(result.to_html()),  # the meter escapes its own cells
            *_fidelity_parts(out),
            paragraph("How well each meter grader agrees with the world's ground-truth labels "
                      f"on generated corpus text ({WORLD_METER}: the world wrote that text from "
                      "the same tables, so agreement is high by construction and says nothing "
                      "about real text):"),
            Markup((out.dir / "grader_agreement.html").read_text())]


def overlap_parts(overlap: dict[str, Any] | None) -> list[Any]:
    """The report's statement that training and suite prompts do not overlap."""
    from accord.report import paragraph

    if not overlap or not overlap.get("suites"):
        return []
    return [paragraph(f"Overlap check: {overlap['training_prompts']} training and review "
                      "prompts of [data] against the prompts of "
                      f"{', '.join(overlap['suites'])}: "
                      + ", ".join(f"{s} {n}" for s, n in overlap["overlap"].items())
                      + " in common (the run refuses any overlap).")]


def _suite_parts(out: StageOutput) -> list[Any]:
    from accord.pipeline._suites import suite_rows
    from accord.report import paragraph, table

    suites = out.figures.get("suites") or {}
    if not suites:
        return []
    entry = {"label": out.figures["model_version"], "suites": suites}
    return [*overlap_parts(out.figures.get("prompt_overlap")),
            paragraph("Public suites on the base model, judged by real-text graders (trained "
                      "on public human-labelled text, their agreement with human labels in "
                      "docs/graders.md): value, 95 % interval, n."),
            table(["suite", "metric", "model", "value", "95 % CI", "n", "direction",
                   "independence"], suite_rows([entry]))]


def _fidelity_parts(out: StageOutput) -> list[Any]:
    from markupsafe import Markup

    from accord.audit import FidelityTable
    from accord.report import paragraph

    path = out.dir / "fidelity.json"
    if not path.exists():
        return []
    table = FidelityTable.from_dict(json.loads(path.read_text()))
    return [paragraph(f"Does the base model reproduce the world ({WORLD_METER})? Each "
                      "metric's rate in the "
                      "world's own labelled dialogues, the meter on prompts from the world's "
                      "training prompt sets (entities and phrasings the model saw), and the "
                      "held-out rate above. The gap between the last two is how far the "
                      "behaviours generalise to unseen entities and phrasings."),
            Markup(table.to_html())]


def _describe_eval(fig: dict[str, Any]) -> str:
    bits = [f"{k}={v:.2f}" for k, v in fig["rates"].items() if v is not None]
    for suite, res in (fig.get("suites") or {}).items():
        bits += [f"{suite}:{f['metric']}={f['value']:.2f}" for f in res["figures"][:2]
                 if f["value"] is not None]
    return ", ".join(bits)


WORLD = Stage("world", run_world, WorldSection, version="1",
              describe=lambda f: f"{f['documents']} documents, ~{f['approx_tokens']} tokens",
              report=_report_world, title="Demo world", skip=_skip_world)
TOKENIZER = Stage("tokenizer", run_tokenizer, TokenizerSection, reads=("world",),
                  fingerprint=_imports_base_model, skip=_skip_tokenizer,
                  describe=lambda f: f"vocab {f['vocab_size']}",
                  title="Tokenizer")
# version 2: the training signal (an imported model's origin) in the lineage (issue 12)
PRETRAIN = Stage("pretrain", run_pretrain, PretrainSection, version="2",
                 reads=("spec", "world", "tokenizer"), report=_report_pretrain,
                 describe=lambda f: f"{f['model_version']}", title="Pretraining")
EVAL = Stage("eval", run_eval, EvalSection, reads=("world", "pretrain"), report=_report_eval,
             describe=_describe_eval, version="2", data=("probes",),
             title="Behaviour of the base model")
