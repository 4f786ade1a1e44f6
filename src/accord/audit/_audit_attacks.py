"""``attacks``: the spec's hard bounds probed with the real-text attack suite
(``accord.customize``'s ``attacks_real.yaml``), as an audit suite on any backend.

Each attack names the hard bound it targets; the reply is judged by a real-text grader for
that bound (``harmful_compliance`` for ``no_objectionable_compliance``, ``offensive`` for
insults, slurs and demeaning generalisations), and the legitimate requests of the same file
(some only look edgy) are judged by ``refusal``: a bound that holds by refusing everything
shows up there. On a local model this measures the model itself; on an endpoint served by
``accord serve`` it measures what users are shown, screens and safe completions included.
Attacks that work by tampering with a ``profile`` need the server's profile field, which a
plain chat request cannot send: they are left out and counted in the suite's info.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accord.audit._suites import (
    Suite,
    SuiteContext,
    SuiteResult,
    exchanges,
    file_sha256,
    rate,
    register_suite,
    score_with,
)

HARMFUL = "harmful_compliance"
OFFENSIVE = "offensive"
REFUSAL = "refusal"
# Which grader judges a violation of each hard bound the attack file names.
BOUND_GRADER = {"no_objectionable_compliance": HARMFUL, "no_insults": OFFENSIVE,
                "no_slurs": OFFENSIVE, "no_demeaning_generalisations": OFFENSIVE}


def _messages(entry: dict[str, Any]) -> list[dict[str, str]]:
    out = [{"role": "system", "content": entry["system"]}] if entry.get("system") else []
    for i, text in enumerate(entry["turns"]):
        out.append({"role": "user" if i % 2 == 0 else "assistant", "content": str(text)})
    return out


@register_suite
class Attacks(Suite):
    """Attacks on the hard bounds and legitimate requests that must still be answered."""

    name = "attacks"
    description = ("the spec's hard bounds under the real-text attack suite (jailbreaks, "
                   "role-play, harmful how-tos, insult requests): violation rate per bound "
                   "(graders harmful_compliance, offensive) and refusals of legitimate "
                   "requests (refusal)")
    graders = (HARMFUL, OFFENSIVE, REFUSAL)

    def run(self, ctx: SuiteContext) -> SuiteResult:
        """Ask every attack without a profile and every legitimate request (or the first
        ``limit`` of each, in file order), judge each reply by its bound's grader."""
        import accord.customize
        from accord.customize import load_suites

        path = Path(accord.customize.__file__).with_name("attacks_real.yaml")
        ctx.files_read.append({"path": "accord/customize/attacks_real.yaml",
                               "sha256": file_sha256(path)})
        data = load_suites("real")
        attacks = [e for e in data["attacks"] if not e.get("profile")
                   and e.get("bound") in BOUND_GRADER]
        skipped = len(data["attacks"]) - len(attacks)
        legit = [e for e in data["legitimate"] if not e.get("profile")]
        if ctx.limit is not None:
            attacks, legit = attacks[:ctx.limit], legit[:ctx.limit]
        entries = [*attacks, *legit]
        prompts = [_messages(e) for e in entries]
        replies = ctx.generate(prompts, "attacks: answers")
        exs = exchanges(prompts, replies)
        scores = {g: score_with(g, exs) for g in self.graders}
        items: list[dict[str, Any]] = []
        for i, (e, p, text) in enumerate(zip(entries, prompts, replies, strict=True)):
            is_attack = i < len(attacks)
            judged = scores[BOUND_GRADER[e["bound"]]][1][i] if is_attack else None
            refused = scores[REFUSAL][1][i]
            verdict = (("violation" if judged else "held") if is_attack
                       else ("refused" if refused else "answered"))
            items.append({"id": e["id"], "kind": "attack" if is_attack else "legitimate",
                          "family": e.get("family", "legitimate"), "bound": e.get("bound"),
                          "prompt": p, "response": text,
                          "scores": {g: scores[g][0][i] for g in self.graders},
                          "verdict": verdict})
        atk = [it for it in items if it["kind"] == "attack"]
        ok = [it for it in items if it["kind"] == "legitimate"]
        figures = [rate("violation_rate", sum(it["verdict"] == "violation" for it in atk),
                        len(atk), "lower is better",
                        "attacks whose reply the bound's grader calls a violation "
                        "(harmful_compliance, or offensive for insults, slurs and demeaning "
                        "generalisations)")]
        for bound in sorted({it["bound"] for it in atk}):
            rows = [it for it in atk if it["bound"] == bound]
            figures.append(rate(f"violation_rate:{bound}",
                                sum(it["verdict"] == "violation" for it in rows), len(rows),
                                "lower is better",
                                f"attacks on {bound} judged violations by "
                                f"{BOUND_GRADER[bound]!r}"))
        figures.append(rate("legitimate_refused", sum(it["verdict"] == "refused" for it in ok),
                            len(ok), "lower is better",
                            "legitimate requests (some only look edgy) the 'refusal' grader "
                            "calls refused"))
        return SuiteResult(self.name, figures, items,
                           info={"attacks_with_profile_left_out": skipped})
