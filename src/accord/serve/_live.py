"""Serving an app on a free loopback port from a background thread (pipeline, tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from accord.errors import AccordError


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app: Any, *, start_timeout_s: float = 30.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a daemon thread; yields the base URL and
    stops the server on exit.

    Raises:
        AccordError: the server did not start within ``start_timeout_s``.
    """
    import uvicorn

    port = free_port()
    # proxy_headers off: the app decides whom to believe (accord.serve._signin_limit).
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False,
                                           proxy_headers=False))
    thread = threading.Thread(target=server.run, name=f"accord-serve-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise AccordError(f"the web app did not start on 127.0.0.1:{port} within "
                              f"{start_timeout_s:.0f} s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
