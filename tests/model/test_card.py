"""The model card is Hugging Face's format: huggingface_hub reads its metadata back."""

from __future__ import annotations

import pytest
from huggingface_hub import ModelCard

from accord.errors import AccordError
from accord.model import write_model_card

LINEAGE = {
    "base_model": "/models/smollm2-135m-instruct",
    "base_sha256": "ab" * 32,
    "stage": "dpo",
    "parent": "/run/sft/model",
    "spec_version": "v3: 1f2e",
    "datasets": {"reviews: comparisons": "12" * 32, "world_pairs": "34" * 32},
    "training": {"learning_rate": 5e-5, "beta": 0.1},
}


def test_card_metadata_reads_back_with_huggingface_hub(tmp_path):
    figures = {"xstest harmful compliance": {"rate": 0.12, "low": 0.08, "high": 0.17, "n": 200},
               "train_loss": 0.4321}
    path = write_model_card(tmp_path, LINEAGE, figures)
    card = ModelCard.load(path)
    meta = card.data.to_dict()
    assert meta["base_model"] == LINEAGE["base_model"]
    assert meta["library_name"] == "transformers"
    assert meta["tags"] == ["accord", "dpo"]
    assert meta["datasets"] == ["reviews: comparisons", "world_pairs"]
    text = card.text
    assert "Spec version: `v3: 1f2e`" in text and "ab" * 32 in text
    assert "| world_pairs | `" + "34" * 32 + "` |" in text
    assert "0.120 (95 % interval 0.080–0.170), n = 200" in text and "0.4321" in text
    assert '"beta": 0.1' in text


def test_an_adapter_card_says_peft_and_figures_unknown(tmp_path):
    (tmp_path / "adapter_config.json").write_text("{}")
    path = write_model_card(tmp_path, {"stage": "sft", "adapter": {"r": 16}})
    meta = ModelCard.load(path).data.to_dict()
    assert meta["library_name"] == "peft" and meta["tags"] == ["accord", "sft", "lora"]
    text = path.read_text()
    assert "Not measured yet" in text and "Spec version: not recorded" in text
    assert "accord model merge" in text


def test_a_missing_folder_is_a_user_error(tmp_path):
    with pytest.raises(AccordError, match="is not a folder"):
        write_model_card(tmp_path / "nowhere", LINEAGE)
