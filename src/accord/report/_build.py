"""Writing the run report: one self-contained HTML file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, select_autoescape

from accord.errors import AccordError
from accord.report._html import Section

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
 body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;
      background:#fafafa}
 header{background:#17324d;color:#fff;padding:1.2em 2em}
 header h1{margin:0;font-size:1.5em} header p{margin:.3em 0 0;opacity:.85}
 nav{padding:.6em 2em;background:#e8eef4;font-size:.9em;display:flex;flex-wrap:wrap;gap:.2em 1em}
 nav a{color:#17324d}
 main{padding:1em 2em 3em;max-width:1100px}
 @media (max-width:700px){header,nav{padding-left:1em;padding-right:1em}main{padding:.5em .8em 2em}
  section{padding:.3em .8em .8em}}
 a:focus-visible{outline:3px solid #1f5fa8;outline-offset:2px}
 /* Hashes and paths break anywhere rather than widen a phone's page. */
 p,li,dd,figcaption,h1,h2,h3{overflow-wrap:anywhere}
 section{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:.4em 1.2em 1em;
         margin:1.2em 0}
 h2{border-bottom:1px solid #dde3ea;padding-bottom:.3em}
 /* A wide table scrolls inside its card instead of widening the page. */
 table{border-collapse:collapse;margin:.6em 0;font-size:.92em;display:block;max-width:100%;
       overflow-x:auto}
 table.grid td{white-space:nowrap} .met{color:#1a7f37} .missed{color:#b42318} .na{color:#57606a}
 .met small,.missed small,.na small{color:#3d4650}
 figure.chart{margin:1em 0} figure.chart img{display:block;width:100%;max-width:760px;
       height:auto;background:#fff} figcaption{color:#3d4650;font-size:.9em;margin-top:.3em}
 .note{border-left:3px solid #d8a106;background:#fff8e1;padding:.4em .8em}
 details.suppressed{color:#3d4650}
 caption{text-align:left;font-weight:600;padding:.3em 0}
 th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}
 th{background:#f0f3f6} td.num{text-align:right;font-variant-numeric:tabular-nums}
 pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;font-size:.88em}
 img{max-width:100%;height:auto}
 .muted{color:#4f5862;font-size:.9em}
</style></head>
<body>
<header><h1>{{ title }}</h1><p>{{ subtitle }}</p></header>
<nav>{% for s in sections %}<a href="#{{ s.anchor }}">{{ s.title }}</a>{% endfor %}</nav>
<main>
{% for s in sections %}<section id="{{ s.anchor }}"><h2>{{ s.title }}</h2>
{% for part in s.body %}{{ part }}
{% endfor %}</section>
{% endfor %}
<p class="muted">Written by Accord on {{ written }}. This file is self-contained and works
offline.</p>
</main></body></html>
"""


def write_report(path: Path, title: str, subtitle: str, sections: Sequence[Section]) -> Path:
    """Render ``sections`` into one self-contained HTML file and return its path.

    The page has inline CSS, a link bar, and the sections in the order given; it loads
    nothing from the network. The file is written to a temporary name and then renamed,
    so a reader never sees half a report.

    Args:
        path: The file to write; missing parent folders are created.
        title: Page title and top heading, escaped.
        subtitle: Line under the title, escaped.
        sections: The report's parts. A section without an ``anchor`` gets one here
            (``s<index>-<title>``), set on the section object itself.
    """
    for i, section in enumerate(sections):
        if not section.anchor:
            section.anchor = f"s{i}-" + "".join(c if c.isalnum() else "-"
                                                for c in section.title.lower())
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.from_string(_TEMPLATE).render(
        title=title, subtitle=subtitle, sections=sections,
        written=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    if path.is_dir():
        raise AccordError(f"{path} is a folder; give the report's file name (e.g. "
                          f"{path / 'report.html'})")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    try:
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)  # nothing left behind if the rename failed
    return path
