"""Progress reporting for long work.

On a terminal this draws rich progress bars; in a log (not a TTY, ``NO_COLOR`` set, or
``TERM=dumb``) it degrades to plain lines with no escape codes, printed at most every
``plain_every`` seconds so logs stay short.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

T = TypeVar("T")


def is_interactive(stream: TextIO | None = None) -> bool:
    """True when rich output (colours, live bars) is appropriate for ``stream``."""
    stream = stream or sys.stderr
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class Task:
    """A handle on one unit of long work; call :meth:`advance` as it progresses."""

    def __init__(self, description: str, total: float | None, stream: TextIO,
                 plain_every: float, rich_progress=None, rich_task=None) -> None:
        self.description = description
        self.total = total
        self.completed = 0.0
        self._stream = stream
        self._plain_every = plain_every
        self._last_print: float | None = None
        self._rich = rich_progress
        self._rich_task = rich_task
        self._start = time.monotonic()

    def advance(self, amount: float = 1.0, **fields: object) -> None:
        """Record ``amount`` more units of work done.

        Args:
            amount: Units completed since the last call.
            fields: Figures to show with the count (``loss=1.5``); plain lines print them
                as ``key=value``, rich bars do not show them.
        """
        self.completed += amount
        if self._rich is not None:
            self._rich.update(self._rich_task, advance=amount)
            return
        now = time.monotonic()
        done = self.total is not None and self.completed >= self.total
        if done or self._last_print is None or now - self._last_print >= self._plain_every:
            self._last_print = now
            self._print_line(fields)

    def _print_line(self, fields: dict[str, object]) -> None:
        total = f"/{self.total:g}" if self.total is not None else ""
        extra = "".join(f" {k}={v}" for k, v in fields.items())
        elapsed = time.monotonic() - self._start
        self._stream.write(
            f"{self.description}: {self.completed:g}{total} ({elapsed:.1f}s){extra}\n")
        self._stream.flush()


@contextmanager
def task(description: str, total: float | None = None, *, stream: TextIO | None = None,
         plain_every: float = 5.0) -> Iterator[Task]:
    """Report progress of one piece of work.

    Args:
        description: what is being done, e.g. ``"pretrain"``.
        total: the number of units when known (steps, items), else ``None``.
        stream: where to report; standard error by default.
        plain_every: in plain mode, the minimum seconds between two lines.
    """
    stream = stream or sys.stderr
    if is_interactive(stream):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), TimeRemainingColumn(),
                      console=Console(file=stream), transient=False) as progress:
            handle = progress.add_task(description, total=total)
            yield Task(description, total, stream, plain_every, progress, handle)
    else:
        t = Task(description, total, stream, plain_every)
        yield t
        if t.total is None or t.completed < t.total:
            t._print_line({"done": True})


def track(iterable: Iterable[T], description: str, total: float | None = None,
          *, stream: TextIO | None = None) -> Iterator[T]:
    """Iterate over ``iterable`` while reporting progress (see :func:`task`)."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with task(description, total, stream=stream) as t:
        for item in iterable:
            yield item
            t.advance()
