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

The math is built from scikit-learn-style steps on a sparse vote matrix (``SparsePCA``,
``SparsityAwareScaler``, ``PolisKMeans``, ``BridgingModel``) that can be used alone.
Names are imported on first use (PEP 562), so that ``accord --help`` and the store's
table discovery do not pay for numpy, scipy and scikit-learn. See docs/deliberation.md.
"""

from __future__ import annotations

import importlib
from typing import Any

# submodule -> the public names it defines
_MODULES: dict[str, tuple[str, ...]] = {
    "_analysis": ("analyze", "vote_matrix"),
    "_bridging": ("BridgingFit", "BridgingModel"),
    "_bulk": ("BulkVotingReport", "BulkVotingRules", "detect_bulk_voting"),
    "_config": ("ACCOUNTS", "ANONYMOUS", "DeliberationConfig", "ThresholdSettings",
        "config_of_row", "parse_config", "read_config_file"),
    "_history": ("replay",),
    "_kmeans": ("PolisKMeans", "silhouette"),
    "_matrix": ("VoteMatrix",),
    "_model": ("AGREE", "Conversation", "DISAGREE", "MOD_IN", "MOD_NONE", "MOD_OUT", "PASS",
        "Participant", "Statement", "Vote", "VoteLog"),
    "_models": ("Deliberation", "DeliberationDemographics", "DeliberationParticipant",
        "DeliberationProposal", "DeliberationStatement", "DeliberationVote",
        "DeliberationVoteEvent", "MODERATION_STATES"),
    "_opendata": ("read_opendata", "write_opendata"),
    "_participation": ("DEMOGRAPHICS_CONSENT", "ParticipationError", "VOTES", "add_statement",
        "cast_vote", "find_participant", "get_statement", "has_demographics", "join",
        "moderate", "next_statement", "priority", "record_demographics", "voted_numbers",
        "withdraw_demographics"),
    "_pca": ("SparsePCA", "SparsityAwareScaler"),
    "_polis": ("PolisParams", "PolisState", "PolisStep", "polis_update"),
    "_proposals": ("draft", "get_proposal", "list_proposals", "propose", "ratify", "reject",
        "spec_dir_of", "statement_tallies"),
    "_raking": ("RakingResult", "rake"),
    "_ratify": ("Proposal", "RatificationThresholds", "propose_statements"),
    "_repness": ("ConsensusStatement", "GroupStats", "RepresentativeStatement",
        "group_counts", "group_informed_consensus", "prop_test", "select_consensus",
        "select_representative", "two_prop_test"),
    "_results": ("Analysis", "BridgingScore", "OpinionGroup", "ParticipantResult",
        "ParticipantTable", "StatementResult", "Tally"),
    "_spec_change": ("KINDS", "SpecChangeError", "apply_change", "check_change",
        "describe_change", "parse_change_text", "provenance_lines"),
    "_store": ("check_name", "create_deliberation", "export_opendata", "get_deliberation",
        "import_opendata", "list_deliberations", "load_conversation", "set_config",
        "vote_counts"),
    "_stored": ("StoredAnalysis", "analyze_deliberation", "demographic_totals",
        "public_analysis", "source_parity"),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'accord.deliberate' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"accord.deliberate.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
