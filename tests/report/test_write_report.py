"""``write_report`` writes one HTML file that opens offline: nothing is fetched from anywhere."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import Markup
from matplotlib.figure import Figure

from accord.errors import AccordError
from accord.report import Section, image, image_bytes, paragraph, table, write_report


class _Page(HTMLParser):
    """Collects what a browser would load or link to, and the section ids and titles."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self.section_ids: list[str] = []
        self.headings: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        if "src" in values:
            self.sources.append(values["src"] or "")
        if "href" in values:
            self.links.append(values["href"] or "")
        if tag == "section":
            self.section_ids.append(values.get("id") or "")
        self._in_h2 = tag == "h2"

    def handle_endtag(self, tag: str) -> None:
        self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.headings.append(data)


def _png(colour: str) -> bytes:
    figure = Figure(figsize=(1, 1), dpi=20)
    figure.add_subplot().plot([0, 1], [1, 0], color=colour)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _parse(path: Path) -> tuple[str, _Page]:
    html = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    return html, page


def test_report_is_one_self_contained_file(tmp_path: Path) -> None:
    on_disk, in_memory = _png("red"), _png("blue")
    figure_file = tmp_path / "figure.png"
    figure_file.write_bytes(on_disk)
    sections = [Section("Figures").add(image(figure_file, "loss curve"),
                                       image_bytes(in_memory, "rates")),
                Section("Numbers").add(table(["metric", "value"], [["accuracy", 0.91]]))]
    out = tmp_path / "run" / "deep" / "report.html"

    assert write_report(out, "Run", "demo", sections) == out
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]  # no temp file
    html, page = _parse(out)
    # Base64 may hold "//", so look for addresses outside the embedded images.
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert re.search(r"https?:|//[a-z]|url\(", text, flags=re.IGNORECASE) is None
    assert not {"link", "script", "iframe"} & page.tags
    assert [base64.b64decode(s.removeprefix("data:image/png;base64,"))
            for s in page.sources] == [on_disk, in_memory]
    assert all(link.startswith("#") for link in page.links)
    assert "<style>" in html


def test_sections_render_in_order_with_unique_anchors(tmp_path: Path) -> None:
    titles = ["Zeta", "Alpha", "Same title", "Same title", "Mid"]
    sections = [Section(t).add(f"body of {i}") for i, t in enumerate(titles)]
    sections[4].anchor = "chosen"

    _, page = _parse(write_report(tmp_path / "r.html", "T", "S", sections))

    assert page.headings == titles
    assert page.section_ids == ["s0-zeta", "s1-alpha", "s2-same-title", "s3-same-title",
                                "chosen"]
    assert page.links == [f"#{a}" for a in page.section_ids]
    assert [s.anchor for s in sections] == page.section_ids


def test_text_is_escaped_and_markup_kept(tmp_path: Path) -> None:
    sections = [Section("<b>title</b>").add("<script>alert(1)</script>",
                                            paragraph(Markup("<em>kept</em>")))]
    html, page = _parse(write_report(tmp_path / "r.html", "A & <B>", "<i>sub</i>", sections))

    assert "<script>" not in html and "script" not in page.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<title>A &amp; &lt;B&gt;</title>" in html
    assert "&lt;i&gt;sub&lt;/i&gt;" in html
    assert page.headings == ["<b>title</b>"]  # the parser unescapes the text it reads
    assert "<p><em>kept</em></p>" in html


def test_writing_again_replaces_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    write_report(out, "First", "", [Section("One").add("old")])
    write_report(out, "Second", "", [Section("Two").add("new")])

    html, page = _parse(out)
    assert page.headings == ["Two"] and "old" not in html and "Second" in html
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_a_report_path_that_is_a_folder_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(AccordError, match="is a folder"):
        write_report(folder, "t", "s", [])
    assert list(tmp_path.iterdir()) == [folder] and not list(folder.iterdir())
