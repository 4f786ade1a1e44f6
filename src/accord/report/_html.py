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
    """One titled part of a report; ``body`` is a list of already-safe HTML fragments.

    ``anchor`` is the section's id in the page; :func:`~accord.report.write_report` fills
    it in from the title when it is empty.
    """

    title: str
    body: list[Markup] = field(default_factory=list)
    anchor: str = ""

    def add(self, *fragments: Markup | str) -> Section:
        """Append fragments in order and return the section (so calls chain).

        Args:
            fragments: :class:`~markupsafe.Markup` is appended as it is (it is trusted
                HTML); a plain ``str`` becomes an escaped :func:`paragraph`.
        """
        for fragment in fragments:
            self.body.append(fragment if isinstance(fragment, Markup) else paragraph(fragment))
        return self


def paragraph(text: str) -> Markup:
    """``<p>text</p>``, with ``text`` escaped unless it is already :class:`Markup`."""
    return Markup("<p>{}</p>").format(text)


def heading(text: str, level: int = 3) -> Markup:
    """``<hN>text</hN>``, with ``text`` escaped unless it is already :class:`Markup`.

    Args:
        text: The heading's text.
        level: N, the HTML heading level (sections already use ``h2``).
    """
    return Markup(f"<h{level}>{{}}</h{level}>").format(text)


def pre(text: str) -> Markup:
    """Preformatted text (``<pre>``), escaped unless it is already :class:`Markup`."""
    return Markup('<pre>{}</pre>').format(text)


def fmt(value: object) -> str:
    """Numbers rounded for reading; everything else as text.

    Floats below 1,000 in magnitude keep three significant digits (``0.123``, ``12.3``);
    larger ones are rounded to whole numbers with thousands separators (``12,346``), as
    are ints. ``bool`` prints as ``True``/``False`` and ``None`` as an empty string.
    """
    if isinstance(value, float):
        # 999.5 and up would print as "1e+03" with three significant digits.
        return f"{value:.3g}" if abs(value) < 999.5 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]],
          *, caption: str | None = None, numeric: bool = True) -> Markup:
    """An HTML table; cells are escaped, numbers formatted with :func:`fmt`.

    Args:
        headers: Column titles, escaped.
        rows: One sequence of cells per row. A :class:`Markup` cell is kept as it is;
            any other cell goes through :func:`fmt` and is escaped.
        caption: Optional ``<caption>``, escaped.
        numeric: Right-align int and float cells (``class="num"``); bools are not numbers.
    """
    out = [Markup('<table>')]
    if caption:
        out.append(Markup("<caption>{}</caption>").format(caption))
    out.append(Markup("<thead><tr>") + Markup("").join(
        Markup("<th>{}</th>").format(h) for h in headers) + Markup("</tr></thead><tbody>"))
    for row in rows:
        cells = []
        for cell in row:
            is_number = isinstance(cell, int | float) and not isinstance(cell, bool)
            cls = ' class="num"' if numeric and is_number else ""
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
    """Embed PNG bytes as a data URI; like :func:`image` for a figure made in memory."""
    data = base64.b64encode(png).decode("ascii")
    return Markup('<img alt="{}" src="data:image/png;base64,{}">').format(alt, data)


def escape_text(text: str) -> Markup:
    """``text`` with ``& < > " '`` escaped, safe to put in a report as it is."""
    return escape(text)
