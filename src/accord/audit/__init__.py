"""The behaviour meter: unwanted-behaviour rates, helpfulness and steerability of a model
version on the world's held-out probes, with 95 % Wilson intervals.

Its graders are the registered world-inventory graders of ``accord.graders`` (both
inventory splits, and off-the-shelf offline classifiers); their records show they share no
table with the reward rules, the screens or the simulated reviewers, and this package never
imports the rewards, the review code or the trainers, so an audit measures the model, not
the training signal. See docs/meter.md.

The public suites (``xstest``, ``evenhandedness``, ``bbq``, ``offensive``; ``world`` and
``probes``) measure any model behind an ``accord.model`` backend on public data, judged by
the real-text graders: :func:`run_suites` (docs/meter.md, "Public suites").

Audits anyone can verify (docs/audits.md): :func:`run_audit` writes a bundle (report,
items, page, manifest of hashes), :func:`sign_bundle` signs it with Ed25519,
:func:`verify_bundle` checks it (and re-grades, re-generates), :func:`publish_bundle`
registers it for the public ``/audits`` page; :func:`grant_audit` and :func:`audit_gate`
give auditors scoped ``/v1`` access.
"""

from accord.audit._agreement import AgreementRow, AgreementTable, grader_agreement
from accord.audit._audit_access import (
    AUDITOR,
    AuditRefusal,
    audit_gate,
    grant_audit,
    list_grants,
    revoke_grant,
)
from accord.audit._audit_cli import audit_app
from accord.audit._audit_html import figures_chart, render_report
from accord.audit._audit_publish import bundle_zip, get_published, list_published, publish_bundle
from accord.audit._audit_run import AuditBundle, run_audit
from accord.audit._audit_sign import create_keys, sign_bundle
from accord.audit._audit_verify import Verification, verify_bundle
from accord.audit._calibrate import classifier_thresholds
from accord.audit._evaluate import Evaluation, evaluate, record_completions
from accord.audit._fidelity import (
    FidelityRow,
    FidelityTable,
    ProbeSets,
    conversation_key,
    fidelity,
    in_distribution_probes,
    world_rates,
)
from accord.audit._independence import (
    FEATURE_EXTRACTORS,
    Independence,
    SelfGradingError,
    SharedSource,
    annotate,
    check_independence,
    grader_record_dict,
    meter_graders,
    model_training_signal,
    require_independent,
)
from accord.audit._measure import METRICS, Generate, Metric, measure, safe_behaviour_f1
from accord.audit._models import AuditGrant, AuditRequest, PublishedAudit
from accord.audit._result import MeterResult, MeterRow
from accord.audit._steer import follows_settings, unrequested_profanity
from accord.audit._suites import (
    PUBLIC_SUITES,
    SUITES,
    Figure,
    Suite,
    SuiteContext,
    SuiteResult,
    agreement_line,
    default_data_dir,
    grader_record,
    list_suites,
    parse_suites,
    register_suite,
    run_suites,
)
from accord.audit._suites_bbq import bias_score
from accord.audit._suites_offensive import hh_first_prompt, hh_suite_split, is_suite_prompt
from accord.audit._suites_probes import WORLD_LABEL, load_probes
from accord.audit._targets import (
    UNWANTED_METRICS,
    check_targets,
    meter_summary,
    unwanted_rate,
)
from accord.audit._wilson import wilson

__all__ = [
    "AUDITOR",
    "FEATURE_EXTRACTORS",
    "METRICS",
    "PUBLIC_SUITES",
    "SUITES",
    "UNWANTED_METRICS",
    "WORLD_LABEL",
    "AgreementRow",
    "AgreementTable",
    "AuditBundle",
    "AuditGrant",
    "AuditRefusal",
    "AuditRequest",
    "Evaluation",
    "FidelityRow",
    "FidelityTable",
    "Figure",
    "Generate",
    "Independence",
    "MeterResult",
    "MeterRow",
    "Metric",
    "ProbeSets",
    "PublishedAudit",
    "SelfGradingError",
    "SharedSource",
    "Suite",
    "SuiteContext",
    "SuiteResult",
    "Verification",
    "agreement_line",
    "annotate",
    "audit_app",
    "audit_gate",
    "bias_score",
    "bundle_zip",
    "check_independence",
    "check_targets",
    "classifier_thresholds",
    "conversation_key",
    "create_keys",
    "default_data_dir",
    "evaluate",
    "fidelity",
    "figures_chart",
    "follows_settings",
    "get_published",
    "grader_agreement",
    "grader_record",
    "grader_record_dict",
    "grant_audit",
    "hh_first_prompt",
    "hh_suite_split",
    "in_distribution_probes",
    "is_suite_prompt",
    "list_grants",
    "list_published",
    "list_suites",
    "load_probes",
    "measure",
    "meter_graders",
    "meter_summary",
    "model_training_signal",
    "parse_suites",
    "publish_bundle",
    "record_completions",
    "register_suite",
    "render_report",
    "require_independent",
    "revoke_grant",
    "run_audit",
    "run_suites",
    "safe_behaviour_f1",
    "sign_bundle",
    "unrequested_profanity",
    "unwanted_rate",
    "verify_bundle",
    "wilson",
    "world_rates",
]
