"""``report.html`` of an audit bundle: one self-contained page (inline CSS and SVG, no
script, no network) with a dot-and-whisker chart per suite and the figures' table."""

from __future__ import annotations

import html
from typing import Any

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .6rem;text-align:left;
border-bottom:1px solid #ddd}td.num{text-align:right;font-variant-numeric:tabular-nums}
.warn{color:#8a4b00}.meta{color:#555}svg text{font:12px system-ui,sans-serif}
"""
_ROW = 26  # pixels per figure in a chart
_LEFT = 230  # room for the metric names
_WIDTH = 620


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def figures_chart(figures: list[dict[str, Any]]) -> str:
    """An inline SVG: one row per figure, the dot at its value, the whisker over its 95 %
    interval, on a shared axis ([0, 1] for rates, [-1, 1] when a score is negative).

    Args:
        figures: ``report.json`` figures (``metric``, ``value``, ``low``, ``high``, ``n``).
    """
    shown = [f for f in figures if f.get("value") is not None]
    if not shown:
        return "<p class=\"meta\">no figure with a value to chart</p>"
    lo = -1.0 if any(min(f["value"], f["low"] if f["low"] is not None else 0) < 0
                     for f in shown) else 0.0
    hi = max(1.0, *(f["high"] or 0 for f in shown))
    span = _WIDTH - _LEFT - 20

    def x(v: float) -> float:
        return _LEFT + (max(lo, min(hi, v)) - lo) / (hi - lo) * span

    height = _ROW * len(shown) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
             f'role="img" aria-label="figures with 95% intervals">']
    for tick in (lo, (lo + hi) / 2, hi):
        parts.append(f'<line x1="{x(tick):.1f}" y1="4" x2="{x(tick):.1f}" '
                     f'y2="{height - 22}" stroke="#ddd"/>'
                     f'<text x="{x(tick):.1f}" y="{height - 6}" text-anchor="middle">'
                     f"{tick:g}</text>")
    for i, f in enumerate(shown):
        y = 16 + i * _ROW
        low = f["low"] if f["low"] is not None else f["value"]
        high = f["high"] if f["high"] is not None else f["value"]
        title = _esc(f"{f['metric']}: {f['value']:.3f} [{low:.3f}, {high:.3f}] n={f['n']}")
        parts.append(
            f"<g><title>{title}</title>"
            f'<text x="{_LEFT - 8}" y="{y + 4}" text-anchor="end">{_esc(f["metric"])}</text>'
            f'<line x1="{x(low):.1f}" y1="{y}" x2="{x(high):.1f}" y2="{y}" stroke="#333" '
            f'stroke-width="2"/><circle cx="{x(f["value"]):.1f}" cy="{y}" r="4.5" '
            f'fill="#1f5fa8"/></g>')
    parts.append("</svg>")
    return "".join(parts)


def render_report(report: dict[str, Any]) -> str:
    """The whole page for ``report.json``'s content (the page is hashed into the
    manifest, so it cannot show the manifest itself).

    Args:
        report: what :func:`accord.audit.run_audit` wrote to ``report.json``.
    """
    model = report.get("model", {})
    body = [f"<h1>Audit of {_esc(model.get('name', '?'))}</h1>",
            f"<p class=\"meta\">{_esc(model.get('kind', ''))} "
            f"{_esc(model.get('endpoint') or model.get('path') or '')}; "
            f"{report.get('n_items', 0)} items. Every figure is a rate or score with its "
            "95 % interval and n; the per-item records are in items.jsonl and every file's "
            "SHA-256 in manifest.json (check with <code>accord audit verify</code>).</p>"]
    for suite in report.get("suites", []):
        label = suite["suite"]
        if suite.get("info", {}).get("measured_by"):
            label += f" (measured by {suite['info']['measured_by']})"
        body.append(f"<h2>{_esc(label)}</h2>")
        body.append(figures_chart(suite["figures"]))
        rows = "".join(
            f"<tr title=\"{_esc(f['description'])}\"><td>{_esc(f['metric'])}</td>"
            f"<td class=num>{_fmt(f['value'])}</td><td class=num>[{_fmt(f['low'])}, "
            f"{_fmt(f['high'])}]</td><td class=num>{f['n']}</td><td>{_esc(f['direction'])}"
            "</td></tr>" for f in suite["figures"])
        body.append("<table><thead><tr><th>metric</th><th>value</th><th>95% CI</th><th>n</th>"
                    f"<th>direction</th></tr></thead><tbody>{rows}</tbody></table>")
        body += [f"<p class=\"warn\">warning: {_esc(w)}</p>" for w in suite["warnings"]]
        graders = ", ".join(f"{name} (v{rec.get('version', '?')})"
                            for name, rec in suite.get("graders", {}).items())
        if graders:
            body.append(f"<p class=\"meta\">graders: {_esc(graders)}</p>")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Audit of {_esc(model.get('name', '?'))}</title><style>{_CSS}</style>"
            "</head><body>" + "".join(body) + "</body></html>\n")
