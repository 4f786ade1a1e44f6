"""``[customize]`` in accord.toml: enforcement, the deployment layer, limits."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from accord.customize._profiles import Deployment


class CustomizeSettings(BaseModel):
    """Serving under a profile (all optional; see docs/customize.md)."""

    model_config = ConfigDict(extra="forbid")

    max_resamples: int = Field(2, ge=0, le=10)
    """Fresh samples drawn after a response crosses a hard bound, before the spec's safe
    completion is shown instead."""
    skip_kinds: list[str] = Field(default_factory=lambda: ["llm_judge"])
    """Grader kinds whose spec checks are not run on every answer (a local judge takes
    seconds per question on a CPU); those bounds rely on the world or real-text screens."""
    skip_graders: list[str] = Field(default_factory=lambda: ["hate_model"])
    """Grader ids whose spec checks are not run on every answer. The demo spec's
    ``hate_model`` sums hatesonar's hate_speech and offensive_language classes; at the
    ``no_slurs`` threshold (0.3) it flags 96 % of the demo world's helpful answers
    (docs/customize.md), so the calibrated world screens take its place."""
    screens: Literal["auto", "world", "real", "world+real", "none"] = "auto"
    """Which screens run beside the spec checks. ``auto``: the real-text graders (trained on
    public human-labelled text) for every model that is not the demo world's, the world
    screens (training-split inventories, classifiers on masked text) for the demo world's
    models; ``world+real`` adds the real ones to every model; ``none``: spec checks only."""
    anonymous_chat: bool = False
    """Let signed-out visitors use the chat page (rate-limited per visitor)."""
    requests_per_minute: int = Field(60, ge=1)
    """Chat requests per minute (429 beyond) per API key, per account (all its keys and its
    chat page together), per anonymous visitor and per address of anonymous visitors;
    counted in the store, so every server worker shares the count."""
    max_message_chars: int = Field(32_000, ge=1, le=1_000_000)
    """The longest message a chat or ``/v1`` request may carry, in characters; checked
    before anything is tokenised (400 beyond)."""
    default_max_tokens: int = Field(96, ge=1)
    """Reply length when a request does not say."""
    max_tokens_limit: int = Field(512, ge=1)
    """The most a request may ask for (400 beyond)."""
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    """Sampling temperature when a request does not say."""
    feedback_overlap: int = Field(2, ge=1)
    """Reviewers per item in the feedback review batch."""
    disclosure_graders: dict[str, str] = Field(
        default_factory=lambda: {"political_perspective": "takes_perspective"})
    """Option -> a registered grader: that option's disclosure is shown only when the
    grader says the answer takes the chosen value (``takes_perspective``: the exchange is
    political, the answer leans to the chosen perspective rather than the option's other
    values, and it argues one side), so neither a balanced answer nor a tea recipe is
    labelled as leaning one way. Options not named here are always disclosed."""
    deployment: Deployment = Field(default_factory=Deployment)
    """The operator's layer: narrow or fix options, with reasons shown to users."""
