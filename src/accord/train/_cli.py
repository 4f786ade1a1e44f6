"""``accord train STAGE ...`` (also ``python -m accord.train STAGE ...``): one stage from
the command line.

This is the entry point for ``accelerate launch`` (multi-GPU, multi-node, DeepSpeed,
FSDP)::

    accelerate launch --config_file configs/accelerate/deepspeed_zero2.yaml \\
        -m accord.train sft --model runs/base/model --data reviews.jsonl --out runs/sft \\
        --set max_steps=500 --set batch_size=16

``--set FIELD=VALUE`` sets a field of the stage's config (VALUE is parsed as JSON when it
can be, else taken as a string). The result (lineage) is printed as JSON on stdout.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from accord.errors import AccordError

STAGES = ("sft", "reward", "dpo", "grpo")

train_app = typer.Typer(help="Train one stage (sft, reward, dpo, grpo) from the command "
                        "line; runs under accelerate launch. Prints the result as JSON.",
                        no_args_is_help=True, rich_markup_mode=None, add_completion=False)

ModelOpt = Annotated[str, typer.Option("--model", help="Model folder to start from.")]
DataOpt = Annotated[str, typer.Option("--data", help="JSONL file in the stage's TRL format.")]
OutOpt = Annotated[str, typer.Option("--out", help="The stage folder.")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", metavar="FIELD=VALUE", help="Set a field of the stage's config (repeatable); "
    "VALUE is read as JSON when it can be, else as a string.")]


def _config(cls: type, settings: Sequence[str]) -> Any:
    """``cls`` (a stage config dataclass) with the ``--set FIELD=VALUE`` items applied.

    Raises:
        AccordError: an item is not FIELD=VALUE or names no field of ``cls``.
    """
    fields = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for item in settings:
        key, sep, raw = item.partition("=")
        if not sep or key not in fields:
            raise AccordError(f"--set {item!r}: expected FIELD=VALUE with FIELD one of "
                              f"{', '.join(sorted(fields))}")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
        if isinstance(values[key], list):
            values[key] = tuple(values[key])
    return cls(**values)


def _reward_source(text: str) -> Any:
    """``pkg.module:name`` imports a reward function; anything else is a model folder.

    Raises:
        AccordError: ``pkg.module:name`` cannot be imported.
    """
    if ":" in text and not text.startswith(("/", ".")):
        module, _, name = text.partition(":")
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as err:
            raise AccordError(f"--reward {text!r}: cannot import {name} from {module} "
                              f"({err})") from err
    return text


def _print(result: Any) -> None:
    summary = {k: v for k, v in result.to_dict().items() if k != "log_history"}
    print(json.dumps(summary, indent=2, default=str))


@train_app.command("sft")
def sft(model: ModelOpt, data: DataOpt, out: OutOpt, settings: SetOpt = None) -> None:
    """Supervised fine-tuning on chats."""
    from accord import train

    _print(train.train_sft(_config(train.SFTStageConfig, settings or []), model, data, out))


@train_app.command("reward")
def reward(model: ModelOpt, data: DataOpt, out: OutOpt,
           eval_data: Annotated[str | None, typer.Option(
               "--eval-data", help="Held-out preference pairs (JSONL).")] = None,
           settings: SetOpt = None) -> None:
    """A reward model on preference pairs."""
    from accord import train

    _print(train.train_reward_model(_config(train.RewardStageConfig, settings or []), model,
                                    data, out, eval_data))


@train_app.command("dpo")
def dpo(model: ModelOpt, data: DataOpt, out: OutOpt,
        ref_model: Annotated[str | None, typer.Option(
            "--ref-model", help="Reference model folder (default: --model).")] = None,
        settings: SetOpt = None) -> None:
    """Direct preference optimisation on preference pairs."""
    from accord import train

    _print(train.train_dpo(_config(train.DPOStageConfig, settings or []), model, data, out,
                           ref_model))


@train_app.command("grpo")
def grpo(model: ModelOpt, data: DataOpt, out: OutOpt,
         reward: Annotated[list[str] | None, typer.Option(
             "--reward", metavar="REWARD",
             help="A reward-model folder or pkg.module:function (repeatable).")
         ] = None,
         settings: SetOpt = None) -> None:
    """GRPO on prompts, scored by reward models or reward functions."""
    from accord import train

    _print(train.train_grpo(_config(train.GRPOStageConfig, settings or []), model, data,
                            [_reward_source(r) for r in reward or []], out))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m accord.train``: the ``accord train`` group on its own.

    Returns:
        The exit status: 0, or 2 for a user error (printed as ``error: ...`` on stderr) or
        a usage error.
    """
    command = typer.main.get_command(train_app)
    try:
        # Standalone: click prints usage errors and --help itself and exits.
        command.main(args=list(argv) if argv is not None else None,
                     prog_name="python -m accord.train")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 1
    except AccordError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
