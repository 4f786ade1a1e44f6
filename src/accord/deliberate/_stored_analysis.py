"""Analysing a stored deliberation: cached per state of its data, and reported in a form
that may leave the store (no per-participant weights, demographics only as suppressed
totals)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.errors import AccordError
from accord.store import content_hash

from ._config import config_of_row
from ._deliberations import load_conversation
from ._models import (
    Deliberation,
    DeliberationDemographics,
    DeliberationParticipant,
    DeliberationStatement,
    DeliberationVoteEvent,
)
from .math import Analysis, BulkVotingRules, Conversation, analyze

MIN_CELL = 11  # as the reviewers' transparency report: nothing from 1 to 10 is shown
_CACHE: OrderedDict[tuple[Any, ...], StoredAnalysis] = OrderedDict()
_CACHE_SIZE = 16
_LOCK = threading.Lock()


@dataclass
class StoredAnalysis:
    """An analysis of a stored deliberation and what it was computed from.

    Attributes:
        analysis: the result of :func:`analyze`.
        conversation: the data analysed (with demographics: do not publish it as is).
        fingerprint: hash of the votes, moderation, config and demographics it reflects.
        weighting_note: why weights were not computed, when targets were set but raking
            could not reach them (then the weighted figures equal the unweighted ones).
    """

    analysis: Analysis
    conversation: Conversation
    fingerprint: str
    weighting_note: str = ""
    options: dict[str, Any] = field(default_factory=dict)


def fingerprint(session: Session, row: Deliberation) -> str:
    """A hash that changes whenever anything the analysis reads changes."""
    E = DeliberationVoteEvent
    events = session.execute(select(func.count(), func.max(E.id)).where(
        E.deliberation_id == row.id)).one()
    moderation = session.execute(
        select(DeliberationStatement.number, DeliberationStatement.moderation)
        .where(DeliberationStatement.deliberation_id == row.id)
        .order_by(DeliberationStatement.number)).all()
    demo = session.execute(
        select(DeliberationDemographics.participant_id, DeliberationDemographics.answers)
        .join(DeliberationParticipant,
              DeliberationParticipant.id == DeliberationDemographics.participant_id)
        .where(DeliberationParticipant.deliberation_id == row.id)
        .order_by(DeliberationDemographics.participant_id)).all()
    return content_hash({"events": list(events), "moderation": [list(m) for m in moderation],
                         "config": row.config, "demographics": [list(d) for d in demo]})


def analyze_deliberation(session: Session, row: Deliberation, *, seed: int | None = None,
                         history: bool | None = None, max_updates: int | None = None,
                         exclude_bulk: bool | None = None, bridging: bool = True
                         ) -> StoredAnalysis:
    """Analyse the deliberation with its config (arguments override it); the same data
    and options give the cached result.

    Raises:
        AccordError: no votes yet.
    """
    cfg = config_of_row(row)
    options = {"seed": cfg.seed if seed is None else seed,
               "history": cfg.history if history is None else history,
               "max_updates": max_updates or cfg.max_updates,
               "exclude_bulk": cfg.exclude_bulk if exclude_bulk is None else exclude_bulk,
               "bridging": bridging}
    stamp = fingerprint(session, row)
    key = (str(session.get_bind().url), row.id, stamp, tuple(sorted(options.items())))
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    conv = load_conversation(session, row)
    if len(conv.votes) == 0:
        raise AccordError(f"deliberation {row.name!r} has no votes yet; nothing to analyse")
    kwargs: dict[str, Any] = {
        "seed": options["seed"], "history": options["history"],
        "max_updates": options["max_updates"], "exclude_bulk": options["exclude_bulk"],
        "bridging": options["bridging"]}
    if cfg.source is not None and not cfg.source.has_history:
        # A snapshot stamps every vote with one time: every voter would look like a burst.
        kwargs["bulk_rules"] = BulkVotingRules(burst_votes=2**62)
    note = ""
    targets = cfg.demographic_targets
    try:
        analysis = analyze(conv, demographic_targets=targets or None, **kwargs)
    except AccordError as exc:
        if not targets:
            raise
        note = f"not weighted: {exc}"
        analysis = analyze(conv, **kwargs)
    result = StoredAnalysis(analysis, conv, stamp, note, options)
    with _LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def source_parity(stored: StoredAnalysis) -> dict[str, Any] | None:
    """Agreement with the source system's groups (Polis ``group-id``), when it has any:
    the adjusted Rand index over participants both put in a group."""
    from sklearn.metrics import adjusted_rand_score

    ref = {p.id: p.source_group for p in stored.conversation.participants.values()
           if p.source_group is not None}
    if not ref:
        return None
    ours = stored.analysis.group_of()
    common = sorted(set(ref) & set(ours))
    if len(common) < 2:
        return {"ari": None, "participants": len(common), "source_groups": len(set(ref.values())),
                "groups": len(stored.analysis.groups)}
    ari = adjusted_rand_score([ref[p] for p in common], [ours[p] for p in common])
    return {"ari": float(ari), "participants": len(common),
            "source_groups": len(set(ref.values())), "groups": len(stored.analysis.groups)}


def demographic_totals(stored: StoredAnalysis, targets: dict[str, dict[str, float]],
                       min_cell: int = MIN_CELL) -> dict[str, Any]:
    """How many participants shared each answer, as publishable totals: a count under
    ``min_cell`` (and any that would let one be recovered by subtraction) is hidden."""
    from accord.transparency import suppress_cells, suppress_total

    answers = [p.demographics for p in stored.conversation.participants.values()
               if p.demographics]
    total = len(answers)
    if suppress_total(total, min_cell):
        return {"participants": None, "min_cell": min_cell, "variables": {}}
    variables: dict[str, list[dict[str, Any]]] = {}
    for variable, shares in targets.items():
        counts = {c: 0 for c in shares}
        counts["not stated"] = 0
        for a in answers:
            value = a.get(variable)
            counts[value if value in shares else "not stated"] += 1
        hidden = suppress_cells(counts, min_cell)
        variables[variable] = [{"category": c, "target": shares.get(c),
                                "count": None if hidden[c] else n, "suppressed": hidden[c]}
                               for c, n in counts.items()]
    return {"participants": total, "min_cell": min_cell, "variables": variables}


def sharers(stored: StoredAnalysis) -> int:
    """How many participants shared demographic answers."""
    return sum(1 for p in stored.conversation.participants.values() if p.demographics)


def weights_publishable(stored: StoredAnalysis, min_cell: int = MIN_CELL) -> bool:
    """Whether figures weighted by demographic answers may be published: raking worked
    and at least ``min_cell`` participants shared answers (with fewer, a weighted figure
    says too much about each of them, the rule the published totals follow)."""
    from accord.transparency import suppress_total

    return stored.analysis.raking is not None and not suppress_total(sharers(stored), min_cell)


def public_weighting_note(stored: StoredAnalysis, min_cell: int = MIN_CELL) -> str:
    """Why the published figures are not weighted, in words that reveal no answer.

    The note kept in :attr:`StoredAnalysis.weighting_note` comes from raking and may name
    categories nobody (or one person) chose; published, it would give away answers that
    the totals hide. So the public note says only which rule stopped the weighting.
    """
    from accord.transparency import suppress_total

    if not stored.weighting_note and stored.analysis.raking is None:
        return ""
    if suppress_total(sharers(stored), min_cell):
        return (f"not weighted: fewer than {min_cell} participants shared demographic "
                "answers, so nothing derived from them is shown")
    if stored.weighting_note:
        return ("not weighted: the shared demographic answers cannot be weighted to the "
                "target shares (the totals below show what may be published; the details "
                "could reveal answers and are not shown)")
    return ""


def public_analysis(stored: StoredAnalysis) -> dict[str, Any]:
    """The analysis as JSON-ready data that may be published.

    Per-participant weights (a function of each one's demographic answers) and the raking
    weights are left out; the raking outcome is summarised instead.
    """
    from accord.transparency import suppress_total

    out = stored.analysis.to_dict()
    out["participants"].pop("weight", None)
    raking = stored.analysis.raking
    if raking is not None and not weights_publishable(stored):
        # Too few sharers: weighted figures would speak for a handful of people.
        raking = None
        out["weighted_consensus"] = out["consensus"]
        for d in out["statements"]:
            d["weighted_tally"] = d["tally"]

    def count(n: int) -> int | None:
        return None if n > 0 and suppress_total(n, MIN_CELL) else n

    out["raking"] = None if raking is None else {
        "iterations": raking.iterations, "max_margin_error": raking.max_margin_error,
        "weighted_participants": count(len(raking.weights) - len(raking.unweighted)),
        "unweighted_participants": count(len(raking.unweighted))}
    out["weighting_note"] = public_weighting_note(stored)
    out["options"] = stored.options
    for g, group in zip(stored.analysis.groups, out["groups"], strict=True):
        for r, rep in zip(g.representative, group["representative"], strict=True):
            if r.best_agree:
                # The fallback is the group's best agreement: report that, not a direction
                # the group barely took (see results_view).
                from ._results_page import best_agree_figures

                figures = best_agree_figures(stored.analysis, g.id, r.statement_id)
                rep.update({"direction": "agree", "n_success": figures["agree"],
                            "n_trials": figures["votes"],
                            "p_success": (figures["agree"] + 1) / (figures["votes"] + 2),
                            "agree_share": figures["agree_share"], "p_test": None,
                            "repness_test": None})
    return out
