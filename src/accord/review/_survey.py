"""Reviewers' demographic self-reports: opt-in, with recorded consent, deletable.

Answers live in ``survey_responses`` under an opaque random id; the only link to an
account is a row in ``survey_links``, kept so that withdrawal can find and delete both.
Nothing here returns one person's answers: callers get whether a user took part, and
the transparency report gets the answers without any account attached.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from accord.accounts import User
from accord.errors import AccordError
from accord.review._models import SurveyLink, SurveyResponse
from accord.store import utcnow

PREFER_NOT_TO_SAY = "prefer not to say"

CONSENT_TEXT = (
    "I choose to share these answers about myself. They are stored apart from my account, "
    "are never shown to anyone one by one (not even to administrators), and are published "
    "only as totals in the transparency report, where small groups are suppressed and "
    "counts are noised. I can withdraw at any time, which deletes my answers."
)


class SurveyField(BaseModel):
    """One question of the survey: an id, the question, and the answers offered."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    question: str
    options: list[str] = Field(min_length=1)


class SurveySettings(BaseModel):
    """``[review.survey]`` in accord.toml: the questions (defaults below)."""

    model_config = ConfigDict(extra="forbid")

    fields: list[SurveyField] = Field(default_factory=lambda: list(DEFAULT_FIELDS))


DEFAULT_FIELDS = (
    SurveyField(id="age_band", question="Your age",
                options=["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]),
    SurveyField(id="gender", question="Your gender",
                options=["woman", "man", "non-binary", "self-described"]),
    SurveyField(id="region", question="Where you live",
                options=["Africa", "Asia", "Europe", "Latin America", "North America",
                         "Oceania", "Middle East"]),
    SurveyField(id="education", question="Highest education completed",
                options=["secondary", "vocational", "bachelor", "postgraduate"]),
    SurveyField(id="political_leaning", question="Political leaning",
                options=["left", "centre-left", "centre", "centre-right", "right", "none"]),
)


class SurveyError(AccordError):
    """A survey answer is not one of the options offered, or consent is missing."""


def record_survey(session: Session, user_id: int, answers: Mapping[str, str],
                  fields: Sequence[SurveyField], *, consent: bool) -> None:
    """Store (or replace) a user's self-report. Unanswered questions are stored as
    ``prefer not to say``.

    Raises:
        SurveyError: no consent, an unknown question, or an answer not offered.
    """
    if not consent:
        raise SurveyError("the survey is stored only with your consent; tick the consent box")
    by_id = {f.id: f for f in fields}
    unknown = sorted(set(answers) - set(by_id))
    if unknown:
        raise SurveyError(f"unknown survey questions {unknown}; allowed: {', '.join(by_id)}")
    clean: dict[str, str] = {}
    for field in fields:
        value = (answers.get(field.id) or PREFER_NOT_TO_SAY).strip()
        if value not in (*field.options, PREFER_NOT_TO_SAY):
            raise SurveyError(f"{field.id}: {value!r} is not offered; choose one of: "
                              f"{', '.join([*field.options, PREFER_NOT_TO_SAY])}")
        clean[field.id] = value
    withdraw_survey(session, user_id)
    user = session.get(User, user_id)
    response = SurveyResponse(id=secrets.token_hex(16), answers=clean,
                              consent_text=CONSENT_TEXT,
                              consented_on=utcnow().date().isoformat(),
                              is_simulated=bool(user and user.is_simulated))
    session.add(response)
    session.flush()
    session.add(SurveyLink(user_id=user_id, response_id=response.id))
    session.flush()


def withdraw_survey(session: Session, user_id: int) -> bool:
    """Delete the user's answers and the link to them; True if there was something."""
    response_id = session.scalars(
        select(SurveyLink.response_id).where(SurveyLink.user_id == user_id)).first()
    if response_id is None:
        return False
    session.execute(delete(SurveyLink).where(SurveyLink.user_id == user_id))
    session.execute(delete(SurveyResponse).where(SurveyResponse.id == response_id))
    return True


def has_survey(session: Session, user_id: int) -> bool:
    """Whether the user has a self-report on file (never what it says)."""
    query = select(SurveyLink.user_id).where(SurveyLink.user_id == user_id)
    return session.scalars(query).first() is not None


def survey_answers(session: Session, *, include_simulated: bool = False) -> list[dict[str, str]]:
    """All self-reports as bare answer mappings, in random id order (no account, no
    date), for the transparency report's noised, suppressed totals only."""
    query = select(SurveyResponse.answers).order_by(SurveyResponse.id)
    if not include_simulated:
        query = query.where(SurveyResponse.is_simulated.is_(False))
    return [dict(a) for a in session.scalars(query)]


def survey_answers_by_reviewer(session: Session, *, include_simulated: bool = False,
                               ) -> dict[str, dict[str, str]]:
    """Reviewer id (as in rating records) → self-report, for opted-in reviewers.

    Only for computing protected aggregates inside the store's process (mean ratings by
    group, suppressed and noised by :func:`accord.transparency.demographics_report`);
    never return it from a page or an API.
    """
    query = (select(SurveyLink.user_id, SurveyResponse.answers)
             .join(SurveyResponse, SurveyResponse.id == SurveyLink.response_id))
    if not include_simulated:
        query = query.where(SurveyResponse.is_simulated.is_(False))
    return {str(user_id): dict(answers) for user_id, answers in session.execute(query)}
