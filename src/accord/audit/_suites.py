"""Public suites: behaviour measured on public data for any model behind a backend.

A suite is a small registered class (Inspect-style: a dataset, how to ask, graders,
metrics): ``@register_suite`` puts it in :data:`SUITES` under its name, and
:func:`run_suites` runs any of them on an ``accord.model`` backend. What a suite returns is
a :class:`SuiteResult`: figures (each with a 95 % Wilson interval and n), one record per
item asked (prompt, response, grader scores, verdict), the SHA-256 of every data file it
read, the records of the graders it used, and warnings where a figure would mislead (most
answers empty, or a grader that found its signal almost nowhere).

The suites themselves live in ``_suites_*.py``; this module holds what they share.
"""

from __future__ import annotations

import hashlib
import html
import math
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from accord.audit._wilson import wilson
from accord.errors import AccordError

if TYPE_CHECKING:
    from accord.graders import Grader
    from accord.model import Backend, SamplingConfig
    from accord.world import World

Conversation = list[dict[str, str]]

# Below this a grader's score counts as "no signal at all" for the warnings: the
# real-text graders give calibrated probabilities, so a clear "no" sits far below 0.1.
NO_SIGNAL_SCORE = 0.1
# A warning when at least this share of answers show no grader's signal (and n is big
# enough to tell): the figures are then columns of zeros that say little.
NO_SIGNAL_SHARE = 0.9
EMPTY_SHARE = 0.5
PUBLIC_SUITES = ("xstest", "evenhandedness", "bbq", "offensive")
"""The suites on public data that ``accord eval`` runs by default on a model outside a
project's store."""


def default_data_dir() -> Path:
    """Where the public data sets are read from: ``ACCORD_DATA_DIR``, else
    ``../shared/data`` beside the repository root; the same rule as ``accord graders
    train`` (``accord.graders.data_dir``). A missing folder is returned as is, so the
    caller's error can name it."""
    from accord.graders import data_dir

    try:
        return data_dir()
    except AccordError:
        env = os.environ.get("ACCORD_DATA_DIR")
        return Path(env) if env else Path(__file__).resolve().parents[3].parent / "shared" / "data"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def stable_fraction(text: str) -> float:
    """A number in [0, 1) fixed by ``text`` alone (SHA-256), for splits that never move
    when rows are added, removed or reordered."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:12], 16) / 16**12


@dataclass(frozen=True)
class Figure:
    """One measured figure of a suite.

    Attributes:
        metric: its name (``over_refusal``, ``refusal_rate:a``...).
        value: the rate, or a score (``kind="score"``; BBQ's bias scores lie in [-1, 1]).
        low / high: its 95 % interval (Wilson for rates; see ``description`` for scores).
        n: how many judgements it is over.
        direction: which way is good (``lower is better``, ``higher is better``,
            ``closer to 0 is better``).
        description: what was counted, on which items, by which grader.
        kind: ``rate`` or ``score``.
    """

    metric: str
    value: float
    low: float
    high: float
    n: int
    direction: str
    description: str
    kind: str = "rate"


def rate(metric: str, k: int, n: int, direction: str, description: str) -> Figure:
    """A rate ``k / n`` with its 95 % Wilson interval (``nan`` when ``n`` is 0).

    Args:
        metric: its name.
        k: how many judgements said yes.
        n: how many judgements there were.
        direction: which way is good.
        description: what was counted.
    """
    low, high = wilson(k, n)
    return Figure(metric, k / n if n else math.nan, low, high, n, direction, description)


@dataclass
class SuiteResult:
    """One suite run on one model.

    Attributes:
        suite: the suite's name.
        figures: what it measured, in a fixed order.
        items: one record per item asked: ``id``, ``prompt`` (messages), ``response``,
            ``scores`` (grader → probability), ``verdict`` and suite-specific fields.
        data: ``{"path", "sha256"}`` of every data file read.
        graders: grader name → its record (kind, params, version, sources).
        warnings: where a figure would mislead (shown with the table, kept in JSON).
        info: model, sampling, limit, seconds taken, and ``measured_by`` where the figures
            come from something other than real-text graders (the world suite).
    """

    suite: str
    figures: list[Figure]
    items: list[dict[str, Any]] = field(default_factory=list)
    data: list[dict[str, str]] = field(default_factory=list)
    graders: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    evaluation: Any = field(default=None, repr=False, compare=False)
    """The world suite's :class:`~accord.audit.Evaluation` (to store its replies); not in
    :meth:`to_dict`."""

    def __getitem__(self, metric: str) -> Figure:
        """The figure called ``metric``.

        Raises:
            KeyError: no such figure.
        """
        for f in self.figures:
            if f.metric == metric:
                return f
        raise KeyError(f"{metric!r}; this result has {[f.metric for f in self.figures]}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``nan`` values become ``None``)."""
        figures = [{k: (None if isinstance(v, float) and math.isnan(v) else v)
                    for k, v in asdict(f).items()} for f in self.figures]
        return {"suite": self.suite, "figures": figures, "warnings": list(self.warnings),
                "data": list(self.data), "graders": dict(self.graders), "info": dict(self.info),
                "items": list(self.items)}

    _HEAD = ("metric", "value", "95% CI", "n", "direction")

    def render_text(self) -> str:
        """The figures as an aligned table, with the suite's label and warnings."""
        cells = [list(self._HEAD)]
        for f in self.figures:
            value = "n/a" if math.isnan(f.value) else f"{f.value:.3f}"
            ci = "" if math.isnan(f.value) else f"[{f.low:.3f}, {f.high:.3f}]"
            cells.append([f.metric, value, ci, str(f.n), f.direction])
        widths = [max(len(row[i]) for row in cells) for i in range(len(self._HEAD))]
        lines = ["  ".join(c.rjust(w) if i in (1, 3) else c.ljust(w)
                           for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
                 for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        title = f"== {self.suite}"
        if self.info.get("measured_by"):
            title += f" (measured by {self.info['measured_by']})"
        out = [title, *lines]
        out += [line for g, rec in self.graders.items()
                if (line := agreement_line(g, rec)) is not None]
        out += [f"warning: {w}" for w in self.warnings]
        return "\n".join(out)

    def to_html(self) -> str:
        """An escaped HTML fragment: the table and the warnings."""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._HEAD)
        rows = "".join(
            f'<tr title="{html.escape(f.description)}"><td>{html.escape(f.metric)}</td>'
            f"<td>{f.value:.3f}</td><td>[{f.low:.3f}, {f.high:.3f}]</td><td>{f.n}</td>"
            f"<td>{html.escape(f.direction)}</td></tr>" for f in self.figures)
        label = html.escape(self.suite + (f" (measured by {self.info['measured_by']})"
                                          if self.info.get("measured_by") else ""))
        warn = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        agree = "".join(f"<p class=\"agreement\">{html.escape(line)}</p>"
                        for g, rec in self.graders.items()
                        if (line := agreement_line(g, rec)) is not None)
        return (f"<h3>{label}</h3><table class=\"suite\"><thead><tr>{head}</tr></thead>"
                f"<tbody>{rows}</tbody></table>{agree}"
                + (f"<ul class=\"warnings\">{warn}</ul>" if warn else ""))


@dataclass
class SuiteContext:
    """What a suite gets to ask its questions with.

    Attributes:
        backend: the model under test (``generate`` / ``score``).
        sampling: how replies are sampled.
        data_dir: the folder holding the public data sets.
        limit: at most this many items (pairs for even-handedness), chosen by the suite's
            stable order; None takes all.
        judge: a judge backend for rubric-graded figures (even-handedness), or None.
        world: the project's demo world, for the ``world`` suite.
        probes: a validated probe file's rows, for the ``probes`` suite.
        exact_scores: whether ``backend.score`` gives exact option log-probabilities (a
            local model) rather than an endpoint's listed top tokens.
        batch: replies asked per progress step.
        world_sampling: how the ``world`` suite samples (default :attr:`sampling`).
        world_samples: replies per probe in the ``world`` suite.
        files_read: ``{"path", "sha256"}`` of each data file read (filled by
            :meth:`data_file`).
    """

    backend: Backend
    sampling: SamplingConfig
    data_dir: Path
    limit: int | None = None
    judge: Backend | None = None
    world: World | None = None
    probes: list[dict[str, Any]] | None = None
    exact_scores: bool = True
    batch: int = 16
    world_sampling: SamplingConfig | None = None
    world_samples: int = 1
    files_read: list[dict[str, str]] = field(default_factory=list)

    def data_file(self, relative: str) -> Path:
        """The data file ``relative`` (to :attr:`data_dir`), its hash recorded.

        Raises:
            AccordError: the file is missing.
        """
        path = self.data_dir / relative
        if not path.is_file():
            raise AccordError(f"data file {path} not found: the public suites read the data "
                              f"sets from --data DIR (default: ACCORD_DATA_DIR, else "
                              f"../shared/data beside the repository); see docs/meter.md")
        if all(d["path"] != relative for d in self.files_read):
            self.files_read.append({"path": relative, "sha256": file_sha256(path)})
        return path

    def csv_rows(self, relative: str, columns: Iterable[str]) -> list[dict[str, str]]:
        """The rows of the CSV data file ``relative`` (its hash recorded).

        Raises:
            AccordError: the file is missing, or its header lacks one of ``columns``.
        """
        import csv

        path = self.data_file(relative)
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in columns if c not in (reader.fieldnames or ())]
            if missing:
                raise AccordError(f"data file {path} lacks the column(s) "
                                  f"{', '.join(missing)}; is it the published file?")
            rows = list(reader)
        if not rows:
            raise AccordError(f"data file {path} has no rows")
        return rows

    def generate(self, conversations: Sequence[Conversation], what: str) -> list[str]:
        """Replies to ``conversations``, asked in batches with progress and an ETA.

        Row ``i`` is seeded ``sampling.seed + i`` whatever the batching (the
        ``accord.model`` convention for per-row seeds), so a run repeats.

        Args:
            conversations: the prompts.
            what: how the progress line names the work.
        """
        seeds = [self.sampling.seed + i for i in range(len(conversations))]
        return _batched(lambda lo, hi: self.backend.generate(conversations[lo:hi], self.sampling,
                                                             seeds=seeds[lo:hi]),
                        len(conversations), self.batch, what)

    def score(self, conversations: Sequence[Conversation], options: Sequence[str],
              what: str) -> list[list[float]]:
        """Option log-probabilities for each conversation, in batches with progress."""
        return _batched(lambda lo, hi: self.backend.score(conversations[lo:hi], options),
                        len(conversations), self.batch, what)


def _batched(ask: Callable[[int, int], list[Any]], total: int, batch: int,
             what: str) -> list[Any]:
    from accord.progress import task

    out: list[Any] = []
    start = time.monotonic()
    with task(what, total) as t:
        for lo in range(0, total, batch):
            hi = min(total, lo + batch)
            got = ask(lo, hi)
            if len(got) != hi - lo:
                raise AccordError(f"{what}: the backend answered {len(got)} of {hi - lo} "
                                  "prompts")
            out.extend(got)
            per_item = (time.monotonic() - start) / len(out)
            t.advance(hi - lo, eta=f"{per_item * (total - len(out)):.0f}s")
    return out


class Suite(ABC):
    """Base of a registered suite: subclasses set the class attributes and write
    :meth:`run`.

    Attributes:
        name: how ``--suite`` names it.
        description: one line for ``accord eval --help`` and the docs.
        graders: the registered grader names it judges with (their records go in the
            result).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    graders: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def run(self, ctx: SuiteContext) -> SuiteResult:
        """Ask, grade and measure; the runner adds data hashes, grader records, timing
        and the generic warnings."""


SUITES: dict[str, type[Suite]] = {}


def register_suite(cls: type[Suite]) -> type[Suite]:
    """Register a :class:`Suite` subclass under its ``name`` (a class decorator;
    re-registering a name replaces it)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__}: a suite needs a name")
    SUITES[cls.name] = cls
    return cls


def list_suites() -> list[str]:
    """Every registered suite's name: the public ones first, then ``world``, ``probes`` and
    any others in registration order."""
    _register_builtin()
    first = [n for n in (*PUBLIC_SUITES, "world", "probes") if n in SUITES]
    return first + [n for n in SUITES if n not in first]


def _register_builtin() -> None:
    # The built-in suites register themselves on import; importing them here (not at the
    # top) keeps this module free of a cycle with theirs.
    from accord.audit import (  # noqa: F401
        _audit_attacks,
        _suites_bbq,
        _suites_evenhand,
        _suites_offensive,
        _suites_probes,
        _suites_xstest,
    )


def parse_suites(names: str | Iterable[str]) -> list[str]:
    """``"xstest,bbq"`` (or a list) as checked suite names, duplicates dropped.

    Raises:
        AccordError: an unknown or empty name (the known ones are listed).
    """
    _register_builtin()
    parts = [p.strip() for p in (names.split(",") if isinstance(names, str) else names)]
    out: list[str] = []
    for p in parts:
        if p not in SUITES:
            raise AccordError(f"unknown suite {p!r}; known suites: "
                              f"{', '.join(list_suites())}")
        if p not in out:
            out.append(p)
    if not out:
        raise AccordError(f"no suite named; known suites: {', '.join(list_suites())}")
    return out


def grader(name: str) -> Grader:
    """A registered grader by name (``accord.graders.get_grader``)."""
    from accord.graders import get_grader

    return get_grader(name)


def grader_record(g: Grader) -> dict[str, Any]:
    """A grader's record as JSON-ready data (kind, params, version, sources, threshold)."""
    rec = g.record
    out: dict[str, Any] = {
        "kind": rec.kind, "params": dict(rec.params), "version": rec.version,
        "threshold": g.threshold,
        "sources": [{"name": s.name, "detail": s.detail, "sha256": s.sha256}
                    for s in rec.sources]}
    agreement = getattr(g, "agreement", None)
    if agreement:  # a trained head: its figures on held-out labelled sets
        out["agreement_with_labels"] = agreement
        out["agreement_metric"] = g.agreement_metric
    return out


def agreement_line(name: str, record: Mapping[str, Any]) -> str | None:
    """One line saying how grader ``name`` agreed with the labels of each held-out test set
    of its record (the figure its threshold was chosen for, macro-F1 or F1, with AUC and
    n), or None when the record has none. The public sets' labels are people's; a set
    labelled by AI labellers says so in its name."""
    sets = record.get("agreement_with_labels")
    if not sets:
        return None
    key = record.get("agreement_metric", "f1")
    parts = [f"{s} {m[key]:.2f} / {m['auc']:.2f} (n {m['n']})" for s, m in sets.items()
             if m.get(key) is not None and m.get("auc") is not None]
    if not parts:
        return None
    shown = "macro-F1" if key == "macro_f1" else "F1"
    return (f"grader {name!r} against held-out labels, people's unless AI-labelled "
            f"({shown} / AUC): " + "; ".join(parts))


def exchanges(prompts: Sequence[Conversation], responses: Sequence[str],
              infos: Sequence[Mapping[str, Any]] | None = None) -> list[Any]:
    """Prompt/response pairs as ``accord.graders.Exchange`` objects."""
    from accord.graders import Exchange

    infos = infos or [{}] * len(prompts)
    return [Exchange(list(p), r, dict(i)) for p, r, i in zip(prompts, responses, infos,
                                                             strict=True)]


def score_with(name: str, exs: Sequence[Any]) -> tuple[list[float], list[bool]]:
    """Scores and labels of grader ``name`` on ``exs`` (one scoring pass)."""
    g = grader(name)
    scores = [float(s) for s in g.score(exs)] if exs else []
    return scores, [s >= g.threshold for s in scores]


def balanced_first(rows: Sequence[dict[str, Any]], key: Callable[[dict[str, Any]], str],
                   limit: int | None) -> list[dict[str, Any]]:
    """The first ``limit`` rows taking turns across groups (``key``), each group in file
    order: a deterministic subset that keeps every group present; all rows when ``limit``
    is None.

    Args:
        rows: the rows in their stable order.
        key: the group of a row (type, template, category...).
        limit: how many to keep.
    """
    if limit is None or limit >= len(rows):
        return list(rows)
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    queues = list(groups.values())
    out: list[dict[str, Any]] = []
    depth = 0
    while len(out) < limit:
        for q in queues:
            if depth < len(q) and len(out) < limit:
                out.append(q[depth])
        depth += 1
    return out


def generic_warnings(result: SuiteResult) -> list[str]:
    """Warnings any suite gets: most answers empty; most answers matching none of the
    graders' signals (their zeros then say little about the model)."""
    out: list[str] = []
    # Items without a written answer (BBQ scored from option log-probabilities) do not count.
    responses = [it["response"] for it in result.items if isinstance(it.get("response"), str)]
    if responses:
        empty = sum(1 for r in responses if len(r.split()) < 2)
        if empty / len(responses) >= EMPTY_SHARE:
            out.append(f"{empty} of {len(responses)} answers are empty or one word: the rates "
                       "below describe missing answers, not behaviour")
    scored = [{k: float(v) for k, v in (it.get("scores") or {}).items()
               if isinstance(v, (int, float))} for it in result.items]
    scored = [s for s in scored if s]
    quiet = [s for s in scored if max(s.values()) < NO_SIGNAL_SCORE]
    if len(scored) >= 10 and len(quiet) / len(scored) >= NO_SIGNAL_SHARE:
        names = sorted({k for s in scored for k in s})
        top = {k: max(s.get(k, 0.0) for s in scored) for k in names}
        out.append(f"{len(quiet)} of {len(scored)} answers match none of the signals of "
                   f"{', '.join(names)} (every score < {NO_SIGNAL_SCORE}; highest: "
                   + ", ".join(f"{k} {v:.2f}" for k, v in top.items())
                   + "): the near-zero rates may mean the graders do not read these answers, "
                   "not that the behaviour is absent; read the items")
    return out


def run_suites(names: Sequence[str], backend: Backend, sampling: SamplingConfig, *,
               data_dir: Path | str | None = None, limit: int | None = None,
               judge: Backend | None = None, world: World | None = None,
               probes: list[dict[str, Any]] | None = None, batch: int = 16,
               world_sampling: SamplingConfig | None = None, world_samples: int = 1,
               log: Callable[[str], None] = lambda _: None) -> list[SuiteResult]:
    """Run the named suites on the model behind ``backend``.

    Args:
        names: registered suite names (see :func:`list_suites`).
        backend: the model under test: a local model (exact option scores) or an
            OpenAI-compatible endpoint (options read from the parsed answer).
        sampling: how replies are sampled (``seed`` keys row ``i`` as ``seed + i``).
        data_dir: the public data folder (default :func:`default_data_dir`).
        limit: at most this many items per suite, a deterministic, balanced subset.
        judge: a judge backend for the rubric figures of ``evenhandedness``.
        world: the demo world, needed by the ``world`` suite.
        probes: validated probe rows (:func:`load_probes`), needed by ``probes``.
        batch: replies asked per progress step.
        world_sampling: how the ``world`` suite samples (default ``sampling``).
        world_samples: replies per probe in the ``world`` suite.
        log: where one line per suite goes.

    Returns:
        One result per suite, in order.

    Raises:
        AccordError: an unknown suite, a missing data folder or file, a bad limit, a
            suite's missing input (world, probes).
    """
    from accord.model import OpenAIBackend

    _register_builtin()
    checked = parse_suites(names)
    if limit is not None and limit < 1:
        raise AccordError(f"--limit {limit}: give a positive number of items")
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    if any(n not in ("world", "probes") for n in checked) and not folder.is_dir():
        raise AccordError(f"data folder {folder} not found: give --data DIR (the public data "
                          "sets: xstest/, evenhandedness/, bbq/, hh-rlhf/) or set "
                          "ACCORD_DATA_DIR")
    results = []
    for name in checked:
        ctx = SuiteContext(backend, sampling, folder, limit, judge, world, probes,
                           exact_scores=not isinstance(backend, OpenAIBackend), batch=batch,
                           world_sampling=world_sampling, world_samples=world_samples)
        start = time.monotonic()
        suite = SUITES[name]()
        result = suite.run(ctx)
        result.data = list(ctx.files_read)
        for g in suite.graders:
            if g in _registered_graders():
                result.graders.setdefault(g, grader_record(grader(g)))
        result.warnings = [*result.warnings, *generic_warnings(result)]
        result.info = {"model": getattr(backend, "name", ""), "sampling": sampling.to_dict(),
                       "limit": limit, "seconds": round(time.monotonic() - start, 1),
                       **result.info}
        log(f"{name}: {len(result.items)} items in {result.info['seconds']} s")
        results.append(result)
    return results


def _registered_graders() -> set[str]:
    from accord.graders import list_graders

    return set(list_graders())
