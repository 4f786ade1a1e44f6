"""What the results page shows, computed from a stored analysis: the opinion map laid out
for an inline SVG, groups with their representative statements, consensus weighted and
unweighted, and each statement's tallies beside its bridging score.

Plain data for templates; nothing here renders HTML. Nothing here reveals a participant's
demographic answers or weight (see :func:`accord.deliberate.public_analysis`).
"""

from __future__ import annotations

import math
import string
from typing import Any

from ._config import DeliberationConfig
from ._stored_analysis import (
    StoredAnalysis,
    demographic_totals,
    public_weighting_note,
    weights_publishable,
)

PALETTE = ("#1f6fb4", "#d1495b", "#2e9e5b", "#8d5fc4", "#e08a1e")
NO_GROUP = "#aab2bb"


def group_label(group: int | None) -> str:
    """Polis's letters: group 0 is A."""
    return "–" if group is None or group < 0 else string.ascii_uppercase[group % 26]


def group_colour(group: int | None) -> str:
    return NO_GROUP if group is None or group < 0 else PALETTE[group % len(PALETTE)]


def opinion_map(stored: StoredAnalysis, width: int = 640, height: int = 420,
                margin: int = 24) -> dict[str, Any]:
    """Participants' positions scaled into a ``width`` × ``height`` box (the same scale on
    both axes, so distances read true, give or take a 4-pixel offset that keeps identical
    voters from hiding one another), each with its group's colour, plus group labels at
    the groups' centres."""
    t = stored.analysis.participants
    # As Polis's map: only participants in a group (enough votes to be placed, not left
    # out as bulk voters); the others are counted, not drawn.
    keep = [i for i in range(len(t)) if int(t.group[i]) >= 0]
    xs = [float(t.x[i]) for i in keep] or [0.0]
    ys = [float(t.y[i]) for i in keep] or [0.0]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    scale = min(width - 2 * margin, height - 2 * margin) / span
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def at(x: float, y: float) -> tuple[float, float]:
        return (round(width / 2 + (x - cx) * scale, 1), round(height / 2 - (y - cy) * scale, 1))

    points = []
    for i in keep:
        g = int(t.group[i])
        px, py = at(float(t.x[i]), float(t.y[i]))
        # People who voted alike share a point; a small fixed offset per id (at most 4 px)
        # lets a crowd read as a crowd.
        pid = int(t.ids[i])
        px, py = round(px + (pid * 7919 % 9 - 4), 1), round(py + (pid * 104729 % 9 - 4), 1)
        points.append({"x": px, "y": py, "colour": group_colour(g), "group": group_label(g),
                       "id": int(t.ids[i])})
    labels = []
    for g in stored.analysis.groups:
        gx, gy = at(*g.center)
        labels.append({"x": gx, "y": gy, "label": group_label(g.id),
                       "colour": group_colour(g.id), "size": len(g.participant_ids)})
    return {"width": width, "height": height, "points": points, "groups": labels,
            "not_shown": len(t) - len(keep)}


def _share(x: float) -> str:
    return f"{x:.0%}"


def best_agree_figures(analysis: Any, group: int, statement_id: int) -> dict[str, Any]:
    """How a group voted on its "best agree" statement: agrees, votes and the agree share.

    Polis leads each group's list with the statement the group agrees with most; when no
    statement passes the tests, that is a fallback and not what sets the group apart, so
    it is shown with its agreement, never as the group's (possibly tiny) disagreement.
    """
    t = analysis.statement(statement_id).group_tallies.get(group)
    agree, total = (int(t.agree), int(t.total)) if t is not None else (0, 0)
    return {"agree": agree, "votes": total, "agree_share": agree / total if total else 0.0}


def _representative(a: Any, group: int, r: Any, text: dict[int, str]) -> dict[str, Any]:
    if r.best_agree:
        f = best_agree_figures(a, group, r.statement_id)
        return {"id": r.statement_id, "text": text.get(r.statement_id, ""),
                "direction": "agree", "best_agree": True, "share": _share(f["agree_share"]),
                "count": f"{f['agree']} of {f['votes']}", "repness": round(r.repness, 2)}
    return {"id": r.statement_id, "text": text.get(r.statement_id, ""),
            "direction": r.direction, "best_agree": False,
            "share": _share(r.n_success / max(r.n_trials, 1)),
            "count": f"{r.n_success} of {r.n_trials}", "repness": round(r.repness, 2)}


def results_view(stored: StoredAnalysis, config: DeliberationConfig) -> dict[str, Any]:
    """Everything the results page shows, as plain data."""
    a, conv = stored.analysis, stored.conversation
    text = {s.id: s.text for s in conv.statements.values()}
    meta = conv.meta_statements()
    groups = []
    for g in a.groups:
        reps = [_representative(a, g.id, r, text) for r in g.representative]
        groups.append({"label": group_label(g.id), "colour": group_colour(g.id),
                       "cls": f"g{g.id % len(PALETTE)}",
                       "size": len(g.participant_ids), "representative": reps})

    def consensus(which: dict[str, list[Any]]) -> dict[str, list[dict[str, Any]]]:
        return {d: [{"id": c.statement_id, "text": text.get(c.statement_id, ""),
                     "share": _share(c.n_success / c.n_trials if c.n_trials else 0.0)}
                    for c in which.get(d, [])]
                for d in ("agree", "disagree")}

    weighted = weights_publishable(stored)
    statements = []
    for s in a.statements:
        if s.moderated_out:
            continue
        b = s.bridging
        wt = s.weighted_tally if weighted else s.tally
        statements.append({
            "id": s.id, "text": s.text, "agree": int(s.tally.agree),
            "disagree": int(s.tally.disagree), "passed": int(s.tally.passed),
            "share": _share(s.tally.agree_share),
            "weighted_share": _share(wt.agree_share),
            "groups": [(group_label(g), _share(t.agree_share), int(t.total))
                       for g, t in sorted(s.group_tallies.items())],
            "gic": round(s.group_informed_consensus, 3),
            "bridging": None if b is None or not math.isfinite(b.intercept) else {
                "intercept": f"{b.intercept:+.2f}", "low": f"{b.low:+.2f}",
                "high": f"{b.high:+.2f}"},
            "gic_value": s.group_informed_consensus, "meta": s.id in meta})
    statements.sort(key=lambda s: (-s["gic_value"], s["id"]))
    in_groups = sum(len(g.participant_ids) for g in a.groups)
    return {
        "voters": len(a.participants), "in_groups": in_groups, "votes": len(conv.votes),
        "statements_voted": len(a.statements), "method": a.method, "updates": a.n_updates,
        "groups": groups, "consensus": consensus(a.consensus),
        "weighted_consensus": consensus(a.weighted_consensus if weighted else a.consensus),
        "weighted": weighted,
        # Never the raking message itself: it can name categories one person chose.
        "weighting_note": public_weighting_note(stored), "statements": statements,
        "bulk_flagged": len(a.bulk.flags), "bulk_excluded": a.excluded_bulk,
        "targets": config.demographic_targets,
        "demographics": (demographic_totals(stored, config.demographic_targets)
                         if config.demographic_targets else None),
        "map": opinion_map(stored)}
