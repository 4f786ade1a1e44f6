"""Errors a user can act on.

Every error that reaches a person (CLI, web page, API) derives from :class:`AccordError`;
its message says what was wrong, where, and what is allowed. The CLI prints the message
and exits with status 2; anything else escaping is a bug and keeps its traceback.
"""

from __future__ import annotations


class AccordError(Exception):
    """An error caused by the user's input or environment, with an actionable message."""

    exit_code: int = 2
