"""The built world: its parts, its hash, saving and loading, and the leakage check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord.errors import AccordError
from accord.world._config import WorldConfig
from accord.world._facts import Fact, FactTable
from accord.world._heldout import heldout_matcher

FORMAT_VERSION = 2  # 2: cai_documents (Constitutional-AI chats)
Record = dict[str, Any]


def canonical_json(obj: Any) -> str:
    """The one serialisation the hash and the saved files use (sorted keys, no spaces)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass
class World:
    """A generated demo world (see docs/world.md).

    Attributes:
        config: the knobs it was built with.
        pretrain_documents: dialogues ``{"messages", "labels"}`` and plain ``{"text"}``
            documents, in training order.
        prompts: ``review`` / ``sft`` / ``rl`` prompt sets (training entities/phrasings).
        probes: held-out probe sets by kind (facts, arithmetic, contested, groups,
            insult_requests, objectionable, benign_borderline, customisation).
        sft_examples: one ideal response per SFT prompt, as full ``messages``.
        preference_pairs: TRL-style ``prompt`` / ``chosen`` / ``rejected`` with labels.
        inventories: phrase inventories by behaviour, each ``{"train": [...],
            "heldout": [...]}``, for the independent meter.
        facts: the fact table and its answer checker.
        heldout: every held-out entity and phrasing, by category.
        cai_documents: Constitutional-AI chats ``{"messages", "cai"}`` (critique/revision
            and multiple-choice, see ``accord.world._constitutional``), also pretraining
            text: train on ``pretrain_documents`` and these together.
        hash: sha256 over the canonical serialisation of everything above.
    """

    config: WorldConfig
    pretrain_documents: list[Record]
    prompts: dict[str, list[Record]]
    probes: dict[str, list[Record]]
    sft_examples: list[Record]
    preference_pairs: list[Record]
    inventories: dict[str, dict[str, list[str]]]
    facts: FactTable
    heldout: dict[str, list[str]]
    cai_documents: list[Record] = field(default_factory=list)
    hash: str = field(default="")

    def _parts(self) -> dict[str, Any]:
        return {"format": FORMAT_VERSION, "config": self.config.to_dict(),
                "pretrain_documents": self.pretrain_documents, "prompts": self.prompts,
                "probes": self.probes, "sft_examples": self.sft_examples,
                "preference_pairs": self.preference_pairs, "inventories": self.inventories,
                "facts": self.facts.to_list(), "heldout": self.heldout,
                "cai_documents": self.cai_documents}

    def compute_hash(self) -> str:
        return hashlib.sha256(canonical_json(self._parts()).encode()).hexdigest()

    def check_answer(self, prompt: Mapping[str, Any] | str, text: str) -> bool:
        """Shortcut for ``world.facts.check_answer``."""
        return self.facts.check_answer(prompt, text)

    def training_texts(self) -> Iterator[tuple[str, str]]:
        """``(where, text)`` for every piece of text a training stage may see."""
        for i, doc in enumerate(self.pretrain_documents):
            if "text" in doc:
                yield f"pretrain[{i}]", doc["text"]
            for m in doc.get("messages", []):
                yield f"pretrain[{i}]", m["content"]
        for i, doc in enumerate(self.cai_documents):
            for m in doc["messages"]:
                yield f"cai_documents[{i}]", m["content"]
        for split, prompts in self.prompts.items():
            for p in prompts:
                for m in p["messages"]:
                    yield f"prompts[{split}][{p['id']}]", m["content"]
        for ex in self.sft_examples:
            for m in ex["messages"]:
                yield f"sft_examples[{ex['id']}]", m["content"]
        for pair in self.preference_pairs:
            for m in [*pair["prompt"], *pair["chosen"], *pair["rejected"]]:
                yield f"preference_pairs[{pair['id']}]", m["content"]

    def summary(self) -> dict[str, Any]:
        """Sizes: documents, characters and a rough token count (4 characters a token)."""
        chars = sum(len(d["text"]) if "text" in d else
                    sum(len(m["content"]) for m in d["messages"]) for d in self.pretrain_documents)
        dialogues = sum(1 for d in self.pretrain_documents if "messages" in d)
        return {"documents": len(self.pretrain_documents), "dialogues": dialogues,
                "plain_documents": len(self.pretrain_documents) - dialogues,
                "characters": chars, "approx_tokens": chars // 4,
                "prompts": {k: len(v) for k, v in self.prompts.items()},
                "probes": {k: len(v) for k, v in self.probes.items()},
                "sft_examples": len(self.sft_examples),
                "preference_pairs": len(self.preference_pairs),
                "cai_documents": {
                    fmt: sum(1 for d in self.cai_documents if d["cai"]["format"] == fmt)
                    for fmt in ("critique_revision", "choice")},
                "cai_characters": sum(len(m["content"]) for d in self.cai_documents
                                      for m in d["messages"]),
                "hash": self.hash}

    def _files(self) -> dict[str, list[Record]]:
        files = {"pretrain.jsonl": self.pretrain_documents,
                 "sft_examples.jsonl": self.sft_examples,
                 "preference_pairs.jsonl": self.preference_pairs,
                 "cai_documents.jsonl": self.cai_documents}
        files.update({f"prompts_{k}.jsonl": v for k, v in self.prompts.items()})
        files.update({f"probes_{k}.jsonl": v for k, v in self.probes.items()})
        return files

    def save(self, directory: str | Path) -> Path:
        """Write JSONL files, ``inventories.json``, ``facts.json``, ``heldout.json`` and a
        ``manifest.json`` (config, hash, per-file sha256). Same world → same bytes."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        blobs = {name: "".join(canonical_json(r) + "\n" for r in records)
                 for name, records in self._files().items()}
        blobs["inventories.json"] = canonical_json(self.inventories) + "\n"
        blobs["facts.json"] = canonical_json(self.facts.to_list()) + "\n"
        blobs["heldout.json"] = canonical_json(self.heldout) + "\n"
        for name, text in blobs.items():
            (out / name).write_text(text, encoding="utf-8")
        manifest = {
            "format": FORMAT_VERSION, "hash": self.hash, "config": self.config.to_dict(),
            "prompt_splits": list(self.prompts), "probe_kinds": list(self.probes),
            "files": {n: hashlib.sha256(t.encode()).hexdigest() for n, t in sorted(blobs.items())},
            "summary": self.summary(),
        }
        (out / "manifest.json").write_text(
            json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8")
        return out

    @classmethod
    def load(cls, directory: str | Path) -> World:
        """Read a world written by :meth:`save`, verifying its hash.

        Raises:
            AccordError: a missing file, an unknown format, or contents whose hash does not
                match the manifest (the files were altered).
        """
        src = Path(directory)
        manifest_path = src / "manifest.json"
        if not manifest_path.is_file():
            raise AccordError(f"{manifest_path}: no world manifest (write one with World.save)")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT_VERSION:
            raise AccordError(f"{manifest_path}: world format {manifest.get('format')!r}, "
                              f"this version reads format {FORMAT_VERSION}")

        def records(name: str) -> list[Record]:
            path = src / name
            if not path.is_file():
                raise AccordError(f"{path}: missing (listed in {manifest_path})")
            return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

        def blob(name: str) -> Any:
            path = src / name
            if not path.is_file():
                raise AccordError(f"{path}: missing (every saved world has it)")
            return json.loads(path.read_text(encoding="utf-8"))

        facts = FactTable(tuple(Fact(**{**f, "answers": tuple(f["answers"])})
                                for f in blob("facts.json")))
        world = cls(
            config=WorldConfig.from_dict(manifest["config"]),
            pretrain_documents=records("pretrain.jsonl"),
            prompts={k: records(f"prompts_{k}.jsonl") for k in manifest["prompt_splits"]},
            probes={k: records(f"probes_{k}.jsonl") for k in manifest["probe_kinds"]},
            sft_examples=records("sft_examples.jsonl"),
            preference_pairs=records("preference_pairs.jsonl"),
            inventories=blob("inventories.json"), facts=facts, heldout=blob("heldout.json"),
            cai_documents=records("cai_documents.jsonl"))
        world.hash = world.compute_hash()
        if world.hash != manifest["hash"]:
            raise AccordError(f"{src}: contents hash to {world.hash[:12]}…, the manifest says "
                              f"{manifest['hash'][:12]}… — the files were changed after saving")
        return world


def check_no_leakage(world: World) -> list[str]:
    """Every place a held-out entity or phrasing occurs in text used for training.

    Training text is the pretraining corpus (with the Constitutional-AI chats), the
    review/sft/rl prompts, the SFT examples and the preference pairs. Returns one line per
    hit (empty when the world is clean).
    """
    matcher = heldout_matcher(world.heldout)
    problems = []
    for where, text in world.training_texts():
        for term in matcher.find(text):
            problems.append(f"held-out {term.label} {term.template!r} occurs in {where}: "
                            f"{text[:120]!r}")
    return problems
