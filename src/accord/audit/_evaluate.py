"""Meter one model: sample its replies to the probes through a backend, grade them, and
(optionally) keep the replies and the table in the store under its model version.

This is the one place the eval stage, the ablation and ``accord eval`` meter a model; the
meter itself (:func:`~accord.audit.measure`) only grades what it is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accord.audit._measure import Conversation, Prompt, measure
from accord.audit._result import MeterResult

if TYPE_CHECKING:
    from accord.model import Backend, SamplingConfig
    from accord.world import World


@dataclass
class Evaluation:
    """A metered model: the meter's table and every reply it graded.

    Attributes:
        result: the meter's rows, examples and run info.
        completions: one ``{"messages", "text", "sampling"}`` per reply, in the order the
            meter asked for them (``sampling`` is the settings as a dict, seed included),
            what :func:`record_completions` stores.
    """

    result: MeterResult
    completions: list[dict[str, Any]] = field(default_factory=list)

    def record(self, store: Any, model_version: str, *, split: str = "probe") -> int:
        """Keep the replies (prompts under ``split``) and the meter's rows (as the model
        version's ``metrics["meter"]``) in the store, so reports and audits can cite them.

        Args:
            store: an open ``accord.store`` store.
            model_version: the registered model version's name.
            split: the prompts' split in the store.

        Returns:
            How many completions were stored.

        Raises:
            accord.store.NotFoundError: no such model version.
        """
        from accord.store import get_model_version

        n = record_completions(store, model_version, self.completions, split)
        with store.session() as session:
            mv = get_model_version(session, model_version)
            mv.metrics = {**mv.metrics, "meter": self.result.to_dict()["rows"]}
        return n


def evaluate(backend: Backend, world: World, sampling: SamplingConfig, *, samples: int = 1,
             probes: Mapping[str, Sequence[Prompt]] | None = None,
             seed: int | None = None,
             training_signal: Mapping[str, Any] | None = None) -> Evaluation:
    """Meter the model behind ``backend`` on the world's probes.

    All probe conversations go to the backend in one ``generate`` call with ``sampling``
    (so replies are seeded by ``sampling.seed`` and each conversation's place in the
    call, the ``accord.model`` convention); the meter grades them.

    Args:
        backend: an ``accord.model`` backend (``generate(conversations, sampling)``).
        world: the world whose probes (and hash) are used.
        sampling: how to sample; the meter measures what users would see, so not greedy
            as a rule (docs/meter.md).
        samples: replies per probe.
        probes: probe sets instead of ``world.probes`` (see :func:`measure`).
        seed: picks the examples the result keeps; default ``sampling.seed``.
        training_signal: the model version's training signal
            (:func:`~accord.audit.model_training_signal`); when given, the result says
            whether a meter grader shares a source with it (``info["independence"]``,
            shown by ``render_text`` and ``to_html``; docs/meter.md, "Independence").

    Returns:
        The meter's result and the graded replies.

    Raises:
        AccordError: as :func:`measure` (bad ``samples``, a backend that returned the
            wrong number of texts).
    """
    completions: list[dict[str, Any]] = []
    settings = sampling.to_dict()

    def generate(conversations: Sequence[Conversation]) -> list[str]:
        replies = backend.generate(list(conversations), sampling)
        completions.extend({"messages": list(c), "text": r, "sampling": dict(settings)}
                           for c, r in zip(conversations, replies, strict=True))
        return replies

    result = measure(generate, world, seed=sampling.seed if seed is None else seed,
                     samples=samples, probes=probes)
    if training_signal is not None:
        from accord.audit._independence import annotate, check_independence, meter_graders

        annotate(result, check_independence(meter_graders(result), training_signal))
    return Evaluation(result, completions)


def record_completions(store: Any, model_version: str, completions: Sequence[Mapping[str, Any]],
                       split: str) -> int:
    """Keep sampled replies in the store with their prompts and sampling settings.

    Args:
        store: an open ``accord.store`` store.
        model_version: the registered model version that wrote them.
        completions: ``{"messages", "text", "sampling"}`` rows (as
            :attr:`Evaluation.completions`); a prompt already stored is reused.
        split: the prompts' split (``probe``, ``review``...).

    Returns:
        How many completions were stored.

    Raises:
        accord.store.NotFoundError: no such model version.
    """
    from accord.store import add_completions, get_model_version, upsert_prompt

    with store.session() as session:
        mv = get_model_version(session, model_version)
        batch = []
        for row in completions:
            prompt = upsert_prompt(session, row["messages"], split=split, source="world")
            batch.append({"prompt_id": prompt.id, "model_version_id": mv.id,
                          "text": row["text"], "sampling": row["sampling"]})
        add_completions(session, batch)
    return len(completions)
