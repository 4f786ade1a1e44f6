"""Serving under the bounds: what enforcement costs, and streaming throughput.

1. The same prompts, model and seeds, answered in one batch without enforcement (the
   baseline) and with it (screens on every answer, resampling, safe completions),
   alternated for ``--rounds`` rounds (bench/_rounds.py). The figure is this process's
   CPU time (other jobs on a shared machine stretch wall time, not our CPU seconds; wall
   time is printed beside it); per-round ratios with their median and spread (goal
   <= 1.10x). Then the screens' own share: screening the unenforced answers, timed
   ``--rounds`` times.
2. Concurrent streaming clients (the official openai SDK, async) against a live uvicorn
   server on 127.0.0.1 serving the same model with enforcement: requests/s, completion
   tokens/s, time to first content chunk, over ``--rounds`` runs (median and spread).
   There is no baseline here: it is a throughput figure, not a ratio.

    .venv/bin/python bench/serve_overhead.py [--model PATH] [--prompts 96] [--clients 20]
        [--max-resamples 2] [--rounds 5]

Without --model it uses the newest demo model (examples/demo/.accord/stages/pretrain-*/).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from _rounds import add_rounds_argument, run_rounds, spread

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
    wall: dict[bool, list[float]] = {False: [], True: []}
    last: dict[bool, list] = {}

    def arm(enforce: bool):
        def measure(_round: int) -> float:
            t, c = time.perf_counter(), time.process_time()
            last[enforce] = service.complete_many(reqs, enforce=enforce)
            wall[enforce].append(time.perf_counter() - t)
            return time.process_time() - c
        return measure

    print(f"{len(reqs)} prompts, max {max_tokens} new tokens; figure: CPU seconds of this "
          "process (wall beside it)")
    result = run_rounds({"without enforcement": arm(False), "with enforcement": arm(True)},
                        rounds=rounds, unit="s CPU", fmt=".2f")
    print(result.report(".2f"))
    wall_ratio = spread([e / p for e, p in zip(wall[True], wall[False], strict=True)])
    print(f"  wall: without {spread(wall[False]).text('.2f', ' s')}")
    print(f"        with    {spread(wall[True]).text('.2f', ' s')}")
    print(f"  wall ratio with / without: {wall_ratio.text()}  (goal <= 1.10x)")
    convs = [service.conversation(r) for r in reqs]
    raw_texts = [r.text for r in last[False]]
    screening = []
    for _ in range(rounds):
        t = time.process_time()
        service.check(convs, raw_texts)
        screening.append(time.process_time() - t)
    s = spread(screening)
    base = result.spread("without enforcement").median
    print(f"  screening alone: {s.text('.3f', ' s CPU')}; "
          f"{s.median / len(reqs) * 1000:.2f} ms an answer; {(base + s.median) / base:.3f}x "
          "the unenforced median without resamples")
    results = last[True]
    resampled = sum(r.attempts - 1 for r in results)
    replaced = sum(r.enforced for r in results)
    print(f"  last round: {sum(bool(r.crossed) for r in results)} answers crossed a bound, "
          f"{resampled} resamples, {replaced} safe completions shown")


async def _clients(base: str, key: str, clients: int, each: int,
                   max_tokens: int) -> dict[str, float]:
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
    try:
        await asyncio.gather(*(client_loop(i) for i in range(clients)))
    finally:
        # Closed inside this event loop: a client collected after asyncio.run ends would
        # try to close its connections on a loop that is gone.
        await client.close()
    took = time.perf_counter() - started
    first.sort()
    return {"requests_per_s": clients * each / took, "tokens_per_s": tokens / took,
            "first_p50_ms": first[len(first) // 2] * 1000,
            "first_p95_ms": first[max(int(len(first) * 0.95) - 1, 0)] * 1000}


def throughput(service, runner, clients: int, each: int, max_tokens: int,
               rounds: int) -> None:
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
            runs = []
            with live_server(app) as base:
                for k in range(rounds):
                    runs.append(asyncio.run(_clients(base, key, clients, each, max_tokens)))
                    print(f"  run {k + 1}/{rounds}: {runs[-1]['requests_per_s']:.2f} req/s",
                          flush=True)
            print(f"{clients} concurrent streaming clients x {each} requests, max "
                  f"{max_tokens} tokens, enforcement on; no baseline (a throughput figure), "
                  f"{rounds} runs:")
            for key_, label in (("requests_per_s", "requests/s"),
                                ("tokens_per_s", "completion tokens/s"),
                                ("first_p50_ms", "first content chunk p50 (ms)"),
                                ("first_p95_ms", "first content chunk p95 (ms)")):
                print(f"  {label}: {spread([r[key_] for r in runs]).text('.1f')}")
        finally:
            service.store = None
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--prompts", type=int, default=96)
    parser.add_argument("--max-tokens", type=int, default=48)
    add_rounds_argument(parser)
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
    throughput(service, runner, args.clients, args.each, args.max_tokens, args.rounds)


if __name__ == "__main__":
    main()
