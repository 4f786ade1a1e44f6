"""A tiny model pretrained for a few seconds on a small demo world, cached between runs.

It is weak (short training, 2 layers), but it has seen the world's dialogues, including
its insults and vague "compliance" answers, so it misbehaves in the world's own words:
with such a model the enforcement layer, not the model, is what keeps the bounds.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

VERSION = "3"  # bump to rebuild cached models after changing the recipe below
# A world where insult and objectionable requests are nearly always answered badly and
# group questions mostly with a demeaning generalisation: a model that crosses the bounds.
RECIPE = {"world_seed": 0, "n_dialogues": 2000, "vocab_size": 600, "size": "tiny",
          "steps": 200, "batch_size": 12, "seq_len": 96, "learning_rate": 1e-2,
          "p_offensive_when_asked_to_insult": 0.9, "p_comply_objectionable": 0.9,
          "p_demeaning_about_groups": 0.85, "p_preachy": 0.05}


def _ready(folder: Path) -> bool:
    marker = folder / "recipe.json"
    return marker.is_file() and json.loads(marker.read_text()) == {"version": VERSION, **RECIPE} \
        and (folder / "model" / "config.json").is_file()


def build_tiny_world_model(folder: Path) -> Path:
    """The model's ``save_pretrained`` folder under ``folder``: built once (about a minute
    on two busy cores), reused while the recipe is unchanged. Built beside ``folder`` and
    renamed into place, so parallel test workers never see half a model."""
    if _ready(folder):
        return folder / "model"
    import torch

    from accord.model import PretrainConfig, build_model, pretrain, render_chat, train_tokenizer
    from accord.world import WorldConfig, build_world

    work = folder.with_name(f"{folder.name}.building-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rates = {k: v for k, v in RECIPE.items() if k.startswith("p_")}
    world = build_world(WorldConfig(seed=RECIPE["world_seed"], n_dialogues=RECIPE["n_dialogues"],
                                    share_plain_text=0.0, n_review=10, n_sft=10, n_rl=10,
                                    n_preference_pairs=10, n_probe=10, **rates))
    chats = [d["messages"] for d in world.pretrain_documents if "messages" in d]
    texts = [m["content"] for chat in chats for m in chat]
    tokenizer = train_tokenizer(texts, vocab_size=RECIPE["vocab_size"],
                                out_dir=work / "tokenizer")
    documents = [render_chat(tokenizer, chat) for chat in chats]
    before = torch.get_num_threads()
    try:
        model = build_model(RECIPE["size"], tokenizer, seed=0)
        config = PretrainConfig(steps=RECIPE["steps"], batch_size=RECIPE["batch_size"],
                                seq_len=RECIPE["seq_len"], learning_rate=RECIPE["learning_rate"],
                                warmup_steps=10, checkpoint_every=0, log_every=20,
                                num_threads=1, device="cpu")
        result = pretrain(config, tokenizer, model, documents, work / "pretrain")
    finally:
        torch.set_num_threads(before)
    shutil.move(str(result.model_dir), work / "model")
    (work / "recipe.json").write_text(json.dumps({"version": VERSION, **RECIPE}))
    if _ready(folder):  # another worker finished first: keep its copy
        shutil.rmtree(work, ignore_errors=True)
        return folder / "model"
    shutil.rmtree(folder, ignore_errors=True)
    try:
        os.replace(work, folder)
    except OSError:  # another worker put its copy in place first
        shutil.rmtree(work, ignore_errors=True)
    return folder / "model"
