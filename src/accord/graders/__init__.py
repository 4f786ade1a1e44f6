"""Graders: one interface and one registry for every judgement Accord makes on a response.

A grader scores exchanges (prompt + response + optional info) with probabilities, labels at
``score >= threshold``, and carries a record of what it was built from (kind, params,
version, the tables, data and models it reads, with hashes). Two ways in, both here:

- **kinds** (``@grader_kind(name, ParamsModel)``): ``regex``, ``lexicon``,
  ``profanity_classifier``, ``hate_classifier``, ``sentiment`` and ``llm_judge`` (a
  language model over any ``accord.model`` backend), ``real_text`` (one of the real-text
  graders below, by ``name``); the spec's ``graders:`` entries are built with
  :func:`build_grader`, binding a proposition's question where the kind asks one;
- **named graders** (``@named_grader(name)``), ready-made: the **real-text graders**
  (``refusal``, ``harmful_compliance``, ``offensive``, ``harmful_content``,
  ``moderation:<category>``: logistic heads over sentence embeddings, trained and checked
  on public human labels, shipped as JSON in ``heads/``; :data:`REAL_GRADERS`), the demo
  meter's world-inventory graders (``world:offensive``, ``world:refusal``...; both
  inventory splits), the enforcement screens' training-split graders (``screen:*``) and
  the simulated reviewers' lexicons (``reviewer:*``). :func:`get_grader` builds one on
  first use; :func:`list_graders`.

Which graders an audit, a reward, a screen or a reviewer uses is configuration; their
records show what each reads, so independence is checkable (tests/graders). See
docs/graders.md.
"""

from accord._locale import ensure_utf8_locale
from accord.graders import _real_kind, _reviewer, _screens, _stance  # noqa: F401  (registrations)
from accord.graders._balance import balance_features, one_sided_score
from accord.graders._base import (
    Exchange,
    Grader,
    GraderRecord,
    ScoreGrader,
    Source,
    as_exchanges,
    content_hash,
)
from accord.graders._classifiers import (
    classifier_source,
    hatesonar_scores,
    profanity_probabilities,
    sentiment_compounds,
)
from accord.graders._cli import graders_app
from accord.graders._datasets import data_dir
from accord.graders._embed import embed, token_counts
from accord.graders._features import xstest_string_match
from accord.graders._heads import REAL_GRADERS, Head, HeadGrader, load_head
from accord.graders._inventory import inventory_matchers, sentences
from accord.graders._judge import (
    DEFAULT_TEMPLATE,
    JudgeGrader,
    JudgeParams,
    judge_prompt,
    load_judge,
)
from accord.graders._registry import (
    KINDS,
    GraderError,
    GraderKind,
    GraderParams,
    build_grader,
    get_grader,
    grader_kind,
    list_graders,
    list_kinds,
    named_grader,
    unregister_grader,
    validate_params,
)
from accord.graders._reviewer import PREACHY_COUNT_TO
from accord.graders._screens import screen_mask, screen_style_pattern
from accord.graders._text import LexiconGrader
from accord.graders._world import (
    HATESONAR_THRESHOLD,
    METER_GRADERS,
    PROFANITY_CHECK_THRESHOLD,
    mask_style,
)

__all__ = [
    "DEFAULT_TEMPLATE",
    "HATESONAR_THRESHOLD",
    "KINDS",
    "METER_GRADERS",
    "PREACHY_COUNT_TO",
    "PROFANITY_CHECK_THRESHOLD",
    "REAL_GRADERS",
    "Exchange",
    "Grader",
    "GraderError",
    "GraderKind",
    "GraderParams",
    "GraderRecord",
    "Head",
    "HeadGrader",
    "JudgeGrader",
    "JudgeParams",
    "LexiconGrader",
    "ScoreGrader",
    "Source",
    "as_exchanges",
    "balance_features",
    "build_grader",
    "classifier_source",
    "content_hash",
    "data_dir",
    "embed",
    "ensure_utf8_locale",
    "get_grader",
    "grader_kind",
    "graders_app",
    "hatesonar_scores",
    "inventory_matchers",
    "judge_prompt",
    "list_graders",
    "list_kinds",
    "load_head",
    "load_judge",
    "mask_style",
    "named_grader",
    "one_sided_score",
    "profanity_probabilities",
    "screen_mask",
    "screen_style_pattern",
    "sentences",
    "sentiment_compounds",
    "token_counts",
    "unregister_grader",
    "validate_params",
    "xstest_string_match",
]
