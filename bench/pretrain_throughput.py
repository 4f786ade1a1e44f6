"""Accord's pretraining loop against a bare PyTorch loop, in one run.

Both train the same model size from the same initial weights on the same packed batches
(same per-document position ids, so the same block-diagonal attention) for the same
number of steps, after an untimed warm-up. The bare loop (the baseline) is forward,
loss, backward, AdamW step and nothing else; Accord's adds the LR schedule, gradient
clipping, loss logging, progress and a checkpoint (loop ratio, the goal: >= 0.95), and
around the loop packing, the final save and the loss-curve plot (whole-call ratio). The
two alternate for ``--rounds`` rounds (bench/_rounds.py: order swapped every round, fresh
model each time); the figures are tokens/s, the ratios per round accord / bare, printed
with their median and spread.

MFU: model FLOPs per token ~ 6 * params + 12 * layers * d_model * seq_len (nanoGPT's
estimate, backward included), against the measured peak of a large matmul on this
machine in the training dtype (fp32 on CPU, bf16 on a GPU).

    .venv/bin/python bench/pretrain_throughput.py [--size small] [--steps 20] [--batch-size 16]
        [--rounds 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

from _rounds import add_rounds_argument, run_rounds, spread
from accord.model import (
    IGNORE,
    PretrainConfig,
    autocast,
    available_cores,
    build_model,
    count_parameters,
    pack_documents,
    pick_device,
    pretrain,
    render_chat,
    train_tokenizer,
    uses_bf16,
)

PLACES = ["Alba", "Borin", "Cedra", "Dovan", "Elmira", "Fenwick", "Galor", "Hestia", "Ivo",
          "Jorun", "Kesta", "Lumen", "Morrow", "Nadir", "Orla", "Pell"]
THINGS = ["river", "market", "castle", "forest", "bridge", "library", "harbor", "mountain"]


def chat_corpus(n: int, seed: int = 0) -> list[list[dict]]:
    """A templated chat corpus (the demo world's shape, without depending on it)."""
    r = random.Random(seed)
    chats = []
    for _ in range(n):
        a, b, t = r.choice(PLACES), r.choice(PLACES), r.choice(THINGS)
        q = r.choice([f"Where is the {t} of {a}?", f"Tell me about the {t} in {a}.",
                      f"Is the {t} of {a} near {b}?"])
        ans = r.choice([f"The {t} of {a} lies east of {b}.",
                        f"The {t} in {a} is old and quiet; it is near {b}.",
                        f"Yes, the {t} of {a} is a short walk from {b}."])
        chats.append([{"role": "user", "content": q}, {"role": "assistant", "content": ans}])
    return chats


def matmul_peak(device: torch.device) -> float:
    """FLOP/s of a large square matmul (2 n^3 FLOPs) in the training dtype."""
    n = 4096 if device.type == "cuda" else 2048
    dtype = torch.bfloat16 if uses_bf16(device) else torch.float32
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    reps = 50 if device.type == "cuda" else 5
    for _ in range(2):
        a @ b
    sync(device)
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n**3 * reps / (time.perf_counter() - t0)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_loop(model, batches, lr: float, device: torch.device) -> float:
    """Forward, loss, backward, AdamW step over ``batches``; returns seconds."""
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, fused=device.type == "cuda")
    sync(device)
    t0 = time.perf_counter()
    for batch in batches:
        with autocast(device):
            logits = model(input_ids=batch.input_ids.to(device),
                           position_ids=batch.position_ids.to(device), use_cache=False).logits
        loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)),
                               batch.targets.to(device).view(-1), ignore_index=IGNORE)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    sync(device)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="small", help="model size (tiny, small, medium)")
    parser.add_argument("--steps", type=int, default=20, help="optimizer steps per loop")
    parser.add_argument("--batch-size", type=int, default=16, help="packed rows per step")
    parser.add_argument("--chats", type=int, default=4000, help="documents in the corpus")
    parser.add_argument("--checkpoint-every", type=int, default=None,
                        help="Accord's checkpoint interval (default: one, half way; 0: none)")
    parser.add_argument("--device", default=None, help="cpu / cuda (default: cuda if present)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: cores)")
    add_rounds_argument(parser)
    args = parser.parse_args(argv)

    device = pick_device(args.device)
    threads = args.threads or available_cores()
    torch.set_num_threads(threads)
    tokenizer = train_tokenizer(
        [m["content"] for chat in chat_corpus(2000, seed=1) for m in chat], vocab_size=1024)
    documents = [render_chat(tokenizer, chat) for chat in chat_corpus(args.chats)]
    model = build_model(args.size, tokenizer, seed=0)
    params, seq_len = count_parameters(model), model.config.max_position_embeddings
    layers, width = model.config.num_hidden_layers, model.config.hidden_size
    flops_per_token = 6 * params + 12 * layers * width * seq_len
    config = PretrainConfig(steps=args.steps, batch_size=args.batch_size,
                            warmup_steps=max(1, args.steps // 10),
                            checkpoint_every=max(1, args.steps // 2)
                            if args.checkpoint_every is None else args.checkpoint_every,
                            device=str(device), num_threads=threads, seed=0)
    tokens = args.steps * args.batch_size * seq_len
    print(f"device={device} threads={threads} size={args.size} params={params:,} "
          f"seq_len={seq_len} batch={args.batch_size} steps={args.steps} tokens={tokens:,} "
          f"checkpoint_every={config.checkpoint_every}",
          flush=True)

    corpus = pack_documents(tokenizer, documents, seq_len)
    batches = [corpus.batch(s, args.batch_size, config.seed) for s in range(args.steps)]
    # Untimed warm-up (CUDA context, kernel selection, allocator, thread pools), so that
    # whichever loop runs first is not charged for it.
    bare_loop(build_model(args.size, tokenizer, seed=0), batches[:3], config.learning_rate,
              device)
    whole: list[float] = []
    losses: list[float] = []

    def bare(_round: int) -> float:
        seconds = bare_loop(build_model(args.size, tokenizer, seed=0), batches,
                            config.learning_rate, device)
        return tokens / seconds

    def accord(_round: int) -> float:
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            result = pretrain(config, tokenizer, build_model(args.size, tokenizer, seed=0),
                              documents, out)
            # The whole call: packing, checkpoint, saving, the loss plot.
            whole.append(tokens / (time.perf_counter() - t0))
        losses.append(result.final_loss)
        return result.tokens_per_second  # the training loop alone: the goal's measure

    rounds = run_rounds({"bare loop": bare, "accord.pretrain (loop)": accord},
                        rounds=args.rounds, unit="tok/s", higher_is_better=True, fmt=".0f")
    print(rounds.report(".0f"))
    whole_ratio = spread([w / b for w, b in zip(whole, rounds.values["bare loop"],
                                                strict=True)])
    print(f"  accord.pretrain (whole call): {spread(whole).text('.0f', ' tok/s')}")
    print(f"  ratio whole call / bare loop: {whole_ratio.text()}")
    peak = matmul_peak(device)
    for name, tps in (("bare loop", rounds.spread("bare loop").median),
                      ("accord.pretrain (loop only)",
                       rounds.spread("accord.pretrain (loop)").median),
                      ("accord.pretrain (whole call)", spread(whole).median)):
        print(f"{name:30s} median {tps:10.0f} tokens/s   MFU {tps * flops_per_token / peak:6.1%}")
    print(f"matmul peak ({'bf16' if uses_bf16(device) else 'fp32'}): {peak / 1e9:.1f} GFLOP/s; "
          f"model: {flops_per_token / 1e6:.1f} MFLOP/token")
    # The loop ratio is the goal's measure: Accord's training loop (schedule, clipping,
    # logging, progress, checkpoints) against the bare one. The whole call adds one-off
    # work (tokenizing and packing, saving the model, drawing the curve) that a minutes-long
    # run amortises but a short benchmark does not.
    print(f"ratio accord/bare (loop only): median "
          f"{rounds.ratio_spread('accord.pretrain (loop)').median:.3f}  (goal >= 0.95)")
    print(f"final loss {statistics.median(losses):.3f} (median over rounds)")


if __name__ == "__main__":
    main()
