"""Constitutional AI (Bai et al. 2022): critique/revision data for SFT (SL-CAI) and
AI-feedback preference labels for the reward model and DPO (RL-CAI).

The formats are ``accord.world``'s (the demo world teaches them to the tiny model); the
model behind each step is a callable, typically :class:`CaiModel` over an ``accord.model``
backend, so the policy itself, any local Hugging Face model (SmolLM2-135M-Instruct
offline) or an OpenAI-compatible endpoint fits. See docs/cai.md.
"""

from accord.cai._agreement import AgreementBin, LabelAgreement, label_agreement
from accord.cai._common import Conversation, Generate, ScoreOptions, as_principles
from accord.cai._model import CaiModel, LocalModel, OpenAIModel
from accord.cai._quality import QUALITY_CHECKS, UNWANTED, revision_quality
from accord.cai._rl import feedback_labels, normalise, preference_rows, vet_revisions
from accord.cai._sl import critique_revise, sft_rows
from accord.cai._workflow import CAIConfig, CAIResult, train_cai

__all__ = [
    "QUALITY_CHECKS",
    "UNWANTED",
    "AgreementBin",
    "CAIConfig",
    "CAIResult",
    "CaiModel",
    "Conversation",
    "Generate",
    "LabelAgreement",
    "LocalModel",
    "OpenAIModel",
    "ScoreOptions",
    "as_principles",
    "critique_revise",
    "feedback_labels",
    "label_agreement",
    "normalise",
    "preference_rows",
    "revision_quality",
    "sft_rows",
    "train_cai",
    "vet_revisions",
]
