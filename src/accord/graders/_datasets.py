"""The public labelled sets the real-text graders are trained and checked on.

Each loader reads one set in place from the data folder (never copied), turns it into
:class:`Example` rows (prompt, response, 0/1 label, a group that keeps related rows in one
split) and names the files it read, so a head can record their SHA-256. The folder is, in
order: the ``--data`` argument, ``$ACCORD_DATA_DIR``, else ``../shared/data`` next to the
repository root (the folder holding ``pyproject.toml`` above this package), else
``../shared/data`` relative to the working directory.

Labels (each set's own human labels, docs/graders.md):

- XSTest completions (``final_label``): refusal = ``full_refusal`` or ``partial_refusal``;
  harmful compliance = ``full_compliance`` to an unsafe ``contrast_*`` prompt (every
  response to a safe prompt is a negative: helping with a harmless request is not harm).
- RBR gold: refusal = the completion does not comply at all, or says it cannot
  (``inability_to_comply``); harmful compliance = ``disallowed_content``.
- Davidson et al. tweets: offensive = ``class`` 0 (hate) or 1 (offensive), not 2.
- OpenAI moderation set: each category 1/0 where annotated; offensive = H or HR.
- SmolLM2-135M-Instruct's own answers to prompts that are not XSTest's
  (``accord/graders/train_data/smollm2_refusal_train.jsonl``, refusal only, **training
  split only**): one labeller, an AI developer, under XSTest's rubric; refusal = full or
  partial refusal. It ships in the repository, not in ``../shared/data``.
- SmolLM2-135M-Instruct's answers in ``accord/graders/test_data/`` (refusal and harmful
  compliance, **test only**: never trained on, never validated on;
  :data:`EXTERNAL_TESTS`), labelled under XSTest's rubric by **AI labellers**, not people:
  to XSTest prompts (two labellers; figures on the first labeller's labels and on the rows
  both agree on), to two sets of clearly harmful requests and to HH-RLHF red-team first
  turns (two labellers, agreed rows only). Their figures go in the head's record beside
  the public sets' test figures, so the meter can say how the grader does on a small
  model's text.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from accord.errors import AccordError


@dataclass(frozen=True)
class Example:
    """One labelled row.

    Attributes:
        prompt: the request's text (the last user turn; "" when the set has none).
        response: the text a grader judges.
        label: 1 (yes) or 0.
        group: rows sharing a group go to the same split (e.g. one prompt's completions).
        kind: the set's own type of the row where it has one (XSTest's prompt ``type``),
            so figures can be reported on a part (e.g. the unsafe prompts only).
    """

    prompt: str
    response: str
    label: int
    group: str
    kind: str = ""


@dataclass(frozen=True)
class LabelledSet:
    """One data set as rows, with the files it came from.

    Attributes:
        name: the set's id in head records (``xstest``, ``rbr``, ``hate-speech``...).
        rows: its examples.
        files: every file read, relative to the data folder.
        note: how the rows were drawn when not all of the file's rows are used.
        train_only: every row goes to the training split (a set with no held-out part:
            its figures come from other sets' test rows).
    """

    name: str
    rows: list[Example]
    files: tuple[str, ...]
    note: str = ""
    train_only: bool = False


@cache
def _repo_root() -> Path | None:
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    return None


def data_dir(explicit: str | Path | None = None) -> Path:
    """The public data folder (see the module docstring for the order).

    Args:
        explicit: a folder given by the user (``--data``).

    Raises:
        AccordError: the folder chosen does not exist.
    """
    if explicit is not None:
        chosen, why = Path(explicit), "--data"
    elif os.environ.get("ACCORD_DATA_DIR"):
        chosen, why = Path(os.environ["ACCORD_DATA_DIR"]), "ACCORD_DATA_DIR"
    else:
        root = _repo_root()
        chosen = (root if root is not None else Path.cwd()) / ".." / "shared" / "data"
        why = "the default (../shared/data next to the repository)"
    if not chosen.is_dir():
        raise AccordError(f"data folder {chosen} ({why}) does not exist; give --data DIR or "
                          "set ACCORD_DATA_DIR to the folder holding xstest/, rbr/, "
                          "hate-speech/ and moderation/")
    return chosen.resolve()


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes.

    Args:
        path: the file.
    """
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_file(root: Path, rel: str) -> Path:
    """Where a set's file lives: in the data folder, or (``accord.graders:train_data/...``)
    in the repository's own training files.

    Args:
        root: the data folder.
        rel: the file as a head's record names it.
    """
    if rel.startswith(PACKAGE_FILE):
        return train_data_dir() / rel[len(PACKAGE_FILE):]
    if rel.startswith(TEST_FILES):
        return held_out_dir() / rel[len(TEST_FILES):]
    return root / rel


def _need(root: Path, rel: str) -> Path:
    path = root / rel
    if not path.is_file():
        raise AccordError(f"missing data file {path}; the real-text graders train on the "
                          "public sets described in docs/graders.md")
    return path


XSTEST_FILES = ("xstest/completions_llama2new_labelled.csv",
                "xstest/completions_llama2orig_labelled.csv",
                "xstest/completions_mistralinstruct_labelled.csv")
REFUSALS = ("2_full_refusal", "3_partial_refusal")


def _xstest(root: Path, label: Callable[[dict[str, str]], int]) -> LabelledSet:
    rows = []
    for rel in XSTEST_FILES:
        with _need(root, rel).open(newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                # One prompt's three completions stay together: a split by row would let
                # a head see the prompt's wording (and a sibling answer) in training.
                rows.append(Example(r["prompt"], r["completion"].strip(), label(r),
                                    f"xstest:{r['prompt']}", r["type"]))
    return LabelledSet("xstest", rows, XSTEST_FILES)


def _rbr(root: Path, label: Callable[[dict[str, bool]], int]) -> LabelledSet:
    rel = "rbr/gold-train.jsonl"
    rows = []
    with _need(root, rel).open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            r = json.loads(line)
            users = [m["content"] for m in r["prompt"] if m["role"] == "user"]
            rows.append(Example(users[-1] if users else "", r["completion"][-1]["content"],
                                label(r["propositions"]), f"rbr:{i}"))
    return LabelledSet("rbr", rows, (rel,))


def _rbr_refusal(p: dict[str, bool]) -> int:
    return int(p["inability_to_comply"] or not (p["fully_complies"] or p["partially_complies"]))


# Embedding all 19 826 tweets takes most of an hour on two busy CPU cores; a seeded sample
# of this many keeps `accord graders train` short and leaves thousands of test rows.
HATE_SPEECH_ROWS = 6000


def _hate_speech(root: Path) -> LabelledSet:
    rel = "hate-speech/labeled_dev.csv"
    with _need(root, rel).open(newline="", encoding="utf-8") as f:
        rows = [Example("", r["tweet"], int(r["class"] in ("0", "1")), f"tweet:{r['']}")
                for r in csv.DictReader(f)]
    keep = sorted(random.Random("accord.graders.hate-speech").sample(
        range(len(rows)), min(HATE_SPEECH_ROWS, len(rows))))
    return LabelledSet("hate-speech", [rows[i] for i in keep], (rel,),
                       f"a seeded sample of {len(keep)} of its {len(rows)} tweets")


MODERATION_CATEGORIES = ("S", "H", "V", "HR", "SH", "S3", "H2", "V2")


def _moderation(root: Path, categories: tuple[str, ...]) -> LabelledSet:
    rel = "moderation/samples-dev.jsonl"
    rows = []
    with _need(root, rel).open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            r = json.loads(line)
            marks = [r[c] for c in categories if c in r]
            if marks:  # a text nobody annotated for these categories says nothing
                rows.append(Example("", r["prompt"], int(any(marks)), f"moderation:{i}"))
    return LabelledSet("moderation", rows, (rel,))


SMOLLM2_TRAIN = "smollm2_refusal_train.jsonl"
# A set's file named with this prefix lives in train_data_dir(), not the data folder.
PACKAGE_FILE = "accord.graders:train_data/"


def train_data_dir() -> Path:
    """The folder of the training files that ship with the repository (not public sets)."""
    return Path(str(resources.files("accord.graders"))) / "train_data"


def _shipped_rows(path: Path, what: str) -> list[tuple[int, dict]]:
    """(line number, row) of a labelled JSONL file that ships with the package, its header
    row (who labelled what, and how: no ``response``) left out.

    Raises:
        AccordError: the file is missing.
    """
    if not path.is_file():
        raise AccordError(f"missing {what} {path} (it ships in the package's "
                          f"accord/graders/{path.parent.name}/)")
    with path.open(encoding="utf-8") as f:
        rows = [(number, json.loads(line)) for number, line in enumerate(f, 1)]
    return [(number, r) for number, r in rows if "response" in r]


def _smollm2_train(root: Path) -> LabelledSet:
    """SmolLM2's answers labelled by hand; ``train_only``: every row goes to training."""
    rows = [Example(r["prompt"], r["response"], int(r["label"]), f"smollm2-train:{i}",
                    r.get("source", ""))
            for i, r in _shipped_rows(train_data_dir() / SMOLLM2_TRAIN, "training file")]
    return LabelledSet("smollm2-train", rows, (PACKAGE_FILE + SMOLLM2_TRAIN,),
                       "SmolLM2-135M-Instruct's answers, one labeller (an AI developer), "
                       "XSTest's rubric; training split only", train_only=True)


TEST_FILES = "accord.graders:test_data/"
# grader → (set name, file in test_data/, which labels): labelled sets a head is only ever
# tested on. "first": the file's ``label``; "agreed": the rows whose ``label`` equals the
# second labeller's ``label_b``; "label": the file's ``label`` (already agreed rows);
# "complied": 1 where the answer fully complies (``xstest_label`` full_compliance) with a
# clearly harmful request — harmful compliance as XSTest's contrast prompts define it.
EXTERNAL_TESTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "refusal": (
        ("smollm2 answers to xstest prompts, AI-labelled", "smollm2_xstest_labelled.jsonl",
         "first"),
        ("smollm2 answers to xstest prompts, two AI labellers agree",
         "smollm2_xstest_labelled.jsonl", "agreed"),
        ("smollm2 answers to harmful requests, two AI labellers",
         "smollm2_unsafe_labelled.jsonl", "label"),
        ("smollm2 answers to harmful requests (set 2), two AI labellers",
         "smollm2_unsafe2_labelled.jsonl", "label"),
        ("smollm2 answers to hh-rlhf requests, two AI labellers",
         "smollm2_hh_labelled.jsonl", "label"),
    ),
    # XSTest's "full compliance" counts any attempt, however garbled; the grader asks for
    # *meaningful* help, which a small model's garbled attempts often are not: read these
    # figures as a floor on its agreement with people on such text.
    "harmful_compliance": (
        ("smollm2 answers to harmful requests, two AI labellers, any attempt to comply",
         "smollm2_unsafe_labelled.jsonl", "complied"),
        ("smollm2 answers to harmful requests (set 2), two AI labellers, any attempt to "
         "comply", "smollm2_unsafe2_labelled.jsonl", "complied"),
    ),
}


def held_out_dir() -> Path:
    """The folder of the labelled test files that ship with the package."""
    return Path(str(resources.files("accord.graders"))) / "test_data"


def external_tests(grader: str) -> list[LabelledSet]:
    """The labelled sets ``grader`` is only tested on (:data:`EXTERNAL_TESTS`).

    Raises:
        AccordError: a shipped test file is missing or malformed.
    """
    out = []
    for name, file, which in EXTERNAL_TESTS.get(grader, ()):
        path = held_out_dir() / file
        rows = []
        for number, r in _shipped_rows(path, "test file"):
            try:
                label = (int(r["xstest_label"] == "full_compliance") if which == "complied"
                         else int(r["label"]))
                if which == "agreed" and label != int(r["label_b"]):
                    continue
            except (KeyError, TypeError, ValueError):
                raise AccordError(f"{path}:{number}: no 0/1 label") from None
            rows.append(Example(r["prompt"], r["response"], label, f"{file}:{r['prompt']}",
                                r.get("type", "")))
        out.append(LabelledSet(name, rows, (TEST_FILES + file,), which, train_only=False))
    return out


# grader → the sets it trains on (each loader reads the data folder)
TRAINING_SETS: dict[str, tuple[Callable[[Path], LabelledSet], ...]] = {
    "refusal": (
        lambda root: _xstest(root, lambda r: int(r["final_label"] in REFUSALS)),
        lambda root: _rbr(root, _rbr_refusal),
        _smollm2_train,
    ),
    "harmful_compliance": (
        lambda root: _xstest(root, lambda r: int(r["type"].startswith("contrast_")
                                                 and r["final_label"] == "1_full_compliance")),
        lambda root: _rbr(root, lambda p: int(p["disallowed_content"])),
    ),
    "offensive": (
        _hate_speech,
        lambda root: _moderation(root, ("H", "HR")),
    ),
    "harmful_content": (
        lambda root: _moderation(root, ("V", "SH", "S", "V2", "S3")),
    ),
    **{f"moderation:{c}": ((lambda root, c=c: _moderation(root, (c,))),)
       for c in MODERATION_CATEGORIES},
}


def load_sets(grader: str, root: Path) -> list[LabelledSet]:
    """The labelled sets a grader trains on.

    Args:
        grader: a name in :data:`TRAINING_SETS`.
        root: the data folder (:func:`data_dir`).

    Raises:
        AccordError: a file is missing.
    """
    return [load(root) for load in TRAINING_SETS[grader]]
