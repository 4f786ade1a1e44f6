"""The HTML report of a run: self-contained (inline CSS, embedded images), readable offline."""

from accord.report._build import write_report
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

__all__ = ["Section", "escape_text", "fmt", "heading", "image", "image_bytes", "paragraph",
           "pre", "table", "write_report"]
