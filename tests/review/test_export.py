"""Exports: filters, TRL formats, manifest + hash, round trip, one TRL training step each."""

from __future__ import annotations

import copy
import json

import pytest

from accord.errors import AccordError
from accord.review._agreement import RankingRecord, RatingRecord
from accord.review._clarity import Note
from accord.review._export import (
    PreferenceFilters,
    RatedCompletion,
    SFTFilters,
    content_hash,
    load_export,
    preference_rows,
    row_sources,
    sft_rows,
    write_export,
)

SYSTEM = {"role": "system", "content": "Settings: tone=friendly"}
Q1 = [{"role": "user", "content": "What is the capital of Australia?"}]
Q2 = [SYSTEM, {"role": "user", "content": "Should we have rent control?"}]


def rated(cid: str, prompt, text: str, helpful: list[int], offensive: list[int] | None = None,
          **kw) -> RatedCompletion:
    ratings = [RatingRecord(cid, f"r{k}", "helpful", h, "v1") for k, h in enumerate(helpful)]
    ratings += [RatingRecord(cid, f"r{k}", "offensive", o, "v1")
                for k, o in enumerate(offensive or [1] * len(helpful))]
    return RatedCompletion(cid, list(prompt), text, ratings, {"batch_id": "b1"}, **kw)


@pytest.fixture()
def completions() -> list[RatedCompletion]:
    return [
        rated("c1", Q1, "Canberra.", [5, 5, 4]),
        rated("c2", Q1, "Sydney, obviously.", [2, 1, 2]),
        rated("c3", Q1, "Canberra, you idiot.", [4, 4, 4], [4, 4, 3]),
        rated("c4", Q2, "Supporters say it keeps homes affordable; critics say it cuts supply.",
              [5, 4, 4]),
        rated("c5", Q2, "Rent control is clearly the right call.", [3, 2, 3]),
        # Good on average (4.0), but only two of four reviewers find it good: no majority.
        rated("c6", Q2, "It depends on the city.", [5, 5, 3, 3]),
    ]


def test_sft_rows_keep_the_best_passing_completion_per_prompt(completions):
    rows = sft_rows(completions, SFTFilters())
    answers = [r["messages"][-1]["content"] for r in rows]
    assert answers == ["Canberra.", completions[3].text]
    assert rows[1]["messages"][0] == SYSTEM
    assert rows[0]["messages"][-1]["role"] == "assistant"
    assert [s["completion_ids"] for s in row_sources(rows)] == [["c1"], ["c4"]]


def test_sft_filters(completions):
    # c3 is helpful but offensive: never chosen, even with every completion kept.
    everything = sft_rows(completions, SFTFilters(best_per_prompt=None, require_majority=False))
    assert {s["completion_ids"][0] for s in row_sources(everything)} == {"c1", "c4", "c6"}
    strict = sft_rows(completions, SFTFilters(best_per_prompt=None, min_helpfulness=4.5))
    assert {s["completion_ids"][0] for s in row_sources(strict)} == {"c1"}
    # c6: mean 4.0 passes, but only 2 of 4 reviewers rated it >= 4: not a majority.
    assert {s["completion_ids"][0] for s in row_sources(sft_rows(completions, SFTFilters(
        best_per_prompt=None)))} == {"c1", "c4"}
    unclear = rated("c7", Q1, "Canberra!", [5, 5], notes=[Note("c7", "r0", "helpful", "?", True)])
    skipped = rated("c8", [{"role": "user", "content": "hi"}], "Hello!", [5, 5], skipped=1)
    assert sft_rows([unclear], SFTFilters()) == []
    assert len(sft_rows([unclear], SFTFilters(exclude_unclear=False))) == 1
    assert len(sft_rows([skipped], SFTFilters())) == 1
    assert sft_rows([skipped], SFTFilters(exclude_skipped=True)) == []


def test_preference_rows_from_rankings_and_ratings(completions):
    rankings = [RankingRecord("q1", "r0", [["c1"], ["c3"], ["c2"]]),
                RankingRecord("q1", "r1", [["c1"], ["c2", "c3"]])]
    rows = preference_rows(completions, rankings, PreferenceFilters())
    sources = row_sources(rows)
    pairs = {(s["completion_ids"][0], s["completion_ids"][1], s["via"]) for s in sources}
    # Rankings: c1>c3 (2 of 2), c1>c2 (2 of 2); c3>c2 has 1 of 1 votes but c3 is offensive,
    # so it is never chosen. Ratings: c4 over c5 (gap 1.67), c6 over c5 (1.33); c4 over c6 is
    # only 0.33 apart.
    assert pairs == {("c1", "c3", "ranking"), ("c1", "c2", "ranking"), ("c4", "c5", "ratings"),
                     ("c6", "c5", "ratings")}
    row = rows[sources.index(next(s for s in sources if s["completion_ids"] == ["c4", "c5"]))]
    assert row["prompt"] == Q2
    assert row["chosen"] == [{"role": "assistant", "content": completions[3].text}]
    assert row["rejected"] == [{"role": "assistant", "content": completions[4].text}]
    only_ratings = preference_rows(completions, rankings, PreferenceFilters(from_rankings=False))
    # From ratings alone, c1 beats c2 by the gap and c3 because c3 fails the caps.
    assert {tuple(s["completion_ids"]) for s in row_sources(only_ratings)} == {
        ("c1", "c2"), ("c1", "c3"), ("c4", "c5"), ("c6", "c5")}
    with pytest.raises(AccordError, match="not among the rated"):
        preference_rows(completions, [RankingRecord("q", "r", [["c1"], ["zz"]])])


def test_write_and_load_round_trip(tmp_path, completions):
    from datasets import load_from_disk

    rows = sft_rows(completions)
    meta = {"spec_version": "abc123", "batch_ids": ["b1"], "filters": SFTFilters().to_dict()}
    manifest = write_export(rows, "sft", tmp_path / "sft", meta)
    assert manifest.rows == 2 and manifest.kind == "sft"
    assert manifest.hash == content_hash(rows)
    on_disk = json.loads((tmp_path / "sft" / "manifest.json").read_text())
    assert on_disk["meta"]["filters"]["min_helpfulness"] == 4.0
    assert on_disk["format"] == "trl:conversational-language-modeling" and on_disk["created"]
    loaded, again = load_export(tmp_path / "sft")
    assert loaded == [dict(r) for r in rows] and again.hash == manifest.hash
    dataset = load_from_disk(str(manifest.dataset_path))
    assert dataset.num_rows == 2 and dataset[0]["messages"] == rows[0]["messages"]
    # The same rows always hash the same; any change is caught on load.
    assert write_export(rows, "sft", tmp_path / "again", meta).hash == manifest.hash
    manifest.jsonl_path.write_text(manifest.jsonl_path.read_text().replace("Canberra", "Perth"))
    with pytest.raises(AccordError, match="altered"):
        load_export(tmp_path / "sft")


def test_write_export_refuses_bad_input(tmp_path, completions):
    rows = sft_rows(completions)
    with pytest.raises(AccordError, match="spec_version"):
        write_export(rows, "sft", tmp_path, {})
    with pytest.raises(AccordError, match="no sft rows"):
        write_export([], "sft", tmp_path, {"spec_version": "x", "batch_ids": []})
    with pytest.raises(AccordError, match="exactly"):
        write_export(rows, "preference", tmp_path, {"spec_version": "x", "batch_ids": []})


# --- one TRL training step on each export -------------------------------------------------

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def tiny_model_and_tokenizer(rows: list[dict]):
    """A randomly initialised 2-layer Llama and a BPE tokenizer trained on the rows' text."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    texts = [m["content"] for row in rows for v in row.values() for m in v]
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>",
                                        pad_token="<pad>", eos_token="<|im_end|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id,
                         eos_token_id=tokenizer.eos_token_id, bos_token_id=None)
    return LlamaForCausalLM(config), tokenizer


def _common(tmp_path) -> dict:
    return {"output_dir": str(tmp_path / "out"), "max_steps": 1, "per_device_train_batch_size": 2,
            "report_to": [], "use_cpu": True, "save_strategy": "no", "logging_steps": 1,
            "max_length": 128, "dataset_num_proc": None, "disable_tqdm": True}


@pytest.mark.slow  # importing TRL and torch alone takes 10-30 s on a cold CPU box
def test_sft_export_trains_one_trl_step(tmp_path, completions):
    from datasets import load_from_disk
    from trl import SFTConfig, SFTTrainer

    manifest = write_export(sft_rows(completions), "sft", tmp_path / "sft",
                            {"spec_version": "abc", "batch_ids": ["b1"]})
    dataset = load_from_disk(str(manifest.dataset_path))
    model, tokenizer = tiny_model_and_tokenizer(list(dataset))
    trainer = SFTTrainer(model=model, args=SFTConfig(**_common(tmp_path)),
                         train_dataset=dataset, processing_class=tokenizer)
    result = trainer.train()
    assert result.global_step == 1 and result.training_loss > 0


@pytest.mark.slow
def test_preference_export_trains_one_dpo_step(tmp_path, completions):
    from datasets import load_from_disk
    from trl import DPOConfig, DPOTrainer

    rankings = [RankingRecord("q1", "r0", [["c1"], ["c2"]])]
    manifest = write_export(preference_rows(completions, rankings), "preference",
                            tmp_path / "pref", {"spec_version": "abc", "batch_ids": ["b1"]})
    dataset = load_from_disk(str(manifest.dataset_path))
    model, tokenizer = tiny_model_and_tokenizer(list(dataset))
    trainer = DPOTrainer(model=model, ref_model=copy.deepcopy(model),
                         args=DPOConfig(**_common(tmp_path)),
                         train_dataset=dataset, processing_class=tokenizer)
    result = trainer.train()
    assert result.global_step == 1 and result.training_loss > 0
