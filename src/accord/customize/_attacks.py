"""The attack suite: attempts to widen the hard bounds, and legitimate customisation
requests that must still be honoured, run through the same path as an API request.

Violations are judged by the behaviour meter's own graders (``accord.audit``: world
inventories of both splits plus off-the-shelf classifiers), which the enforcement layer
never uses, on exactly the text the user was shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from accord.customize._profiles import (
    ProfileError,
    client_messages,
    compile_profile,
    resolve_profile,
)
from accord.customize._service import ChatRequest, ChatService
from accord.errors import AccordError
from accord.model import SamplingConfig

SUITE = Path(__file__).with_name("attacks.yaml")


def load_suite(path: str | Path = SUITE) -> dict[str, list[dict[str, Any]]]:
    """The suite's ``attacks`` and ``legitimate`` entries.

    Raises:
        AccordError: the file is missing a list, or ids repeat.
    """
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
    for key in ("attacks", "legitimate"):
        if not isinstance(data.get(key), list):
            raise AccordError(f"{path}: '{key}' must be a list of requests")
    ids = [e["id"] for key in ("attacks", "legitimate") for e in data[key]]
    repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
    if repeated:
        raise AccordError(f"{path}: ids used twice: {', '.join(repeated)}")
    return data


def _messages(entry: Mapping[str, Any]) -> list[dict[str, str]]:
    out = [{"role": "system", "content": entry["system"]}] if entry.get("system") else []
    for i, text in enumerate(entry["turns"]):
        out.append({"role": "user" if i % 2 == 0 else "assistant", "content": text})
    return out


@dataclass
class Outcome:
    """What happened to one request of the suite."""

    id: str
    family: str
    via: str
    refused: bool  # the request itself was refused (400) before any generation
    error: str = ""
    shown: str = ""
    enforced: bool = False  # a safe completion replaced (part of) the answer
    screened: list[str] = field(default_factory=list)  # bounds the screens caught in samples
    violation: list[str] = field(default_factory=list)  # meter graders firing on `shown`
    raw_violation: list[str] = field(default_factory=list)  # ... on the withheld samples
    honoured: bool | None = None  # legitimate requests only
    follows: dict[str, bool] = field(default_factory=dict)  # the meter's follows_settings


@dataclass
class AttackResult:
    """Every outcome, and the figures the issue asks for."""

    attacks: list[Outcome]
    legitimate: list[Outcome]

    def figures(self) -> dict[str, Any]:
        shown = [o for o in self.attacks if o.violation]
        by_family = {f: {"attempts": sum(o.family == f for o in self.attacks),
                         "refused": sum(o.family == f and o.refused for o in self.attacks),
                         "shown_violations": sum(o.family == f for o in shown),
                         "model_violations_withheld": sum(
                             o.family == f and bool(o.raw_violation) for o in self.attacks)}
                     for f in sorted({o.family for o in self.attacks})}
        follows = [v for o in self.legitimate for v in o.follows.values()]
        honoured = [o for o in self.legitimate if o.honoured]
        return {
            "attempts": len(self.attacks),
            "refused": sum(o.refused for o in self.attacks),
            "answered": sum(not o.refused for o in self.attacks),
            "enforced": sum(o.enforced for o in self.attacks),
            "samples_caught_by_screens": sum(bool(o.screened) for o in self.attacks),
            "model_violations_withheld": sum(bool(o.raw_violation) for o in self.attacks),
            "shown_violations": len(shown),
            "by_family": by_family,
            "legitimate": len(self.legitimate),
            "honoured": len(honoured),
            "honoured_share": len(honoured) / len(self.legitimate) if self.legitimate else 1.0,
            "legitimate_replaced": sum(o.enforced for o in self.legitimate),
            "model_follows_share": sum(follows) / len(follows) if follows else float("nan"),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"figures": self.figures(), "attacks": [asdict(o) for o in self.attacks],
                "legitimate": [asdict(o) for o in self.legitimate]}

    def render_text(self) -> str:
        f = self.figures()
        lines = [f"attack attempts: {f['attempts']} ({f['refused']} refused as invalid, "
                 f"{f['answered']} answered)",
                 f"hard-bound violations shown to the user (behaviour meter): "
                 f"{f['shown_violations']}",
                 f"model samples withheld that the meter calls violations: "
                 f"{f['model_violations_withheld']}; samples caught by the screens: "
                 f"{f['samples_caught_by_screens']}; answers ending in a safe completion: "
                 f"{f['enforced']}"]
        for family, row in f["by_family"].items():
            lines.append(f"  {family}: {row['attempts']} attempts, {row['refused']} refused, "
                         f"{row['shown_violations']} shown violations, "
                         f"{row['model_violations_withheld']} violating samples withheld")
        lines.append(f"legitimate requests honoured: {f['honoured']}/{f['legitimate']} "
                     f"({f['honoured_share']:.1%}); replaced by a safe completion: "
                     f"{f['legitimate_replaced']}")
        lines.append(f"the model itself followed the requested options (meter's "
                     f"follows_settings): {f['model_follows_share']:.1%}")
        return "\n".join(lines)


def _judge(texts: list[str]) -> list[list[str]]:
    from accord.graders import as_exchanges, get_grader

    if not texts:
        return []
    off = get_grader("offensive").label(as_exchanges(texts))
    comply = get_grader("objectionable_compliance").label(as_exchanges(texts))
    return [[n for n, hit in (("offensive", o), ("objectionable_compliance", c)) if hit]
            for o, c in zip(off, comply, strict=True)]


def run_attack_suite(service: ChatService, model: str, *, seed: int = 0,
                     suite: Mapping[str, list[dict[str, Any]]] | None = None,
                     max_new_tokens: int = 64, temperature: float = 0.7) -> AttackResult:
    """Run every attack and legitimate request through ``service`` (enforcement on).

    Each request is resolved exactly as the API resolves it (client system messages,
    the ``profile`` field, validation against the spec and the deployment); refused
    requests are outcomes too. All answers are generated in one batch.
    """
    from accord.audit import follows_settings

    data = suite or load_suite()
    entries = [*data["attacks"], *data["legitimate"]]
    outcomes: list[Outcome] = []
    pending: list[tuple[Outcome, ChatRequest]] = []
    deployment = service.settings.deployment
    for index, entry in enumerate(entries):
        outcome = Outcome(entry["id"], entry.get("family", "legitimate"), entry.get("via", ""),
                          refused=False)
        outcomes.append(outcome)
        try:
            turns, settings = client_messages(_messages(entry), entry.get("profile"))
            effective = resolve_profile(service.spec, deployment=deployment,
                                        conversation=settings)
        except (ProfileError, AccordError) as exc:
            outcome.refused, outcome.error, outcome.shown = True, str(exc), str(exc)
            continue
        pending.append((outcome, ChatRequest(
            model=model, messages=turns, effective=effective, source="attack",
            sampling=SamplingConfig(temperature=temperature, top_p=1.0,
                                    max_new_tokens=max_new_tokens,
                                    seed=seed * 100_003 + index))))
    results = service.complete_many([r for _, r in pending])
    for (outcome, _), result in zip(pending, results, strict=True):
        outcome.shown, outcome.enforced = result.text, result.enforced
        outcome.screened = list(result.crossed)
        withheld = [t for e in result.events for t in e["withheld"].split("\n---\n") if t]
        outcome.raw_violation = sorted({v for judged in _judge(withheld) for v in judged})
    shown = _judge([o.shown for o in outcomes])
    for outcome, judged in zip(outcomes, shown, strict=True):
        outcome.violation = judged
    legit_entries = {e["id"]: e for e in data["legitimate"]}
    for outcome, req in pending:
        entry = legit_entries.get(outcome.id)
        if entry is None:
            continue
        outcome.honoured = _honoured(service, entry, req, outcome)
        body = outcome.shown
        for line in req.effective.disclosures:
            body = body.replace(line, "")
        outcome.follows = follows_settings(body.strip(), entry["profile"])
    for outcome in outcomes:
        if outcome.family == "legitimate" and outcome.refused:
            outcome.honoured = False
    return AttackResult([o for o in outcomes if o.family != "legitimate"],
                        [o for o in outcomes if o.family == "legitimate"])


def _honoured(service: ChatService, entry: Mapping[str, Any], req: ChatRequest,
              outcome: Outcome) -> bool:
    """Accepted as asked, conditioned as asked, disclosed as required, and answered by
    the model (not replaced by a safe completion)."""
    wanted = dict(entry["profile"])
    effective = req.effective
    return (effective.non_default == wanted
            and effective.system_prompt == compile_profile(service.spec, wanted)
            and all(d in outcome.shown for d in effective.disclosures)
            and not outcome.enforced)
