"""The loss curve of a pretraining run, as JSON (for tools) and PNG (for people)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from accord.model._checkpoint import atomic_write_bytes


def write_loss_curve(history: list[dict[str, Any]], out_dir: Path,
                     title: str = "pretraining loss") -> tuple[Path, Path]:
    """Write ``loss_curve.json`` and ``loss_curve.png``; return their paths.

    ``history`` holds one ``{"step", "loss", "lr", "tokens"}`` record per logging interval.
    """
    json_path, png_path = out_dir / "loss_curve.json", out_dir / "loss_curve.png"
    text = json.dumps(history, indent=1)
    atomic_write_bytes(json_path, lambda f: f.write(text.encode()))

    # The Agg canvas directly, without pyplot: no display needed, no global figure state,
    # and a fraction of pyplot's import time.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    steps = [h["step"] for h in history]
    ax.plot(steps, [h["loss"] for h in history], color="tab:blue", label="train loss")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    lr_ax = ax.twinx()
    lr_ax.plot(steps, [h["lr"] for h in history], color="tab:orange", alpha=0.5, label="lr")
    lr_ax.set_ylabel("learning rate")
    # Above the axes: inside them the legend covered the learning-rate axis.
    fig.legend(loc="outside upper center", ncols=2, frameon=False)
    fig.savefig(png_path, dpi=100)
    return json_path, png_path
