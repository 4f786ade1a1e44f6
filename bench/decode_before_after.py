"""Generation speed of two source trees on one model: the same call, alternated.

Issue 11 moved every decoding loop into ``accord.model._decode``. This benchmark checks that
the move did not slow generation: it runs ``accord.model.generate`` from a BASELINE source
tree and from a SUBJECT source tree (each in its own fresh interpreter, so the two never
share imported code), alternating the two for ``--rounds`` rounds, and prints each round's
seconds, the subject/baseline ratio per round, and the median and spread (min-max) of the
ratios. It also checks the two trees return the same text.

    git worktree add /tmp/accord-old <rev>        # or any checkout of the old tree
    .venv/bin/python bench/decode_before_after.py --baseline /tmp/accord-old/src \
        --subject src --model PATH [--prompts 64] [--rounds 7] [--max-new-tokens 64]

Without --model it uses the newest demo model (examples/demo/.accord/stages/pretrain-*/).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

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
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    args = parser.parse_args()
    for src in (args.baseline, args.subject):
        if not (src / "accord" / "__init__.py").is_file():
            sys.exit(f"{src} is not a source tree holding accord/ (give its src/ folder)")
    model = args.model or _demo_model()
    ratios = []
    for r in range(args.rounds):
        base = _run(args.baseline, model, args.prompts, args.max_new_tokens)
        subj = _run(args.subject, model, args.prompts, args.max_new_tokens)
        if base["texts"] != subj["texts"]:
            sys.exit(f"round {r}: the two trees generated different text")
        ratio = subj["seconds"] / base["seconds"]
        ratios.append(ratio)
        print(f"round {r}: baseline {base['seconds']:.2f}s  subject {subj['seconds']:.2f}s  "
              f"ratio {ratio:.3f}", flush=True)
    print(f"subject/baseline time: median {statistics.median(ratios):.3f}, "
          f"spread {min(ratios):.3f}-{max(ratios):.3f} over {len(ratios)} rounds "
          f"({args.prompts} prompts x {args.max_new_tokens} new tokens; identical text)")


if __name__ == "__main__":
    main()
