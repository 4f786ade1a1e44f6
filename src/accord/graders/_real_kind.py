"""The ``real_text`` kind: a spec grader that is one of the shipped real-text graders.

Rule-based rewards answer their propositions with graders the spec names by kind. The
real-text graders (``refusal``, ``harmful_compliance``, ``offensive``...) are named graders,
built in code; this kind lets ``rules.yaml`` use them::

    - id: refusal_head
      kind: real_text
      params: {name: refusal}

The built grader keeps the head's record (its embedder, training data and head file with
their hashes), so a measurement by the same head still shows up as self-grading.
"""

from __future__ import annotations

from pydantic import field_validator

from accord.graders._base import Grader
from accord.graders._heads import REAL_GRADERS, HeadGrader, load_head
from accord.graders._registry import GraderParams, grader_kind


class RealTextParams(GraderParams):
    """``real_text``: which shipped real-text grader answers the proposition."""

    name: str  # one of accord.graders.REAL_GRADERS (refusal, harmful_compliance, ...)

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in REAL_GRADERS:
            raise ValueError(f"{name!r} is not a real-text grader; allowed: "
                             f"{', '.join(sorted(REAL_GRADERS))}")
        return name


@grader_kind("real_text", RealTextParams)
def real_text_grader(grader_id: str, params: RealTextParams, question: str = "") -> Grader:
    """The real-text grader ``params.name`` under the spec's id.

    Args:
        grader_id: the grader's id in rules.yaml (kept as its ``name``).
        params: see :class:`RealTextParams`.
        question: ignored (the head was trained for one question, its grader's).
    """
    # A fresh instance, not the shared named one: build_grader may set its threshold.
    grader = HeadGrader(load_head(params.name))
    grader.name = grader_id
    return grader
