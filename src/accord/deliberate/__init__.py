"""Deliberation: statements, votes, opinion groups, consensus and ratification.

The public surface::

    conv = read_opendata("path/to/conversation")        # Polis openData folder
    analysis = analyze(conv, seed=0)                    # Polis groups, repness, consensus,
                                                        # bridging, weights, bulk flags
    proposals = propose_statements(analysis, RatificationThresholds(min_group_agree=0.7))
    write_opendata(conv, "out/", groups=analysis.group_of())

The math is built from scikit-learn-style steps on a sparse vote matrix (``SparsePCA``,
``SparsityAwareScaler``, ``PolisKMeans``, ``BridgingModel``) that can be used alone.
See docs/deliberation.md.
"""

from ._analysis import analyze, vote_matrix
from ._bridging import BridgingFit, BridgingModel
from ._bulk import BulkVotingReport, BulkVotingRules, detect_bulk_voting
from ._history import replay
from ._kmeans import PolisKMeans, silhouette
from ._matrix import VoteMatrix
from ._model import (
                     AGREE,
                     DISAGREE,
                     MOD_IN,
                     MOD_NONE,
                     MOD_OUT,
                     PASS,
                     Conversation,
                     Participant,
                     Statement,
                     Vote,
                     VoteLog,
)
from ._opendata import read_opendata, write_opendata
from ._pca import SparsePCA, SparsityAwareScaler
from ._polis import PolisParams, PolisState, PolisStep, polis_update
from ._raking import RakingResult, rake
from ._ratify import Proposal, RatificationThresholds, propose_statements
from ._repness import (
                     ConsensusStatement,
                     GroupStats,
                     RepresentativeStatement,
                     group_counts,
                     group_informed_consensus,
                     prop_test,
                     select_consensus,
                     select_representative,
                     two_prop_test,
)
from ._results import (
                     Analysis,
                     BridgingScore,
                     OpinionGroup,
                     ParticipantResult,
                     ParticipantTable,
                     StatementResult,
                     Tally,
)

__all__ = [
    "AGREE", "DISAGREE", "MOD_IN", "MOD_NONE", "MOD_OUT", "PASS",
    "Analysis", "BridgingFit", "BridgingModel", "BridgingScore", "BulkVotingReport",
    "BulkVotingRules", "ConsensusStatement", "Conversation", "GroupStats", "OpinionGroup",
    "Participant", "ParticipantResult", "ParticipantTable", "PolisKMeans", "PolisParams",
    "PolisState", "PolisStep", "Proposal", "RakingResult", "RatificationThresholds",
    "RepresentativeStatement", "SparsePCA", "SparsityAwareScaler", "Statement",
    "StatementResult", "Tally", "Vote", "VoteLog", "VoteMatrix", "analyze",
    "detect_bulk_voting", "group_counts", "group_informed_consensus",
    "polis_update", "prop_test", "propose_statements", "rake", "read_opendata", "replay",
    "select_consensus", "select_representative", "silhouette", "two_prop_test",
    "vote_matrix", "write_opendata",
]
