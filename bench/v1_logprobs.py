"""What ``logprobs`` costs on ``/v1``: the same chat requests (greedy, same prompts) to a
live ``accord serve`` app on 127.0.0.1, without log-probabilities (the baseline) and with
``logprobs: true, top_logprobs: 20`` (each answer's tokens scored by one more forward pass
of the model that wrote them), alternated for ``--rounds`` rounds (bench/_rounds.py); and
a judge's request (one token, ``top_logprobs: 1000``) beside a plain one-token request.
Wall time per round of ``--requests`` sequential requests; ratios subject / baseline.

    .venv/bin/python bench/v1_logprobs.py [--model PATH] [--requests 16] [--rounds 5]

Without --model it uses the newest demo model (examples/demo/.accord/stages/pretrain-*/).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from _rounds import add_rounds_argument, run_rounds, timed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

PROMPTS = ["What is the capital of France?", "Tell me about cyclists.",
           "Should we have rent control?", "What is 7 plus 2?"]


def _demo_model() -> Path:
    found = sorted((ROOT / "examples/demo/.accord/stages").glob("pretrain-*/model/config.json"),
                   key=lambda p: p.stat().st_mtime)
    if not found:
        sys.exit("no demo model: run `make demo` or give --model PATH")
    return found[-1].parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=16)
    add_rounds_argument(parser)
    args = parser.parse_args()
    import openai

    from _served import served_model

    model = args.model or _demo_model()
    with tempfile.TemporaryDirectory() as work, served_model(model, Path(work)) as url:
        client = openai.OpenAI(base_url=url, api_key=os.environ["OPENAI_API_KEY"],
                               max_retries=0, timeout=120)

        def ask(**extra) -> None:
            for i in range(args.requests):
                client.chat.completions.create(
                    model="tiny", temperature=0, seed=i,
                    messages=[{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}],
                    **extra)

        ask(max_tokens=4)  # warm up
        answers = run_rounds({
            "plain, 32 tokens": timed(lambda: ask(max_tokens=32)),
            "logprobs top 20, 32 tokens": timed(lambda: ask(max_tokens=32, logprobs=True,
                                                            top_logprobs=20)),
        }, rounds=args.rounds, unit="s")
        judge = run_rounds({
            "plain, 1 token": timed(lambda: ask(max_tokens=1)),
            "judge: 1 token, top_logprobs 1000": timed(lambda: ask(
                max_tokens=1, logprobs=True, top_logprobs=1000)),
        }, rounds=args.rounds, unit="s")
    print(f"model {model}, {args.requests} sequential requests per round")
    print(answers.report())
    print(judge.report())
    print(json.dumps({"answers": answers.as_dict(), "judge": judge.as_dict()}))


if __name__ == "__main__":
    main()
