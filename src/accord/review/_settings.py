"""``[review]`` in accord.toml: the survey's questions, cookies, and the review stage.

Owned here, next to what it configures; a project validates it with
``project.section("review", ReviewSettings)`` (``accord.project`` knows no stage's tables).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from accord.review._run_settings import ReviewRunSettings
from accord.review._survey import SurveySettings


class ReviewSettings(BaseModel):
    """``[review]`` in accord.toml (all optional)."""

    model_config = ConfigDict(extra="forbid")

    survey: SurveySettings = Field(default_factory=SurveySettings)
    """The demographic self-report's questions."""
    secure_cookies: bool = False
    """Mark cookies Secure; turn on when the server is behind HTTPS."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses or networks (``127.0.0.1``, ``10.0.0.0/8``) of reverse proxies whose
    ``X-Forwarded-For`` names the client for sign-in throttling and chat limits. Empty
    (the default): the header is ignored and the connection's address is the client's."""
    run: ReviewRunSettings = Field(default_factory=ReviewRunSettings)
    """``[review.run]``: the review stage of ``accord run``."""
