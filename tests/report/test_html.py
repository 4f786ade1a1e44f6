"""The report's building blocks escape what they are given and format numbers for reading."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from accord.report import Section, escape_text, fmt, heading, paragraph, pre, table


@pytest.mark.parametrize(("value", "text"), [
    (0.123456, "0.123"),
    (12.345, "12.3"),
    (-0.5, "-0.5"),
    (0.0, "0"),
    (1e-5, "1e-05"),
    (999.4, "999"),
    # Three significant digits would print these as "1e+03" and "2.5e+03".
    (999.5, "1,000"),
    (2500.0, "2,500"),
    (-2500.0, "-2,500"),
    (12345.6, "12,346"),
    (1234567, "1,234,567"),
    (7, "7"),
    (True, "True"),
    (None, ""),
    ("text", "text"),
])
def test_fmt_rounds_numbers_for_reading(value: object, text: str) -> None:
    assert fmt(value) == text


def test_escape_text_escapes_html_special_characters() -> None:
    escaped = escape_text("""<a href="x">&'""")
    assert escaped == "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"
    assert isinstance(escaped, Markup)


def test_fragments_escape_plain_text_and_keep_markup() -> None:
    assert paragraph("a < b") == "<p>a &lt; b</p>"
    assert paragraph(Markup("<b>bold</b>")) == "<p><b>bold</b></p>"
    assert heading("Q&A") == "<h3>Q&amp;A</h3>"
    assert heading("Q&A", level=4) == "<h4>Q&amp;A</h4>"
    assert pre("if a < b:\n    pass") == "<pre>if a &lt; b:\n    pass</pre>"


def test_table_escapes_cells_and_formats_numbers() -> None:
    html = table(["name <i>", "score"],
                 [["<script>x</script>", 2500.0], [Markup("<b>kept</b>"), 12], ["flag", True]],
                 caption="Scores & more")
    assert html == (
        '<table><caption>Scores &amp; more</caption>'
        '<thead><tr><th>name &lt;i&gt;</th><th>score</th></tr></thead><tbody>'
        '<tr><td>&lt;script&gt;x&lt;/script&gt;</td><td class="num">2,500</td></tr>'
        '<tr><td><b>kept</b></td><td class="num">12</td></tr>'
        '<tr><td>flag</td><td>True</td></tr>'
        '</tbody></table>')


def test_table_without_numeric_alignment_or_caption() -> None:
    html = table(["n"], [[1234]], numeric=False)
    assert html == ("<table><thead><tr><th>n</th></tr></thead>"
                    "<tbody><tr><td>1,234</td></tr></tbody></table>")


def test_section_add_turns_text_into_escaped_paragraphs_and_chains() -> None:
    section = Section("Results")
    assert section.add("1 < 2", Markup("<hr>")).add("last") is section
    assert section.body == ["<p>1 &lt; 2</p>", "<hr>", "<p>last</p>"]
