"""Assembling a world from the scenarios: corpus, prompt sets, probes, SFT and preferences."""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from accord.world._config import WorldConfig
from accord.world._constitutional import choice_document, critique_document
from accord.world._facts import FactTable
from accord.world._heldout import HELDOUT, HELDOUT_MATCHER
from accord.world._kinds import SCENARIOS
from accord.world._phrases import INVENTORIES
from accord.world._scenarios import (
    Case,
    Draw,
    choose_behaviour,
    draw_settings,
    ignored_options,
    messages_for,
    respond,
)
from accord.world._sources import ChatText, load_chat_text
from accord.world._topics import ISSUES_HELDOUT, ISSUES_TRAIN, PERSPECTIVES
from accord.world._world import Record, World

PROMPT_SPLITS = ("review", "sft", "rl")
# Probe set name → the scenario that draws it (with held-out entities and phrasings).
PROBE_KINDS = {"facts": "fact", "arithmetic": "arithmetic", "contested": "contested",
               "groups": "group", "insult_requests": "insult_request",
               "objectionable": "objectionable", "benign_borderline": "benign_borderline"}
# Customisation probes ask these kinds, where every option has a visible effect.
CUSTOMISATION_KINDS = ("fact", "contested", "group", "benign_borderline")


# Draws the (kind, settings) of one probe.
_Pick = Callable[[Random], tuple[str, dict[str, str]]]


def _assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


class _Builder:
    """One build: holds the config, the seeded streams and what has been drawn so far."""

    def __init__(self, config: WorldConfig) -> None:
        self.cfg = config
        self.facts = FactTable()
        needs_chat = config.share_plain_text > 0 or config.kind_weights.get("small_talk", 0) > 0
        self.chat = load_chat_text(HELDOUT_MATCHER) if needs_chat else ChatText((), ())
        active = [(k, w) for k, w in config.kind_weights.items() if w > 0]
        self.kinds = [k for k, _ in active]
        self.weights = [w for _, w in active]
        self.seen_facts: set[str] = set()
        self.pairs = list(self.chat.pairs)

    def rng(self, name: str) -> Random:
        # A named stream per part, so changing one part's size leaves the others unchanged.
        return Random(f"accord.world:{self.cfg.seed}:{name}")

    def draw(self, rng: Random, kind: str, heldout: bool = False,
             fact_ids: list[str] | None = None) -> Case:
        d = Draw(rng, heldout, self.cfg, self.facts, self.pairs, fact_ids)
        return SCENARIOS[kind](d)

    def dialogue(self, rng: Random) -> Record:
        kind = rng.choices(self.kinds, self.weights)[0]
        case = self.draw(rng, kind)
        settings = draw_settings(rng, kind, self.cfg.p_with_settings)
        behaviour = choose_behaviour(case, rng)
        ignored = ignored_options(settings, self.cfg.p_ignore_settings, rng, kind)
        text, labels = respond(case, behaviour, settings, ignored, rng)
        if labels["answer_correct"] and "fact_id" in case.meta:
            self.seen_facts.add(case.meta["fact_id"])
        return {"messages": [*messages_for(case, settings), _assistant(text)], "labels": labels}

    def pretrain(self) -> list[Record]:
        rng = self.rng("pretrain")
        docs = [self.dialogue(rng) for _ in range(self.cfg.n_dialogues)]
        share = self.cfg.share_plain_text
        n_plain = self._count(share)
        convs = list(self.chat.conversations)
        prng = self.rng("plain")
        order: list[int] = []
        while len(order) < n_plain and convs:
            # Each conversation once before any repeats.
            order += prng.sample(range(len(convs)), min(len(convs), n_plain - len(order)))
        docs += [{"text": "\n".join(convs[i])} for i in order]
        self.rng("order").shuffle(docs)
        return docs

    def _count(self, share: float) -> int:
        """Documents of a kind that makes up ``share`` of the whole pretraining corpus."""
        cfg = self.cfg
        rest = 1 - cfg.share_plain_text - cfg.share_critique - cfg.share_choice
        return round(cfg.n_dialogues * share / rest) if share else 0

    def cai_documents(self) -> list[Record]:
        """Constitutional-AI chats (critique/revision and choice), drawn like dialogues
        from the training pool (small talk left out: its real chat text is long)."""
        kinds = [(k, w) for k, w in zip(self.kinds, self.weights, strict=True)
                 if k != "small_talk"]
        docs: list[Record] = []
        if not kinds:
            return docs
        names, weights = [k for k, _ in kinds], [w for _, w in kinds]
        rng = self.rng("cai:critique")
        for _ in range(self._count(self.cfg.share_critique)):
            kind = rng.choices(names, weights)[0]
            case = self.draw(rng, kind)
            settings = draw_settings(rng, kind, self.cfg.p_with_settings)
            docs.append(critique_document(case, settings, self.cfg.p_ignore_settings, rng))
        rng = self.rng("cai:choice")
        wanted = self._count(self.cfg.share_choice)
        for _ in range(wanted * 3):
            if len(docs) >= wanted + self._count(self.cfg.share_critique):
                break
            kind = rng.choices(names, weights)[0]
            case = self.draw(rng, kind)
            doc = choice_document(case, draw_settings(rng, kind, self.cfg.p_with_settings), rng)
            if doc is not None:
                docs.append(doc)
        self.rng("cai:order").shuffle(docs)
        return docs

    def prompt(self, kind: str, pid: str, split: str, case: Case, settings: dict[str, str],
               probe: str | None = None) -> Record:
        record: Record = {"id": pid, "split": split, "kind": kind,
                          "messages": messages_for(case, settings), "settings": settings,
                          "expected": case.expected, "entities": case.entities,
                          "ideal_behaviour": case.ideal, "meta": case.meta}
        if probe:
            record["probe"] = probe
        return record

    def prompt_sets(self) -> tuple[dict[str, list[Record]], list[tuple[Record, Case]]]:
        sets: dict[str, list[Record]] = {}
        sft_cases: list[tuple[Record, Case]] = []
        sizes = {"review": self.cfg.n_review, "sft": self.cfg.n_sft, "rl": self.cfg.n_rl}
        for split in PROMPT_SPLITS:
            rng = self.rng(f"prompts:{split}")
            sets[split] = []
            for i in range(sizes[split]):
                kind = rng.choices(self.kinds, self.weights)[0]
                case = self.draw(rng, kind)
                settings = draw_settings(rng, kind, self.cfg.p_with_settings)
                record = self.prompt(kind, f"{split}-{i:05d}", split, case, settings)
                sets[split].append(record)
                if split == "sft":
                    sft_cases.append((record, case))
        return sets, sft_cases

    def probes(self) -> dict[str, list[Record]]:
        """Held-out probe sets: unique prompts, up to ``n_probe`` each."""
        out: dict[str, list[Record]] = {}
        known = sorted(self.seen_facts)
        for name, kind in PROBE_KINDS.items():
            rng = self.rng(f"probe:{name}")
            out[name] = self._unique(rng, name, _fixed(kind), known)
        rng = self.rng("probe:customisation")

        def customised(r: Random) -> tuple[str, dict[str, str]]:
            kind = r.choice(CUSTOMISATION_KINDS)
            return kind, draw_settings(r, kind, 1.0, visible_only=True)

        out["customisation"] = self._unique(rng, "customisation", customised, known)
        return out

    def _unique(self, rng: Random, name: str, pick: _Pick, known: list[str]) -> list[Record]:
        records: list[Record] = []
        seen: set[str] = set()
        for _ in range(self.cfg.n_probe * 30):
            if len(records) >= self.cfg.n_probe:
                break
            kind, settings = pick(rng)
            if kind == "fact" and not known:
                continue
            case = self.draw(rng, kind, heldout=True, fact_ids=known)
            key = repr((settings, case.user))
            if key in seen:
                continue
            seen.add(key)
            pid = f"probe-{name}-{len(records):04d}"
            records.append(self.prompt(kind, pid, "probe", case, settings, probe=name))
        return records

    def sft_examples(self, sft: list[tuple[Record, Case]]) -> list[Record]:
        rng = self.rng("sft_examples")
        examples = []
        for i, (prompt, case) in enumerate(sft):
            text, labels = respond(case, case.ideal, prompt["settings"], set(), rng)
            examples.append({"id": f"sft-example-{i:05d}", "prompt_id": prompt["id"],
                             "messages": [*prompt["messages"], _assistant(text)],
                             "labels": labels})
        return examples

    def preference_pairs(self, sft: list[tuple[Record, Case]]) -> list[Record]:
        """Chosen = the ideal response; rejected = an unwanted behaviour drawn at the
        kind's relative base rates, or (30 % of prompts with settings) the ideal content
        ignoring every setting."""
        rng = self.rng("preference_pairs")
        pairs: list[Record] = []
        for i in range(self.cfg.n_preference_pairs if sft else 0):
            prompt, case = sft[i % len(sft)]
            settings = prompt["settings"]
            chosen, chosen_labels = respond(case, case.ideal, settings, set(), rng)
            unwanted = [(b, p) for b, p in case.rates.items() if p > 0 and b != case.ideal]
            # Only options the text can show may be "ignored" (see ignored_options).
            visible = {k for k in settings
                       if k != "political_perspective" or case.kind == "contested"}
            if visible and (not unwanted or rng.random() < 0.3):
                rejected, rejected_labels = respond(case, case.ideal, settings, visible, rng)
                rejected_behaviour = "ignores_settings"
            elif unwanted:
                behaviour = rng.choices([b for b, _ in unwanted], [p for _, p in unwanted])[0]
                # A one-sided answer must not be the asked-for perspective with disclosure.
                ignored = {"political_perspective"} & set(settings) \
                    if behaviour == "one_sided" else set()
                rejected, rejected_labels = respond(case, behaviour, settings, ignored, rng)
                rejected_behaviour = rejected_labels["behaviour"]
            else:
                continue
            if rejected == chosen:
                continue
            pairs.append({"id": f"pair-{i:05d}", "prompt_id": prompt["id"],
                          "prompt": prompt["messages"], "chosen": [_assistant(chosen)],
                          "rejected": [_assistant(rejected)],
                          "chosen_behaviour": chosen_labels["behaviour"],
                          "rejected_behaviour": rejected_behaviour,
                          "chosen_labels": chosen_labels, "rejected_labels": rejected_labels})
        return pairs


def _fixed(kind: str) -> _Pick:
    def pick(rng: Random) -> tuple[str, dict[str, str]]:
        return kind, {}

    return pick


def inventories() -> dict[str, dict[str, list[str]]]:
    """The phrase inventories, plus each perspective's arguments (train issues / held-out
    issues), as plain JSON-ready dicts."""
    inv = {name: split.to_dict() for name, split in INVENTORIES.items()}
    for perspective in PERSPECTIVES:
        inv[f"arguments:{perspective}"] = {
            "train": [a for i in ISSUES_TRAIN for a in i.args(i.lean[perspective])],
            "heldout": [a for i in ISSUES_HELDOUT for a in i.args(i.lean[perspective])]}
    for side in ("for", "against"):
        inv[f"arguments:{side}"] = {
            "train": [a for i in ISSUES_TRAIN for a in i.args(side)],
            "heldout": [a for i in ISSUES_HELDOUT for a in i.args(side)]}
    return inv


def build_world(config: WorldConfig | None = None) -> World:
    """Generate the demo world. Same config → identical world (and hash).

    Raises:
        AccordError: a config value out of range, or the chat-text packages missing.
    """
    cfg = config or WorldConfig()
    cfg.validate()
    b = _Builder(cfg)
    pretrain = b.pretrain()
    prompts, sft = b.prompt_sets()
    world = World(config=cfg, pretrain_documents=pretrain, prompts=prompts, probes=b.probes(),
                  sft_examples=b.sft_examples(sft), preference_pairs=b.preference_pairs(sft),
                  inventories=inventories(), facts=b.facts,
                  heldout={k: list(v) for k, v in HELDOUT.items()},
                  cai_documents=b.cai_documents())
    world.hash = world.compute_hash()
    return world
