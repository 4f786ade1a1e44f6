"""Generation speed of two source trees on one model: the same call, alternated.

Issue 11 moved every decoding loop into ``accord.model._decode``. This benchmark checks that
the move did not slow generation: it runs ``accord.model.generate`` from a BASELINE source
tree and from a SUBJECT source tree (each in its own fresh interpreter, so the two never
share imported code), alternating the two for ``--rounds`` rounds (bench/_rounds.py: the
order is swapped every round), and prints each round's seconds, the subject/baseline
ratio per round, and the median and spread (min-max, IQR) of the times and the ratios.
It also checks the two trees return the same text.

    git worktree add /tmp/accord-old <rev>        # or any checkout of the old tree
    .venv/bin/python bench/decode_before_after.py --baseline /tmp/accord-old/src \
        --subject src --model PATH [--prompts 64] [--rounds 5] [--max-new-tokens 64]

Without --model it uses the newest demo model (examples/demo/.accord/stages/pretrain-*/).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from _rounds import add_rounds_argument, run_rounds

ROOT = Path(__file__).resolve().parents[1]

# Runs inside the child interpreter: generate once to warm up, then time one call.
_CHILD = r"""
import json, sys, time
from accord.model import SamplingConfig, generate, load_model
model, tok = load_model(sys.argv[1])
n, new = int(sys.argv[2]), int(sys.argv[3])
subjects = ["the weather", "a good book", "cooking rice", "the moon", "a job interview",
            "learning to swim", "old bridges", "a quiet street"]
convs = [[{"role": "user", "content": f"Tell me about {subjects[i % len(subjects)]} ({i})."}]
         for i in range(n)]
sampling = SamplingConfig(temperature=0.9, top_p=1.0, max_new_tokens=new, seed=0)
generate(model, tok, convs[:4], sampling)
start = time.perf_counter()
texts = generate(model, tok, convs, sampling, batch_size=16)
print(json.dumps({"seconds": time.perf_counter() - start, "texts": texts}))
"""


def _demo_model() -> Path:
    found = sorted((ROOT / "examples/demo/.accord/stages").glob("pretrain-*/model/config.json"),
                   key=lambda p: p.stat().st_mtime)
    if not found:
        sys.exit("no demo model found: run `make demo` first or pass --model PATH")
    return found[-1].parent


def _run(src: Path, model: Path, prompts: int, new_tokens: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src.resolve())}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(model), str(prompts),
                          str(new_tokens)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the old tree's src/")
    parser.add_argument("--subject", type=Path, default=ROOT / "src", help="the new src/")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--prompts", type=int, default=64)
    add_rounds_argument(parser)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    args = parser.parse_args()
    for src in (args.baseline, args.subject):
        if not (src / "accord" / "__init__.py").is_file():
            sys.exit(f"{src} is not a source tree holding accord/ (give its src/ folder)")
    model = args.model or _demo_model()
    texts: dict[str, list] = {}

    def arm(name: str, src: Path):
        def measure(k: int) -> float:
            out = _run(src, model, args.prompts, args.max_new_tokens)
            texts[name] = out["texts"]
            other = "subject" if name == "baseline" else "baseline"
            if other in texts and texts[other] != out["texts"]:
                sys.exit(f"round {k + 1}: the two trees generated different text")
            return out["seconds"]
        return measure

    result = run_rounds({"baseline": arm("baseline", args.baseline),
                         "subject": arm("subject", args.subject)},
                        rounds=args.rounds, unit="s", fmt=".2f")
    print(result.report(".2f"))
    print(f"subject/baseline time: median {result.ratio_spread('subject').median:.3f} "
          f"({args.prompts} prompts x {args.max_new_tokens} new tokens; identical text "
          "every round)")


if __name__ == "__main__":
    main()
