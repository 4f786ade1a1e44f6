"""Serving under the bounds: what enforcement costs, and streaming throughput.

1. The same prompts, model and seeds, answered in one batch without enforcement and with
   it (screens on every answer, resampling, safe completions). Prints both times and the
   ratio (goal <= 1.10x), plus the screens' own share (screening without the resamples).
2. 20 concurrent streaming clients (the official openai SDK, async) against a live
   uvicorn server on 127.0.0.1 serving the same model with enforcement: requests/s,
   completion tokens/s, time to first content chunk.

    .venv/bin/python bench/serve_overhead.py [--model PATH] [--prompts 96] [--clients 20]
        [--max-resamples 2]

Without --model it uses the newest demo model (examples/demo/.accord/stages/pretrain-*/).
Runs in under two minutes on two CPU cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "serve"))


def _demo_model() -> Path:
    found = sorted((ROOT / "examples/demo/.accord/stages").glob("pretrain-*/model/config.json"),
                   key=lambda p: p.stat().st_mtime)
    if not found:
        sys.exit("no demo model found: run `make demo` first or pass --model PATH")
    return found[-1].parent


def _prompts(n: int) -> list[tuple[list[dict[str, str]], dict[str, str]]]:
    from accord.world import WorldConfig, build_world

    world = build_world(WorldConfig(n_dialogues=100, share_plain_text=0.0, n_review=n, n_sft=2,
                                    n_rl=2, n_preference_pairs=2, n_probe=2))
    out = []
    for p in world.prompts["review"][:n]:
        turns = [m for m in p["messages"] if m["role"] != "system"]
        out.append((turns, dict(p["settings"])))
    return out


def overhead(service, prompts, max_tokens: int, rounds: int) -> None:
    from accord.customize import ChatRequest, resolve_profile
    from accord.model import SamplingConfig

    reqs = [ChatRequest(model="m", messages=turns, source="bench",
                        effective=resolve_profile(service.spec, conversation=settings),
                        sampling=SamplingConfig(temperature=0.7, top_p=1.0,
                                                max_new_tokens=max_tokens, seed=i))
            for i, (turns, settings) in enumerate(prompts)]
    service.complete_many(reqs[:4])  # warm up: the classifiers load on first use
    plain, enforced, screening = [], [], []
    for _ in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        raw = service.complete_many(reqs, enforce=False)
        plain.append((time.perf_counter() - t, time.process_time() - c))
        t, c = time.perf_counter(), time.process_time()
        results = service.complete_many(reqs, enforce=True)
        enforced.append((time.perf_counter() - t, time.process_time() - c))
        convs = [service.conversation(r) for r in reqs]
        t = time.process_time()
        service.check(convs, [r.text for r in raw])
        screening.append(time.process_time() - t)
    resampled = sum(r.attempts - 1 for r in results)
    replaced = sum(r.enforced for r in results)
    pw, pc = (statistics.median(x[i] for x in plain) for i in (0, 1))
    ew, ec = (statistics.median(x[i] for x in enforced) for i in (0, 1))
    s = statistics.median(screening)
    print(f"{len(reqs)} prompts, max {max_tokens} new tokens, median of {rounds} rounds "
          "(CPU time of this process, which other jobs on the machine do not inflate; "
          "wall time beside it)")
    print(f"  without enforcement: {pc:.2f} s CPU ({pw:.2f} s wall)")
    print(f"  with enforcement:    {ec:.2f} s CPU ({ew:.2f} s wall)   ratio {ec / pc:.3f}x CPU, "
          f"{ew / pw:.3f}x wall (goal <= 1.10x)")
    print(f"  screening alone:     {s:.3f} s CPU ({s / len(reqs) * 1000:.2f} ms an answer; "
          f"{(pc + s) / pc:.3f}x without resamples)")
    print(f"  last round: {sum(bool(r.crossed) for r in results)} answers crossed a bound, "
          f"{resampled} resamples, {replaced} safe completions shown")


async def _clients(base: str, key: str, clients: int, each: int, max_tokens: int) -> None:
    import openai

    client = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=120)
    first: list[float] = []
    tokens = 0

    async def one(i: int, j: int) -> None:
        nonlocal tokens
        started = time.perf_counter()
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": f"What is {i} plus {j}?"}],
            stream=True, stream_options={"include_usage": True}, max_tokens=max_tokens,
            seed=i * 100 + j)
        seen = False
        async for chunk in stream:
            if not seen and chunk.choices and chunk.choices[0].delta.content:
                first.append(time.perf_counter() - started)
                seen = True
            if chunk.usage is not None:
                tokens += chunk.usage.completion_tokens

    async def client_loop(i: int) -> None:
        for j in range(each):
            await one(i, j)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(i) for i in range(clients)))
    took = time.perf_counter() - started
    first.sort()
    print(f"{clients} concurrent streaming clients x {each} requests, max {max_tokens} tokens, "
          "enforcement on:")
    print(f"  {clients * each / took:.2f} requests/s, {tokens / took:.0f} completion tokens/s "
          f"({took:.1f} s in all)")
    print(f"  time to first content chunk: p50 {first[len(first) // 2] * 1000:.0f} ms, "
          f"p95 {first[int(len(first) * 0.95) - 1] * 1000:.0f} ms")


def throughput(service, runner, clients: int, each: int, max_tokens: int) -> None:
    from serve_site import live_server

    from accord.accounts import create_user
    from accord.customize import create_api_key
    from accord.serve import create_app
    from accord.store import Store

    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/accord.sqlite3")
        service.store = store
        app = create_app(store, chat=service, customize=service.settings)
        service.lock = app.state.sqlite_write_lock
        with store.session() as s:
            _, key = create_api_key(s, create_user(s, "bench", "correct horse battery",
                                                   ["reviewer"]).id, "bench")
        try:
            with live_server(app) as base:
                asyncio.run(_clients(base, key, clients, each, max_tokens))
        finally:
            service.store = None
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--prompts", type=int, default=96)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--each", type=int, default=3)
    parser.add_argument("--max-resamples", type=int, default=2,
                        help="samples drawn after a crossing ([customize] max_resamples)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from accord.customize import ChatService, CustomizeSettings, load_runner
    from accord.spec import load_spec

    model = args.model or _demo_model()
    print(f"model: {model}")
    runner = load_runner("m", model, max_batch=32)
    settings = CustomizeSettings(requests_per_minute=100_000, max_resamples=args.max_resamples)
    print(f"max_resamples: {args.max_resamples}")
    service = ChatService(load_spec(ROOT / "examples/demo/spec"), settings, {"m": runner},
                          world_models={"m"})
    overhead(service, _prompts(args.prompts), args.max_tokens, args.rounds)
    throughput(service, runner, args.clients, args.each, args.max_tokens)


if __name__ == "__main__":
    main()
