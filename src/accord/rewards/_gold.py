"""The human-labelled RBR gold set (OpenAI's safety-rbr release) and its class rules.

``gold-train.jsonl`` holds 351 prompt/completion pairs, each with a response type
(``Comply``, ``Hard Refuse``, ``Safe Refuse 1``, ``Safe Refuse 2``) and 23 human true/false
propositions. ``proposition_prompts.yaml`` beside it gives the paper's rules: for each
response type, which propositions make a completion ideal, minimum-acceptable,
unacceptable, illogical or disallowed, as conjunctions of (derived) propositions. We
translate those conjunctions into Accord formulas and evaluate them with
``accord.spec.evaluate``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.errors import AccordError
from accord.graders import Exchange
from accord.spec import evaluate

GOLD_FILE = "gold-train.jsonl"
GOLD_RULES_FILE = "proposition_prompts.yaml"

# Accord's demo propositions and the gold propositions that ask the same (or the nearest)
# question. Several of ours may map to one of theirs; the calibration table names both.
GOLD_PROPOSITIONS: dict[str, str] = {
    "refuses": "inability_to_comply",  # "states an inability to comply" ~ our refusal regex
    "apologises": "apology",
    "judgemental": "judgement",
    "preachy": "judgement",  # the gold "judgement" definition includes preaching
    "offers_alternative": "encourage_professional_help",
    "insults_person_or_group": "insulting_language",
    "uses_slur": "insulting_language",
    "uses_profanity": "insulting_language",
    "crude": "insulting_language",
    "hostile_tone": "threatening_language",
    "helps_with_harm": "disallowed_content",
    "complies_fully": "fully_complies",
}


@dataclass(frozen=True)
class GoldExample:
    """One labelled completion.

    Args:
        index: its line number (0-based) in the file, used as its id.
        response_type: the paper's response type, snake case (``hard_refuse``).
        category: the content category (``SH-R2``, ``None``, ...).
        exchange: the conversation and the completion's text.
        labels: the 23 human labels.
        klass: the class the paper's rules give (None if none holds).
    """

    index: int
    response_type: str
    category: str
    exchange: Exchange
    labels: dict[str, bool]
    klass: str | None


@dataclass(frozen=True)
class GoldRules:
    """The paper's class rules as Accord formulas.

    Args:
        class_order: classes best first.
        classes: ``{response_type: {class: formula}}``.
        definitions: the derived propositions, as formulas.
    """

    class_order: list[str]
    classes: dict[str, dict[str, str]]
    definitions: dict[str, str]

    def classify(self, response_type: str, labels: Mapping[str, bool]) -> str | None:
        """The first class in order whose formula holds, or None."""
        formulas = self.classes.get(response_type, {})
        for name in self.class_order:
            if name in formulas and evaluate(formulas[name], labels, self.definitions):
                return name
        return None


def _conjunction(terms: Mapping[str, Any]) -> str:
    parts = [name if bool(value) else f"not {name}" for name, value in terms.items()]
    return " and ".join(parts) if parts else "true"


def gold_paths(data: str | Path) -> tuple[Path, Path]:
    """The gold file and the rules file for ``data`` (the file itself, ``rbr/`` or the
    ``data/`` folder above it).

    Raises:
        AccordError: they are not there.
    """
    path = Path(data)
    for candidate in (path, path / GOLD_FILE, path / "rbr" / GOLD_FILE):
        if candidate.is_file():
            rules = candidate.parent / GOLD_RULES_FILE
            if not rules.is_file():
                raise AccordError(f"{rules} is missing; it must sit beside {candidate.name}")
            return candidate, rules
    raise AccordError(f"no {GOLD_FILE} at {path} (nor {path}/rbr/); give the file or its "
                      "folder, e.g. --data ../shared/data/rbr/gold-train.jsonl")


def load_gold_rules(path: str | Path) -> GoldRules:
    """Read ``proposition_prompts.yaml`` into formulas.

    Raises:
        AccordError: the file lacks the expected sections.
    """
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
    try:
        order = [str(c) for c in data["completion_class_order"]]
        classes: dict[str, dict[str, str]] = {}
        for name, per_type in data["completion_classes"].items():
            for rtype, terms in per_type.items():
                classes.setdefault(rtype, {})[name] = _conjunction(terms or {})
        definitions = {name: _conjunction(terms or {})
                       for name, terms in data["derived_propositions"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise AccordError(f"{path}: expected completion_class_order, completion_classes and "
                          f"derived_propositions ({exc})") from exc
    return GoldRules(order, classes, definitions)


def _snake(text: str) -> str:
    return "_".join(text.lower().split())


def load_gold(data: str | Path) -> tuple[list[GoldExample], GoldRules]:
    """Read the gold set and classify every completion by the paper's rules.

    Args:
        data: the gold file, or a folder holding it (see :func:`gold_paths`).

    Raises:
        AccordError: the files are missing or malformed (with the line number).
    """
    gold, rules_path = gold_paths(data)
    rules = load_gold_rules(rules_path)
    out = []
    for i, line in enumerate(gold.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            completion = row["completion"]
            text = completion[-1]["content"] if isinstance(completion, list) else str(completion)
            labels = {k: bool(v) for k, v in row["propositions"].items()}
            rtype = _snake(row["response_type"])
            out.append(GoldExample(i, rtype, str(row.get("category", "")),
                                   Exchange(list(row["prompt"]), text), labels,
                                   rules.classify(rtype, labels)))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise AccordError(f"{gold}:{i + 1}: not a gold record ({exc})") from exc
    return out, rules


def sample_gold(examples: list[GoldExample], limit: int | None, seed: int = 0) -> list[GoldExample]:
    """A seeded random subset of ``limit`` examples in file order (all if None or more),
    for graders too slow to run on the whole set (a local judge on a CPU).

    Args:
        examples: the gold completions.
        limit: how many to keep.
        seed: the sample's seed.
    """
    if limit is None or limit >= len(examples):
        return examples
    import random

    keep = sorted(random.Random(seed).sample(range(len(examples)), limit))
    return [examples[i] for i in keep]
