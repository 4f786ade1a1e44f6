"""Deliberation: statements, votes, opinion groups, consensus and ratification.

The public surface::

    conv = read_opendata("path/to/conversation")        # Polis openData folder
    analysis = analyze(conv, seed=0)                    # Polis groups, repness, consensus,
                                                        # bridging, weights, bulk flags
    proposals = propose_statements(analysis, RatificationThresholds(min_group_agree=0.7))
    write_opendata(conv, "out/", groups=analysis.group_of())

Stored deliberations (tables in ``_models.py``, migration 0003)::

    with store.session() as session:
        row = import_opendata(session, "path/to/conversation", name="brexit")
        stored = analyze_deliberation(session, row)         # cached per data state
        new = propose(session, row)                         # statements passing thresholds
        draft(session, new[0], "principle", {...}, by="admin")
        version, spec = ratify(session, new[0], by="admin", spec_dir="spec/")

The math is the sub-package ``accord.deliberate.math`` (numpy, scipy and scikit-learn
only; its names are re-exported here): scikit-learn-style steps on a sparse vote matrix
(``SparsePCA``, ``SparsityAwareScaler``, ``PolisKMeans``, ``BridgingModel``) that can be
used alone, composed by ``analyze`` as one ``Pipeline`` whose grouping step is pluggable
(``PolisGrouping``, the default, or ``ReduceAndCluster(reducer, clusterer)``). Around it:
storage (tables, settings, deliberations, openData import/export, participation and
routing, stored analyses), proposals and ratification into the spec, and the surfaces
(``results_view`` for the results page, ``deliberate_app`` for ``accord deliberate``).
Names are imported on first use (PEP 562), so that ``accord --help`` and the store's
table discovery do not pay for numpy, scipy and scikit-learn. See docs/deliberation.md.
"""

from __future__ import annotations

from accord._lazy import lazy_exports

# submodule -> the public names it defines
_MODULES: dict[str, tuple[str, ...]] = {
    # the math (numpy, scipy, scikit-learn only; also importable as accord.deliberate.math)
    "math": ("AGREE", "Analysis", "BridgingFit", "BridgingModel", "BridgingScore",
             "BulkVotingReport", "BulkVotingRules", "ConsensusStatement", "Conversation",
             "DISAGREE", "GroupStats", "Grouping", "GroupingMethod", "MOD_IN", "MOD_NONE",
             "MOD_OUT", "OpinionGroup", "PASS", "Participant", "ParticipantResult",
             "ParticipantTable", "Pipeline", "PolisGrouping", "PolisKMeans", "PolisParams",
             "PolisState", "PolisStep", "Proposal", "RakingResult", "RatificationThresholds",
             "ReduceAndCluster", "RepresentativeStatement", "SparsePCA",
             "SparsityAwareScaler", "Statement", "StatementResult", "Tally", "Vote",
             "VoteLog", "VoteMatrix", "analyze", "detect_bulk_voting", "group_counts",
             "group_informed_consensus", "polis_update", "prop_test", "propose_statements",
             "rake", "replay", "select_consensus", "select_representative", "silhouette",
             "two_prop_test", "vote_matrix"),
    # the openData file format
    "_opendata": ("OpenDataFolder", "StatsHistory", "read_opendata", "read_opendata_folder",
                  "write_opendata", "write_opendata_folder"),
    # storage: tables, settings, deliberations, taking part, stored analyses
    "_models": ("Deliberation", "DeliberationDemographics", "DeliberationParticipant",
        "DeliberationProposal", "DeliberationStatement", "DeliberationVote",
        "DeliberationVoteEvent", "MODERATION_STATES"),
    "_config": ("ACCOUNTS", "ANONYMOUS", "DeliberationConfig", "ImportSource", "ThresholdSettings",
        "config_of_row", "parse_config", "read_config_file"),
    "_deliberations": ("check_name", "create_deliberation", "get_deliberation",
        "list_deliberations", "load_conversation", "set_config"),
    "_opendata_store": ("export_opendata", "import_note", "import_opendata"),
    "_participation": ("DEMOGRAPHICS_CONSENT", "ParticipationError", "VOTES", "add_statement",
        "cast_vote", "find_participant", "get_statement", "has_demographics", "join",
        "moderate", "record_demographics", "vote_counts", "voted_numbers",
        "withdraw_demographics"),
    "_routing": ("next_statement", "priority"),
    "_stored_analysis": ("StoredAnalysis", "analyze_deliberation", "demographic_totals",
        "public_analysis", "source_parity"),
    # from statements with broad support to a new spec version
    "_proposals": ("draft", "get_proposal", "list_proposals", "propose", "reject",
        "statement_tallies"),
    "_ratification": ("ratify", "spec_dir_of"),
    "_spec_change": ("KINDS", "SpecChangeError", "apply_change", "check_change",
        "describe_change", "parse_change_text", "provenance_lines"),
    # surfaces: the results page's data and the ``accord deliberate`` command group
    "_results_page": ("results_view",),
    # from a vote to a model: what the store records along the way
    "_provenance": ("model_provenance", "model_provenance_lines"),
    "_cli": ("deliberate_app", "provenance_command"),
}
__all__ = sorted(name for names in _MODULES.values() for name in names)
__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
