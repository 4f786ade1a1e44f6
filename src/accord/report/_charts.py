"""Charts for offline reports: matplotlib drawn to SVG, embedded as a data URI.

Each chart is a ``<figure>`` holding an ``<img>`` (its ``alt`` says what the chart shows)
and a caption; the numbers it draws stay readable in a table beside it, so a chart is never
the only place a figure lives. SVG keeps text sharp at any zoom; glyphs are drawn as paths,
so the page needs no font and no network. Without matplotlib the chart is left out with a
one-line note (the tables still carry the figures).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

# Colour-blind-safe (Okabe-Ito), in the order models are listed.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")
Interval = tuple[float, float, float]  # rate, low, high


def _figure(width: float, height: float) -> Any:
    # The Agg canvas directly, without pyplot: no display, no global figure state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _embed(fig: Any, alt: str, caption: str) -> Markup:
    buffer = io.BytesIO()
    # No RDF block: it only names matplotlib and looks like links to load.
    fig.savefig(buffer, format="svg",
                metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Markup('<figure class="chart"><img alt="{}" src="data:image/svg+xml;base64,{}">'
                  "<figcaption>{}</figcaption></figure>").format(alt, data, caption)


def _available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _missing(caption: str) -> Markup:
    return Markup('<p class="muted">Chart left out ({}): matplotlib is not installed '
                  "(<code>pip install 'accord[ml]'</code>); the table has the figures.</p>"
                  ).format(caption)


def dot_whisker(rows: Mapping[str, Mapping[str, Interval]], *, alt: str, caption: str,
                xlabel: str = "rate") -> Markup:
    """Per row (a behaviour), each series' (a model's) rate as a dot with its interval.

    Args:
        rows: behaviour → {model → (rate, low, high)}; rows read top to bottom in the
            order given, series keep one colour and vertical offset throughout.
        alt: The image's text alternative (what a reader who cannot see it needs).
        caption: Shown under the chart: say the probe set, n and the interval kind.
        xlabel: The horizontal axis' label.
    """
    if not rows:
        return Markup("")
    if not _available():
        return _missing(caption)
    series = list(dict.fromkeys(name for row in rows.values() for name in row))
    fig = _figure(7.5, 0.45 * len(rows) * max(1.0, len(series) / 3) + 1.4)
    ax = fig.add_subplot()
    step = 0.7 / max(1, len(series))
    for j, name in enumerate(series):
        ys, xs, lows, highs = [], [], [], []
        for i, row in enumerate(rows.values()):
            if name in row:
                rate, low, high = row[name]
                ys.append(i + (j - (len(series) - 1) / 2) * step)
                xs.append(rate)
                lows.append(max(0.0, rate - low))
                highs.append(max(0.0, high - rate))
        ax.errorbar(xs, ys, xerr=[lows, highs], fmt="o", ms=4, capsize=2, lw=1,
                    color=PALETTE[j % len(PALETTE)], label=name)
    ax.set_yticks(range(len(rows)), list(rows))
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    # Above the plot, never over the data or an axis.
    fig.legend(loc="outside upper center", ncols=min(4, len(series)), frameon=False,
               fontsize="small")
    return _embed(fig, alt, caption)


def scatter(points: Mapping[str, tuple[float, float]], *, xlabel: str, ylabel: str,
            alt: str, caption: str) -> Markup:
    """One labelled dot per point (a model): a trade-off between two rates.

    Args:
        points: label → (x, y).
        xlabel: The horizontal axis' label.
        ylabel: The vertical axis' label.
        alt: The image's text alternative.
        caption: Shown under the chart.
    """
    if not points:
        return Markup("")
    if not _available():
        return _missing(caption)
    fig = _figure(6.0, 4.2)
    ax = fig.add_subplot()
    for j, (label, (x, y)) in enumerate(points.items()):
        ax.scatter([x], [y], s=36, color=PALETTE[j % len(PALETTE)], label=label, zorder=3)
    xs = [x for x, _ in points.values()]
    ys = [y for _, y in points.values()]
    ax.set_xlim(0, max(0.05, max(xs) * 1.25))
    ax.set_ylim(0, max(0.05, max(ys) * 1.25))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    fig.legend(loc="outside right upper", frameon=False, fontsize="small")
    return _embed(fig, alt, caption)


def bars(values: Mapping[str, Interval | float], *, xlabel: str, alt: str, caption: str,
         bands: Sequence[tuple[float, float, str]] = (),
         xlim: tuple[float, float] = (0.0, 1.0)) -> Markup:
    """Horizontal bars (one per category), with whiskers where an interval is known.

    Args:
        values: category → value, or (value, low, high).
        xlabel: The horizontal axis' label.
        alt: The image's text alternative.
        caption: Shown under the chart.
        bands: Shaded reading bands behind the bars: (from, to, label), e.g. the usual
            bands for Krippendorff's α.
        xlim: The horizontal axis' range.
    """
    if not values:
        return Markup("")
    if not _available():
        return _missing(caption)
    fig = _figure(7.0, 0.38 * len(values) + 1.3)
    ax = fig.add_subplot()
    # Each band a light tint behind the bars, each bar the band's strong colour: a value in
    # the lowest band never looks like one in the highest.
    tints = ("#fbe3df", "#fdf1d0", "#dcf1e4", "#dde9f7")
    strong = ("#b42318", "#a15c00", "#1a7f37", "#1f5fa8")

    def band_of(v: float) -> int:
        return next((k for k, (low, high, _) in enumerate(bands) if low <= v < high),
                    len(bands) - 1)

    for k, (low, high, label) in enumerate(bands):
        ax.axvspan(max(low, xlim[0]), min(high, xlim[1]), color=tints[k % len(tints)], zorder=0)
        ax.text((max(low, xlim[0]) + min(high, xlim[1])) / 2, -0.75, label, ha="center",
                va="center", fontsize="small", color=strong[k % len(strong)])
    for i, value in enumerate(values.values()):
        v, low, high = value if isinstance(value, tuple) else (value, value, value)
        colour = strong[band_of(v) % len(strong)] if bands else PALETTE[0]
        ax.barh([i], [v], color=colour, height=0.6, zorder=2)
        ax.text(v + 0.01 if v >= 0 else 0.01, i, f"{v:.2f}", va="center", fontsize="x-small",
                color="#222", zorder=4)
        if high > low:
            ax.errorbar([v], [i], xerr=[[v - low], [high - v]], fmt="none", color="#222",
                        capsize=2, lw=1, zorder=3)
    ax.set_yticks(range(len(values)), list(values))
    ax.set_ylim(len(values) - 0.5, -1.0 if bands else -0.5)
    ax.set_xlim(*xlim)
    ax.set_xlabel(xlabel)
    return _embed(fig, alt, caption)


def lines(curves: Mapping[str, Sequence[tuple[float, float]]], *, xlabel: str, ylabel: str,
          alt: str, caption: str) -> Markup:
    """Curves (e.g. training loss against step), the legend outside the axes.

    Args:
        curves: name → [(x, y), ...]; a curve with fewer than two points is skipped.
        xlabel: The horizontal axis' label.
        ylabel: The vertical axis' label.
        alt: The image's text alternative.
        caption: Shown under the chart.
    """
    curves = {k: v for k, v in curves.items() if len(v) >= 2}
    if not curves:
        return Markup("")
    if not _available():
        return _missing(caption)
    fig = _figure(7.0, 3.8)
    ax = fig.add_subplot()
    for j, (name, points) in enumerate(curves.items()):
        ax.plot([x for x, _ in points], [y for _, y in points], lw=1.4,
                color=PALETTE[j % len(PALETTE)], label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    fig.legend(loc="outside right upper", frameon=False, fontsize="small")
    return _embed(fig, alt, caption)


def goal_grid(models: Sequence[str], goals: Sequence[str],
              cells: Mapping[tuple[str, str], Sequence[tuple[str, bool | None, str]]],
              *, caption: str) -> Markup:
    """A models × goals table: each cell a ✓ or ✗ per probe set, with the value.

    Args:
        models: Row titles, in order.
        goals: Column titles, in order.
        cells: (model, goal) → [(probe set, met or None when not measured, value text)].
        caption: The table's caption.
    """
    head = Markup("").join(Markup('<th scope="col">{}</th>').format(g) for g in goals)
    body = []
    for model in models:
        tds = []
        for goal in goals:
            marks = []
            for split, met, value in cells.get((model, goal), ()):
                cls, mark, word = {True: ("met", "✓", "met"), False: ("missed", "✗", "missed"),
                                   None: ("na", "–", "not measured")}[met]
                marks.append(Markup('<span class="{}" title="{}: {}">{} <small>{} {}</small>'
                                    "</span>").format(cls, split, word, mark, split, value))
            tds.append(Markup("<td>{}</td>").format(Markup("<br>").join(marks) or "—"))
        body.append(Markup('<tr><th scope="row">{}</th>{}</tr>').format(
            model, Markup("").join(tds)))
    return Markup('<table class="grid"><caption>{}</caption><thead><tr><th scope="col">model'
                  "</th>{}</tr></thead><tbody>{}</tbody></table>").format(
        caption, head, Markup("").join(body))


def panels(charts: Mapping[str, Mapping[str, Sequence[tuple[float, float]]]], *, xlabel: str,
           alt: str, caption: str, columns: int = 2) -> Markup:
    """Several small line charts side by side over one x axis (e.g. reward, KL and length
    against step), a series keeping its colour in every panel and one legend for all.

    Args:
        charts: panel title → {series name → [(x, y), ...]}; a series with fewer than two
            points and a panel left with no series are skipped.
        xlabel: The horizontal axis' label (every panel's).
        alt: The image's text alternative.
        caption: Shown under the chart.
        columns: Panels per row.
    """
    charts = {title: {k: v for k, v in series.items() if len(v) >= 2}
              for title, series in charts.items()}
    charts = {title: series for title, series in charts.items() if series}
    if not charts:
        return Markup("")
    if not _available():
        return _missing(caption)
    names = list(dict.fromkeys(name for series in charts.values() for name in series))
    colour = {name: PALETTE[j % len(PALETTE)] for j, name in enumerate(names)}
    cols = max(1, min(columns, len(charts)))
    rows = -(-len(charts) // cols)
    fig = _figure(3.6 * cols + 1.6, 2.5 * rows)
    for i, (title, series) in enumerate(charts.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        for name, points in series.items():
            # Few points (held-out measurements) get markers; per-step curves stay lines.
            marker = "o" if len(points) <= 12 else None
            ax.plot([x for x, _ in points], [y for _, y in points], lw=1.3, marker=marker,
                    ms=3, color=colour[name], label=name)
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel(xlabel, fontsize="small")
        ax.tick_params(labelsize="small")
        ax.grid(alpha=0.3)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colour[n], lw=1.5) for n in names]
    fig.legend(handles, names, loc="outside right upper", frameon=False, fontsize="small")
    return _embed(fig, alt, caption)
