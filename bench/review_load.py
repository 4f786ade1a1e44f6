"""Load test of the review API: concurrent simulated reviewers against a live server.

    .venv/bin/python bench/review_load.py --backend sqlite --reviewers 50
    scripts/with-postgres .venv/bin/python bench/review_load.py --backend postgres --reviewers 200

Starts ``accord serve`` on a free loopback port over a fresh project (SQLite file, or a
fresh database on the PostgreSQL server named by ACCORD_TEST_POSTGRES_URL), creates a
rating batch from canned completions and N simulated reviewer accounts, and lets the
reviewers work through the HTTP API with a think time between tasks. Phase 1 measures
submit latency and throughput; then the server is killed with SIGKILL mid-load and
restarted while the reviewers keep retrying, and at the end every rating the server
acknowledged (answered 200) is looked up in the store: none may be missing.

The baseline is ``GET /api/health`` on the same server (same stack, no database work):
a probe client requests it every 50 ms *during* the load, so baseline and subject see
the same machine at the same moment. The load before the kill is cut into ``--rounds``
equal windows (default 5); each window gives the submissions' and the probe's p50/p95
and the ratio submit p95 / health p95, and the script prints the median and spread
(min-max) of each over the windows (bench/_rounds.py's ``spread``), beside the pooled
figures. Everything stops by itself after --duration seconds of load (plus setup), and
only talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from _rounds import add_rounds_argument, spread

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reviewers", type=int, default=50)
    parser.add_argument("--duration", type=float, default=40.0, help="seconds of load")
    parser.add_argument("--kill-at", type=float, default=None,
                        help="seconds into the load to SIGKILL the server (default: 60%%)")
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean seconds a reviewer pauses before each submission "
                        "(people take ~20 s; 2 s is ten times the load of a real panel)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--overlap", type=int, default=3)
    add_rounds_argument(parser)
    args = parser.parse_args()
    if not 1 <= args.reviewers <= 500:
        parser.error("--reviewers must be between 1 and 500 (the bench is bounded)")
    kill_at = args.kill_at if args.kill_at is not None else 0.6 * args.duration

    from accord.review import (
        SimulatedReviewer,
        create_batch,
        make_panel,
        register_simulated_reviewers,
        simulate_over_http,
        store_canned_completions,
    )
    from accord.spec import load_spec
    from accord.store import Store, record_spec_version

    work = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    env = dict(os.environ)
    drop_db = None
    try:
        shutil.copytree(DEMO / "spec", work / "spec")
        shutil.copy(DEMO / "accord.toml", work / "accord.toml")
        if args.backend == "postgres":
            url, drop_db = _fresh_postgres()
            env["ACCORD_DATABASE_URL"] = url
        else:
            url = f"sqlite:///{work / '.accord' / 'accord.sqlite3'}"
            env.pop("ACCORD_DATABASE_URL", None)
        expected_tasks = int(args.reviewers * args.duration / max(args.think, 0.1) * 1.5) + 100
        items = expected_tasks // args.overlap + args.reviewers
        t0 = time.perf_counter()
        store = Store.open(url)
        spec = load_spec(work / "spec")
        panel = make_panel(args.reviewers, seed=7)
        with store.session() as session:
            row = record_spec_version(session, hash=spec.hash, content=spec.content(),
                                      name="bench")
            store_canned_completions(session, row, prompts=items, completions_per_prompt=1)
            batch = create_batch(session, name="load", kind="rating", model_version="canned",
                                 spec_version=row, prompts=items, completions_per_prompt=1,
                                 overlap=args.overlap).id
            credentials = register_simulated_reviewers(session, panel)
        print(f"setup: {items} items, {args.reviewers} simulated reviewers "
              f"({time.perf_counter() - t0:.1f}s)", flush=True)

        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _start(work, port, args.workers, env)
        _wait(base)
        health = _baseline(base)

        stop = threading.Event()
        results: list[Any] = [None] * len(panel)
        ready = threading.Semaphore(0)

        def run(index: int) -> None:
            rng = random.Random(index)
            results[index] = simulate_over_http(
                base, credentials[index], batch, SimulatedReviewer(panel[index], seed=7),
                think_s=lambda: min(rng.expovariate(1 / args.think), 5 * args.think),
                survey=False, stop=stop.is_set, on_ready=ready.release, retry_for_s=120.0)

        threads = [threading.Thread(target=run, args=(i,), daemon=True)
                   for i in range(len(panel))]
        for thread in threads:
            thread.start()
            time.sleep(0.01)  # stagger sign-ins a little, as people do
        for _ in threads:  # measure from when everyone has signed in (argon2 is slow)
            ready.acquire()
        load_start = time.time()
        probe_stop = threading.Event()
        probes: list[tuple[float, float, float]] = []
        prober = threading.Thread(target=_probe, args=(base, probe_stop, probes), daemon=True)
        prober.start()
        print(f"load: {len(threads)} reviewers signed in on {base} ({args.backend}, "
              f"{args.workers} worker(s), think {args.think}s)", flush=True)
        time.sleep(kill_at)
        probe_stop.set()
        prober.join(timeout=30)
        killed_at = time.time()
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        server = _start(work, port, args.workers, env)
        _wait(base)
        back_at = time.time()
        print(f"SIGKILL at {killed_at - load_start:.1f}s; server back after "
              f"{back_at - killed_at:.1f}s", flush=True)
        time.sleep(max(0.0, args.duration - (time.time() - load_start)))
        stop.set()
        for thread in threads:
            thread.join(timeout=180)
        end = time.time()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

        acked = [a for r in results if r for a in r.acknowledged]
        steady = [a for a in acked if load_start <= a["at"]
                  and a["at"] + a["latency_s"] < killed_at]
        lat = sorted(a["latency_s"] * 1000 for a in steady)
        in_app = sorted(a["server_ms"] for a in steady if a["server_ms"] is not None)
        missing = _missing(store, acked)
        errors = [e for r in results if r for e in r.errors if not e.startswith(("Connect",
                                                                               "Remote",
                                                                               "Read"))]
        p50, p95, p99 = (_pct(lat, q) for q in (50, 95, 99))
        h50, h95 = _pct(health, 50), _pct(health, 95)
        print(f"\nsubmit latency before the kill ({len(lat)} submissions): "
              f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms")
        print(f"time in the app (Server-Timing): p50 {_pct(in_app, 50):.1f} ms, "
              f"p95 {_pct(in_app, 95):.1f} ms (the rest is queueing and the client)")
        print(f"baseline GET /api/health (unloaded): p50 {h50:.1f} ms, p95 {h95:.1f} ms; "
              f"ratio submit/health p50 {p50 / h50:.1f}x, p95 {p95 / h95:.1f}x")
        print(f"throughput: {len(steady) / (killed_at - load_start):.1f} submissions/s before "
              f"the kill, {len(acked) / (end - load_start):.1f}/s overall")
        print(f"acknowledged ratings: {len(acked)}; missing from the store after SIGKILL and "
              f"restart: {missing}; client retries: {sum(r.retries for r in results if r)}; "
              f"other errors: {len(errors)}")
        windows = _windows(steady, probes, load_start, killed_at, args.rounds)
        print(f"\nper window ({args.rounds} windows of {(killed_at - load_start) / args.rounds:.1f}"
              " s before the kill; baseline: GET /api/health probed during the same window):")
        for k, w in enumerate(windows):
            print(f"  window {k + 1}: load {w['load']:.1f}, {w['n']} submissions, submit "
                  f"p50 {w['p50']:.1f} / p95 {w['p95']:.1f} ms, health p50 {w['h50']:.1f} / "
                  f"p95 {w['h95']:.1f} ms, ratio p95 {w['ratio']:.2f}")
        usable = [w for w in windows if w["n"] and w["hn"]]
        if usable:
            for key, label in (("p50", "submit p50 ms"), ("p95", "submit p95 ms"),
                               ("h95", "health p95 ms"), ("ratio", "ratio submit/health p95")):
                print(f"  {label}: {spread([w[key] for w in usable]).text('.2f')}")
            median_p95 = spread([w["p95"] for w in usable]).median
            print(f"goal p95 < 150 ms: {'met' if median_p95 < 150 else 'NOT met'} at the "
                  f"median window (pooled p95 {p95:.1f} ms)")
        else:
            print("no window had both submissions and probes: lengthen --duration")
        store.close()
        if errors:
            log = (work / "server.log").read_text(errors="replace")
            print(f"first errors: {errors[:3]}\nserver log tail:\n{log[-3000:]}")
        return 0 if missing == 0 and not errors else 1
    finally:
        if drop_db:
            drop_db()
        shutil.rmtree(work, ignore_errors=True)


def _start(project: Path, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    # A new session, so SIGKILL reaches uvicorn's workers too, not just its supervisor.
    return subprocess.Popen(
        [sys.executable, "-m", "accord", "serve", "-p", str(project), "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=(project / "server.log").open("ab"))


def _wait(base: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server at {base} did not start within {timeout:.0f}s")


def _probe(base: str, stop: threading.Event, out: list[tuple[float, float, float]]) -> None:
    """GET /api/health every 50 ms until ``stop``: (when, latency ms, load average)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        while not stop.is_set():
            at, started = time.time(), time.perf_counter()
            try:
                client.get("/api/health")
            except httpx.TransportError:
                continue
            out.append((at, (time.perf_counter() - started) * 1000, os.getloadavg()[0]))
            stop.wait(0.05)


def _windows(steady: list[dict[str, Any]], probes: list[tuple[float, float, float]],
             start: float,
             end: float, rounds: int) -> list[dict[str, float]]:
    """Submissions and probes cut into ``rounds`` equal windows of [start, end)."""
    width = (end - start) / rounds
    out = []
    for k in range(rounds):
        lo, hi = start + k * width, start + (k + 1) * width
        lat = sorted(a["latency_s"] * 1000 for a in steady if lo <= a["at"] < hi)
        inside = [(ms, load) for at, ms, load in probes if lo <= at < hi]
        health = sorted(ms for ms, _ in inside)
        p95, h95 = _pct(lat, 95), _pct(health, 95)
        out.append({"n": len(lat), "hn": len(health), "p50": _pct(lat, 50), "p95": p95,
                    "h50": _pct(health, 50), "h95": h95,
                    "ratio": p95 / h95 if health and lat else float("nan"),
                    "load": statistics.median(ld for _, ld in inside) if inside else 0.0})
    return out


def _baseline(base: str, n: int = 200) -> list[float]:
    times = []
    with httpx.Client(base_url=base) as client:
        for _ in range(n):
            started = time.perf_counter()
            client.get("/api/health")
            times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def _missing(store: Any, acked: list[dict[str, Any]]) -> int:
    from sqlalchemy import select

    from accord.review import Rating

    with store.session() as session:
        stored = dict(session.execute(select(Rating.assignment_id, Rating.values)).all())
    return sum(1 for a in acked if stored.get(a["task_id"]) != a["values"])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(
        values) > 1 else values[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fresh_postgres() -> tuple[str, Any]:
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    server = os.environ.get("ACCORD_TEST_POSTGRES_URL", "").strip()
    if not server:
        raise SystemExit("set ACCORD_TEST_POSTGRES_URL, e.g. run under scripts/with-postgres")
    name = f"accord_bench_{uuid.uuid4().hex[:12]}"
    parsed = make_url(server)
    libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))

    url = parsed.set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False), drop


if __name__ == "__main__":
    sys.exit(main())
