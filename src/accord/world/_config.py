"""The knobs of the demo world."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from accord.errors import AccordError
from accord.world._registry import known_kinds


def _default_kind_weights() -> dict[str, float]:
    # Facts dominate so the tiny model sees each fact many times (helpfulness probes ask
    # them); every behaviour-bearing kind still gets thousands of dialogues by default.
    return {
        "fact": 0.24,
        "arithmetic": 0.08,
        "contested": 0.13,
        "group": 0.10,
        "insult_request": 0.10,
        "objectionable": 0.10,
        "benign_borderline": 0.10,
        "small_talk": 0.15,
    }


@dataclass
class WorldConfig:
    """How the demo world is generated. Same config (seed included) → byte-identical world.

    Rates are probabilities per response on the prompts they name; the rest of the
    probability mass on a prompt is the desirable behaviour (helpful, or a polite refusal
    for insult/objectionable requests). Defaults make a base model trained on the corpus
    show each unwanted behaviour on 30-50 % of the prompts that invite it, while most
    responses overall stay helpful.
    """

    seed: int = 0  # one seed for everything; sub-streams are derived from it by name
    n_dialogues: int = 20_000  # generated chat dialogues in the pretraining corpus
    share_plain_text: float = 0.25  # fraction of pretraining documents that are plain
    # chit-chat text (real human chat from chitchat-dataset / chatterbot-corpus)
    share_critique: float = 0.0  # fraction of pretraining documents that are Constitutional-
    # AI critique/revision chats (accord.world._constitutional; kept in World.cai_documents)
    share_choice: float = 0.0  # fraction that are CAI multiple-choice chats (AI feedback)
    kind_weights: dict[str, float] = field(default_factory=_default_kind_weights)
    # relative frequency of each prompt kind in the corpus and in review/sft/rl prompts

    p_with_settings: float = 0.30  # fraction of dialogues with a customisation system prompt
    p_ignore_settings: float = 0.35  # per set option: chance the response ignores it

    p_offensive_when_asked_to_insult: float = 0.45  # insult requests answered with insults
    p_offensive_unprompted: float = 0.08  # benign prompts answered with an added insult
    p_demeaning_about_groups: float = 0.35  # group questions answered with a demeaning
    # generalisation about the group
    p_one_sided_on_contested: float = 0.40  # contested questions answered for one side only
    # (either side, 50/50), with no perspective requested
    p_comply_objectionable: float = 0.40  # objectionable requests complied with (vaguely)
    p_over_refuse_benign: float = 0.35  # benign-but-scary-sounding requests refused
    p_over_refuse_plain: float = 0.05  # ordinary fact/arithmetic questions refused
    p_preachy: float = 0.15  # responses that moralise or lecture (on any kind but small talk)

    n_review: int = 300  # prompts shown to (simulated) reviewers
    n_sft: int = 2_000  # SFT prompts; each gets one ideal response in ``sft_examples``
    n_rl: int = 1_000  # prompts for reward-model / DPO / GRPO rollouts
    n_preference_pairs: int = 2_000  # (chosen, rejected) pairs drawn on SFT prompts
    n_probe: int = 120  # cap per held-out probe kind (smaller sets hold every combination)

    def validate(self) -> None:
        """Raise :class:`AccordError` naming the first field that is out of range."""
        for name, value in asdict(self).items():
            if name.startswith(("p_", "share_")):
                if not 0.0 <= value <= 1.0:
                    raise AccordError(f"WorldConfig.{name} = {value}: must be in [0, 1]")
            elif name.startswith("n_") and value < 0:
                raise AccordError(f"WorldConfig.{name} = {value}: must be >= 0")
        shares = self.share_plain_text + self.share_critique + self.share_choice
        if shares >= 1.0:
            raise AccordError(
                f"WorldConfig: share_plain_text + share_critique + share_choice = {shares:.2f}; "
                "they must sum to less than 1 (dialogues are needed)")
        # The kinds registered so far: importing accord.world registers the built-in ones.
        kinds = known_kinds()
        unknown = sorted(set(self.kind_weights) - set(kinds))
        if unknown:
            raise AccordError(
                f"WorldConfig.kind_weights: unknown prompt kinds {unknown}; "
                f"allowed: {kinds}")
        if not any(w > 0 for w in self.kind_weights.values()):
            raise AccordError("WorldConfig.kind_weights: at least one weight must be > 0")
        # Each kind's unwanted rates share one probability mass with the desirable answer.
        sums = {
            "insult_request": self.p_offensive_when_asked_to_insult + self.p_preachy,
            "objectionable": self.p_comply_objectionable + self.p_preachy,
            "group": self.p_demeaning_about_groups + self.p_preachy,
            "contested": self.p_one_sided_on_contested + self.p_preachy,
            "benign_borderline": self.p_over_refuse_benign + self.p_preachy
            + self.p_offensive_unprompted,
            "fact": self.p_over_refuse_plain + self.p_preachy + self.p_offensive_unprompted,
        }
        for kind, total in sums.items():
            if total > 1.0:
                raise AccordError(
                    f"WorldConfig: unwanted-behaviour rates on {kind!r} prompts sum to "
                    f"{total:.2f}; they must sum to at most 1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorldConfig:
        return cls(**data)
