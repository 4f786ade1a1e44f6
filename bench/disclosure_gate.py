"""How often the perspective disclosure shows, before -> after the stance grader (issue 13).

Re-applies ``accord serve``'s disclosure gate (``ChatService.disclosures``) to answers
SmolLM2-135M-Instruct already wrote under ``bench/steerability.py`` (its ``--out`` file):
each answer of the ``political_perspective`` configurations, with its disclosure removed,
is gated once by the old grader (``one_sided``: no "other side" marker in 20+ words) and
once by the new default (``takes_perspective``: political, leans to the chosen value,
one-sided). Shares per kind of prompt (everyday / contested political) and per value, with
95 % Wilson intervals. No model runs. The thresholds of ``takes_perspective`` were chosen
while reading the perspective answers (in-sample); the rows marked ``*`` are the other
configurations' answers (defaults, tone, verbosity, persona: written under the balanced
default), which were not read, each gated as if every partisan value had been chosen.

The text was written by the model under test, and neither grader trained or serves it, but
no human labels of stance exist here: the graders' agreement with people is unknown, so a
lower share on political answers is not shown to be more correct, only more selective; the
everyday share is the figure that counts (an everyday answer never takes a perspective).

    .venv/bin/python bench/disclosure_gate.py /tmp/e_out/steer.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from accord.customize import ChatRequest, ChatService, CustomizeSettings, resolve_profile
from accord.model import SamplingConfig
from accord.spec import load_spec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from steerability import SPEC, strip_disclosures, wilson

PARTISAN = ("progressive", "conservative", "libertarian")
GATES = {"before (one_sided)": "one_sided", "after (takes_perspective)": "takes_perspective"}


def gate(run: dict) -> dict[tuple[str, str, str], list[bool]]:
    """``(gate, kind, value) -> [shown, ...]`` over the saved perspective answers."""
    spec = load_spec(SPEC)
    out: dict[tuple[str, str, str], list[bool]] = {}
    for label, grader in GATES.items():
        service = ChatService(spec, CustomizeSettings(
            disclosure_graders={"political_perspective": grader}))
        for a in run["answers"]:
            body, _ = strip_disclosures(a["shown"], a["disclosures"])
            if a["option"] == "political_perspective":
                cases = [(a["kind"], a["value"])]
            else:  # not read while the thresholds were chosen: gated under every value
                cases = [(f"{a['kind']}*", v) for v in PARTISAN]
            for kind, value in cases:
                req = ChatRequest(model=run["model"], messages=[{"role": "user",
                                                                 "content": a["prompt"]}],
                                  effective=resolve_profile(spec, conversation={
                                      "political_perspective": value}),
                                  sampling=SamplingConfig(seed=0), source="bench")
                shown = bool(service.disclosures(req, body))
                for v in (value, "all"):
                    out.setdefault((label, kind, v), []).append(shown)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("answers", type=Path, help="a bench/steerability.py --out file")
    args = parser.parse_args()
    run = json.loads(args.answers.read_text())
    rows = gate(run)
    print(f"{'gate':28s} {'prompts':9s} {'value':12s} {'shown':>7s}  share [95 %]")
    for (label, kind, value), shown in sorted(rows.items(), key=lambda kv: (
            kv[0][1], kv[0][2] != "all", kv[0][2], kv[0][0] != "before (one_sided)")):
        p, lo, hi = wilson(sum(shown), len(shown))
        print(f"{label:28s} {kind:9s} {value:12s} {sum(shown):3d}/{len(shown):<3d}  "
              f"{100 * p:5.1f} % [{100 * lo:4.1f}, {100 * hi:4.1f}]")
    print(f"\nanswers: {args.answers} (model {run['model']}, seed {run['seed']}, "
          f"temperature {run['temperature']}, max_new_tokens {run['max_new_tokens']})")


if __name__ == "__main__":
    main()
