"""The stages of ``accord run``, in order. Each is glue: it calls one package's API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from accord.pipeline._runner import Stage, StageContext, StageOutput
from accord.project import Project


class SpecConfig(BaseModel):
    """``[spec]``: nothing to set yet; the spec folder is ``[project] spec``."""

    model_config = ConfigDict(extra="forbid")


def _spec_fingerprint(project: Project) -> str:
    from accord.spec import load_spec

    return load_spec(project.spec_dir).hash


def run_spec(ctx: StageContext) -> dict[str, Any]:
    """Load and validate the spec, record its version in the store, keep a copy."""
    from accord.spec import dump_spec, load_spec
    from accord.store import record_spec_version

    spec = load_spec(ctx.project.spec_dir)
    store = ctx.state["store"]
    with store.session() as session:
        row = record_spec_version(session, hash=spec.hash, content=spec.content(),
                                  name=spec.manifest.name or ctx.project.project.name)
        row_id = row.id
    dump_spec(spec, ctx.dir / "spec")
    (ctx.dir / "summary.txt").write_text(spec.summary() + "\n", encoding="utf-8")
    content = spec.content()
    return {
        "version": spec.version,
        "hash": spec.hash,
        "spec_version_id": row_id,
        "counts": {section: _count(content.get(section)) for section in
                   ("guidelines", "bounds", "constitution", "rules")},
    }


def _count(section: Any) -> dict[str, int]:
    if not isinstance(section, dict):
        return {}
    return {k: len(v) for k, v in section.items() if isinstance(v, list | dict)}


def _describe_spec(fig: dict[str, Any]) -> str:
    return f"spec version {fig['version']}"


def _report_spec(out: StageOutput) -> list[Any]:
    from accord.report import paragraph, pre

    return [paragraph(f"Spec version {out.figures['version']} (sha256 {out.figures['hash']})."),
            pre((out.dir / "summary.txt").read_text(encoding="utf-8"))]


SPEC = Stage("spec", run_spec, SpecConfig, version="1", fingerprint=_spec_fingerprint,
             describe=_describe_spec, report=_report_spec, title="Behaviour spec")

def _all_stages() -> list[Stage]:
    from accord.pipeline._ablation import ABLATION
    from accord.pipeline._cai_stage import CAI
    from accord.pipeline._model_stages import EVAL, PRETRAIN, TOKENIZER, WORLD
    from accord.pipeline._review_stage import REVIEW
    from accord.pipeline._rl_stages import DPO, GRPO
    from accord.pipeline._train_stages import REWARD, RULES, SFT

    return [SPEC, WORLD, TOKENIZER, PRETRAIN, EVAL, REVIEW, SFT, REWARD, RULES, DPO, GRPO, CAI,
            ABLATION]


STAGES: list[Stage] = _all_stages()

# Tables of accord.toml read by services, not stages: name -> its pydantic model. (The
# ``[review]`` table configures both ``accord serve`` and the review stage, so it is the
# stage's table.)
SERVICE_TABLES: dict[str, Any] = {}
