"""The HTML report of a run: self-contained (inline CSS, embedded images), readable offline."""

from accord.report._build import write_report
from accord.report._charts import bars, dot_whisker, goal_grid, lines, panels, scatter
from accord.report._html import (
    Section,
    escape_text,
    fmt,
    heading,
    image,
    image_bytes,
    paragraph,
    pre,
    table,
)

__all__ = ["Section", "bars", "dot_whisker", "escape_text", "fmt", "goal_grid", "heading",
           "image", "image_bytes", "lines", "panels", "paragraph", "pre", "scatter", "table",
           "write_report"]
