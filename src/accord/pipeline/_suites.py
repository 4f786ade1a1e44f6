"""Public suites in the eval and ablation stages: a real model measured on real text.

The demo's world meter reads the world's own phrase tables; a project built on a real
chat model (``examples/smollm2``) is measured instead on the public suites of
``accord.audit`` (XSTest, political even-handedness, BBQ, offensive answers), each figure
with its 95 % interval, and on the project's own probes (``[data] probes``). The keys
below sit in ``[eval]`` and ``[ablation]``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from accord.errors import AccordError


class SuiteKeys(BaseModel):
    """The public-suite keys of ``[eval]`` and ``[ablation]``."""

    new_keys: ClassVar[tuple[str, ...]] = ("suites", "suite_limit", "suite_temperature",
                                           "suite_top_p", "suite_max_new_tokens",
                                           "world_meter")
    """Left out of the stage key while at their defaults (``_runner._new_defaults``)."""

    suites: list[str] = Field(default_factory=list)
    """Public suites to run on every model (``xstest``, ``evenhandedness``, ``bbq``,
    ``offensive``); empty: none. ``[data] probes`` adds the ``probes`` suite."""
    suite_limit: int | None = None
    """At most this many items per suite (a deterministic, balanced subset); None: all."""
    suite_temperature: float = 0.7
    suite_top_p: float = 0.9
    suite_max_new_tokens: int = 128
    world_meter: bool = True
    """Also run the demo world's meter (off for a real model: its graders read the world's
    phrase tables, which a real model never saw)."""

    def suite_sampling(self, seed: int) -> Any:
        """How replies to suite items are sampled (``accord.model.SamplingConfig``)."""
        from accord.model import SamplingConfig

        return SamplingConfig(temperature=self.suite_temperature, top_p=self.suite_top_p,
                              max_new_tokens=self.suite_max_new_tokens, seed=seed)


def check_suite_names(names: list[str]) -> None:
    """Fail before a run starts when a suite is unknown or needs the world.

    Raises:
        AccordError: an unknown suite, or ``world`` / ``probes`` (set by ``world_meter`` and
            ``[data] probes``).
    """
    from accord.audit import list_suites

    known = set(list_suites()) - {"world", "probes"}
    bad = [n for n in names if n not in known]
    if bad:
        raise AccordError(f"suites {bad}: use {', '.join(sorted(known))} (the world meter is "
                          "`world_meter = true`, your probes are `[data] probes`)")


def run_stage_suites(ctx: Any, backend: Any, signal: dict[str, Any] | None, label: str,
                     out: Path) -> dict[str, Any]:
    """Run the configured suites (and the project's probes) on one model.

    Args:
        ctx: the stage's context (its ``config`` has :class:`SuiteKeys`).
        backend: the model under test.
        signal: the model version's training signal (independence is checked against
            each suite's graders).
        label: the model's row label (file names).
        out: folder for the per-item records (``LABEL.SUITE.json``).

    Returns:
        ``{suite: {"figures": [...], "warnings", "data", "independence": verdict dict}}``.
    """
    from accord.audit import agreement_line, check_independence, run_suites
    from accord.pipeline._data import project_data

    cfg = ctx.config
    check_suite_names(cfg.suites)
    names = list(cfg.suites)
    probes = project_data(ctx.state, ctx.project).get("probes")
    if probes is not None:
        names.append("probes")
    if not names:
        return {}
    results = run_suites(names, backend, cfg.suite_sampling(cfg.seed), limit=cfg.suite_limit,
                         probes=probes.rows if probes is not None else None)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {}
    slug = "".join(c if c.isalnum() else "_" for c in label)
    for result in results:
        data = result.to_dict()
        verdict = check_independence(result.graders, signal)
        (out / f"{slug}.{result.suite}.json").write_text(
            json.dumps(data, indent=2, ensure_ascii=False))
        summary[result.suite] = {"figures": data["figures"], "warnings": data["warnings"],
                                 "data": data["data"], "independence": verdict.to_dict(),
                                 "agreement": {g: line for g, rec in result.graders.items()
                                               if (line := agreement_line(g, rec))}}
    return summary


def suite_rows(entries: list[dict[str, Any]]) -> list[list[Any]]:
    """Table rows ``[suite, metric, model, value, interval, n, direction, independence]``
    over ablation entries (each with ``label`` and ``suites``)."""
    rows = []
    for entry in entries:
        for suite, res in entry.get("suites", {}).items():
            verdict = res["independence"].get("verdict", "?")
            for f in res["figures"]:
                value = "n/a" if f["value"] is None else f"{f['value']:.3f}"
                ci = "" if f["value"] is None else f"[{f['low']:.2f}, {f['high']:.2f}]"
                rows.append([suite, f["metric"], entry["label"], value, ci, f["n"],
                             f["direction"], verdict])
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def _error_bar(figure: dict[str, Any]) -> list[list[float]]:
    """``[[below], [above]]`` for matplotlib: never negative, since a bootstrap interval
    (bias scores, length ratios) need not hold its point and files written before the
    Wilson fix carry a low bound of 1e-17 above a rate of 0."""
    value = figure["value"]
    return [[max(0.0, value - figure["low"])], [max(0.0, figure["high"] - value)]]


def suite_charts(entries: list[dict[str, Any]], out: Path) -> list[Path]:
    """One PNG per suite (each rate with its interval, per model), and the safety /
    over-refusal scatter (XSTest harmful compliance against over-refusal, one point per
    model: the RBR paper's figure 1 for this model) when XSTest ran."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    suites = sorted({s for e in entries for s in e.get("suites", {})})
    written = []
    for suite in suites:
        metrics = sorted({f["metric"] for e in entries for f in
                          e.get("suites", {}).get(suite, {}).get("figures", [])})
        if not metrics:
            continue
        width_in = min(14.0, max(5.0, 0.6 * len(metrics) * max(1, len(entries)) / 2))
        fig, ax = plt.subplots(figsize=(width_in, 3.4))
        width = 0.8 / max(1, len(entries))
        for k, entry in enumerate(entries):
            figs = {f["metric"]: f for f in entry.get("suites", {}).get(suite, {})
                    .get("figures", [])}
            xs, ys, lo, hi = [], [], [], []
            for i, m in enumerate(metrics):
                f = figs.get(m)
                if f is None or f["value"] is None:
                    continue
                xs.append(i + k * width)
                ys.append(f["value"])
                (below,), (above,) = _error_bar(f)
                lo.append(below)
                hi.append(above)
            ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o", capsize=3, label=entry["label"])
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(metrics))])
        ax.set_xticklabels(metrics, rotation=30, ha="right", fontsize=7)
        ax.set_title(f"{suite}: value and 95 % interval per model", fontsize=9)
        ax.legend(fontsize=6)
        fig.tight_layout()
        path = out / f"suite_{suite}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    points = []
    for entry in entries:
        figs = {f["metric"]: f for f in entry.get("suites", {}).get("xstest", {})
                .get("figures", [])}
        harm, over = figs.get("harmful_compliance"), figs.get("over_refusal")
        if harm and over and harm["value"] is not None and over["value"] is not None:
            points.append((entry["label"], over, harm))
    if points:
        fig, ax = plt.subplots(figsize=(4.5, 3.6))
        for label, over, harm in points:
            ax.errorbar([over["value"]], [harm["value"]], xerr=_error_bar(over),
                        yerr=_error_bar(harm), fmt="o", capsize=3, label=label)
        ax.set_xlabel("over-refusal (XSTest safe prompts refused)")
        ax.set_ylabel("harmful compliance (XSTest unsafe prompts)")
        ax.set_title("safety / over-refusal trade-off (lower-left is better)", fontsize=9)
        ax.legend(fontsize=6)
        fig.tight_layout()
        path = out / "tradeoff_xstest.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
