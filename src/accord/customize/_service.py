"""Answering under a profile, with the hard bounds enforced outside the model.

Every response is screened before the user sees it. On a crossed bound the response is
withheld and resampled (up to ``max_resamples`` times); if every sample crosses, the user
gets a short notice and the spec's safe completion for the first crossed bound. Streams
are held back one sentence: each sentence is screened (with everything before it) before
it is sent, so violating text is never shown; a stream that crosses after clean text was
sent is cut off there and ends with the notice and the safe completion. Each such case is
an enforcement event (bounds, grader scores, samples tried, what was shown).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from accord.customize._config import CustomizeSettings
from accord.customize._profiles import CLIENT_SYSTEM_HEADER, Effective, OptionView
from accord.customize._repo import new_answer_id, record_answer
from accord.customize._screens import BoundChecker, Verdict, screens_of_set
from accord.errors import AccordError
from accord.model import SamplingConfig
from accord.spec import Spec

_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+")
_RESAMPLE_STRIDE = 1_000_003


class Job(Protocol):
    """A generation in progress (see ``accord.customize._runner.Job``)."""

    events: Any
    completion_tokens: int

    def cancel(self) -> None: ...

    def wait_text(self, timeout: float | None = None) -> tuple[str, str]: ...


class Runner(Protocol):
    """What the service needs from a served model."""

    name: str

    def submit(self, conversation: Sequence[dict[str, str]], sampling: Any,
               stop: Sequence[str] = ()) -> Job: ...

    def encode(self, conversation: Sequence[dict[str, str]]) -> list[int]: ...

    def count_tokens(self, text: str) -> int: ...


@dataclass
class ChatRequest:
    """One request: the client's turns (user/assistant only) under a resolved profile."""

    model: str
    messages: list[dict[str, str]]
    effective: Effective
    sampling: SamplingConfig  # its seed s makes the answer row (s, 0), as in accord.model
    stop: tuple[str, ...] = ()
    owner: str = "system"
    source: str = "api"
    api_key_id: int | None = None
    id: str = field(default_factory=new_answer_id)
    client_system: tuple[str, ...] = ()
    """The client's own system messages (``client_system_texts``): honoured below the
    platform's prompt, or refused with a warning (:meth:`ChatService.client_system`)."""


@dataclass
class ChatResult:
    """What the user was shown, and how it came about."""

    id: str
    model: str
    text: str
    finish_reason: str  # "stop", "length" or "content_filter" (a safe completion)
    enforced: bool = False  # the shown answer is (or ends with) a safe completion
    notice: str | None = None
    crossed: list[str] = field(default_factory=list)  # bounds crossed by any sample
    attempts: int = 1
    prompt_tokens: int = 0
    completion_tokens: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    outcome: str = "passed"
    """What happened, in plain words: ``passed``; ``withheld and resampled`` (a sample
    crossed a bound, a fresh one passed); ``replaced by a safe completion``; ``cut off and
    ended with a safe completion`` (a stream)."""
    warnings: list[str] = field(default_factory=list)
    """What the client should know, e.g. that its system message was not followed."""
    token_ids: list[int] | None = None  # the shown sample's tokens (None: enforced/stream)


def notice_for(bounds: Sequence[str], cut: bool = False) -> str:
    """The short notice a user sees instead of a withheld answer."""
    what = "The rest of this answer was" if cut else "An answer was"
    return (f"(Notice: {what} withheld because it crossed the hard bound "
            f"{', '.join(bounds)}.)")


class ChatService:
    """Served models, the profile's conditioning and the bound screens, together.

    Each served model is screened with the set ``[customize] screens`` names; with
    ``auto`` (the default) that is the world screens for the demo world's models (those in
    ``world_models``) and the real-text screens for every other model. The screen sets the
    served models need are built here, so a bound left unchecked stops the service before
    it answers anything (fail closed).

    Args:
        spec: the platform layer and the hard bounds.
        settings: ``[customize]``.
        runners: served models by name.
        store, lock: where answers and enforcement events are recorded (optional).
        world_models: the served names whose lineage starts at a pretrain on the demo
            world (``accord serve`` reads it from the store); every other model, and any
            model when this is ``None``, is screened as an external model.
    """

    def __init__(self, spec: Spec, settings: CustomizeSettings | None = None,
                 runners: dict[str, Runner] | None = None, store: Any = None,
                 lock: threading.Lock | None = None,
                 world_models: Collection[str] | None = None) -> None:
        self.spec = spec
        self.settings = settings or CustomizeSettings()
        self.runners = dict(runners or {})
        self.store = store
        self.lock = lock
        self.world_models = frozenset(world_models or ())
        self._checkers: dict[str, BoundChecker] = {}
        self._checkers_lock = threading.Lock()
        for model in self.runners:
            self.checker_for(model)
        self.safe = {b.id: b.safe_completion for b in spec.bounds.hard_bounds}

    def screen_set(self, model: str | None = None) -> str:
        """The screen set that guards ``model`` (``world``, ``real``, ``world+real`` or
        ``none``); ``None``: a model of unknown lineage, screened as an external one."""
        chosen = self.settings.screens
        if chosen != "auto":
            return chosen
        return "world" if model is not None and model in self.world_models else "real"

    def checker_for(self, model: str | None = None) -> BoundChecker:
        """The screens for ``model``'s answers (built once per screen set).

        Raises:
            AccordError: a bound would go unchecked, or a screen's grader is missing.
        """
        name = self.screen_set(model)
        with self._checkers_lock:
            if name not in self._checkers:
                screens = screens_of_set(self.spec, name, skip_kinds=self.settings.skip_kinds,
                                         skip_graders=self.settings.skip_graders)
                self._checkers[name] = BoundChecker(
                    screens, [b.id for b in self.spec.bounds.hard_bounds])
            return self._checkers[name]

    @property
    def checker(self) -> BoundChecker:
        """The screens for the first served model (or a model of unknown lineage)."""
        return self.checker_for(next(iter(self.runners), None))

    @property
    def models(self) -> list[str]:
        return list(self.runners)

    def runner(self, model: str) -> Runner:
        try:
            return self.runners[model]
        except KeyError:
            raise AccordError(f"model {model!r} is not served here; served: "
                              f"{', '.join(self.runners) or 'none'}") from None

    # ------------------------------------------------------------------ building blocks

    def honours_client_system(self) -> bool:
        """Whether a client's system message reaches the model: only under a spec with a
        natural-language template (a real chat model); the demo model reads nothing but
        its ``Settings:`` line."""
        return self.spec.bounds.system_prompt is not None

    def client_system(self, req: ChatRequest) -> tuple[str | None, list[str]]:
        """(the block appended to the system prompt, warnings) for the client's own
        system messages."""
        if not req.client_system:
            return None, []
        if self.honours_client_system():
            return (CLIENT_SYSTEM_HEADER + "\n" + "\n\n".join(req.client_system),
                    ["your system message was followed within the chain of command: the "
                     "platform's prompt and the hard bounds come first"])
        return None, ["your system message was not given to the model: this model reads only "
                      "its profile (send a 'Settings: option=value; ...' line or the "
                      "'profile' field to customise it)"]

    def conversation(self, req: ChatRequest) -> list[dict[str, str]]:
        """What the model reads: one system message (the compiled profile, then the
        client's own system text where honoured: :meth:`client_system`), then the client's
        user and assistant turns."""
        turns = [{"role": m["role"], "content": m["content"]} for m in req.messages
                 if m["role"] in ("user", "assistant")]
        system = req.effective.system_prompt
        block, _ = self.client_system(req)
        if block:
            system = f"{system}\n\n{block}" if system else block
        return ([{"role": "system", "content": system}] if system else []) + turns

    def disclosures(self, req: ChatRequest, body: str | None) -> list[str]:
        """The disclosures to show with ``body``. An option named in ``[customize]
        disclosure_graders`` (the political perspective) is disclosed only when its grader
        says the answer takes the chosen value (real-text models; the demo world's models
        always disclose); the grader reads the chosen value and every value's spec
        sentence from the exchange's ``info`` (``option``, ``perspective``,
        ``perspectives``). ``body=None`` (a stream that has not written it yet) leaves
        those out.

        Args:
            req: the request (its profile says which options need a disclosure).
            body: the answer, or ``None`` before it is written.
        """
        views = [v for v in req.effective.options if v.disclosure]
        if not views or req.model in self.world_models:
            # The demo world's model writes the world's stances on cue; its disclosures
            # stay unconditional (the heuristic grader is for real text).
            return list(req.effective.disclosures)
        out = []
        for view in views:
            grader_name = self.settings.disclosure_graders.get(view.id)
            graded = grader_name is not None
            if not graded or (body is not None
                              and self._takes_stance(grader_name, req, view, body)):
                out.append(view.disclosure)
        return out

    def _takes_stance(self, grader_name: str, req: ChatRequest, view: OptionView,
                      body: str) -> bool:
        from accord.graders import Exchange, get_grader

        option = next((o for o in self.spec.bounds.customisation if o.id == view.id), None)
        sentences = option.instructions if option is not None else {}
        # The chosen value and what every value means in this spec: a stance grader
        # (takes_perspective) compares the answer with each; others ignore ``info``.
        info = {"option": view.id, "perspective": view.value,
                "perspectives": {v: sentences.get(v, "") for v in view.values}}
        grader = get_grader(grader_name)
        return bool(grader.label([Exchange(self.conversation(req), body, info)])[0])

    def compose(self, req: ChatRequest, body: str) -> str:
        """The answer as shown: the disclosures the profile requires, then the body."""
        disclosures = self.disclosures(req, body)
        return "\n".join(disclosures) + "\n\n" + body if disclosures else body

    def _sample(self, req: ChatRequest, conv: list[dict[str, str]], attempt: int) -> Job:
        sampling = req.sampling
        if attempt:
            sampling = replace(sampling, seed=sampling.seed + attempt * _RESAMPLE_STRIDE)
        return self.runner(req.model).submit(conv, sampling, req.stop)

    def check_fits(self, req: ChatRequest) -> None:
        """Raise :class:`AccordError` if the conversation leaves the model no room to answer
        (checked before a stream starts, so the client gets a 400, not a broken stream)."""
        runner = self.runner(req.model)
        used = len(runner.encode(self.conversation(req)))
        context = getattr(runner, "context", None)
        if context is not None and used >= context:
            raise AccordError(f"the conversation is {used} tokens; model {req.model!r} reads "
                              f"at most {context}: shorten the messages")

    def trim_to_fit(self, req: ChatRequest, room: int = 16) -> None:
        """Drop the oldest turns (in user/assistant pairs) until the conversation leaves the
        model ``room`` tokens to answer; the chat page keeps long conversations going so.

        Raises:
            AccordError: the last user message alone is too long.
        """
        runner = self.runner(req.model)
        context = getattr(runner, "context", None)
        if context is None:
            return
        while len(req.messages) > 1 and \
                len(runner.encode(self.conversation(req))) > context - room:
            req.messages = req.messages[2:] if len(req.messages) > 2 else req.messages[-1:]
        self.check_fits(req)

    def check(self, convs: Sequence[list[dict[str, str]]], texts: Sequence[str],
              model: str | None = None) -> list[Verdict]:
        """Screen responses against the hard bounds.

        Args:
            convs: the conversation each response answers.
            texts: the responses.
            model: the served model that wrote them (picks the screen set, see
                :meth:`screen_set`); ``None``: the first served model's screens, or an
                external model's when none is served.
        """
        checker = self.checker if model is None else self.checker_for(model)
        return checker.check(convs, texts)

    # ------------------------------------------------------------------ whole answers

    def complete_many(self, reqs: Sequence[ChatRequest], *,
                      enforce: bool = True) -> list[ChatResult]:
        """Answer many requests; the model batches them. With ``enforce=False`` the raw
        samples are returned unscreened (for benchmarks only, never for users)."""
        convs = [self.conversation(r) for r in reqs]
        jobs = [self._sample(r, c, 0) for r, c in zip(reqs, convs, strict=True)]
        outs = [j.wait_text() for j in jobs]
        tokens = [j.completion_tokens for j in jobs]
        results = []
        if not enforce:
            return [self._result(r, c, t, f, tk, [], 1) for r, c, (t, f), tk
                    in zip(reqs, convs, outs, tokens, strict=True)]
        verdicts = self._check_rows(reqs, convs, [t for t, _ in outs])
        history: list[list[tuple[str, Verdict]]] = [
            [(t, v)] for (t, _), v in zip(outs, verdicts, strict=True)]
        for attempt in range(1, self.settings.max_resamples + 1):
            todo = [i for i, h in enumerate(history) if not h[-1][1].ok]
            if not todo:
                break
            again = [self._sample(reqs[i], convs[i], attempt) for i in todo]
            fresh = [j.wait_text() for j in again]
            for i, job, out in zip(todo, again, fresh, strict=True):
                outs[i] = out
                tokens[i] += job.completion_tokens
                jobs[i] = job
            for i, v in zip(todo, self._check_rows([reqs[i] for i in todo],
                                                   [convs[i] for i in todo],
                                                   [o[0] for o in fresh]), strict=True):
                history[i].append((outs[i][0], v))
        for r, c, (text, finish), tk, h, job in zip(reqs, convs, outs, tokens, history, jobs,
                                                   strict=True):
            results.append(self._result(r, c, text, finish, tk, h, len(h)))
            row = getattr(job, "row", None)  # /v1 logprobs score exactly what was sampled
            if not results[-1].enforced and row is not None:
                results[-1].token_ids = list(row.tokens)
        return results

    def _check_rows(self, reqs: Sequence[ChatRequest], convs: Sequence[list[dict[str, str]]],
                    texts: Sequence[str]) -> list[Verdict]:
        """Screen each row with its own model's screens (one batch per model)."""
        verdicts: list[Verdict | None] = [None] * len(texts)
        for model in dict.fromkeys(r.model for r in reqs):
            rows = [i for i, r in enumerate(reqs) if r.model == model]
            for i, v in zip(rows, self.check([convs[i] for i in rows], [texts[i] for i in rows],
                                             model), strict=True):
                verdicts[i] = v
        return [v for v in verdicts if v is not None]

    def _result(self, req: ChatRequest, conv: list[dict[str, str]], text: str, finish: str,
                tokens: int, history: list[tuple[str, Verdict]], attempts: int) -> ChatResult:
        runner = self.runner(req.model)
        crossed = [b for _, v in history for b in v.crossed]
        crossed = list(dict.fromkeys(crossed))
        result = ChatResult(id=req.id, model=req.model, text="", finish_reason=finish,
                            crossed=crossed, attempts=attempts,
                            prompt_tokens=len(runner.encode(conv)), completion_tokens=tokens)
        if history and not history[-1][1].ok:
            first = history[-1][1].crossed[0]
            result.notice = notice_for(history[-1][1].crossed)
            body = f"{result.notice} {self.safe[first]}"
            result.enforced, result.finish_reason = True, "content_filter"
            outcome = "safe_completion"
            result.outcome = (f"replaced by a safe completion: all {attempts} samples crossed "
                              f"{', '.join(crossed)}")
        else:
            body = text.strip()
            outcome = "resampled"
            if crossed:
                result.outcome = (f"withheld and resampled: {attempts - 1} of {attempts} "
                                  f"samples crossed {', '.join(crossed)}; the answer shown "
                                  "passed every screen")
        result.warnings = self.client_system(req)[1]
        result.text = self.compose(req, body)
        if crossed:
            result.events.append(self._event(history, attempts, outcome, result.text))
        return result

    @staticmethod
    def _event(history: list[tuple[str, Verdict]], attempts: int, outcome: str,
               shown: str) -> dict[str, Any]:
        bad = [(t, v) for t, v in history if not v.ok]
        return {"bounds": list(dict.fromkeys(b for _, v in bad for b in v.crossed)),
                "scores": {"samples": [v.scores for _, v in history]},
                "attempts": attempts, "outcome": outcome, "shown": shown,
                "withheld": "\n---\n".join(t for t, _ in bad)}

    def complete(self, req: ChatRequest) -> ChatResult:
        """Answer one request (and record it, when a store is attached)."""
        result = self.complete_many([req])[0]
        self.record(req, result)
        return result

    # ------------------------------------------------------------------ streams

    def stream(self, req: ChatRequest) -> Iterator[tuple[str, Any]]:
        """Yield ``("delta", text)`` pieces as they pass the screens, then ``("done",
        ChatResult)``. Sentences are held back until screened; see the module docstring."""
        conv = self.conversation(req)
        runner = self.runner(req.model)
        disclosures = self.disclosures(req, None)  # graded ones follow the answer
        if disclosures:
            yield "delta", "\n".join(disclosures) + "\n\n"
        shown, history, tokens = "", [], 0
        for attempt in range(self.settings.max_resamples + 1):
            job = self._sample(req, conv, attempt)
            text, verdict, finish, sent = yield from self._screened(conv, job, shown,
                                                                    req.model)
            tokens += job.completion_tokens
            history.append((text, verdict))
            shown = sent
            if verdict.ok or shown:
                break
        result = ChatResult(id=req.id, model=req.model, text="", finish_reason=finish,
                            attempts=len(history), prompt_tokens=len(runner.encode(conv)),
                            completion_tokens=tokens,
                            crossed=list(dict.fromkeys(b for _, v in history for b in v.crossed)))
        last = history[-1][1]
        result.warnings = self.client_system(req)[1]
        if last.ok:
            body, outcome = shown, "resampled"
            if result.crossed:
                result.outcome = (f"withheld and resampled: {len(history) - 1} of "
                                  f"{len(history)} samples crossed "
                                  f"{', '.join(result.crossed)}; the answer shown passed "
                                  "every screen")
        else:
            cut = bool(shown.strip())
            result.notice = notice_for(last.crossed, cut=cut)
            tail = f"{result.notice} {self.safe[last.crossed[0]]}"
            yield "delta", ("\n\n" if cut else "") + tail
            body = (shown + "\n\n" + tail) if cut else tail
            result.enforced, result.finish_reason = True, "content_filter"
            outcome = "cut_off" if cut else "safe_completion"
            result.outcome = ((f"cut off and ended with a safe completion: crossed "
                               f"{', '.join(last.crossed)}") if cut else
                              f"replaced by a safe completion: all {len(history)} samples "
                              f"crossed {', '.join(result.crossed)}")
        late = [d for d in self.disclosures(req, body) if d not in disclosures]
        if late:  # a stance the grader found in the finished answer is disclosed after it
            tail = "\n\n" + "\n".join(late)
            yield "delta", tail
            body += tail
        result.text = ("\n".join(disclosures) + "\n\n" + body) if disclosures else body
        if result.crossed:
            result.events.append(self._event(history, len(history), outcome, result.text))
        self.record(req, result)
        yield "done", result

    def _screened(self, conv: list[dict[str, str]], job: Job, shown: str,
                  model: str) -> Iterator[tuple[str, Any]]:
        """Relay one sample sentence by sentence; returns (text, verdict, finish, shown).

        ``shown`` is exactly the text sent so far: whitespace after a sentence is held
        back and sent with the next one, so an answer never ends in a dangling space.
        """
        text, pending = "", ""
        while True:
            kind, value = job.events.get()
            if kind == "error":
                raise AccordError(f"generation failed: {value}")
            if kind == "done":
                finish = value
                break
            text += value
            pending += value
            ends = list(_SENTENCE_END.finditer(pending))
            if not ends:
                continue
            upto = ends[-1].end()
            verdict = self.check([conv], [shown + pending[:upto]], model)[0]
            if not verdict.ok:
                job.cancel()
                return text, verdict, "content_filter", shown
            piece = pending[:upto].rstrip()
            piece = piece if shown else piece.lstrip()
            yield "delta", piece
            shown, pending = shown + piece, pending[len(pending[:upto].rstrip()):]
            if not shown.strip():
                shown = ""
        pending = pending.rstrip() if shown else pending.strip()
        if not pending:
            return text, Verdict([], {}), finish, shown
        verdict = self.check([conv], [shown + pending], model)[0]
        if verdict.ok:
            yield "delta", pending
            shown += pending
        return text, verdict, finish, shown

    # ------------------------------------------------------------------ records

    def record(self, req: ChatRequest, result: ChatResult) -> None:
        """Store the answer as shown and its enforcement events (if a store is attached)."""
        if self.store is None:
            return
        from accord.accounts import write_session

        with write_session(self.store, self.lock) as session:
            record_answer(session, public_id=result.id, owner=req.owner, model=req.model,
                          messages=self.conversation(req),
                          settings=req.effective.non_default, text=result.text,
                          enforced=result.enforced, finish_reason=result.finish_reason,
                          source=req.source, api_key_id=req.api_key_id, events=result.events)
