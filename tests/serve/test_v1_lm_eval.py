"""lm-eval's ``local-completions`` model against ``accord serve``'s ``/v1/completions``: a
multiple-choice task over real BBQ questions (a task file written here, reading the data
in place), its log-likelihoods equal to the served model's own forward pass."""

from __future__ import annotations

import math

import pytest
import torch
from chat_site import tiny_model_dir

from _resources import missing_resource
from _served import served_model
from accord.audit import default_data_dir

BBQ = default_data_dir() / "bbq" / "Age.jsonl"
TASK = """task: accord_bbq_age_questions
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: "{{{{[ans0, ans1, ans2]}}}}"
doc_to_target: label
metric_list:
  - metric: acc
"""


def test_lm_eval_multiple_choice_through_v1_completions(request, tmp_path_factory,
                                                        monkeypatch):
    import lm_eval
    from lm_eval.tasks import TaskManager

    if not BBQ.is_file():
        missing_resource(f"{BBQ} not found (set ACCORD_DATA_DIR)")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model_dir = tiny_model_dir(request, tmp_path_factory)
    tasks = tmp_path_factory.mktemp("lm-eval-tasks")
    (tasks / "accord_bbq.yaml").write_text(TASK.format(data=BBQ))
    with served_model(model_dir, tmp_path_factory.mktemp("lm-eval-serve")) as url:
        out = lm_eval.simple_evaluate(
            model="local-completions",
            model_args=f"model=tiny,base_url={url}/completions,tokenizer={model_dir},"
                       "tokenizer_backend=huggingface,num_concurrent=1,max_retries=1,"
                       "max_length=128",
            tasks=["accord_bbq_age_questions"], limit=4, log_samples=True,
            task_manager=TaskManager(include_path=str(tasks)), random_seed=0)
    result = out["results"]["accord_bbq_age_questions"]
    assert 0.0 <= result["acc,none"] <= 1.0
    samples = out["samples"]["accord_bbq_age_questions"]
    assert len(samples) == 4
    # Each option's log-likelihood is the served model's own: recompute one by hand.
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    first = samples[0]
    context, option = first["arguments"][0][0], first["arguments"][0][1]
    ctx = tokenizer(context)["input_ids"]
    whole = tokenizer(context + option)["input_ids"]
    with torch.no_grad():
        logprobs = torch.log_softmax(model(input_ids=torch.tensor([whole])).logits[0].float(),
                                     dim=-1)
    expected = sum(float(logprobs[j - 1, whole[j]]) for j in range(len(ctx), len(whole)))
    served, _greedy = first["resps"][0][0]
    assert math.isfinite(served) and served == pytest.approx(expected, abs=1e-3)
