"""``accord audit run``: the public suites on one model, written as a bundle anyone can
check (docs/audits.md).

The run is :func:`accord.audit.run_suites` on a local model or an OpenAI-compatible
endpoint; what it adds is the record a verifier needs: every item with the seed its reply
was sampled with, the model's identity (file hashes, or the endpoint and the model name it
reported), the data and grader hashes, and a manifest with the SHA-256 of every file and
every item.
"""

from __future__ import annotations

import json
import math
import sys
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord.audit._audit_bundle import (
    FORMAT,
    HTML,
    ITEMS,
    MANIFEST,
    REPORT,
    file_hashes,
    model_files,
    write_items,
    write_manifest,
)
from accord.errors import AccordError

if TYPE_CHECKING:
    from accord.world import World

# Sampled like a user would see, as ``accord eval`` samples the public suites.
TEMPERATURE = 0.7
TOP_P = 0.9
MAX_NEW_TOKENS = 128


@dataclass
class AuditBundle:
    """What ``accord audit run`` wrote.

    Attributes:
        folder: the bundle's folder.
        manifest: the manifest as written.
        report: ``report.json``'s content.
    """

    folder: Path
    manifest: dict[str, Any]
    report: dict[str, Any]

    def render_text(self) -> str:
        """One line per figure, the bundle's folder last."""
        lines = [f"audit of {self.manifest['model']['name']} "
                 f"({self.manifest['model']['kind']})"]
        for suite in self.report["suites"]:
            if suite.get("info", {}).get("measured_by"):
                lines.append(f"  ({suite['suite']} measured by "
                             f"{suite['info']['measured_by']})")
            for f in suite["figures"]:
                value = "n/a" if f["value"] is None else f"{f['value']:.3f}"
                ci = "" if f["value"] is None else f" [{f['low']:.3f}, {f['high']:.3f}]"
                lines.append(f"  {suite['suite']}.{f['metric']}: {value}{ci} n={f['n']}")
            lines += [f"  warning ({suite['suite']}): {w}" for w in suite["warnings"]]
        lines.append(f"bundle: {self.folder} (sign it: accord audit sign {self.folder} "
                     "--key FILE)")
        return "\n".join(lines)


def _clean(value: Any) -> Any:
    """JSON-safe: ``nan`` becomes None, tuples lists, recursively."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _key(conversation: Any, response: Any) -> str:
    return json.dumps([conversation, response], sort_keys=True, ensure_ascii=False)


def _record_seeds(backend: Any) -> dict[str, int]:
    """Wrap ``backend.generate`` on this instance so each reply's seed is kept:
    ``{(conversation, reply): seed}``, and every row is sampled with a seed of its own (so
    a verifier can re-generate one item alone). The instance keeps its class, so suites
    still see a local model or an endpoint for what it is."""
    seen: dict[str, int] = {}
    inner = backend.generate

    def generate(conversations: Sequence[Any], sampling: Any, *,
                 seeds: Sequence[int] | None = None) -> list[str]:
        # Without seeds a row draws from (seed, its place in the batch), which no single
        # item can replay; every row gets a seed of its own instead (seed + its place).
        row_seeds = list(seeds) if seeds is not None else [sampling.seed + i for i in
                                                            range(len(conversations))]
        replies = inner(conversations, sampling, seeds=row_seeds)
        for conv, reply, seed in zip(conversations, replies, row_seeds, strict=True):
            seen.setdefault(_key(list(conv), reply), int(seed))
        return replies

    backend.generate = generate
    return seen


def _endpoint_models(url: str, api_key_env: str) -> list[str]:
    """The model ids an endpoint lists at ``/models`` (empty if it lists none)."""
    import os

    request = urllib.request.Request(url.rstrip("/") + "/models", headers={
        "Authorization": f"Bearer {os.environ.get(api_key_env, 'EMPTY')}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            data = json.loads(response.read())
    except (OSError, ValueError):
        return []
    return sorted(str(m.get("id")) for m in data.get("data", []) if isinstance(m, dict))


def _project_world(project_dir: Path) -> World:
    """The demo world of a project's last ``accord run``."""
    from accord.world import World

    run_json = project_dir / ".accord" / "run" / "run.json"
    if not run_json.is_file():
        raise AccordError(f"{run_json} not found: the world suite reads the world of a "
                          "finished `accord run` (give --project DIR)")
    record = json.loads(run_json.read_text(encoding="utf-8"))
    folder = Path(record.get("world", {}).get("dir", "")) / "world"
    if not folder.is_dir():
        raise AccordError(f"{run_json}: its world folder {folder} is missing")
    return World.load(folder)


def model_identity(model: str, endpoint: str | None, api_key_env: str) -> dict[str, Any]:
    """What the manifest says the model under test is: a local model's resolved path and
    the SHA-256 of its files, or an endpoint's URL, the name asked for and the names it
    reported.

    Args:
        model: a folder, a ``.gguf`` file, ``smollm2``, or the endpoint's model name.
        endpoint: the OpenAI-compatible base URL, or None for a local model.
        api_key_env: the environment variable holding the endpoint's key.

    Raises:
        AccordError: a local model that is not found.
    """
    if endpoint is not None:
        return {"kind": "endpoint", "name": model, "endpoint": endpoint,
                "reported": _endpoint_models(endpoint, api_key_env)}
    from accord.model import resolve_model

    path = resolve_model(model)
    # Training stages save models as ``<stage folder>/[train/]model``: name it by the stage.
    named = path.resolve()
    while named.name in ("model", "train") and named.parent != named:
        named = named.parent
    name = model if model == "smollm2" else named.name
    return {"kind": "local", "name": name,
            "path": str(path.resolve()), "files": model_files(path)}


def run_audit(suites: str | Sequence[str], out: Path | str, *, model: str,
              endpoint: str | None = None, api_key_env: str = "OPENAI_API_KEY",
              limit: int | None = None, seed: int = 0, data_dir: Path | str | None = None,
              project: Path | str | None = None, temperature: float = TEMPERATURE,
              top_p: float = TOP_P, max_new_tokens: int = MAX_NEW_TOKENS,
              batch_size: int = 16, auditor: str = "",
              log: Callable[[str], None] = print) -> AuditBundle:
    """Run ``suites`` on a model and write the audit bundle to ``out``.

    Args:
        suites: registered suite names (``"xstest,offensive"``).
        out: the bundle's folder (created; must be empty if it exists).
        model: a model folder, ``.gguf`` file or ``smollm2``; with ``endpoint``, the
            served model's name.
        endpoint: an OpenAI-compatible base URL (``http://host/v1``).
        api_key_env: the environment variable holding the endpoint's key (never written).
        limit: at most this many items per suite (a deterministic, balanced subset).
        seed: the sampling seed; item ``i`` of a call is sampled with ``seed + i``.
        data_dir: the public data folder (default ``accord.audit.default_data_dir``).
        project: a project folder whose last run's world the ``world`` suite meters.
        temperature / top_p / max_new_tokens: sampling.
        batch_size: conversations per forward pass (local models).
        auditor: who ran it (written into the manifest).
        log: where progress lines go.

    Raises:
        AccordError: a bad suite, limit, model, data folder or output folder.
    """
    from accord.audit._suites import default_data_dir, parse_suites, run_suites
    from accord.model import SamplingConfig, load_backend

    names = parse_suites(suites)
    if limit is not None and limit < 1:
        raise AccordError(f"--limit {limit}: give a positive number of items")
    folder = Path(out)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise AccordError(f"--out {folder}: exists and is not an empty folder; an audit "
                          "bundle needs a folder of its own")
    world = _project_world(Path(project)) if "world" in names and project is not None else None
    sampling = SamplingConfig(temperature=temperature, top_p=top_p,
                              max_new_tokens=max_new_tokens, seed=seed)
    identity = model_identity(model, endpoint, api_key_env)
    backend = (load_backend(model, base_url=endpoint, api_key_env=api_key_env)
               if endpoint is not None else load_backend(identity["path"],
                                                         batch_size=batch_size))
    seeds = _record_seeds(backend)
    data = Path(data_dir) if data_dir is not None else default_data_dir()
    results = run_suites(names, backend, sampling, data_dir=data, limit=limit, world=world,
                         batch=batch_size, log=log)
    suites = []
    for r in results:
        d = r.to_dict()
        d["items"] = [_item(r.suite, it, seeds) for it in r.items]
        suites.append(d)
    command = (" ".join(["accord", "audit", "run", *sys.argv[3:]])
               if sys.argv[1:3] == ["audit", "run"] else "")
    bundle = write_bundle(folder, suites, identity=identity, sampling=sampling.to_dict(),
                          seed=seed, limit=limit, auditor=auditor,
                          extra={"command": command, "data_dir": str(data)})
    log(f"wrote {REPORT}, {ITEMS} ({bundle.manifest['items']['count']} items), {HTML} and "
        f"{MANIFEST} to {folder}")
    return bundle


def write_bundle(folder: Path | str, suites: Sequence[dict[str, Any]], *,
                 identity: dict[str, Any], sampling: dict[str, Any], seed: int | None,
                 limit: int | None, auditor: str = "",
                 extra: dict[str, Any] | None = None) -> AuditBundle:
    """Write a bundle from suite results as ``SuiteResult.to_dict()`` gives them (each
    item with its ``suite`` and ``seed``): the items, the report, the page, the manifest.

    Args:
        folder: the bundle's folder (created).
        suites: one dict per suite: ``suite``, ``figures``, ``warnings``, ``data``,
            ``graders``, ``info``, ``items``.
        identity: the model's identity (:func:`model_identity`, or what a log reported).
        sampling: the sampling settings.
        seed: the sampling seed.
        limit: items per suite, or None.
        auditor: who ran it.
        extra: more manifest fields (the command, the data folder, an imported log).
    """
    from accord import __version__
    from accord.audit._audit_html import render_report

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    items = [_clean(it) for s in suites for it in s["items"]]
    item_hashes = write_items(folder / ITEMS, items)
    report = _report(suites, identity, len(items))
    (folder / REPORT).write_text(json.dumps(report, indent=2, ensure_ascii=False,
                                            allow_nan=False) + "\n", encoding="utf-8")
    (folder / HTML).write_text(render_report(report), encoding="utf-8")
    manifest = {
        "format": FORMAT,
        "accord_version": __version__,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "auditor": auditor,
        "files": file_hashes(folder),
        "items": {"count": len(items), "sha256": item_hashes},
        "model": identity,
        "sampling": sampling,
        "seed": seed,
        "limit": limit,
        "suites": [{"name": s["suite"], "data": _clean(s.get("data", [])),
                    "graders": _clean(s.get("graders", {})), "items": len(s["items"])}
                   for s in suites],
        **(extra or {}),
    }
    write_manifest(folder, manifest)
    return AuditBundle(folder, manifest, report)


def _item(suite: str, item: dict[str, Any], seeds: dict[str, int]) -> dict[str, Any]:
    """One line of ``items.jsonl``: the suite's record, its suite and its reply's seed
    (None where the item was scored, not sampled)."""
    out = _clean(dict(item))
    out["suite"] = suite
    response = item.get("response")
    out["seed"] = (seeds.get(_key(item.get("prompt"), response))
                   if isinstance(response, str) else None)
    return out


def _report(suites: Sequence[dict[str, Any]], identity: dict[str, Any],
            n_items: int) -> dict[str, Any]:
    out = []
    for s in suites:
        d = _clean({k: v for k, v in s.items() if k != "items"})
        d["n_items"] = len(s["items"])
        out.append(d)
    return {"format": FORMAT, "model": {k: v for k, v in identity.items() if k != "files"},
            "n_items": n_items, "suites": out}


def import_inspect_bundle(log_file: Path | str, out: Path | str, *,
                          data_dir: Path | str | None = None,
                          auditor: str = "") -> AuditBundle:
    """An Inspect log of an Accord task (``accord.audit._inspect.import_inspect_log``)
    written as an audit bundle: the suite's figures re-measured from the log's answers by
    Accord's graders, the log's SHA-256 and ids in the manifest, no seeds (Inspect's
    replies cannot be re-generated from here). Sign and publish it like any audit.

    Args:
        log_file: the Inspect log (``.eval`` or ``.json``).
        out: the bundle's folder (new or empty).
        data_dir: the public data folder (default ``accord.audit.default_data_dir``).
        auditor: who ran the Inspect eval.

    Raises:
        AccordError: see ``import_inspect_log``; an output folder that is not empty.
    """
    from accord.audit._inspect import import_inspect_log

    folder = Path(out)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise AccordError(f"--out {folder}: exists and is not an empty folder")
    imported = import_inspect_log(log_file, data_dir=data_dir)
    suite = {k: imported[k] for k in ("suite", "figures", "warnings", "data", "graders",
                                      "info")}
    suite["items"] = [{**it, "suite": imported["suite"], "seed": None}
                      for it in imported["items"]]
    model = str(imported["model"])
    identity = {"kind": "inspect", "name": model.split("/")[-1], "inspect_model": model}
    return write_bundle(folder, [suite], identity=identity, sampling=imported["sampling"],
                        seed=imported["sampling"].get("seed"), limit=None, auditor=auditor,
                        extra={"inspect_log": _clean(imported["log"])})

