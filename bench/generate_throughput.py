"""Generation throughput of accord.model against transformers' ``generate`` on SmolLM2.

Issue 13 asks for the model layer's generation throughput on SmolLM2-135M-Instruct against
transformers' ``model.generate`` at the same batch sizes (goal: ratio >= 1.0). Both arms
get the same model object, the same prompts (real chat prompts: the first human turns of
Anthropic's HH-RLHF harmless-base test file, read in place, SHA-256 printed, rendered with
the model's own chat template and the assistant header), the same greedy decoding, the
same ``max_new_tokens``, the same stop tokens, the same left padding and the same batches
(prompts are sorted by length first, which is also the order ``accord.model.generate``
batches them in), on the same number of CPU threads:

- baseline: ``model.generate(input_ids, attention_mask, do_sample=False, ...)`` per batch,
  the reply cut at the first stop token and decoded without special tokens;
- subject: ``accord.model.generate(model, tokenizer, conversations,
  SamplingConfig(temperature=0, ...), batch_size=B)`` (the path the meter, the backends
  and, through ``decode``, the server use).

For each batch size both arms run in alternating rounds (bench/_rounds.py: ABBA, >= 5
rounds), each round's figure being reply tokens per second (the replies' tokens counted
the same way for both arms: the text re-encoded without special tokens, plus the stop
token when the reply stopped). Seconds are this process's CPU seconds by default
(``--clock cpu``: both arms decode on one thread in this process, and on a shared machine
other jobs stretch the wall clock, not our CPU time) or wall seconds (``--clock wall``);
the other clock's figures are printed too. It reports tokens/s with median and spread,
the per-round ratio accord / transformers, and how many of the greedy replies are
identical.

    nice -n 10 .venv/bin/python bench/generate_throughput.py [--prompts 16]
        [--max-new-tokens 128] [--batch-sizes 1,4,16] [--rounds 5] [--threads 1]
        [--clock cpu|wall] [--out result.json]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

from _rounds import add_rounds_argument, load_average, run_rounds, spread

ROOT = Path(__file__).resolve().parents[1]
HH_FILE = "hh-rlhf/harmless-base-test-part1.jsonl.gz"


def data_root() -> Path:
    """The public data folder: ``ACCORD_DATA_DIR``, else ``../shared/data``."""
    env = os.environ.get("ACCORD_DATA_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def hh_prompts(path: Path, n: int) -> list[str]:
    """The first ``n`` distinct first human turns of an HH-RLHF file (one-turn chats).

    Args:
        path: a ``.jsonl.gz`` file of ``{"chosen", "rejected"}`` dialogues.
        n: how many prompts.
    """
    prompts: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["chosen"]
            first = text.split("\n\nHuman:", 1)[-1].split("\n\nAssistant:", 1)[0].strip()
            if first and first not in prompts:
                prompts.append(first)
            if len(prompts) == n:
                break
    return prompts


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2",
                        help="a model folder, .gguf or `smollm2` (default)")
    parser.add_argument("--prompts", type=int, default=16,
                        help="prompts per call (at least the batch size)")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--batch-sizes", default="1,4,16")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads for the baseline (accord.model.generate "
                        "always decodes on one CPU thread; default 1, the same)")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="the figure rounds compare: reply tokens per CPU second of this "
                        "process (default: steadier on a shared machine, where other jobs "
                        "stretch the wall clock) or per wall-clock second; the other is "
                        "printed too")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON result here")
    add_rounds_argument(parser)
    args = parser.parse_args()
    sizes = [int(s) for s in args.batch_sizes.split(",") if s.strip()]

    import torch
    import transformers

    from accord.model import SamplingConfig, generate, load_model, resolve_model

    data = data_root() / HH_FILE
    if not data.is_file():
        sys.exit(f"{data} not found: set ACCORD_DATA_DIR to the public data folder")
    started = time.perf_counter()
    model, tok = load_model(resolve_model(args.model))
    model.eval()
    print(f"model {args.model} loaded in {time.perf_counter() - started:.1f} s "
          f"({sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters); "
          f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    texts = hh_prompts(data, max([args.prompts, *sizes]))
    print(f"prompts from {HH_FILE} (sha256 {sha256(data)[:16]}…): max({args.prompts}, "
          f"batch size) per call; greedy, max_new_tokens {args.max_new_tokens}; baseline "
          f"threads {args.threads}")

    stops = {tok.eos_token_id, tok.convert_tokens_to_ids("<|im_end|>")}
    configured = model.generation_config.eos_token_id
    stops.update(configured if isinstance(configured, list) else [configured])
    stops.discard(None)
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    sampling = SamplingConfig(temperature=0, max_new_tokens=args.max_new_tokens)

    def reply_tokens(replies: list[tuple[str, bool]]) -> int:
        """Tokens of the replies, counted alike for both arms (text + the stop token)."""
        return sum(len(tok(t, add_special_tokens=False)["input_ids"]) + int(stopped)
                   for t, stopped in replies)

    def prompts_for(batch: int) -> tuple[list[list[dict]], list[str]]:
        """The call's conversations and rendered prompts, sorted by length: the order
        accord.model.generate batches in (a stable sort), so both arms decode exactly the
        same batches."""
        convs = [[{"role": "user", "content": t}] for t in texts[:max(args.prompts, batch)]]
        rendered = [tok.apply_chat_template(c, tokenize=False, add_generation_prompt=True)
                    for c in convs]
        lengths = [len(tok(r, add_special_tokens=False)["input_ids"]) for r in rendered]
        order = sorted(range(len(convs)), key=lambda i: lengths[i])
        return [convs[i] for i in order], [rendered[i] for i in order]

    def baseline_call(batch: int) -> list[tuple[str, bool]]:
        _, rendered = prompts_for(batch)
        out: list[tuple[str, bool]] = []
        previous = torch.get_num_threads()
        torch.set_num_threads(args.threads)
        try:
            for lo in range(0, len(rendered), batch):
                enc = tok(rendered[lo:lo + batch], padding=True, padding_side="left",
                          add_special_tokens=False, return_tensors="pt")
                with torch.no_grad():
                    ids = model.generate(**enc, do_sample=False, temperature=None,
                                         top_p=None, top_k=None,
                                         max_new_tokens=args.max_new_tokens,
                                         pad_token_id=pad, eos_token_id=sorted(stops))
                for row in ids[:, enc["input_ids"].shape[1]:].tolist():
                    cut = next((k for k, t in enumerate(row) if t in stops), None)
                    kept = row if cut is None else row[:cut]
                    out.append((tok.decode(kept, skip_special_tokens=True), cut is not None))
        finally:
            torch.set_num_threads(previous)
        return out

    def subject_call(batch: int) -> list[tuple[str, bool]]:
        convs, _ = prompts_for(batch)
        replies = generate(model, tok, convs, sampling, batch_size=batch)
        # A reply shorter than the cap stopped at a stop token (which decode does not keep).
        return [(r, len(tok(r, add_special_tokens=False)["input_ids"]) < args.max_new_tokens)
                for r in replies]

    # Warm-up, untimed: first calls pay for lazy imports and allocator growth.
    warm = SamplingConfig(temperature=0, max_new_tokens=4)
    generate(model, tok, prompts_for(4)[0][:4], warm, batch_size=4)
    with torch.no_grad():
        model.generate(**tok(prompts_for(4)[1][:4], padding=True, padding_side="left",
                             add_special_tokens=False, return_tensors="pt"),
                       do_sample=False, temperature=None, top_p=None, top_k=None,
                       max_new_tokens=4, pad_token_id=pad)
    results: dict[str, dict] = {}
    for batch in sizes:
        print(f"\n== batch size {batch}: {max(args.prompts, batch)} prompts, "
              f"{-(-max(args.prompts, batch) // batch)} batches per call")
        seen: dict[str, list[tuple[str, bool]]] = {}

        other: dict[str, list[float]] = {"transformers generate": [],
                                         "accord.model.generate": []}

        def arm(name: str, call, batch: int = batch, seen: dict = seen, other: dict = other):
            def measure(_round: int) -> float:
                wall, cpu = time.perf_counter(), time.process_time()
                replies = call(batch)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                seen[name] = replies
                tokens = reply_tokens(replies)
                figure, second = (tokens / cpu, tokens / wall) if args.clock == "cpu" \
                    else (tokens / wall, tokens / cpu)
                other[name].append(second)
                return figure
            return measure

        unit = "tok/CPU-s" if args.clock == "cpu" else "tok/s"
        result = run_rounds({"transformers generate": arm("transformers generate", baseline_call),
                             "accord.model.generate": arm("accord.model.generate", subject_call)},
                            rounds=args.rounds, unit=unit, higher_is_better=True, fmt=".1f")
        print(result.report(".1f"))
        second_unit = "tok/s (wall)" if args.clock == "cpu" else "tok/CPU-s"
        second_ratio = spread([a / b for a, b in zip(other["accord.model.generate"],
                                                      other["transformers generate"],
                                                      strict=True)])
        print(f"  by {second_unit}: transformers "
              f"{spread(other['transformers generate']).text('.1f')}; accord "
              f"{spread(other['accord.model.generate']).text('.1f')}; ratio "
              f"{second_ratio.text('.3f')}")
        base, subj = seen["transformers generate"], seen["accord.model.generate"]
        same = sum(a[0] == b[0] for a, b in zip(base, subj, strict=True))
        print(f"  identical greedy replies: {same}/{len(base)}; reply tokens "
              f"{reply_tokens(base)} (transformers) vs {reply_tokens(subj)} (accord)")
        for k, (a, b) in enumerate(zip(base, subj, strict=True)):
            if a[0] != b[0]:
                at = next((i for i, (x, y) in enumerate(zip(a[0], b[0], strict=False)) if x != y),
                          min(len(a[0]), len(b[0])))
                print(f"    differs (prompt {k}) at char {at}: "
                      f"{a[0][max(0, at - 30):at + 30]!r} vs {b[0][max(0, at - 30):at + 30]!r}")
        results[str(batch)] = {**result.as_dict(), "identical": same, "replies": len(base),
                               "second_clock": {"unit": second_unit, "ratio":
                                                second_ratio.as_dict(), "arms": {
                                                    k: spread(v).as_dict()
                                                    for k, v in other.items()}},
                               "reply_tokens": {"baseline": reply_tokens(base),
                                                "subject": reply_tokens(subj)}}
    summary = {"model": args.model, "prompts": args.prompts, "data": HH_FILE,
               "data_sha256": sha256(data), "max_new_tokens": args.max_new_tokens,
               "threads": args.threads, "clock": args.clock, "torch": torch.__version__,
               "transformers": transformers.__version__, "load_after": load_average(),
               "batch_sizes": results}
    print(f"\nby {unit}:\nbatch  transformers  accord  ratio median (min-max)  identical")
    for batch, r in results.items():
        ratio = r["ratios"]["accord.model.generate/transformers generate"]
        print(f"{batch:>5}  {r['arms']['transformers generate']['median']:>12.1f}  "
              f"{r['arms']['accord.model.generate']['median']:>6.1f}  "
              f"{ratio['median']:.3f} ({ratio['min']:.3f}-{ratio['max']:.3f})"
              f"{'':>10}{r['identical']}/{r['replies']}")
    if args.out is not None:
        args.out.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
