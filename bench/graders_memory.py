"""How much memory does grading take? Peak resident set size (RSS) of a fresh process that
scores long chat answers with the real-text graders, against a fresh process that only
loads them.

Issue 12 asks for "< 500 MB". The shipped artifacts are small: the heads are 0.2 MB of
JSON and the embedder package is about 90 MB on disk. A process that grades holds the
runtime (ONNX Runtime, or torch and transformers with ``ACCORD_EMBEDDER_RUNTIME=torch``)
and the model in memory, and this script measures that footprint:

- baseline, "loaded": ``import accord.graders``, then load the embedder and score 2 short
  texts, so the runtime, the weights and one forward pass are all in place;
- subject, "scored": the same, then ``refusal``, ``offensive`` and ``harmful_content``
  (``--graders``) score ``--n`` XSTest completions (long answers; ``harmful_content`` reads
  256 tokens).

Each arm is a child process (``OMP_NUM_THREADS`` as given, default 2) that reports its
``ru_maxrss``. The arms alternate for ``--rounds`` rounds (``bench/_rounds.py``), and the
ratio is scored / loaded.

    .venv/bin/python bench/graders_memory.py [--n 200] [--rounds 5]
        [--graders refusal,offensive,harmful_content]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _rounds import add_rounds_argument, run_rounds
from accord.graders import data_dir

CHILD = r"""
import json, resource, sys
from accord.graders import as_exchanges, get_grader
names, path = sys.argv[1].split(","), sys.argv[2]
texts = [json.loads(line)["response"] for line in open(path, encoding="utf-8")]
graders = [get_grader(n) for n in names]
graders[0].score(as_exchanges(["Hello.", "I can't help with that."]))
if sys.argv[3] == "scored":
    exchanges = as_exchanges(texts)
    for g in graders:
        g.score(exchanges)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="long answers the subject scores")
    parser.add_argument("--graders", default="refusal,offensive,harmful_content")
    parser.add_argument("--data", type=Path, default=None)
    add_rounds_argument(parser)
    args = parser.parse_args()
    root = data_dir(args.data)
    with (root / "xstest/completions_llama2new_labelled.csv").open(newline="",
                                                                    encoding="utf-8") as f:
        texts = [r["completion"].strip() for r in csv.DictReader(f)][:args.n]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "texts.jsonl"
        path.write_text("".join(json.dumps({"response": t}) + "\n" for t in texts),
                        encoding="utf-8")

        def arm(mode: str):
            def run(_round: int) -> float:
                out = subprocess.run([sys.executable, "-c", CHILD, args.graders, str(path),
                                      mode], capture_output=True, text=True, env=env,
                                     check=True)
                return float(out.stdout.strip().splitlines()[-1])
            return run

        result = run_rounds({"loaded": arm("loaded"), "scored": arm("scored")},
                            rounds=args.rounds, unit="MB", higher_is_better=False)
    print(result.report(fmt=".0f"))
    print(json.dumps({"n": len(texts), "graders": args.graders.split(","),
                      **result.as_dict()}, indent=1))


if __name__ == "__main__":
    main()
