"""What a limit counted in the store costs a request (issue 16, "limits that hold").

    .venv/bin/python bench/limits_overhead.py [--rounds 5] [--calls 200]
    scripts/with-postgres .venv/bin/python bench/limits_overhead.py   # adds PostgreSQL

Since the counters moved from each worker's memory into the store, every ``/v1`` request
and chat message takes one short locked write transaction (two buckets: key and account),
and a sign-in two or three. Baseline: the sign-in lookup every request already does
(``session_account``, one query), on the same store in the same run. Baseline and
subjects alternate for ``--rounds`` rounds (bench/_rounds.py: the order is swapped every
round); the script prints each one's median time per call over the rounds with its
spread (min-max, IQR) and the per-round ratios to the baseline with theirs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _rounds import RoundsResult, add_rounds_argument, run_rounds
from accord.accounts import create_user, session_account, start_session
from accord.serve import RateLimiter, SignInLimiter
from accord.store import Store


def _per_call_ms(fn: Callable[[int], None], calls: int) -> float:
    started = time.perf_counter()
    for i in range(calls):
        fn(i)
    return (time.perf_counter() - started) * 1000 / calls


LABELS = {"lookup": "session lookup (baseline)", "rate": "rate limit hit, 2 buckets",
          "sign_in": "failed sign-in (attempt + failure)"}


def bench(url: str, rounds: int, calls: int) -> RoundsResult:
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

        def arm(fn: Callable[[int], None]) -> Callable[[int], float]:
            return lambda _round: _per_call_ms(fn, calls)

        return run_rounds({LABELS["lookup"]: arm(lookup), LABELS["rate"]: arm(rate),
                           LABELS["sign_in"]: arm(failed_sign_in)},
                          rounds=rounds, unit="ms", fmt=".2f")
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_rounds_argument(parser)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    backends = {"sqlite": None}
    if os.environ.get("ACCORD_TEST_POSTGRES_URL"):
        backends["postgres"] = os.environ["ACCORD_TEST_POSTGRES_URL"]
    for backend, server in backends.items():
        print(f"== {backend}, {args.calls} calls a round, per call:", flush=True)
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
        print(times.report(".2f"), flush=True)


if __name__ == "__main__":
    main()
