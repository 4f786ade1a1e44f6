"""Running a served model: loaded once, generating in one background thread that batches
the requests waiting for it, and streaming each row's text as it is made.

The token loop is ``accord.model``'s decoding core (the one ``accord.model.generate`` runs),
so a request with seed ``s`` gets the text ``generate`` gives row 0 with ``sampling.seed ==
s`` (rows are keyed ``(seed, stream)``; a served request is ``(s, 0)``).

This is the only module of ``accord.customize`` that imports torch, and nothing imports it
at module level outside this package's :func:`load_runner`: web code stays torch-free
until a model is actually served.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from accord.errors import AccordError
from accord.model import DecodeRow, SamplingConfig, decode, load_model


@dataclass
class Job:
    """One conversation to answer. Events arrive on ``events``: ``("delta", text)`` as text
    is made, then ``("done", finish_reason)`` ("stop" or "length"), or ``("error", text)``."""

    prompt_ids: list[int]
    sampling: SamplingConfig
    stop: tuple[str, ...] = ()
    events: queue.Queue = field(default_factory=queue.Queue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    row: DecodeRow | None = None  # set when its batch starts

    @property
    def completion_tokens(self) -> int:
        """Tokens generated so far (the stop token not counted)."""
        return len(self.row.tokens) if self.row is not None else 0

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


def _key(s: SamplingConfig) -> tuple[float, float, int, float]:
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

    def submit(self, conversation: Sequence[dict[str, str]], sampling: SamplingConfig,
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
                 sampling: SamplingConfig, seeds: Sequence[int] | None = None) -> list[str]:
        """Answer many conversations (batched); row ``i`` is a request with seed
        ``seeds[i]`` (default: the sampling seed plus ``i``), i.e. keyed ``(seed, 0)``:
        ``accord.model.generate(..., seeds=seeds)`` gives the same texts."""
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
        rows = []
        for job in jobs:
            # A served request with seed s is row (s, 0): the text generate() gives row 0.
            job.row = DecodeRow(job.prompt_ids, seed=job.sampling.seed, stream=0,
                                max_new_tokens=job.sampling.max_new_tokens, stop=job.stop,
                                on_event=lambda kind, value, q=job.events: q.put((kind, value)),
                                cancelled=job.cancelled.is_set)
            rows.append(job.row)
        # The batch shares temperature, top-p, top-k and penalty (see _key); each row keeps
        # its own seed and length.
        decode(self.model, self.tokenizer, rows, jobs[0].sampling)
