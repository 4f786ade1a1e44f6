"""How well each meter grader agrees with the world's ground-truth labels on corpus text."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from random import Random
from typing import Any

from accord.audit._steer import follows_settings
from accord.graders import as_exchanges, get_grader
from accord.world import OPTIONS, World, parse_system_prompt

Record = Mapping[str, Any]
Truth = Callable[[Record], bool | None]  # None: the dialogue does not bear on this grader


@dataclass(frozen=True)
class AgreementRow:
    """One grader against one ground-truth label.

    Attributes:
        grader: the grader's registered name (``follows_settings:<option>`` for settings).
        label: the world label it is compared with.
        accuracy / precision / recall: against that label (precision and recall of the
            grader saying "yes"; ``nan`` when undefined).
        n: dialogues compared; positives: how many of them carry the label.
    """

    grader: str
    label: str
    accuracy: float
    precision: float
    recall: float
    n: int
    positives: int


def _behaviour(*names: str) -> Truth:
    return lambda d: d["labels"]["behaviour"] in names


def _refused(d: Record) -> bool:
    lab = d["labels"]
    return lab["behaviour"] in ("over_refusal", "correct_refusal") or (
        lab["behaviour"] == "preachy" and lab["prompt_kind"] in ("insult_request", "objectionable"))


# grader → (label description, prompt kinds it is scored on (None: all), truth)
_CHECKS: dict[str, tuple[str, tuple[str, ...] | None, Truth]] = {
    "offensive": ("behaviour=offensive", None, _behaviour("offensive")),
    "offensive_inventory": ("behaviour=offensive", None, _behaviour("offensive")),
    "offensive_profanity_check": ("behaviour=offensive", None, _behaviour("offensive")),
    "offensive_hatesonar": ("behaviour=offensive", None, _behaviour("offensive")),
    "one_sided": ("behaviour=one_sided", ("contested",), _behaviour("one_sided")),
    "objectionable_compliance": ("behaviour=objectionable_compliance", ("objectionable",),
                                 _behaviour("objectionable_compliance")),
    "refusal": ("behaviour∈{over_refusal, correct_refusal, preachy refusal}", None, _refused),
    "preachy": ("behaviour=preachy", None, _behaviour("preachy")),
    "fact_correct": ("answer_correct", ("fact", "arithmetic"),
                     lambda d: d["labels"]["answer_correct"]),
}


def _prompt(d: Record) -> dict[str, Any]:
    messages = d["messages"][:-1]
    system = [m["content"] for m in messages if m["role"] == "system"]
    return {"messages": messages, "settings": parse_system_prompt(system[0] if system else None)}


def _row(grader: str, label: str, said: Sequence[bool], truth: Sequence[bool]) -> AgreementRow:
    tp = sum(s and t for s, t in zip(said, truth, strict=True))
    n, yes, pos = len(said), sum(said), sum(truth)
    correct = sum(s == t for s, t in zip(said, truth, strict=True))
    nan = float("nan")
    return AgreementRow(grader, label, correct / n if n else nan, tp / yes if yes else nan,
                        tp / pos if pos else nan, n, pos)


def grader_agreement(world: World, *, n: int = 2000, seed: int = 0) -> AgreementTable:
    """Score every grader on the world's generated dialogues against their labels.

    Args:
        world: a built world; its pretraining dialogues carry ground-truth labels.
        n: at most this many dialogues per grader, drawn from the prompt kinds the
            grader applies to (all kinds for offensive/refusal/preachy).
        seed: which dialogues are drawn.

    Returns:
        One row per grader, plus one per customisation option for ``follows_settings``
        (up to ``n`` dialogues that set that option each).
    """
    dialogues = [d for d in world.pretrain_documents if "messages" in d]
    rng = Random(f"accord.audit.agreement:{seed}")
    rows = []
    for name, (label, kinds, truth) in _CHECKS.items():
        pool = [d for d in dialogues if kinds is None or d["labels"]["prompt_kind"] in kinds]
        chosen = rng.sample(pool, min(n, len(pool)))
        texts = [d["messages"][-1]["content"] for d in chosen]
        said = get_grader(f"world:{name}").label(as_exchanges(texts, [_prompt(d) for d in chosen]))
        rows.append(_row(name, label, said, [bool(truth(d)) for d in chosen]))
    for option in OPTIONS:
        # A perspective shows only on contested prompts; elsewhere the world labels it
        # "followed" by fiat, so those dialogues say nothing about the grader.
        pool = [d for d in dialogues if option in d["labels"]["follows_settings"]
                and (option != "political_perspective"
                     or d["labels"]["prompt_kind"] == "contested")]
        chosen = rng.sample(pool, min(n, len(pool)))
        said = [follows_settings(d["messages"][-1]["content"], d["labels"]["settings"])[option]
                for d in chosen]
        truth = [bool(d["labels"]["follows_settings"][option]) for d in chosen]
        if chosen:
            rows.append(_row(f"follows_settings:{option}", f"follows_settings[{option}]",
                             said, truth))
    return AgreementTable(rows)


def _fmt(x: float) -> str:
    return "—" if x != x else f"{x:.3f}"


@dataclass
class AgreementTable:
    """Grader-agreement rows with text and HTML renderings."""

    rows: list[AgreementRow]

    def __iter__(self) -> Iterator[AgreementRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, grader: str) -> AgreementRow:
        """The row for ``grader``.

        Raises:
            KeyError: no row has that grader name.
        """
        for row in self.rows:
            if row.grader == grader:
                return row
        raise KeyError(grader)

    def to_dict(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.rows]

    def _cells(self) -> list[list[str]]:
        return [[r.grader, r.label, _fmt(r.accuracy), _fmt(r.precision), _fmt(r.recall),
                 str(r.n), str(r.positives)] for r in self.rows]

    _HEAD = ("grader", "world label", "accuracy", "precision", "recall", "n", "positives")

    def render_text(self) -> str:
        """An aligned plain-text table."""
        cells = [list(self._HEAD), *self._cells()]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self._HEAD))]
        lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                           for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
                 for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def to_html(self) -> str:
        """An HTML ``<table>`` fragment, every cell escaped."""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._HEAD)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in self._cells())
        return (f'<table class="meter-agreement"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")
