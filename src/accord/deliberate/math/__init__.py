"""Deliberation math: from a vote history to opinion groups, consensus and bridging scores.

Pure numpy, scipy and scikit-learn (no database, no web): importable and testable alone.
Polis's math as scikit-learn-style steps on a sparse vote matrix (``VoteMatrix``,
``SparsePCA``, ``SparsityAwareScaler``, ``PolisKMeans``), one Polis update
(``polis_update``) and its replay over the history (``replay``), Polis's statement
statistics (``select_representative``, ``select_consensus``,
``group_informed_consensus``), plus bridging scores (``BridgingModel``), raking
(``rake``) and bulk-voting flags (``detect_bulk_voting``). :func:`analyze` composes them
as one :class:`Pipeline` whose grouping step (reducer and clusterer) is pluggable, and
returns a typed :class:`Analysis`; :func:`propose_statements` picks the statements whose
support passes :class:`RatificationThresholds`::

    analysis = analyze(conv, seed=0)                                   # Polis's pipeline
    analysis = analyze(conv, Pipeline(grouping=PolisGrouping(history=False)))
    analysis = analyze(conv, Pipeline(grouping=ReduceAndCluster(SparsePCA(2),
                                                                PolisKMeans(3))))

Names are imported on first use (PEP 562): the storage side's use of ``Conversation`` or
``RatificationThresholds`` does not load scikit-learn.
"""

from __future__ import annotations

from accord._lazy import lazy_exports

# submodule -> the public names it defines
_MODULES: dict[str, tuple[str, ...]] = {
    "_conversation": ("AGREE", "Conversation", "DISAGREE", "MOD_IN", "MOD_NONE", "MOD_OUT",
                      "PASS", "Participant", "Statement", "Vote", "VoteLog"),
    "_matrix": ("VoteMatrix",),
    "_pca": ("SparsePCA", "SparsityAwareScaler"),
    "_kmeans": ("PolisKMeans", "silhouette"),
    "_update": ("PolisParams", "PolisState", "PolisStep", "polis_update"),
    "_history": ("replay",),
    "_repness": ("ConsensusStatement", "GroupStats", "RepresentativeStatement", "group_counts",
                 "group_informed_consensus", "prop_test", "select_consensus",
                 "select_representative", "two_prop_test"),
    "_bridging": ("BridgingFit", "BridgingModel"),
    "_raking": ("RakingResult", "rake"),
    "_bulk": ("BulkVotingReport", "BulkVotingRules", "detect_bulk_voting"),
    "_results": ("Analysis", "BridgingScore", "OpinionGroup", "ParticipantResult",
                 "ParticipantTable", "StatementResult", "Tally"),
    "_grouping": ("Grouping", "GroupingMethod", "PolisGrouping", "ReduceAndCluster"),
    "_pipeline": ("Pipeline", "analyze", "vote_matrix"),
    "_proposals": ("Proposal", "RatificationThresholds", "propose_statements"),
}
__all__ = sorted(name for names in _MODULES.values() for name in names)
__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
