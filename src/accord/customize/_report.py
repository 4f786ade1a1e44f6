"""The run report's enforcement and feedback sections."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup


def report_sections(store: Any) -> list[Markup]:
    """HTML fragments (escaped) for the run report: enforcement events by bound and outcome,
    and public feedback by kind, flagged category and triage status.

    Args:
        store: an opened ``accord.store.Store``.
    """
    from accord.customize._feedback import enforcement_counts, feedback_counts
    from accord.report import heading, paragraph, table

    with store.session() as session:
        enforced = enforcement_counts(session)
        feedback = feedback_counts(session)
    parts: list[Markup] = [heading("Enforcement of the hard bounds")]
    parts.append(paragraph(
        f"{enforced['answers']:,} answers served; {enforced['events']:,} crossed a hard bound "
        f"at least once; {enforced['answers_replaced']:,} were replaced (in whole or after "
        "clean text) by the spec's safe completion. Violating text is never shown."))
    if enforced["events"]:
        parts.append(table(["hard bound", "events"], sorted(enforced["by_bound"].items()),
                           caption="Enforcement events by bound"))
        parts.append(table(["outcome", "events"], sorted(enforced["by_outcome"].items()),
                           caption="What the user was shown instead"))
    parts.append(heading("Public feedback"))
    parts.append(paragraph(f"{feedback['total']:,} feedback items on answers."))
    if feedback["total"]:
        parts.append(table(["kind", "count"], sorted(feedback["by_kind"].items()),
                           caption="Feedback by kind"))
        if feedback["by_category"]:
            parts.append(table(["guideline category", "flags"],
                               sorted(feedback["by_category"].items()),
                               caption="Flags by guideline category"))
        parts.append(table(["triage status", "count"], sorted(feedback["by_status"].items()),
                           caption="Triage"))
    return parts
