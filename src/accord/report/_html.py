"""Small HTML building blocks for offline reports: escaped text, tables, embedded images.

Everything is inline (CSS in the page, images as data URIs) so a report opens from disk,
offline, with no CDN.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup, escape


@dataclass
class Section:
    """One titled part of a report; ``body`` is a list of already-safe HTML fragments."""

    title: str
    body: list[Markup] = field(default_factory=list)
    anchor: str = ""

    def add(self, *fragments: Markup | str) -> Section:
        for fragment in fragments:
            self.body.append(fragment if isinstance(fragment, Markup) else paragraph(fragment))
        return self


def paragraph(text: str) -> Markup:
    return Markup("<p>{}</p>").format(text)


def heading(text: str, level: int = 3) -> Markup:
    return Markup(f"<h{level}>{{}}</h{level}>").format(text)


def pre(text: str) -> Markup:
    return Markup('<pre>{}</pre>').format(text)


def fmt(value: object) -> str:
    """Numbers rounded for reading; everything else as text."""
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e4 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]],
          *, caption: str | None = None, numeric: bool = True) -> Markup:
    """An HTML table; cells are escaped, numbers formatted with :func:`fmt`."""
    out = [Markup('<table>')]
    if caption:
        out.append(Markup("<caption>{}</caption>").format(caption))
    out.append(Markup("<thead><tr>") + Markup("").join(
        Markup("<th>{}</th>").format(h) for h in headers) + Markup("</tr></thead><tbody>"))
    for row in rows:
        cells = []
        for cell in row:
            cls = ' class="num"' if numeric and isinstance(cell, int | float) else ""
            cells.append(Markup(f"<td{cls}>{{}}</td>").format(
                cell if isinstance(cell, Markup) else fmt(cell)))
        out.append(Markup("<tr>") + Markup("").join(cells) + Markup("</tr>"))
    out.append(Markup("</tbody></table>"))
    return Markup("").join(out)


def image(path: Path | str, alt: str) -> Markup:
    """Embed a PNG file as a data URI (the report stays one self-contained file)."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return Markup('<img alt="{}" src="data:image/png;base64,{}">').format(alt, data)


def image_bytes(png: bytes, alt: str) -> Markup:
    data = base64.b64encode(png).decode("ascii")
    return Markup('<img alt="{}" src="data:image/png;base64,{}">').format(alt, data)


def escape_text(text: str) -> Markup:
    return escape(text)
