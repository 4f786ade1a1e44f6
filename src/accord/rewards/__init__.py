"""Rule-based rewards (Mu et al. 2024): graders answer the spec's propositions with
probabilities, the spec's rules put completions into classes, and a linear model over
the probabilities, fitted per response type so better classes score higher, gives the
RBR score that is added to the reward model's score. See docs/rewards.md.

Training-side code: it never imports ``accord.audit`` (the behaviour meter keeps graders
of its own, so audits do not measure the training signal).
"""

from accord._locale import ensure_utf8_locale
from accord.rewards import _classifiers, _judge, _text  # noqa: F401  (register the kinds)
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
from accord.rewards._judge import DEFAULT_TEMPLATE, JudgeGrader, judge_prompt, load_judge
from accord.rewards._propositions import TRUTH_THRESHOLD, PropositionGrader
from accord.rewards._registry import (
    GRADER_REGISTRY,
    Exchange,
    Grader,
    GraderError,
    GraderParams,
    build_grader,
    grader_kind,
    validate_params,
)
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
    "DEFAULT_TEMPLATE",
    "GOLD_PROPOSITIONS",
    "GRADER_REGISTRY",
    "SPEC_CLASS",
    "SPEC_RESPONSE_TYPE",
    "TRUTH_THRESHOLD",
    "CalibrationRow",
    "Exchange",
    "GoldExample",
    "GoldRules",
    "Grader",
    "GraderError",
    "GraderParams",
    "JudgeGrader",
    "KeywordPromptClassifier",
    "LinearWeights",
    "PropositionGrader",
    "RankedExample",
    "RuleBasedReward",
    "RuleWeights",
    "as_messages",
    "auc",
    "best_single_feature",
    "build_grader",
    "calibration_table",
    "completion_text",
    "ensure_utf8_locale",
    "fit_gold_weights",
    "fit_linear_ranker",
    "fit_rule_weights",
    "gold_label_examples",
    "grade_gold",
    "graded_examples",
    "grader_kind",
    "holdout_mask",
    "judge_prompt",
    "load_gold",
    "load_gold_rules",
    "load_judge",
    "ranking_accuracy",
    "ranking_pairs",
    "sample_gold",
    "split_pairs",
    "total_reward",
    "validate_params",
]
