"""Customisation within bounds: layered profiles, their compiled conditioning, hard bounds
enforced outside the model, API keys, public feedback and the attack suite.

Nothing here imports torch at import time; :func:`load_runner` (serving a model) does.
See docs/customize.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accord.customize._attacks import (
    AttackResult,
    JudgeCheck,
    check_judge,
    default_judge,
    judge_from_names,
    load_suite,
    load_suites,
    run_attack_suite,
)
from accord.customize._cli import customize_app
from accord.customize._config import CustomizeSettings
from accord.customize._feedback import (
    DEFAULT_PROBE,
    PROBE_SETS,
    FeedbackError,
    add_feedback,
    dismiss,
    enforcement_counts,
    feedback_counts,
    regression_probes,
    to_regression_case,
    to_review_item,
    triage_queue,
)
from accord.customize._models import (
    ApiKey,
    ChatAnswer,
    ChatProfile,
    EnforcementEvent,
    Feedback,
    RegressionCase,
)
from accord.customize._profiles import (
    Deployment,
    Effective,
    OptionView,
    ProfileError,
    client_messages,
    client_system_texts,
    compile_profile,
    parse_settings_line,
    resolve_profile,
)
from accord.customize._repo import (
    KEY_PREFIX,
    answer_by_public_id,
    create_api_key,
    delete_profile,
    get_profile,
    key_hash,
    key_owner,
    list_api_keys,
    list_profiles,
    new_answer_id,
    record_answer,
    revoke_api_key,
    save_profile,
    touch_key,
)
from accord.customize._report import report_sections
from accord.customize._screens import (
    REAL_SCREENS,
    SCREEN_SETS,
    BoundChecker,
    Screen,
    Verdict,
    build_screens,
    mask,
    real_screens_of,
    screens_of_set,
)
from accord.customize._service import (
    ChatRequest,
    ChatResult,
    ChatService,
    notice_for,
)

if TYPE_CHECKING:
    from accord.customize._runner import ModelRunner


def load_runner(name: str, path: Any, **kwargs: Any) -> ModelRunner:
    """Load a model folder for serving (imports torch; see ``_runner.ModelRunner``)."""
    from accord.customize._runner import ModelRunner

    return ModelRunner(name, path, **kwargs)

__all__ = [
    "DEFAULT_PROBE",
    "KEY_PREFIX",
    "PROBE_SETS",
    "REAL_SCREENS",
    "SCREEN_SETS",
    "ApiKey",
    "AttackResult",
    "BoundChecker",
    "ChatAnswer",
    "ChatProfile",
    "ChatRequest",
    "ChatResult",
    "ChatService",
    "CustomizeSettings",
    "Deployment",
    "Effective",
    "EnforcementEvent",
    "Feedback",
    "FeedbackError",
    "JudgeCheck",
    "OptionView",
    "ProfileError",
    "RegressionCase",
    "Screen",
    "Verdict",
    "add_feedback",
    "answer_by_public_id",
    "build_screens",
    "check_judge",
    "client_messages",
    "client_system_texts",
    "compile_profile",
    "create_api_key",
    "customize_app",
    "default_judge",
    "delete_profile",
    "dismiss",
    "enforcement_counts",
    "feedback_counts",
    "get_profile",
    "judge_from_names",
    "key_hash",
    "key_owner",
    "list_api_keys",
    "list_profiles",
    "load_runner",
    "load_suite",
    "load_suites",
    "mask",
    "new_answer_id",
    "notice_for",
    "parse_settings_line",
    "real_screens_of",
    "record_answer",
    "regression_probes",
    "report_sections",
    "resolve_profile",
    "revoke_api_key",
    "run_attack_suite",
    "save_profile",
    "screens_of_set",
    "to_regression_case",
    "to_review_item",
    "touch_key",
    "triage_queue",
]
