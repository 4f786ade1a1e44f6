"""What a limit counted in the store costs a request (issue 16, "limits that hold").

    .venv/bin/python bench/limits_overhead.py [--rounds 5] [--calls 200]
    scripts/with-postgres .venv/bin/python bench/limits_overhead.py   # adds PostgreSQL

Since the counters moved from each worker's memory into the store, every ``/v1`` request
and chat message takes one short locked write transaction (two buckets: key and account),
and a sign-in two or three. Baseline: the sign-in lookup every request already does
(``session_account``, one query), on the same store in the same run. Baseline and subject
alternate, ``--rounds`` times; the script prints each one's median time per call over the
rounds, the spread (lowest and highest round) and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from accord.accounts import create_user, session_account, start_session
from accord.serve import RateLimiter, SignInLimiter
from accord.store import Store


def _per_call_ms(fn: Callable[[int], None], calls: int) -> float:
    started = time.perf_counter()
    for i in range(calls):
        fn(i)
    return (time.perf_counter() - started) * 1000 / calls


def bench(url: str, rounds: int, calls: int) -> dict[str, list[float]]:
    store = Store.open(url)
    try:
        with store.session() as s:
            token, _ = start_session(s, create_user(s, "bench", "bench password", ["reviewer"]))
        limiter = RateLimiter(store, per_minute=10**9)  # never refuses: the cost of counting
        sign_in = SignInLimiter(store)

        def lookup(i: int) -> None:
            with store.session() as s:
                session_account(s, token)

        def rate(i: int) -> None:
            limiter.hit(f"chat:key:{i % 50}", f"chat:account:{i % 10}")

        def failed_sign_in(i: int) -> None:
            # An attempt and its failure; 1000 names so no account is ever shut.
            sign_in.failed(sign_in.attempt(f"name{i % 1000}", f"10.0.{i % 200}.1"))

        times: dict[str, list[float]] = {"lookup": [], "rate": [], "sign_in": []}
        for _ in range(rounds):
            for name, fn in (("lookup", lookup), ("rate", rate), ("sign_in", failed_sign_in)):
                times[name].append(_per_call_ms(fn, calls))
        return times
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    backends = {"sqlite": None}
    if os.environ.get("ACCORD_TEST_POSTGRES_URL"):
        backends["postgres"] = os.environ["ACCORD_TEST_POSTGRES_URL"]
    for backend, server in backends.items():
        with tempfile.TemporaryDirectory() as tmp:
            if server is None:
                url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
                times = bench(url, args.rounds, args.calls)
            else:
                import uuid

                import psycopg
                from sqlalchemy.engine import make_url

                name = f"accord_bench_{uuid.uuid4().hex[:12]}"
                admin = make_url(server).set(drivername="postgresql").render_as_string(
                    hide_password=False)
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
                try:
                    url = make_url(server).set(drivername="postgresql+psycopg",
                                               database=name).render_as_string(
                                                   hide_password=False)
                    times = bench(url, args.rounds, args.calls)
                finally:
                    with psycopg.connect(admin, autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        base = statistics.median(times["lookup"])
        for label, key in (("session lookup (baseline)", "lookup"),
                           ("rate limit hit, 2 buckets", "rate"),
                           ("failed sign-in (attempt + failure)", "sign_in")):
            med = statistics.median(times[key])
            print(f"{backend:8s} {label:36s} median {med:6.2f} ms  spread "
                  f"{min(times[key]):.2f}-{max(times[key]):.2f} ms  ×{med / base:.1f}")


if __name__ == "__main__":
    main()
