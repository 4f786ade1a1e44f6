"""Rule-based rewards (Mu et al. 2024): graders answer the spec's propositions with
probabilities, the spec's rules put completions into classes, and a linear model over
the probabilities, fitted per response type so better classes score higher, gives the
RBR score that is added to the reward model's score. See docs/rewards.md.

Training-side code. Its graders are built from the spec's ``graders:`` entries through the
one registry in ``accord.graders`` (``llm_judge`` included); their
records show they read none of the tables the behaviour meter uses, and it never imports
``accord.audit``, so audits do not measure the training signal.
"""

from accord.graders import Exchange
from accord.rewards._calibrate import (
    SPEC_CLASS,
    SPEC_RESPONSE_TYPE,
    CalibrationRow,
    auc,
    best_single_feature,
    calibration_table,
    fit_gold_weights,
    gold_label_examples,
    grade_gold,
    graded_examples,
)
from accord.rewards._cli import rewards_app
from accord.rewards._fit import (
    LinearWeights,
    RankedExample,
    RuleWeights,
    fit_linear_ranker,
    fit_rule_weights,
    holdout_mask,
    ranking_accuracy,
    ranking_pairs,
    split_pairs,
)
from accord.rewards._gold import (
    GOLD_PROPOSITIONS,
    GoldExample,
    GoldRules,
    load_gold,
    load_gold_rules,
    sample_gold,
)
from accord.rewards._propositions import TRUTH_THRESHOLD, PropositionGrader
from accord.rewards._reward import (
    CLASS_REWARD,
    KeywordPromptClassifier,
    RuleBasedReward,
    as_messages,
    completion_text,
    total_reward,
)

__all__ = [
    "CLASS_REWARD",
    "GOLD_PROPOSITIONS",
    "SPEC_CLASS",
    "SPEC_RESPONSE_TYPE",
    "TRUTH_THRESHOLD",
    "CalibrationRow",
    "Exchange",
    "GoldExample",
    "GoldRules",
    "KeywordPromptClassifier",
    "LinearWeights",
    "PropositionGrader",
    "RankedExample",
    "RuleBasedReward",
    "RuleWeights",
    "as_messages",
    "auc",
    "best_single_feature",
    "calibration_table",
    "completion_text",
    "fit_gold_weights",
    "fit_linear_ranker",
    "fit_rule_weights",
    "gold_label_examples",
    "grade_gold",
    "graded_examples",
    "holdout_mask",
    "load_gold",
    "load_gold_rules",
    "ranking_accuracy",
    "ranking_pairs",
    "rewards_app",
    "sample_gold",
    "split_pairs",
    "total_reward",
]
