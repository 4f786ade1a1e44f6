"""Running a served model: loaded once, generating in one background thread that batches
the requests waiting for it, and streaming each row's text as it is made.

This is the only module of ``accord.customize`` that imports torch, and nothing imports it
at module level outside this package's :func:`load_runner`: web code stays torch-free
until a model is actually served.
"""

from __future__ import annotations

import inspect
import queue
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from transformers import DynamicCache

from accord.customize._service import Sampling
from accord.errors import AccordError
from accord.model import load_model


@dataclass
class Job:
    """One conversation to answer. Events arrive on ``events``: ``("delta", text)`` as text
    is made, then ``("done", finish_reason)`` ("stop" or "length"), or ``("error", text)``."""

    prompt_ids: list[int]
    sampling: Sampling
    stop: tuple[str, ...] = ()
    events: queue.Queue = field(default_factory=queue.Queue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    completion_tokens: int = 0

    def cancel(self) -> None:
        """Stop generating this row (the rest of its batch goes on)."""
        self.cancelled.set()

    def wait_text(self, timeout: float | None = None) -> tuple[str, str]:
        """Block until done; the whole text and the finish reason."""
        parts: list[str] = []
        while True:
            kind, value = self.events.get(timeout=timeout)
            if kind == "delta":
                parts.append(value)
            elif kind == "done":
                return "".join(parts), value
            else:
                raise AccordError(f"generation failed: {value}")


def _key(s: Sampling) -> tuple[float, float, int, float]:
    return (s.temperature, s.top_p, s.top_k, s.repetition_penalty)


class ModelRunner:
    """A causal LM served from one thread; concurrent requests with the same sampling
    settings (seed and length aside) share forward passes.

    Args:
        name: the name clients ask for (a model version name, or the folder's name).
        path: a ``save_pretrained`` folder (model and tokenizer).
        max_batch: most rows in one forward pass.
        window_s: how long the thread waits for more requests before starting a batch.
        threads: torch intra-op threads (one is fastest for tiny models on a CPU).
    """

    def __init__(self, name: str, path: str | Path, *, max_batch: int = 16,
                 window_s: float = 0.004, threads: int = 1) -> None:
        self.name = name
        self.path = Path(path)
        self.model, self.tokenizer = load_model(self.path)
        self.model.eval()
        if torch.cuda.is_available():
            self.model.to("cuda")
        elif threads:
            torch.set_num_threads(threads)
        self.max_batch = max_batch
        self.window_s = window_s
        self.context = int(getattr(self.model.config, "max_position_embeddings", 2048))
        tok = self.tokenizer
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        ids = {tok.eos_token_id, tok.convert_tokens_to_ids("<|im_end|>")}
        configured = getattr(self.model.generation_config, "eos_token_id", None)
        ids.update(configured if isinstance(configured, list) else [configured])
        self.stops = {i for i in ids if isinstance(i, int) and i != tok.unk_token_id}
        specials = sorted({t for t in tok.all_special_tokens if t}, key=len, reverse=True)
        self._special = re.compile("|".join(re.escape(t) for t in specials) or "(?!)")
        self._queue: queue.Queue[Job] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=f"runner-{name}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ requests

    def encode(self, conversation: Sequence[dict[str, str]]) -> list[int]:
        """The prompt's token ids (chat template with the assistant header).

        Special-token text inside a message (``<|im_start|>system``...) is removed first:
        message content can never open a turn of its own, such as a fake system turn.
        """
        clean = [{"role": m["role"], "content": self.strip_special(m["content"])}
                 for m in conversation]
        text = self.tokenizer.apply_chat_template(clean, tokenize=False,
                                                  add_generation_prompt=True)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def strip_special(self, text: str) -> str:
        """``text`` without special-token strings (repeated: removing one may join another)."""
        while True:
            cleaned = self._special.sub("", text)
            if cleaned == text:
                return text
            text = cleaned

    def count_tokens(self, text: str) -> int:
        """Tokens in a plain text (usage figures for shown text)."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def submit(self, conversation: Sequence[dict[str, str]], sampling: Sampling,
               stop: Sequence[str] = ()) -> Job:
        """Queue one conversation; returns its :class:`Job` at once.

        Raises:
            AccordError: the prompt leaves no room in the model's context.
        """
        ids = self.encode(conversation)
        room = self.context - len(ids)
        if room < 1:
            raise AccordError(f"the conversation is {len(ids)} tokens; model {self.name!r} "
                              f"reads at most {self.context}: shorten the messages")
        if sampling.max_new_tokens > room:
            sampling = replace(sampling, max_new_tokens=room)
        job = Job(ids, sampling, tuple(s for s in stop if s))
        self._queue.put(job)
        return job

    def generate(self, conversations: Sequence[Sequence[dict[str, str]]],
                 sampling: Sampling, seeds: Sequence[int] | None = None) -> list[str]:
        """Answer many conversations (batched); row ``i`` uses ``seeds[i]`` (default: the
        sampling seed plus ``i``)."""
        jobs = []
        for i, conversation in enumerate(conversations):
            seed = seeds[i] if seeds is not None else sampling.seed + i
            jobs.append(self.submit(conversation, replace(sampling, seed=seed)))
        return [job.wait_text()[0] for job in jobs]

    # ------------------------------------------------------------------ the thread

    def _loop(self) -> None:
        waiting: list[Job] = []
        while True:
            if not waiting:
                waiting.append(self._queue.get())
            deadline = time.monotonic() + self.window_s
            while len(waiting) < 4 * self.max_batch:
                try:
                    waiting.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            for job in [j for j in waiting if j.cancelled.is_set()]:
                job.events.put(("done", "cancelled"))
            waiting = [j for j in waiting if not j.cancelled.is_set()]
            if not waiting:
                continue
            key = _key(waiting[0].sampling)
            batch = [j for j in waiting if _key(j.sampling) == key][:self.max_batch]
            waiting = [j for j in waiting if j not in batch]
            try:
                with torch.no_grad():
                    self._run(batch)
            except Exception as exc:  # a failed batch must not kill the thread
                for job in batch:
                    job.events.put(("error", f"{type(exc).__name__}: {exc}"))

    def _run(self, jobs: list[Job]) -> None:
        model, device = self.model, self.model.device
        prompts = [j.prompt_ids for j in jobs]
        width = max(len(p) for p in prompts)
        ids = torch.tensor([[self.pad_id] * (width - len(p)) + p for p in prompts], device=device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts],
                            device=device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        gens = [torch.Generator().manual_seed(int(np.random.SeedSequence(
            [j.sampling.seed, 0]).generate_state(1, dtype=np.uint64)[0] >> 1)) for j in jobs]
        sampling = jobs[0].sampling
        seen = torch.where(mask.bool(), ids, ids[:, -1:])
        out: list[list[int]] = [[] for _ in jobs]
        sent = [""] * len(jobs)
        done = [False] * len(jobs)
        cache = DynamicCache()
        cache_arg = ("cache" if "cache" in inspect.signature(model.forward).parameters
                     else "past_key_values")
        step_ids = ids
        for step in range(max(j.sampling.max_new_tokens for j in jobs)):
            logits = model(input_ids=step_ids, attention_mask=mask, position_ids=positions,
                           use_cache=True, **{cache_arg: cache}).logits[:, -1, :].float()
            token = self._pick(logits, seen, sampling, gens)
            for i, job in enumerate(jobs):
                if done[i]:
                    continue
                if job.cancelled.is_set():
                    done[i] = True
                    job.events.put(("done", "cancelled"))
                    continue
                t = int(token[i])
                if t in self.stops:
                    done[i] = True
                    job.events.put(("done", "stop"))
                    continue
                out[i].append(t)
                job.completion_tokens += 1
                done[i] = self._emit(job, out[i], sent, i)
                if not done[i] and step + 1 >= job.sampling.max_new_tokens:
                    done[i] = True
                    job.events.put(("done", "length"))
            if all(done):
                return
            step_ids = token.unsqueeze(-1).to(device)
            mask = torch.cat([mask, torch.ones_like(step_ids)], dim=-1)
            positions = positions[:, -1:] + 1
            seen = torch.cat([seen, step_ids], dim=-1)
        for i, job in enumerate(jobs):
            if not done[i]:
                job.events.put(("done", "length"))

    def _pick(self, logits: torch.Tensor, seen: torch.Tensor, s: Sampling,
              gens: list[torch.Generator]) -> torch.Tensor:
        if s.repetition_penalty != 1.0:
            picked = logits.gather(-1, seen)
            picked = torch.where(picked > 0, picked / s.repetition_penalty,
                                 picked * s.repetition_penalty)
            logits = logits.scatter(-1, seen, picked)
        if s.temperature == 0:
            return logits.argmax(-1).cpu()
        logits = logits / s.temperature
        if s.top_k:
            kth = torch.topk(logits, min(s.top_k, logits.size(-1)), dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        if s.top_p < 1:
            sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
            drop = sorted_probs.cumsum(-1) - sorted_probs >= s.top_p
            probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs.masked_fill(drop, 0))
        cdf = probs.cumsum(-1).cpu()
        u = torch.stack([torch.rand((), generator=g) for g in gens])
        token = torch.searchsorted(cdf, (u * cdf[:, -1]).unsqueeze(-1)).squeeze(-1)
        return token.clamp(max=cdf.size(-1) - 1)

    def _emit(self, job: Job, tokens: list[int], sent: list[str], i: int) -> bool:
        """Send the new text of row ``i``; True when a stop string ended it."""
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        if text.endswith("\ufffd"):
            return False  # half a UTF-8 character: wait for the rest
        for stop in job.stop:
            at = text.find(stop)
            if at >= 0:
                if at > len(sent[i]):
                    job.events.put(("delta", text[len(sent[i]):at]))
                sent[i] = text[:at]
                job.events.put(("done", "stop"))
                return True
        if len(text) > len(sent[i]) and text.startswith(sent[i]):
            job.events.put(("delta", text[len(sent[i]):]))
            sent[i] = text
        return False

