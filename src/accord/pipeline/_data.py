"""``[data]``: a project's own data files, used by every stage instead of the demo world's.

Four kinds of JSONL file, in TRL's formats (one JSON object a line; blank lines and lines
starting with ``#`` are skipped):

- ``sft``: conversational SFT rows, ``{"messages": [{"role", "content"}, ...]}`` ending
  with an assistant turn;
- ``preference``: ``{"prompt", "chosen", "rejected"}``, each either a string or a list of
  messages (TRL's standard or conversational form); strings are turned into messages;
- ``prompts`` (and ``review_prompts``, which defaults to ``prompts``): ``{"prompt": str or
  messages, "response_type"?: "comply" | "refuse"}``, what GRPO trains on and what the
  review stage samples completions for;
- ``probes``: ``{"prompt", "behaviour": GRADER, "id"?, "expect"?}`` (``accord eval
  --probes``'s format), metered by the eval and ablation stages.

A value ``public:NAME`` builds the rows from a public data set read in place
(:data:`PUBLIC_SOURCES`: ``hh-harmless``, ``rbr-gold``). Every file is read and checked
before any stage runs (errors name ``file:line``), and its
SHA-256 goes into the key of every stage that reads it (a changed file re-runs them) and
into the lineage of every model trained on it (``datasets`` of the model version).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from accord.errors import AccordError
from accord.project import Project

DATA_KINDS = ("sft", "preference", "prompts", "review_prompts", "probes")
"""The keys of ``[data]``, each a file path relative to the project folder."""

RESPONSE_TYPES = ("comply", "refuse")


class DataError(AccordError):
    """A ``[data]`` file is missing or one of its lines is not in the expected format."""


class DataSection(BaseModel):
    """``[data]``: the project's own data files (paths relative to the project folder)."""

    model_config = ConfigDict(extra="forbid")

    sft: str | None = None
    """SFT conversations (``messages``); replaces the demo world's demonstrations."""
    preference: str | None = None
    """Preference pairs (``prompt``/``chosen``/``rejected``) for the reward model and DPO;
    replace the demo world's labelled pairs."""
    prompts: str | None = None
    """Prompts (``prompt``, optional ``response_type``) for GRPO, and for review unless
    ``review_prompts`` is set; replace the demo world's RL prompts."""
    review_prompts: str | None = None
    """Prompts whose completions reviewers see (default: ``prompts``)."""
    probes: str | None = None
    """Probes (``prompt`` + ``behaviour``) the eval and ablation stages meter."""
    held_out: float = 0.1
    """Share of the preference file's prompts kept out of training to measure the reward
    model and DPO (whole prompts, so no pair of a held-out prompt is trained on)."""
    seed: int = 0


@dataclass
class DataFile:
    """One validated ``[data]`` file."""

    kind: str
    path: Path
    sha256: str
    rows: list[dict[str, Any]] = field(default_factory=list)


def _messages(value: Any, where: str, *, ends: Literal["user", "assistant", "any"],
              ) -> list[dict[str, str]]:
    """Plain ``{"role", "content"}`` messages from a list, checked."""
    if not isinstance(value, list) or not value:
        raise DataError(f"{where}: expected a non-empty list of {{role, content}} messages")
    out = []
    for i, m in enumerate(value):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant") \
                or not isinstance(m.get("content"), str):
            raise DataError(f"{where}, message {i}: expected {{\"role\": system|user|assistant, "
                            f"\"content\": str}}, got {json.dumps(m)[:80]}")
        out.append({"role": m["role"], "content": m["content"]})
    last = out[-1]["role"]
    if ends == "assistant" and last != "assistant":
        raise DataError(f"{where}: the last message must be the assistant's answer "
                        f"(got a {last} message)")
    if ends == "user" and last == "assistant":
        raise DataError(f"{where}: a prompt ends with the user turn to answer, not an "
                        "assistant message")
    return out


def _prompt(value: Any, where: str) -> list[dict[str, str]]:
    if isinstance(value, str):
        if not value.strip():
            raise DataError(f"{where}: empty prompt")
        return [{"role": "user", "content": value}]
    return _messages(value, where, ends="user")


def _answer(value: Any, where: str) -> list[dict[str, str]]:
    if isinstance(value, str):
        return [{"role": "assistant", "content": value}]
    msgs = _messages(value, where, ends="assistant")
    if len(msgs) != 1:
        raise DataError(f"{where}: expected one assistant message (the answer), "
                        f"got {len(msgs)} messages")
    return msgs


def _keys(data: dict[str, Any], where: str, required: tuple[str, ...],
          optional: tuple[str, ...] = ()) -> None:
    missing = [k for k in required if k not in data]
    if missing:
        raise DataError(f"{where}: missing key(s) {', '.join(missing)}")
    unknown = sorted(set(data) - set(required) - set(optional))
    if unknown:
        raise DataError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: "
                        f"{', '.join((*required, *optional))}")


def _sft_row(data: dict[str, Any], where: str) -> dict[str, Any]:
    _keys(data, where, ("messages",))
    return {"messages": _messages(data["messages"], f"{where}: messages", ends="assistant")}


def _preference_row(data: dict[str, Any], where: str) -> dict[str, Any]:
    _keys(data, where, ("prompt", "chosen", "rejected"))
    row = {"prompt": _prompt(data["prompt"], f"{where}: prompt"),
           "chosen": _answer(data["chosen"], f"{where}: chosen"),
           "rejected": _answer(data["rejected"], f"{where}: rejected")}
    if row["chosen"] == row["rejected"]:
        raise DataError(f"{where}: chosen and rejected are the same answer")
    return row


def _prompt_row(data: dict[str, Any], where: str) -> dict[str, Any]:
    _keys(data, where, ("prompt",), ("response_type", "id"))
    rtype = data.get("response_type", "comply")
    if rtype not in RESPONSE_TYPES:
        raise DataError(f"{where}: response_type {rtype!r}: use one of "
                        f"{', '.join(RESPONSE_TYPES)}")
    return {"messages": _prompt(data["prompt"], f"{where}: prompt"), "response_type": rtype}


_ROW_READERS = {"sft": _sft_row, "preference": _preference_row, "prompts": _prompt_row,
                "review_prompts": _prompt_row}


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (what lineage records)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


PUBLIC_SOURCES = {
    "hh-harmless": ("hh-rlhf/harmless-base-test-part1.jsonl.gz",
                    ("sft", "preference", "prompts", "review_prompts")),
    "rbr-gold": ("rbr/gold-train.jsonl", ("prompts", "review_prompts")),
}
"""``public:NAME`` values of ``[data]``: rows built from a public data set read in place
(``accord.audit.default_data_dir``), never copied; the file's SHA-256 is the lineage.
``hh-harmless``: Anthropic's HH harmless-base pairs *minus* every record whose first prompt
the ``offensive`` suite measures (SFT = the chosen dialogues, preference = chosen vs
rejected last answer, prompts = the distinct first human turns, typed ``comply`` because
HH does not label them; use ``rbr-gold`` where GRPO needs typed prompts).
``rbr-gold``: the RBR gold set's prompts with their response type (Comply → ``comply``,
every refusal type → ``refuse``)."""


def _hh_turns(dialogue: str) -> list[dict[str, str]]:
    """An HH dialogue (``\n\nHuman: ...\n\nAssistant: ...``) as messages."""
    import re

    parts = re.split(r"\n\n(Human|Assistant): ", "\n\n" + dialogue.strip())
    out = []
    for role, text in zip(parts[1::2], parts[2::2], strict=True):
        out.append({"role": "user" if role == "Human" else "assistant",
                    "content": text.strip()})
    return out


def _public_rows(kind: str, name: str, file: Path) -> list[dict[str, Any]]:
    import gzip

    if name == "rbr-gold":
        rows = []
        with file.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    r = json.loads(line)
                    rows.append({"messages": [{"role": m["role"], "content": m["content"]}
                                              for m in r["prompt"]],
                                 "response_type": "comply" if r["response_type"] == "Comply"
                                 else "refuse"})
        return rows
    from accord.audit import hh_suite_split

    with gzip.open(file, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    _, training = hh_suite_split(records)  # never a prompt the offensive suite asks
    rows, seen = [], set()
    for r in training:
        chosen, rejected = _hh_turns(r["chosen"]), _hh_turns(r["rejected"])
        if len(chosen) < 2 or chosen[-1]["role"] != "assistant" or not chosen[-1]["content"]:
            continue
        prompt = chosen[:-1]
        if kind == "sft":
            rows.append({"messages": chosen})
        elif kind == "preference":
            if rejected[:-1] != prompt or rejected[-1]["role"] != "assistant" \
                    or rejected[-1]["content"] in ("", chosen[-1]["content"]):
                continue
            rows.append({"prompt": prompt, "chosen": [chosen[-1]], "rejected": [rejected[-1]]})
        else:
            first = chosen[0]["content"]
            if first in seen:
                continue
            seen.add(first)
            rows.append({"messages": [chosen[0]], "response_type": "comply"})
    return rows


def read_public(kind: str, value: str) -> DataFile:
    """Rows of a ``public:NAME`` source (see :data:`PUBLIC_SOURCES`).

    Raises:
        DataError: an unknown source, one that has no rows of ``kind``, or its file missing.
    """
    from accord.audit import default_data_dir

    name = value.removeprefix("public:")
    if name not in PUBLIC_SOURCES:
        raise DataError(f"[data] {kind} = {value!r}: unknown public source; sources: "
                        f"{', '.join('public:' + n for n in PUBLIC_SOURCES)}")
    rel, kinds = PUBLIC_SOURCES[name]
    if kind not in kinds:
        raise DataError(f"[data] {kind} = {value!r}: this source has no {kind} rows; it "
                        f"gives {', '.join(kinds)}")
    file = default_data_dir() / rel
    if not file.is_file():
        raise DataError(f"[data] {kind} = {value!r}: {file} not found; set ACCORD_DATA_DIR "
                        "to the public data folder")
    rows = _public_rows(kind, name, file)
    if not rows:
        raise DataError(f"[data] {kind} = {value!r}: no rows")
    return DataFile(kind, file, file_sha256(file), rows)


def read_data_file(kind: str, path: Path | str) -> DataFile:
    """Read and check one ``[data]`` file.

    Args:
        kind: one of :data:`DATA_KINDS`.
        path: the JSONL file.

    Returns:
        The file with its SHA-256 and its rows in the pipeline's (conversational) form.

    Raises:
        DataError: a missing or empty file, or a bad line (``file:line: what is wrong``).
    """
    if kind not in DATA_KINDS:
        raise DataError(f"[data] {kind}: unknown kind; kinds: {', '.join(DATA_KINDS)}")
    if str(path).startswith("public:"):
        return read_public(kind, str(path))
    file = Path(path)
    if not file.is_file():
        raise DataError(f"[data] {kind} = {str(path)!r}: no such file")
    if kind == "probes":
        from accord.audit import load_probes

        try:
            rows = load_probes(file)
        except AccordError as exc:
            raise DataError(str(exc).replace("--probes ", "[data] probes ")) from None
        return DataFile(kind, file, file_sha256(file), rows)
    reader = _ROW_READERS[kind]
    rows = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{file}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(data).__name__}")
        rows.append(reader(data, where))
    if not rows:
        raise DataError(f"{file}: no rows ([data] {kind})")
    return DataFile(kind, file, file_sha256(file), rows)


@dataclass
class ProjectData:
    """A project's ``[data]`` files, read and checked (kinds not given are absent)."""

    section: DataSection
    files: dict[str, DataFile] = field(default_factory=dict)

    def get(self, kind: str) -> DataFile | None:
        """The file of ``kind``; ``review_prompts`` falls back to ``prompts``."""
        found = self.files.get(kind)
        if found is None and kind == "review_prompts":
            found = self.files.get("prompts")
        return found

    def hashes(self, kinds: tuple[str, ...] | None = None) -> dict[str, str]:
        """``{"data:KIND": sha256}`` of the given kinds (all by default), for lineage."""
        out = {}
        for kind in kinds or DATA_KINDS:
            found = self.get(kind)
            if found is not None:
                out[f"data:{kind}"] = found.sha256
        return out


def load_data(project: Project) -> ProjectData:
    """Read and check every file ``[data]`` names (relative paths from the project folder).

    Raises:
        accord.project.ProjectError: the table has an unknown key.
        DataError: a file is missing or a line is bad.
    """
    section = project.section("data", DataSection)
    files = {}
    for kind in DATA_KINDS:
        given = getattr(section, kind)
        if given is None:
            continue
        if given.startswith("public:"):
            files[kind] = read_public(kind, given)
            continue
        path = Path(given)
        if not path.is_absolute():
            path = project.root / path
        if not path.is_file():
            raise DataError(f"[data] {kind} = {given!r}: no such file (looked for {path})")
        files[kind] = read_data_file(kind, path)
    return ProjectData(section, files)


def project_data(state: dict[str, Any], project: Project) -> ProjectData:
    """The run's ``[data]`` (read once per run and kept in the stages' shared state)."""
    if "data" not in state:
        state["data"] = load_data(project)
    return state["data"]


def data_fingerprint(project: Project, kinds: tuple[str, ...]) -> dict[str, str]:
    """The SHA-256 of each ``[data]`` file of ``kinds`` a project names (for stage keys)."""
    section = project.section("data", DataSection)
    out = {}
    for kind in kinds:
        given = getattr(section, kind)
        if given is None and kind == "review_prompts":
            given = section.prompts
        if given is None:
            continue
        if given.startswith("public:"):
            name = given.removeprefix("public:")
            if name not in PUBLIC_SOURCES:
                raise DataError(f"[data] {kind} = {given!r}: unknown public source")
            from accord.audit import default_data_dir

            # The rows are a fixed function of the file (and this code's version).
            out[kind] = file_sha256(default_data_dir() / PUBLIC_SOURCES[name][0]) + ":" + given
            continue
        path = Path(given) if Path(given).is_absolute() else project.root / given
        if not path.is_file():
            raise DataError(f"[data] {kind} = {given!r}: no such file")
        out[kind] = file_sha256(path)
    return out


def split_pairs(rows: list[dict[str, Any]], held_out: float, seed: int,
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, held-out) preference pairs; whole prompts are held out, so no pair of a
    held-out prompt is trained on."""
    import random

    def key(row: dict[str, Any]) -> str:
        return json.dumps(row["prompt"], sort_keys=True)

    prompts = sorted({key(r) for r in rows})
    random.Random(seed).shuffle(prompts)
    cut = set(prompts[:int(len(prompts) * held_out)])
    return ([r for r in rows if key(r) not in cut], [r for r in rows if key(r) in cut])
