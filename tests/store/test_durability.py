"""A commit is durable: rows committed before a process is killed are there afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import select

import accord
from accord.store import Prompt, Store

# The child commits two prompts, starts a third without committing, says so, and waits
# to be killed mid-transaction.
CHILD = textwrap.dedent(
    """
    import sys, time
    from accord.store import Store, upsert_prompt

    store = Store.open(sys.argv[1])
    for text in ("first", "second"):
        with store.session() as session:
            upsert_prompt(session, [{"role": "user", "content": text}], "review", "crash-test")
    session = store.sessions()
    session.begin()
    upsert_prompt(session, [{"role": "user", "content": "uncommitted"}], "review", "crash-test")
    session.flush()
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_committed_rows_survive_a_killed_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'accord.sqlite3'}"
    env = {**os.environ, "PYTHONPATH": str(Path(accord.__file__).parents[1])}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    with Store.open(url) as store, store.session() as session:
        texts = [
            p.messages[0]["content"] for p in session.scalars(select(Prompt).order_by(Prompt.id))
        ]
    assert texts == ["first", "second"]
