"""Progress output: rich bars on a terminal, plain lines without escape codes in a log."""

from __future__ import annotations

import io

import pytest

from accord.progress import is_interactive, task, track


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_in_a_log() -> None:
    out = io.StringIO()
    items = list(track(range(4), "counting", stream=out))
    assert items == [0, 1, 2, 3]
    text = out.getvalue()
    assert "\x1b[" not in text
    assert text.splitlines()[-1].startswith("counting: 4/4 (")


def test_plain_mode_throttles_and_reports_fields() -> None:
    out = io.StringIO()
    with task("train", total=1000, stream=out, plain_every=3600) as t:
        for _ in range(1000):
            t.advance(loss=1.5)
    lines = out.getvalue().splitlines()
    # the first advance prints, then nothing for an hour, then the final line
    assert len(lines) == 2
    assert lines[-1].startswith("train: 1000/1000") and lines[-1].endswith("loss=1.5")


def test_no_color_disables_rich_even_on_a_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert is_interactive(FakeTTY())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not is_interactive(FakeTTY())
    out = FakeTTY()
    list(track(range(3), "x", stream=out))
    assert "\x1b[" not in out.getvalue()


def test_rich_bar_on_a_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    out = FakeTTY()
    list(track(range(3), "bars", stream=out))
    assert "bars" in out.getvalue() and "3/3" in out.getvalue()
