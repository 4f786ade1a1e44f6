"""``accord model``: work on saved model folders (merge a LoRA adapter, write a card).

Commands only parse arguments and call the package; torch loads inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from accord.errors import AccordError

model_app = typer.Typer(help="Saved models: merge a LoRA adapter into its base, show "
                        "lineage.", no_args_is_help=True, rich_markup_mode=None,
                        add_completion=False)


@model_app.command("merge")
def merge(adapter_dir: Annotated[Path, typer.Argument(
              metavar="ADAPTER_DIR", help="A LoRA adapter folder (a stage's model/ trained "
              "with lora).")],
          out: Annotated[Path, typer.Option("--out", metavar="DIR",
                                            help="The new folder for the merged model.")]
          ) -> None:
    """Write base + adapter, merged, as an ordinary model folder (with lineage and card)."""
    from accord.model._lora import merge_adapter
    from accord.progress import task

    with task(f"merging {adapter_dir}"):
        folder = merge_adapter(adapter_dir, out)
    typer.echo(f"merged model written to {folder}")


@model_app.command("lineage")
def lineage(folder: Annotated[Path, typer.Argument(
        metavar="DIR", help="A model or adapter folder.")]) -> None:
    """Print what a saved model was trained from (its lineage.json) as JSON."""
    path = folder / "lineage.json"
    if not path.is_file():
        raise AccordError(f"{folder} has no lineage.json (only Accord's LoRA adapters and "
                          "merged copies carry one; a stage's result.json has the rest)")
    typer.echo(json.dumps(json.loads(path.read_text()), indent=2))
