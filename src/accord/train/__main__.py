"""``python -m accord.train STAGE ...``: one stage from the command line.

This is the entry point for ``accelerate launch`` (multi-GPU, multi-node, DeepSpeed,
FSDP)::

    accelerate launch --config_file configs/accelerate/deepspeed_zero2.yaml \\
        -m accord.train sft --model runs/base/model --data reviews.jsonl --out runs/sft \\
        --set max_steps=500 --set batch_size=16

``--set FIELD=VALUE`` sets a field of the stage's config (VALUE is parsed as JSON when it
can be, else taken as a string). The result (lineage) is printed as JSON on stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any

from accord.errors import AccordError

STAGES = ("sft", "reward", "dpo", "grpo")


def _config(cls: type, settings: Sequence[str]) -> Any:
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
    """``pkg.module:name`` imports a reward function; anything else is a model folder."""
    if ":" in text and not text.startswith(("/", ".")):
        module, _, name = text.partition(":")
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as err:
            raise AccordError(f"--reward {text!r}: cannot import {name} from {module} "
                              f"({err})") from err
    return text


def main(argv: Sequence[str] | None = None) -> int:
    from accord import train

    parser = argparse.ArgumentParser(prog="python -m accord.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--model", required=True, help="model folder to start from")
    parser.add_argument("--data", required=True, help="JSONL file in the stage's TRL format")
    parser.add_argument("--out", required=True, help="the stage folder")
    parser.add_argument("--eval-data", help="reward: held-out pairs (JSONL)")
    parser.add_argument("--ref-model", help="dpo: reference model folder (default --model)")
    parser.add_argument("--reward", action="append", default=[],
                        help="grpo: a reward-model folder or pkg.module:function (repeatable)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    args = parser.parse_args(argv)
    try:
        if args.stage == "sft":
            result = train.train_sft(_config(train.SFTStageConfig, args.set), args.model,
                                     args.data, args.out)
        elif args.stage == "reward":
            result = train.train_reward_model(_config(train.RewardStageConfig, args.set),
                                              args.model, args.data, args.out, args.eval_data)
        elif args.stage == "dpo":
            result = train.train_dpo(_config(train.DPOStageConfig, args.set), args.model,
                                     args.data, args.out, args.ref_model)
        else:
            result = train.train_grpo(_config(train.GRPOStageConfig, args.set), args.model,
                                      args.data, [_reward_source(r) for r in args.reward],
                                      args.out)
    except AccordError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    summary = {k: v for k, v in result.to_dict().items() if k != "log_history"}
    print(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
