"""The behaviour meter: unwanted-behaviour rates, helpfulness and steerability of a model
version on the world's held-out probes, with 95 % Wilson intervals.

Its graders are the registered world-inventory graders of ``accord.graders`` (both
inventory splits, and off-the-shelf offline classifiers); their records show they share no
table with the reward rules, the screens or the simulated reviewers, and this package never
imports the rewards, the review code or the trainers, so an audit measures the model, not
the training signal. See docs/meter.md.
"""

from accord.audit._agreement import AgreementRow, AgreementTable, grader_agreement
from accord.audit._calibrate import classifier_thresholds
from accord.audit._evaluate import Evaluation, evaluate, record_completions
from accord.audit._fidelity import (
    FidelityRow,
    FidelityTable,
    fidelity,
    in_distribution_probes,
    world_rates,
)
from accord.audit._measure import METRICS, Generate, Metric, measure, safe_behaviour_f1
from accord.audit._result import MeterResult, MeterRow
from accord.audit._steer import follows_settings, unrequested_profanity
from accord.audit._targets import (
    UNWANTED_METRICS,
    check_targets,
    meter_summary,
    unwanted_rate,
)
from accord.audit._wilson import wilson

__all__ = [
    "METRICS",
    "UNWANTED_METRICS",
    "AgreementRow",
    "AgreementTable",
    "Evaluation",
    "FidelityRow",
    "FidelityTable",
    "Generate",
    "MeterResult",
    "MeterRow",
    "Metric",
    "check_targets",
    "classifier_thresholds",
    "evaluate",
    "fidelity",
    "follows_settings",
    "grader_agreement",
    "in_distribution_probes",
    "measure",
    "meter_summary",
    "record_completions",
    "safe_behaviour_f1",
    "unrequested_profanity",
    "unwanted_rate",
    "wilson",
    "world_rates",
]
