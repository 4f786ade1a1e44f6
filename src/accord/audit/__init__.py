"""The behaviour meter: unwanted-behaviour rates, helpfulness and steerability of a model
version on the world's held-out probes, with 95 % Wilson intervals.

Its graders use only the world's phrase inventories (training and held-out phrasings) and
off-the-shelf offline classifiers; this package never imports the reward rules, the
review code or the trainers, so an audit measures the model, not the training signal.
See docs/meter.md.
"""

from accord._locale import ensure_utf8_locale as ensure_locale
from accord.audit._agreement import AgreementRow, AgreementTable, grader_agreement
from accord.audit._calibrate import classifier_thresholds
from accord.audit._classifiers import hatesonar_scores, profanity_probabilities
from accord.audit._fidelity import (
    FidelityRow,
    FidelityTable,
    fidelity,
    in_distribution_probes,
    world_rates,
)
from accord.audit._graders import (
    HATESONAR_THRESHOLD,
    PROFANITY_CHECK_THRESHOLD,
    fact_correct,
    objectionable_compliance,
    offensive,
    offensive_hatesonar,
    offensive_inventory,
    offensive_profanity_check,
    one_sided,
    preachy,
    refusal,
)
from accord.audit._measure import METRICS, Generate, Metric, measure, safe_behaviour_f1
from accord.audit._registry import GRADERS, Grader, get_grader, grader
from accord.audit._result import MeterResult, MeterRow
from accord.audit._steer import follows_settings, unrequested_profanity
from accord.audit._wilson import wilson

__all__ = [
    "GRADERS",
    "HATESONAR_THRESHOLD",
    "METRICS",
    "PROFANITY_CHECK_THRESHOLD",
    "AgreementRow",
    "AgreementTable",
    "FidelityRow",
    "FidelityTable",
    "Generate",
    "Grader",
    "MeterResult",
    "MeterRow",
    "Metric",
    "classifier_thresholds",
    "ensure_locale",
    "fact_correct",
    "fidelity",
    "follows_settings",
    "get_grader",
    "grader",
    "grader_agreement",
    "hatesonar_scores",
    "in_distribution_probes",
    "measure",
    "objectionable_compliance",
    "offensive",
    "offensive_hatesonar",
    "offensive_inventory",
    "offensive_profanity_check",
    "one_sided",
    "preachy",
    "profanity_probabilities",
    "refusal",
    "safe_behaviour_f1",
    "unrequested_profanity",
    "wilson",
    "world_rates",
]
