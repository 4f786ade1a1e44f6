"""``accord serve --workers 2``, literally: two worker processes share the sign-in and
rate-limit counters (issue 16, "limits that hold").

A real ``accord serve`` subprocess on a loopback port, real HTTP, the store on SQLite and
on PostgreSQL (``scripts/with-postgres``). The test pins one keep-alive connection to each
worker (which process holds a connection is read from ``/proc``: the server side of the
client's port), then alternates requests between the two. With counters in each
worker's memory, each worker would see only half the failures or requests and let the
limit's overflow through; shared in the store, the limit holds at exactly its size. Every
wait has a deadline and the server is always stopped (process group, SIGTERM then
SIGKILL), so the test is bounded and leaves nothing running.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from accord.accounts import create_user
from accord.customize import create_api_key
from accord.store import Store

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(),
                                reason="finding which worker holds a connection reads /proc")

PASSWORD = "correct horse battery"
PER_MINUTE = 4
START_DEADLINE_S = 90  # two fresh interpreters importing the web app on two busy cores
STOP_DEADLINE_S = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in (Path("/proc") / str(pid) / "fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _server_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of the connection from ``client_port``."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if (int(local.rsplit(":", 1)[1], 16) == server_port
                    and int(remote.rsplit(":", 1)[1], 16) == client_port):
                return inode
    return None


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    def workers(self) -> list[int]:
        """The uvicorn worker processes: the server's children that hold sockets
        (multiprocessing's resource tracker, also a child, holds none)."""
        return [p for p in _children(self.process.pid) if _socket_inodes(p)]

    def worker_of(self, conn: http.client.HTTPConnection) -> int | None:
        inode = _server_inode(self.port, conn.sock.getsockname()[1])
        if inode is None:
            return None
        return next((p for p in self.workers() if inode in _socket_inodes(p)), None)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _request(conn: http.client.HTTPConnection, method: str, path: str,
             body: dict | None = None, headers: dict | None = None) -> tuple[int, dict, str]:
    data = json.dumps(body).encode() if body is not None else None
    sent = {"content-type": "application/json", **(headers or {})} if data else dict(
        headers or {})
    conn.request(method, path, body=data, headers=sent)
    response = conn.getresponse()
    text = response.read().decode()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, text


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    """``accord serve --workers 2`` on a project whose store is ``db_url``, with accounts
    made beforehand; stopped (and its process group killed if need be) afterwards."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "accord.toml").write_text(
        f'[project]\nname = "workers"\n\n[customize]\nrequests_per_minute = {PER_MINUTE}\n')
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "ACCORD_DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1"}
    accord = Path(sys.executable).with_name("accord")
    command = [str(accord) if accord.exists() else sys.executable, *(
        [] if accord.exists() else ["-m", "accord"]),
        "serve", "-p", str(project), "--port", str(port), "--workers", "2"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    running = Server(process, port, log)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while len(running.workers()) < 2 or not _answers(port):
            if process.poll() is not None:
                pytest.fail(f"accord serve exited with {process.returncode}:\n"
                            f"{running.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"accord serve --workers 2 was not up in {START_DEADLINE_S} s:\n"
                            f"{running.output()}")
            time.sleep(0.3)
        yield running
    finally:
        _stop(process)


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        status = _request(conn, "GET", "/login")[0]
        conn.close()
        return status == 200
    except OSError:
        return False


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (uvicorn passes it to the workers), then
    SIGKILL if it has not stopped within the deadline."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=STOP_DEADLINE_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_DEADLINE_S)
    with contextlib.suppress(ProcessLookupError):  # a worker that outlived its parent
        os.killpg(process.pid, signal.SIGKILL)


def _one_connection_per_worker(server: Server) -> list[http.client.HTTPConnection]:
    """Two keep-alive connections, each held by a different worker (the kernel hands a new
    connection to whichever worker accepts first, so keep trying, boundedly)."""
    held: dict[int, http.client.HTTPConnection] = {}
    for _ in range(200):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        assert _request(conn, "GET", "/login")[0] == 200  # now surely accepted
        worker = server.worker_of(conn)
        if worker is not None and worker not in held:
            held[worker] = conn
            if len(held) == 2:
                return list(held.values())
        else:
            conn.close()
    pytest.fail(f"could not reach both workers in 200 connections (reached {list(held)})")


@pytest.fixture
def accounts(db_url: str) -> dict[str, str]:
    """alice with two API keys, made in the store before the server starts."""
    store = Store.open(db_url)
    try:
        with store.session() as session:
            alice = create_user(session, "alice", PASSWORD, ["reviewer"])
            first = create_api_key(session, alice.id, "first", None)[1]
            second = create_api_key(session, alice.id, "second", None)[1]
    finally:
        store.close()
    return {"first": first, "second": second}


def test_two_workers_share_sign_in_and_rate_limit_counters(accounts: dict[str, str],
                                                           server: Server) -> None:
    """Sign-in: five failures are free and the sixth shuts the account; split 3 + 3 over
    the two workers, only a shared count gets there, and the seventh attempt, even with
    the right password, is refused on either worker.

    Rate limit: ``requests_per_minute = 4`` per key and per account; four requests spread
    over the two workers use it up, the fifth is refused whichever worker takes it, and
    the account's second key gets no second allowance on the other worker. (One server
    start for both: starting two workers is most of this test's time.)"""
    a, b = _one_connection_per_worker(server)
    assert server.worker_of(a) != server.worker_of(b)
    wrong = {"username": "alice", "password": "wrong password"}
    for i in range(6):
        status, _, text = _request((a, b)[i % 2], "POST", "/api/login", wrong)
        assert status == 401, (i, text)
    for conn in (a, b):
        status, headers, text = _request(conn, "POST", "/api/login",
                                         {"username": "alice", "password": PASSWORD})
        assert status == 429, text
        assert "Too many failed sign-ins for this account" in json.loads(text)["error"]
        assert "set-cookie" not in headers

    first = {"authorization": f"Bearer {accounts['first']}"}
    statuses = [_request((a, b)[i % 2], "GET", "/v1/models", headers=first)[0]
                for i in range(PER_MINUTE)]
    assert statuses == [200] * PER_MINUTE
    for conn in (a, b):
        status, headers, text = _request(conn, "GET", "/v1/models", headers=first)
        assert status == 429, text
        assert json.loads(text)["error"]["type"] == "rate_limit_error"
        assert int(headers["retry-after"]) >= 1
    second = {"authorization": f"Bearer {accounts['second']}"}
    status, _, text = _request(b, "GET", "/v1/models", headers=second)
    assert status == 429, text  # the account's bucket is empty, on every worker
    a.close()
    b.close()
