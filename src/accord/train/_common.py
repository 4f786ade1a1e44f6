"""What every training stage shares: settings, data loading and hashing, the device,
progress, resuming from checkpoints, and the lineage a stage returns.

Each stage (``_sft``, ``_reward``, ``_dpo``, ``_grpo``) builds one TRL trainer and hands it
to :func:`run_stage`, which owns the folder layout::

    out_dir/
      stage.json        what this run was asked to do (config, parent, data hashes)
      checkpoints/      TRL/transformers checkpoints while training (removed at the end)
      model/            the trained model + tokenizer (save_pretrained)
      result.json       written last: the stage is finished
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord.errors import AccordError

Rows = Sequence[Mapping[str, Any]] | str | Path
"""A data set: a list of TRL-format rows, or the path of a JSONL file (``.gz`` allowed)."""

ROLES = ("system", "user", "assistant")


@dataclass
class TrainSettings:
    """Settings every stage has; each stage's config extends this with its own defaults.

    The defaults suit the demo's tiny/small models on a couple of CPU cores. TRL's own
    defaults are meant for billion-parameter models on GPUs (tiny learning rates, 1,024-token
    sequences, eight generations per prompt) and would take hours here to do nothing.
    """

    max_steps: int = 200
    """Optimizer steps to train for; 0 or less trains ``num_train_epochs`` epochs instead."""
    num_train_epochs: float = 1.0
    """Epochs over the data, used only when ``max_steps`` <= 0."""
    batch_size: int = 8
    """Rows per device per forward pass (``per_device_train_batch_size``)."""
    gradient_accumulation_steps: int = 1
    """Forward passes per optimizer step; effective batch = batch × this × processes."""
    learning_rate: float = 1e-4
    """Peak AdamW learning rate."""
    lr_scheduler_type: str = "cosine"
    """transformers scheduler name: ``cosine``, ``linear``, ``constant``, ..."""
    warmup_steps: float = 0.05
    """Linear warm-up: a fraction of the steps if below 1, else a number of steps."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    max_grad_norm: float = 1.0
    """Global gradient-norm clipping."""
    seed: int = 0
    """Seeds the data order, the new heads' initialisation and sampling."""
    logging_steps: int = 10
    """Steps between two logged points (loss, learning rate, stage metrics)."""
    save_steps: int = 50
    """Steps between two checkpoints (what an interrupted run resumes from)."""
    save_total_limit: int = 2
    """Checkpoints kept on disk while training; older ones are deleted."""
    keep_checkpoints: bool = False
    """Keep ``checkpoints/`` after the final model is saved (it is large: optimizer state)."""
    device: str | None = None
    """``"cpu"`` forces the CPU; None uses a GPU when there is one (accelerate picks it)."""
    bf16: bool | None = None
    """bf16 mixed precision; None = on exactly when a CUDA GPU supports it (CPU bf16 is slow)."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass: saves memory on big models, slows small."""
    num_threads: int | None = None
    """CPU intra-op threads while training; None picks them (:func:`contended_threads`:
    one on an oversubscribed machine, else torch's setting)."""
    lora: bool | dict[str, Any] | None = None
    """LoRA adapters (``peft``) instead of full fine-tuning: True for the defaults of
    :data:`LORA_DEFAULTS`, or a dict of some of its keys; None/False trains every weight.
    Normalised to the full dict (or None) so equal settings hash alike."""
    report_to: str = "none"
    """Where the trainer's logs go besides Accord's progress: ``none``, ``tensorboard``,
    ``trackio`` or ``wandb`` (the package must be installed; logs in ``out_dir/runs``)."""

    def __post_init__(self) -> None:
        self.lora = lora_settings(self.lora)
        if self.report_to not in REPORT_TO:
            raise AccordError(f"report_to={self.report_to!r}: use one of "
                              f"{', '.join(REPORT_TO)}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


LORA_DEFAULTS: dict[str, Any] = {"r": 16, "alpha": 32, "dropout": 0.05,
                                 "target_modules": "all-linear"}
"""LoRA rank, scale (alpha / r multiplies the update), dropout on the adapter's input, and
the layers adapted (``"all-linear"``: every linear layer but the output head; or a list of
module names such as ``["q_proj", "v_proj"]``)."""

REPORT_TO = {"none": None, "tensorboard": "tensorboard", "trackio": "trackio",
             "wandb": "wandb"}
"""``report_to`` value → the package transformers' integration needs."""


def lora_settings(value: Any) -> dict[str, Any] | None:
    """``lora`` as given (True, False, None or a dict) → the full settings dict or None.

    Raises:
        AccordError: unknown keys or values out of range.
    """
    if value is None or value is False:
        return None
    if value is True:
        return dict(LORA_DEFAULTS)
    if not isinstance(value, dict):
        raise AccordError(f"lora={value!r}: use true, false or a table with some of "
                          f"{', '.join(LORA_DEFAULTS)}")
    unknown = sorted(set(value) - set(LORA_DEFAULTS))
    if unknown:
        raise AccordError(f"lora: unknown key(s) {', '.join(unknown)}; allowed: "
                          f"{', '.join(LORA_DEFAULTS)}")
    out = {**LORA_DEFAULTS, **value}
    if not isinstance(out["r"], int) or isinstance(out["r"], bool) or out["r"] < 1:
        raise AccordError(f"lora.r={out['r']!r}: the rank must be an integer >= 1")
    if not isinstance(out["alpha"], int | float) or out["alpha"] <= 0:
        raise AccordError(f"lora.alpha={out['alpha']!r}: must be a number > 0")
    if not isinstance(out["dropout"], int | float) or not 0 <= out["dropout"] < 1:
        raise AccordError(f"lora.dropout={out['dropout']!r}: must be in [0, 1)")
    targets = out["target_modules"]
    if isinstance(targets, list | tuple):
        if not targets or not all(isinstance(t, str) and t for t in targets):
            raise AccordError("lora.target_modules: give \"all-linear\" or a non-empty list "
                              "of module names")
        out["target_modules"] = list(targets)
    elif not isinstance(targets, str) or not targets:
        raise AccordError(f"lora.target_modules={targets!r}: give \"all-linear\" or a list "
                          "of module names")
    return out


def peft_config(settings: TrainSettings, task: str = "CAUSAL_LM") -> Any:
    """The ``peft.LoraConfig`` of the stage, or None without ``lora``.

    Args:
        settings: the stage config.
        task: ``CAUSAL_LM``, or ``SEQ_CLS`` for the reward model (PEFT then trains and saves
            the new ``score`` head whole, next to the adapter).

    Raises:
        AccordError: ``lora`` is set but ``peft`` is not installed.
    """
    lora = lora_settings(settings.lora)
    if lora is None:
        return None
    try:
        from peft import LoraConfig
    except ImportError as err:
        raise AccordError("lora needs the peft package: pip install 'accord[ml]' (or "
                          "pip install peft), or leave lora unset") from err
    return LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
                      target_modules=lora["target_modules"], task_type=task)


def report_to(settings: TrainSettings) -> list[str]:
    """``report_to`` for TrainingArguments: [] for none, else the checked integration.

    Raises:
        AccordError: the integration's package is not installed.
    """
    import importlib.util

    package = REPORT_TO.get(settings.report_to)
    if settings.report_to not in REPORT_TO:
        raise AccordError(f"report_to={settings.report_to!r}: use one of "
                          f"{', '.join(REPORT_TO)}")
    if package is None:
        return []
    if importlib.util.find_spec(package) is None:
        raise AccordError(f"report_to={settings.report_to!r} needs the {package} package, "
                          f"which is not installed: pip install {package}, or set "
                          "report_to = \"none\"")
    return [settings.report_to]


# Fields that may change between an interrupted run and its resumption (they do not change
# what is computed), as in accord.model.pretrain.
_MAY_CHANGE = {"device", "num_threads", "save_steps", "save_total_limit", "logging_steps",
               "keep_checkpoints", "report_to"}


@dataclass
class StageResult:
    """What a finished stage produced and where it came from (for the model registry)."""

    stage: str
    """``sft``, ``reward``, ``dpo``, ``grpo`` or ``rloo``."""
    model_dir: str
    """The trained model's ``save_pretrained`` folder (model + tokenizer)."""
    parent: str
    """The folder of the model training started from."""
    datasets: dict[str, str]
    """Each data set's name → sha256 of its canonical JSON rows."""
    config: dict[str, Any]
    """The stage config as a dict (the dataclass fields)."""
    metrics: dict[str, float] = field(default_factory=dict)
    """Final figures: ``train_loss``, ``train_runtime``, and per-stage ones (accuracy, ...)."""
    steps: int = 0
    """Optimizer steps taken in total (across resumptions)."""
    resumed_from_step: int | None = None
    """The checkpoint step this run resumed from, if it was interrupted before."""
    references: dict[str, str] = field(default_factory=dict)
    """Other models the stage used: ``reference`` (KL/DPO), ``reward_0``, ... by path/name."""
    log_history: list[dict[str, Any]] = field(default_factory=list)
    """The trainer's logged points (loss, learning rate, stage metrics) by step."""
    versions: dict[str, str] = field(default_factory=dict)
    """torch / transformers / trl versions used."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageResult:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


# ------------------------------------------------------------------------------- data


def load_rows(data: Rows, name: str = "data") -> list[dict[str, Any]]:
    """``data`` as a list of dicts: a list is copied, a path is read as JSONL (or .jsonl.gz)."""
    if isinstance(data, str | Path):
        path = Path(data)
        if not path.exists():
            raise AccordError(f"{name}: file {path} does not exist; give a JSONL file "
                              "(one JSON object per line) or a list of rows")
        opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
        rows = []
        with opener(path, "rt", encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise AccordError(f"{path}:{lineno}:{err.colno}: not valid JSON "
                                      f"({err.msg})") from err
        return rows
    return [dict(row) for row in data]


def hash_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    """sha256 of the rows as canonical JSON lines (sorted keys): the data set's identity."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def named_datasets(data: Mapping[str, Rows] | Rows) -> dict[str, list[dict[str, Any]]]:
    """One data set or several by name (``{"reviews": ..., "revisions": ...}``) as lists."""
    if isinstance(data, Mapping):
        return {str(k): load_rows(v, str(k)) for k, v in data.items()}
    return {"train": load_rows(data, "train")}


def pair_datasets(data: Mapping[str, Rows] | Rows) -> dict[str, list[dict[str, Any]]]:
    """Preference data sets by name (as :func:`named_datasets`), every row checked."""
    sets = named_datasets(data)
    for name, rows in sets.items():
        check_pairs(rows, name)
    return sets


def check_messages(messages: Any, where: str) -> None:
    """Raise unless ``messages`` is a non-empty list of ``{"role", "content"}`` dicts."""
    if not isinstance(messages, list) or not messages:
        raise AccordError(f"{where}: expected a non-empty list of messages, got {messages!r:.80}")
    for i, m in enumerate(messages):
        if (not isinstance(m, Mapping) or m.get("role") not in ROLES
                or not isinstance(m.get("content"), str)):
            raise AccordError(f"{where}, message {i}: expected {{'role': one of "
                              f"{', '.join(ROLES)}, 'content': str}}, got {m!r:.120}")


def check_pairs(rows: Sequence[Mapping[str, Any]], name: str) -> None:
    """Preference rows: conversational ``chosen``/``rejected`` (+ optional ``prompt``)."""
    if not rows:
        raise AccordError(f"{name}: no preference pairs; give at least one "
                          "{'chosen': [...], 'rejected': [...]} row")
    for i, row in enumerate(rows):
        if "chosen" not in row or "rejected" not in row:
            raise AccordError(f"{name}, row {i}: a preference pair needs 'chosen' and "
                              f"'rejected' (and optionally 'prompt'); got keys {sorted(row)}")
        for key in ("prompt", "chosen", "rejected"):
            if key in row:
                check_messages(row[key], f"{name}, row {i}, {key!r}")
        if "prompt" in row and row["chosen"][0]["role"] != "assistant":
            raise AccordError(f"{name}, row {i}: with a separate 'prompt', 'chosen' and "
                              "'rejected' hold only the assistant reply (start with an "
                              "assistant message)")


# ------------------------------------------------------------------------------ device


def device_flags(settings: TrainSettings) -> dict[str, Any]:
    """``use_cpu`` and ``bf16`` for TrainingArguments from the settings and the hardware."""
    import torch

    if settings.device not in (None, "cpu", "cuda") and not str(settings.device).startswith(
            "cuda:"):
        raise AccordError(f"device={settings.device!r}: use None (auto), 'cpu' or 'cuda'")
    gpu = torch.cuda.is_available() and settings.device != "cpu"
    if settings.device is not None and settings.device != "cpu" and not gpu:
        raise AccordError(f"device={settings.device!r} was asked for but CUDA is not "
                          "available here; use device='cpu' or leave it unset")
    bf16 = settings.bf16
    if bf16 is None:
        bf16 = gpu and torch.cuda.is_bf16_supported()
    elif bf16 and not gpu:
        raise AccordError("bf16=True needs a CUDA GPU with bf16 support; on the CPU leave "
                          "bf16 unset (None) or False")
    return {"use_cpu": not gpu, "bf16": bool(bf16), "fp16": False}


def trainer_arguments(settings: TrainSettings, out_dir: Path) -> dict[str, Any]:
    """The TrainingArguments fields every stage sets, from the shared settings."""
    return {
        "output_dir": str(out_dir / "checkpoints"),
        "max_steps": settings.max_steps if settings.max_steps > 0 else -1,
        "num_train_epochs": settings.num_train_epochs,
        "per_device_train_batch_size": settings.batch_size,
        "per_device_eval_batch_size": settings.batch_size,
        "gradient_accumulation_steps": settings.gradient_accumulation_steps,
        "learning_rate": settings.learning_rate,
        "lr_scheduler_type": settings.lr_scheduler_type,
        "warmup_steps": settings.warmup_steps,
        "weight_decay": settings.weight_decay,
        "max_grad_norm": settings.max_grad_norm,
        "seed": settings.seed,
        "data_seed": settings.seed,
        "logging_steps": settings.logging_steps,
        "logging_first_step": True,
        "save_strategy": "steps",
        "save_steps": settings.save_steps,
        "save_total_limit": settings.save_total_limit,
        # transformers 5 renamed gradient_checkpointing; the old name only warns.
        "activation_checkpointing": settings.gradient_checkpointing,
        "report_to": report_to(settings),
        # TRL's tqdm bars would be a second progress display; accord.progress draws one
        # (a rich bar on a TTY, plain lines in a log).
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        **device_flags(settings),
    }


def contended_threads() -> int | None:
    """The CPU intra-op threads to use now: ``ACCORD_NUM_THREADS`` when set; 1 when the
    machine is oversubscribed (1-minute load average above twice its cores); else None
    (torch's own setting, one thread per core; ``accord.model.available_cores``).

    Why: torch's CPU kernels split each operation across threads that meet at a barrier,
    so when other processes hold the cores, every operation waits for the thread that was
    descheduled. Measured on 2 shared cores at load 16-18 (bench/RESULTS.md, issue 13
    part D): one SFT step of SmolLM2-135M took 68-168 s with 2 threads and 13-14 s with 1.
    On an idle machine the load stays below the threshold and every core is used.
    """
    given = os.environ.get("ACCORD_NUM_THREADS", "").strip()
    if given:
        if not given.isdigit() or int(given) < 1:
            raise AccordError(f"ACCORD_NUM_THREADS={given!r}: give a whole number >= 1")
        return int(given)
    from accord.model import available_cores

    cores = available_cores()
    try:
        load = os.getloadavg()[0]
    except OSError:  # no load average on this platform
        return None
    return 1 if cores > 1 and load > 2 * cores else None


# ---------------------------------------------------------------------------- progress


def progress_callback(stage: str) -> Any:
    """A TrainerCallback that reports steps (and the last loss) through accord.progress."""
    from contextlib import ExitStack

    from transformers import TrainerCallback

    from accord.progress import task

    class ProgressCallback(TrainerCallback):
        def __init__(self) -> None:
            self._stack = ExitStack()
            self._task: Any = None
            self._fields: dict[str, object] = {}

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self._task = self._stack.enter_context(task(stage, total=state.max_steps))
                if state.global_step:
                    self._task.advance(state.global_step, resumed=True)

        def on_log(self, args, state, control, logs=None, **kwargs):
            for key in ("loss", "reward", "rewards/margins", "accuracy"):
                if logs and key in logs:
                    self._fields[key.split("/")[-1]] = f"{logs[key]:.4g}"

        def on_step_end(self, args, state, control, **kwargs):
            if self._task is not None:
                self._task.advance(1, **self._fields)

        def on_train_end(self, args, state, control, **kwargs):
            self._stack.close()
            self._task = None

    return ProgressCallback()


def quiet_hf_progress() -> None:
    """In a log, Hugging Face's own tqdm bars (dataset maps, weight loading) are noise."""
    from accord.progress import is_interactive

    if not is_interactive():
        import datasets
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        datasets.disable_progress_bars()


# ----------------------------------------------------------------------------- lineage


def _describe_model(stage: str, settings: TrainSettings, model_dir: Path, parent: Path,
                    request: Mapping[str, Any]) -> None:
    """Write what the saved model is: ``lineage.json`` for an adapter (its base's path and
    SHA-256, so it is never loaded onto other weights), and the model card ``README.md``."""
    from accord.model import is_adapter_dir, write_lineage

    if is_adapter_dir(model_dir):
        task = "SEQ_CLS" if stage == "reward" else "CAUSAL_LM"
        write_lineage(model_dir, parent, settings.lora or {}, task, stage=stage,
                      datasets=dict(request["datasets"]))
    write_stage_card(StageResult(stage=stage, model_dir=str(model_dir), parent=str(parent),
                                 datasets=dict(request["datasets"]),
                                 config=dict(request["config"])))


def write_stage_card(result: StageResult, *, spec_version: str | None = None,
                     figures: Mapping[str, Any] | None = None,
                     name: str | None = None) -> Path:
    """(Re)write the model card of a stage's saved model from its lineage.

    Every stage writes it when it saves its model; the pipeline calls this again once the
    spec version and the meter's figures are known.

    Args:
        result: the stage's result (model folder, parent, data hashes, settings).
        spec_version: the spec version the model was trained under.
        figures: the meter's figures (name → number or ``{rate, low, high, n}``).
        name: the card's title (default: the stage folder's name).

    Returns:
        The card's path (``model_dir/README.md``).
    """
    from accord.model import is_adapter_dir, read_lineage, weights_sha256, write_model_card

    model_dir, parent = Path(result.model_dir), Path(result.parent)
    lineage: dict[str, Any] = {"name": name, "stage": result.stage, "parent": str(parent),
                               "spec_version": spec_version,
                               "datasets": dict(result.datasets),
                               "training": dict(result.config)}
    if is_adapter_dir(model_dir):
        base = read_lineage(model_dir)["base_model"]
        lineage.update(base_model=base["path"], base_sha256=base.get("sha256"),
                       adapter=result.config.get("lora"))
    else:
        lineage.update(base_model=str(parent.resolve()), base_sha256=weights_sha256(parent))
    return write_model_card(model_dir, {k: v for k, v in lineage.items() if v is not None},
                            figures)


# ------------------------------------------------------------------------------ resume


def latest_checkpoint(out_dir: Path) -> Path | None:
    """The newest complete checkpoint in ``out_dir/checkpoints`` (``trainer_state.json``
    is written last, so a folder without it was cut short by a kill and is skipped)."""
    folder = out_dir / "checkpoints"
    if not folder.is_dir():
        return None
    complete = []
    for path in folder.glob("checkpoint-*"):
        suffix = path.name.rsplit("-", 1)[-1]
        if suffix.isdigit() and (path / "trainer_state.json").exists():
            complete.append((int(suffix), path))
    return max(complete)[1] if complete else None


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    diffs = []
    for key in sorted(set(old) | set(new)):
        if key == "config":
            for k in sorted(set(old.get(key, {})) | set(new.get(key, {}))):
                if k in _MAY_CHANGE:
                    continue
                a, b = old.get(key, {}).get(k), new.get(key, {}).get(k)
                if a != b:
                    diffs.append(f"config.{k}: {a!r} -> {b!r}")
        elif old.get(key) != new.get(key):
            diffs.append(f"{key}: {old.get(key)!r:.80} -> {new.get(key)!r:.80}")
    return diffs


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # processes of one launch write alike
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def _versions() -> dict[str, str]:
    import torch
    import transformers
    import trl

    return {"torch": torch.__version__, "transformers": transformers.__version__,
            "trl": trl.__version__}


def fit_prompts(rows: Sequence[Mapping[str, Any]], tokenizer_dir: str | Path,
                max_tokens: int | None, key: str = "prompt") -> list[dict[str, Any]]:
    """The rows whose prompt fits ``max_tokens`` tokens once rendered for the model.

    A prompt is measured as the model will see it: ``row[key]`` (a message list) through
    the tokenizer's chat template with the generation prompt, its default system prompt
    included. Longer rows are dropped, not cut: a multi-turn conversation cut at a token
    count loses the turn it ends on. Order is kept, so the first ``n`` of the result are
    the first ``n`` that fit.

    Args:
        rows: prompt rows (``{key: [messages], ...}``).
        tokenizer_dir: a folder with the model's tokenizer (the base model's: fine-tuning
            does not change it).
        max_tokens: the limit; None (or 0) keeps every row.

    Raises:
        AccordError: ``max_tokens`` is negative, or no row fits.
    """
    if not max_tokens:
        return [dict(r) for r in rows]
    if max_tokens < 0:
        raise AccordError(f"max_prompt_tokens={max_tokens}: give a positive token count "
                          "(or leave it out to keep every prompt)")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    kept = []
    for row in rows:
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(list(row[key]), add_generation_prompt=True,
                                                 tokenize=False)
        else:
            text = "\n".join(str(m.get("content", "")) for m in row[key])
        if len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= max_tokens:
            kept.append(dict(row))
    if not kept and rows:
        raise AccordError(f"max_prompt_tokens={max_tokens}: none of the {len(rows)} prompts "
                          "fits; raise the limit")
    return kept


def check_model_dir(path: str | Path, what: str = "model") -> Path:
    """``path`` must be a ``save_pretrained`` folder (``config.json``) or a LoRA adapter
    folder (``adapter_config.json``) of an earlier stage."""
    from accord.model import is_adapter_dir

    path = Path(path)
    if not (path / "config.json").exists() and not is_adapter_dir(path):
        raise AccordError(f"{what} {path} is not a saved model folder (no config.json); "
                          "pass the model_dir of an earlier stage or a save_pretrained folder")
    return path


def trainable_dir(path: str | Path, what: str = "model") -> Path:
    """A whole model folder to hand to TRL: ``path`` itself, or for an adapter folder its
    merged copy (``<adapter>-merged``, written once): a new adapter stacks on plain weights."""
    from accord.model import full_model_dir

    return full_model_dir(check_model_dir(path, what))


def run_stage(stage: str, settings: TrainSettings, out_dir: str | Path, parent: str | Path,
              datasets: Mapping[str, Sequence[Mapping[str, Any]]],
              build_trainer: Callable[[Path], Any],
              references: Mapping[str, str] | None = None,
              after: Callable[[Path], dict[str, float]] | None = None) -> StageResult:
    """Train one stage in ``out_dir``, resuming or returning a finished result.

    Args:
        stage: the stage's name, recorded in the result.
        settings: the stage config (a :class:`TrainSettings` subclass).
        out_dir: the stage folder (see the module docstring).
        parent: the model folder training starts from.
        datasets: name → rows, hashed for the lineage.
        build_trainer: ``out_dir → trainer`` (a TRL trainer with the progress callback).
        references: other models used (reference, reward models), for the lineage.
        after: ``model_dir → metrics`` run on the saved model (e.g. held-out accuracy).

    Raises:
        AccordError: ``out_dir`` holds a run (finished or not) of different settings, data
            or parent.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    request = {"stage": stage, "parent": str(parent), "config": settings.to_dict(),
               "datasets": {k: hash_rows(v) for k, v in datasets.items()},
               "references": dict(references or {})}
    request = json.loads(json.dumps(request, default=str))  # as it will read back from disk
    done, asked = out_dir / "result.json", out_dir / "stage.json"
    if asked.exists():
        try:
            earlier = json.loads(asked.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            earlier = None
        if not isinstance(earlier, dict):
            raise AccordError(f"{asked} is not a stage record Accord wrote (not a JSON "
                              "object); use a new out_dir")
        diffs = _differences(earlier, request)
        if diffs:
            raise AccordError(f"{out_dir} holds a {stage} run with other settings or data "
                              f"({'; '.join(diffs)}); use a new out_dir or delete this one")
    if done.exists():
        return StageResult.from_dict(json.loads(done.read_text()))
    quiet_hf_progress()
    checkpoint = latest_checkpoint(out_dir)
    trainer = build_trainer(out_dir)
    # Recorded once the trainer is built (models and data loaded): a run that fails
    # before that leaves no record to block a corrected retry in the same folder.
    _write_json(asked, request)
    for cb in list(trainer.callback_handler.callbacks):
        if type(cb).__name__ == "PrinterCallback":  # raw log dicts on stdout; we draw progress
            trainer.remove_callback(cb)
    trainer.add_callback(progress_callback(stage))
    for cb in trainer.callback_handler.callbacks:
        if type(cb).__name__ == "TensorBoardCallback":
            # Its default folder is under checkpoints/, which is removed at the end.
            cb.logging_dir = str(out_dir / "runs")
    resumed = None
    if checkpoint is not None:
        resumed = int(checkpoint.name.rsplit("-", 1)[-1])
    import torch

    threads_before = torch.get_num_threads()
    threads = settings.num_threads or contended_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        output = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    finally:
        torch.set_num_threads(threads_before)

    model_dir = out_dir / "model"
    trainer.save_model(str(model_dir))  # model (or adapter) + tokenizer (processing_class)
    trainer.accelerator.wait_for_everyone()
    if not trainer.is_world_process_zero():
        return StageResult(stage=stage, model_dir=str(model_dir), parent=str(parent),
                           datasets=request["datasets"], config=request["config"])
    _describe_model(stage, settings, model_dir, Path(parent), request)
    metrics = {k: float(v) for k, v in output.metrics.items() if isinstance(v, int | float)}
    if after is not None:
        metrics.update(after(model_dir))
    result = StageResult(
        stage=stage, model_dir=str(model_dir), parent=str(parent),
        datasets=request["datasets"], config=request["config"], metrics=metrics,
        steps=int(trainer.state.global_step), resumed_from_step=resumed,
        references=request["references"],
        log_history=[dict(h) for h in trainer.state.log_history], versions=_versions())
    if not settings.keep_checkpoints:
        shutil.rmtree(out_dir / "checkpoints", ignore_errors=True)
    _write_json(done, result.to_dict())
    return result
