"""``analyze``: from a conversation to opinion groups, consensus and bridging scores.

One pipeline of steps on the vote matrix: bulk-voting flags, then (optionally) leaving
the flagged voters out, the grouping (reducer and clusterer: Polis's by default, see
``_grouping.py``), post-stratification weights, the group statistics (repness,
consensus, group-informed consensus), bridging scores, and the typed :class:`Analysis`.
:class:`Pipeline` holds every choice; ``analyze(conv, seed=0, history=False)`` style
keywords (today's options) still work and are mapped onto it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from accord.errors import AccordError

from ._bridging import BridgingModel
from ._bulk import BulkVotingRules, detect_bulk_voting
from ._conversation import Conversation, VoteLog
from ._grouping import GroupingMethod, PolisGrouping
from ._matrix import VoteMatrix
from ._raking import RakingResult, rake
from ._repness import (
    group_counts,
    group_informed_consensus,
    select_consensus,
    select_representative,
)
from ._results import (
    Analysis,
    BridgingScore,
    OpinionGroup,
    ParticipantTable,
    StatementResult,
    Tally,
)

# Keyword options that configure Polis's grouping rather than the pipeline around it.
_POLIS_OPTIONS = ("params", "history", "replay_interval_ms", "max_updates")


@dataclass(frozen=True)
class Pipeline:
    """Every choice :func:`analyze` makes besides the seed; the defaults are Polis's, plus
    bridging scores.

    Attributes:
        grouping: places participants on the opinion map and forms the groups:
            :class:`PolisGrouping` (Polis's PCA, base clusters, k choice and history
            replay) or :class:`ReduceAndCluster` (any reducer and clusterer).
        weights: participant id -> post-stratification weight, or
        demographic_targets: variable -> {category: share}, to rake weights from the
            participants' demographics (mutually exclusive with ``weights``).
        bulk_rules: thresholds for bulk-voting detection (None: the defaults).
        exclude_bulk: leave flagged participants out of every computation.
        bridging: fit the bridging model; bridging_bootstrap: its bootstrap size
            (0 uses the Laplace standard error).
        pick_max: representative and consensus statements kept per group/direction.
    """

    grouping: GroupingMethod = field(default_factory=PolisGrouping)
    weights: Mapping[int, float] | None = None
    demographic_targets: Mapping[str, Mapping[str, float]] | None = None
    bulk_rules: BulkVotingRules | None = None
    exclude_bulk: bool = False
    bridging: bool = True
    bridging_bootstrap: int = 0
    pick_max: int = 5

    def with_options(self, **options: Any) -> Pipeline:
        """This pipeline with keyword options applied: any field above, or Polis's
        ``params``, ``history``, ``replay_interval_ms`` and ``max_updates`` (which set
        the fields of a :class:`PolisGrouping`; ``params=None`` means Polis's defaults).

        Raises:
            AccordError: an unknown option (the allowed ones are listed), or a Polis
                option while ``grouping`` is not a :class:`PolisGrouping`.
        """
        own = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(options) - own - set(_POLIS_OPTIONS))
        if unknown:
            raise AccordError(f"analyze: unknown option(s) {unknown}; allowed: "
                              f"{', '.join([*sorted(own), *_POLIS_OPTIONS])}")
        polis = {k: options.pop(k) for k in _POLIS_OPTIONS if k in options}
        grouping = options.pop("grouping", self.grouping)
        if polis:
            if not isinstance(grouping, PolisGrouping):
                raise AccordError(f"analyze: {sorted(polis)} configure Polis's grouping, but "
                                  f"the grouping is {type(grouping).__name__}")
            if "params" in polis and polis["params"] is None:
                polis["params"] = PolisGrouping().params
            grouping = dataclasses.replace(grouping, **polis)
        return dataclasses.replace(self, grouping=grouping, **options)


def analyze(conversation: Conversation, pipeline: Pipeline | None = None, *, seed: int = 0,
            **options: Any) -> Analysis:
    """Analyse a conversation the way Polis does, plus bridging and weighting.

    Args:
        conversation: statements, participants and the vote history.
        pipeline: the steps and their settings; by default Polis's (``Pipeline()``).
        seed: seeds every random choice (eigen-solver start, bridging initialisation,
            bootstrap, a custom reducer's or clusterer's ``random_state``); the same seed
            gives the same result.
        **options: today's keywords, applied on top of ``pipeline`` (see
            :meth:`Pipeline.with_options`): ``params``, ``history``,
            ``replay_interval_ms``, ``max_updates`` (Polis's grouping), ``weights``,
            ``demographic_targets``, ``bulk_rules``, ``exclude_bulk``, ``bridging``,
            ``bridging_bootstrap``, ``pick_max``. ``analyze(conv, history=False)`` equals
            ``analyze(conv, Pipeline(grouping=PolisGrouping(history=False)))``.

    Raises:
        AccordError: an unknown option, no votes, both ``weights`` and
            ``demographic_targets`` given, or raking fails (impossible targets).
    """
    pipe = (pipeline or Pipeline()).with_options(**options)
    weights = pipe.weights
    conv = conversation
    if len(conv.votes) == 0:
        raise AccordError("analyze: the conversation has no votes")
    if weights is not None and pipe.demographic_targets is not None:
        raise AccordError("analyze: give either weights or demographic_targets, not both")
    full = VoteMatrix.from_log(conv.votes)
    tokens = {p.id: p.token for p in conv.participants.values() if p.token}
    bulk = detect_bulk_voting(conv.votes, full.votes, full.participant_ids, pipe.bulk_rules,
                              tokens or None)
    log = conv.votes
    if pipe.exclude_bulk and bulk.flags:
        drop = np.fromiter(bulk.flags, dtype=np.int64, count=len(bulk.flags))
        keep = ~np.isin(log.voter_ids, drop)
        log = VoteLog(log.voter_ids[keep], log.statement_ids[keep], log.values[keep],
                      log.timestamps_ms[keep])
        if len(log) == 0:
            raise AccordError("analyze: every vote came from participants flagged as bulk "
                              "voting")
        full = VoteMatrix.from_log(log)
    mod_out = conv.moderated_out()
    # Polis leaves meta statements out of the math as it does moderated-out ones (its
    # mod-update puts both in mod-out): they say nothing about opinion, only the process.
    grouping = pipe.grouping.group(log, full, mod_out | conv.meta_statements(), seed)
    matrix = grouping.matrix

    # Map the clustering's rows onto the full matrix's rows (same participants).
    pos = {p: i for i, p in enumerate(matrix.participant_ids.tolist())}
    rows = np.array([pos.get(p, -1) for p in full.participant_ids.tolist()])
    labels = np.where(rows >= 0, grouping.labels[np.maximum(rows, 0)], -1)
    xy = np.where(rows[:, None] >= 0, grouping.projection[np.maximum(rows, 0)], 0.0)
    k = int(labels.max()) + 1 if (labels >= 0).any() else 0

    raking: RakingResult | None = None
    if pipe.demographic_targets is not None:
        raking = rake({p.id: p.demographics for p in conv.participants.values()
                       if p.id in pos or p.demographics}, pipe.demographic_targets)
        weights = raking.weights
    w = np.array([float((weights or {}).get(p, 1.0)) for p in full.participant_ids.tolist()])
    if (w < 0).any() or not np.isfinite(w).all():
        raise AccordError("analyze: weights must be finite and non-negative")
    w_norm = w * (len(w) / w.sum()) if w.sum() > 0 else w

    F = full.votes
    sids = full.statement_ids
    everyone = np.zeros(F.shape[0], dtype=np.int64)
    total = group_counts(F, everyone, 1)
    wtotal = group_counts(F, everyone, 1, weights=w_norm)
    groups_st = group_counts(F, labels, max(k, 1))
    excluded = mod_out | conv.meta_statements()  # meta: about the process, never a finding
    reps = select_representative(groups_st, sids, excluded, pipe.pick_max) if k >= 1 else []
    consensus = select_consensus(total.na[0], total.nd[0], total.ns[0], sids, excluded,
                                 pipe.pick_max)
    wconsensus = select_consensus(wtotal.na[0], wtotal.nd[0], wtotal.ns[0], sids, excluded,
                                  pipe.pick_max)
    gic = group_informed_consensus(groups_st.na, groups_st.ns)
    gid = group_informed_consensus(groups_st.nd, groups_st.ns)

    bridge = None
    if pipe.bridging:
        bridge = BridgingModel(random_state=seed, bootstrap=pipe.bridging_bootstrap).fit(
            F, init_factor=xy[:, 0])
    stmt_xy = grouping.statement_xy
    stmt_pos = {s: i for i, s in enumerate(matrix.statement_ids.tolist())}

    statements = []
    for j, sid in enumerate(sids.tolist()):
        st = conv.statements.get(sid)
        b = None
        if bridge is not None:
            b = BridgingScore(float(bridge.intercept[j]), float(bridge.intercept_se[j]),
                              float(bridge.factor[j]), int(bridge.n_ratings[j]))
        sj = stmt_pos.get(sid)
        sx, sy = (float(stmt_xy[sj, 0]), float(stmt_xy[sj, 1])) if sj is not None else (0, 0)
        statements.append(StatementResult(
            sid, st.text if st else "", sid in mod_out, _tally(total, 0, j),
            _tally(wtotal, 0, j), {g: _tally(groups_st, g, j) for g in range(k)},
            float(gic[j]), float(gid[j]), b, sx, sy))

    counts = np.diff(F.indptr)
    flags = {p: tuple(f) for p, f in bulk.flags.items()}
    ids, group, px, py, nv, pw = (full.participant_ids, labels, xy[:, 0], xy[:, 1], counts, w)
    if pipe.exclude_bulk:
        # Participants left out still appear, flagged, without group or position.
        gone = np.array(sorted(set(flags) - set(ids.tolist())), dtype=np.int64)
        z = np.zeros(len(gone))
        ids, group = np.concatenate([ids, gone]), np.concatenate([group, z - 1]).astype(int)
        px, py = np.concatenate([px, z]), np.concatenate([py, z])
        nv, pw = np.concatenate([nv, z]).astype(int), np.concatenate([pw, z + 1])
    participants = ParticipantTable(ids, group, px, py, nv, pw, flags)
    groups = []
    for g in range(k):
        members = labels == g
        groups.append(OpinionGroup(
            g, tuple(full.participant_ids[members].tolist()),
            (float(xy[members, 0].mean()), float(xy[members, 1].mean())),
            tuple(reps[g]) if g < len(reps) else ()))
    return Analysis(participants, groups, statements, consensus, wconsensus,
                    dict(grouping.silhouettes), grouping.best_k, bulk, pipe.exclude_bulk,
                    raking, grouping.method, grouping.n_updates, seed)


def _tally(st: object, g: int, j: int) -> Tally:
    na, nd, ns = st.na[g, j], st.nd[g, j], st.ns[g, j]  # type: ignore[attr-defined]
    return Tally(float(na), float(nd), float(ns - na - nd))


def vote_matrix(conversation: Conversation) -> sp.csr_matrix:
    """The latest votes as a sparse participants × statements matrix (for custom steps)."""
    return VoteMatrix.from_log(conversation.votes).votes
