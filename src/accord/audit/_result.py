"""What a meter run produces: one row per metric, example responses, renderings."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Direction = Literal["lower is better", "higher is better"]


@dataclass(frozen=True)
class MeterRow:
    """One metric of one model version.

    Attributes:
        metric: its name (``offensive``, ``steerability:tone``...).
        rate: the measured proportion.
        low / high: the 95 % Wilson interval.
        n: how many judgements the rate is over (responses, or option requests for
            steerability).
        direction: which way is good.
        description: what was counted, on which probes.
    """

    metric: str
    rate: float
    low: float
    high: float
    n: int
    direction: Direction
    description: str


@dataclass
class MeterResult:
    """A meter run: rows, a few judged examples per metric, and what it ran on.

    Attributes:
        rows: one per metric, in a fixed order.
        samples: metric → up to a few ``{"prompt", "response", "judgement"}`` examples
            (flagged ones first, so a report can show what the behaviour looks like).
        info: world hash, seed, samples per probe, probe counts.
    """

    rows: list[MeterRow]
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, metric: str) -> MeterRow:
        """The row called ``metric``.

        Raises:
            KeyError: no such metric in this result.
        """
        for row in self.rows:
            if row.metric == metric:
                return row
        raise KeyError(f"{metric!r}; this result has {[r.metric for r in self.rows]}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the inverse of :meth:`from_dict`)."""
        return {"rows": [asdict(r) for r in self.rows], "samples": self.samples,
                "info": self.info}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MeterResult:
        """Rebuild a result written by :meth:`to_dict`.

        Args:
            data: the dict (e.g. read back from JSON).
        """
        return cls([MeterRow(**r) for r in data["rows"]], dict(data.get("samples", {})),
                   dict(data.get("info", {})))

    def _cells(self) -> list[list[str]]:
        return [[r.metric, f"{r.rate:.3f}", f"[{r.low:.3f}, {r.high:.3f}]", str(r.n),
                 r.direction] for r in self.rows]

    _HEAD = ("metric", "rate", "95% CI (Wilson)", "n", "direction")

    def render_text(self) -> str:
        """An aligned table for the terminal."""
        cells = [list(self._HEAD), *self._cells()]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self._HEAD))]
        right = {1, 3}
        lines = ["  ".join(c.rjust(w) if i in right else c.ljust(w)
                           for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
                 for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        if self.info.get("independence"):  # set by evaluate(training_signal=...)
            lines.append(f"independence: {self.info['independence']['message']}")
        return "\n".join(lines)

    def to_html(self) -> str:
        """An HTML fragment: the table (descriptions as cell titles) and the examples,
        every piece of text escaped (responses are model output)."""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._HEAD)
        body = "".join(
            f'<tr title="{html.escape(r.description)}">'
            + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
            for r, cells in zip(self.rows, self._cells(), strict=True))
        parts = [f'<table class="meter"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
                 "</table>"]
        if self.info.get("independence"):
            from accord.audit._independence import Independence

            parts.append(Independence.from_dict(self.info["independence"]).to_html())
        for metric, examples in self.samples.items():
            if not examples:
                continue
            items = "".join(
                f"<li><q>{html.escape(_last_user(e['prompt']))}</q> → "
                f"<q>{html.escape(e['response'])}</q> "
                f"<small>{html.escape(str(e['judgement']))}</small></li>" for e in examples)
            parts.append(f'<details class="meter-samples"><summary>{html.escape(metric)}'
                         f"</summary><ul>{items}</ul></details>")
        return "\n".join(parts)


def _last_user(messages: list[dict[str, str]]) -> str:
    users = [m["content"] for m in messages if m.get("role") == "user"]
    return users[-1] if users else ""
