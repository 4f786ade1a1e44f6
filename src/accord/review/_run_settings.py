"""``[review.run]``: how ``accord run``'s review stage samples, batches and gets reviews."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ReviewRunSettings(BaseModel):
    """The review stage of ``accord run`` (docs/review.md).

    The stage samples ``completions_per_prompt`` completions of the base model for the
    world's review prompts, draws a rating batch and a comparison batch, has them reviewed
    — by simulated reviewers through the live HTTP API (``mode = "simulated"``, the
    demo's default) or by people in the browser (``mode = "human"``: the stage waits and
    shows batch progress) — then measures agreement, writes the clarity and demographics
    reports and exports TRL data sets for training.
    """

    model_config = ConfigDict(extra="forbid")

    mode: Literal["simulated", "human"] = "simulated"
    rating_prompts: int = Field(100, ge=1)
    """N of the rating batch (one completion each is rated on every category)."""
    comparison_prompts: int = Field(150, ge=0)
    """N of the comparison batch (its K completions ranked); 0: no comparison batch."""
    completions_per_prompt: int = Field(3, ge=2)
    """K completions sampled per review prompt (ranked together in comparisons)."""
    overlap: int = Field(3, ge=1)
    """Distinct reviewers per rating item."""
    comparison_overlap: int = Field(2, ge=1)
    """Distinct reviewers per comparison item."""
    gold: bool = True
    """Mix the guideline examples in as gold items (reviewer accuracy)."""
    reviewers: int = Field(30, ge=1)
    """Simulated reviewers (mode "simulated")."""
    seed: int = 0
    temperature: float = Field(1.0, gt=0)
    """Sampling temperature of the completions to review (varied on purpose)."""
    max_new_tokens: int = Field(64, ge=1)
    wait_timeout_s: float | None = Field(None, gt=0)
    """Mode "human": give up after this long (None: wait until the batches are done)."""
    poll_s: float = Field(5.0, gt=0)
    """Mode "human": how often batch progress is checked."""
    epsilon: float = Field(1.0, gt=0)
    """Privacy budget of the published demographics report."""
    min_cell: int = Field(11, ge=2)
    """Smallest count the demographics report shows."""

    @model_validator(mode="after")
    def _enough_reviewers(self) -> ReviewRunSettings:
        need = max(self.overlap, self.comparison_overlap if self.comparison_prompts else 1)
        if self.mode == "simulated" and self.reviewers < need:
            raise ValueError(f"reviewers = {self.reviewers}: each item needs {need} distinct "
                             "reviewers (overlap), so at least that many are needed")
        return self
