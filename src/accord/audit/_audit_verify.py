"""``accord audit verify``: check an audit bundle's signature and every hash, re-grade its
items and re-generate some of its replies.

Every check that fails is named (the file, the item id and line, the grader, the key), and
the whole verification fails with all of them: a verifier learns what was changed, not
only that something was.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord.audit._audit_bundle import (
    ITEMS,
    MANIFEST,
    REPORT,
    SIGNATURE,
    item_lines,
    model_files,
    read_items,
    read_manifest,
    sha256_bytes,
    sha256_file,
)
from accord.audit._audit_sign import check_signature
from accord.errors import AccordError

# Re-graded scores must agree to this: the same numbers on the same kind of machine;
# another CPU's float arithmetic may move the last digits, never a verdict.
REGRADE_TOLERANCE = 1e-6


@dataclass
class Verification:
    """What ``accord audit verify`` found.

    Attributes:
        folder: the bundle.
        fingerprint: the signer's key fingerprint.
        key_brought: whether the signature was checked against a key the verifier gave
            (otherwise only against the key inside the bundle).
        checks: ``(what, passed, detail)`` for every check run.
        regraded: items re-graded (0 without ``--regrade``).
        regenerated: items re-generated (0 without ``--regenerate``).
        endpoint_mismatches: re-generated endpoint replies that differed (reported, not
            failed: an endpoint promises no determinism).
    """

    folder: Path
    fingerprint: str = ""
    key_brought: bool = False
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    regraded: int = 0
    regenerated: int = 0
    endpoint_mismatches: int = 0

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(passed for _, passed, _ in self.checks)

    @property
    def failures(self) -> list[str]:
        """``what: detail`` of each failed check."""
        return [f"{what}: {detail}" for what, passed, detail in self.checks if not passed]

    def add(self, what: str, passed: bool, detail: str = "") -> None:
        self.checks.append((what, passed, detail))

    def render_text(self) -> str:
        """One line per check, then the verdict."""
        lines = [f"{'ok  ' if passed else 'FAIL'} {what}" + (f": {detail}" if detail else "")
                 for what, passed, detail in self.checks]
        if self.ok and not self.key_brought:
            lines.append("note: checked against the public key inside the bundle; give "
                         "--public-key FILE (the auditor's) to know who signed it")
        lines.append(("verified" if self.ok else "NOT verified") + f": {self.folder}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"folder": str(self.folder), "ok": self.ok, "fingerprint": self.fingerprint,
                "key_brought": self.key_brought, "regraded": self.regraded,
                "regenerated": self.regenerated,
                "endpoint_mismatches": self.endpoint_mismatches,
                "checks": [{"what": w, "passed": p, "detail": d} for w, p, d in self.checks]}


def verify_bundle(folder: Path | str, *, public_key: Path | str | None = None,
                  regrade: bool = False, regenerate: int = 0, model: str | None = None,
                  api_key_env: str = "OPENAI_API_KEY", sample_seed: int = 0,
                  log: Callable[[str], None] = lambda _: None) -> Verification:
    """Verify an audit bundle.

    Args:
        folder: the bundle's folder.
        public_key: the auditor's public key (PEM); None checks against the key inside.
        regrade: re-run every grader on every item; scores must agree (within
            :data:`REGRADE_TOLERANCE`) and verdicts exactly.
        regenerate: re-generate this many randomly chosen sampled items with their seeds
            (0 or more; a number above the bundle's sampled items re-generates them all,
            and the log and :attr:`Verification.regenerated` say how many); a local model
            must reproduce them exactly; an endpoint's differences are reported.
        model: the local model to re-generate with (default: the path in the manifest;
            its files must hash as the manifest says), or the endpoint's model name.
        api_key_env: the environment variable with the endpoint's key.
        sample_seed: which items are drawn for re-generation.
        log: where progress lines go.

    Returns:
        The checks; :attr:`Verification.ok` says whether all passed.

    Raises:
        AccordError: the bundle cannot be read at all (no folder, no manifest, a manifest
            out of canonical form), or ``regenerate`` is negative.
    """
    if regenerate < 0:
        raise AccordError(f"--regenerate {regenerate} is negative; give how many items to "
                          "re-generate (0 or more)")
    folder = Path(folder)
    result = Verification(folder)
    manifest = read_manifest(folder)
    try:
        result.fingerprint, result.key_brought = check_signature(folder, manifest, public_key)
        result.add("signature", True, f"{'your key' if result.key_brought else 'key in bundle'} "
                   f"{result.fingerprint[:16]}…")
    except AccordError as exc:
        result.add("signature", False, str(exc))
    files_ok = _check_files(folder, manifest, result)
    items_ok = _check_items(folder, manifest, result)
    if not (files_ok and items_ok):
        return result
    items = read_items(folder)
    _check_report(folder, manifest, items, result)
    if regrade:
        log(f"re-grading {len(items)} items")
        _regrade(manifest, items, result)
    if regenerate:
        _regenerate(manifest, items, regenerate, model, api_key_env, sample_seed, result, log)
    return result


def _check_files(folder: Path, manifest: dict[str, Any], result: Verification) -> bool:
    ok = True
    listed = manifest.get("files", {})
    for name, digest in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            result.add(f"file {name}", False, "missing")
            ok = False
        elif sha256_file(path) != digest:
            result.add(f"file {name}", False, "SHA-256 differs from the manifest: the file "
                       "was changed")
            ok = False
        else:
            result.add(f"file {name}", True)
    extra = sorted(p.name for p in folder.iterdir()
                   if p.name not in {*listed, MANIFEST, SIGNATURE})
    if extra:
        result.add("no unlisted files", False, f"{', '.join(extra)} not in the manifest")
    return ok


def _check_items(folder: Path, manifest: dict[str, Any], result: Verification) -> bool:
    """Each item line against its own hash, so an edit is named by item id and line."""
    path = folder / ITEMS
    if not path.is_file():
        return False
    expected = manifest.get("items", {}).get("sha256", [])
    lines = item_lines(path)
    bad = []
    for no, line in enumerate(lines, start=1):
        if no > len(expected) or sha256_bytes(line) != expected[no - 1]:
            try:
                ident = json.loads(line).get("id", "?")
            except (ValueError, AttributeError):
                ident = "?"
            bad.append(f"{ident} (line {no})")
    if len(lines) != len(expected):
        result.add("items", False, f"{len(lines)} lines, the manifest lists {len(expected)}")
        return False
    if bad:
        result.add("items", False, "changed: " + ", ".join(bad[:10])
                   + (f" and {len(bad) - 10} more" if len(bad) > 10 else ""))
        return False
    result.add("items", True, f"{len(lines)} items match their hashes")
    return True


def _check_report(folder: Path, manifest: dict[str, Any], items: list[dict[str, Any]],
                  result: Verification) -> None:
    """``report.json`` names the same suites, with as many items, as the manifest and
    ``items.jsonl``."""
    report = json.loads((folder / REPORT).read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    for it in items:
        counts[it.get("suite", "?")] = counts.get(it.get("suite", "?"), 0) + 1
    said = {s["suite"]: s.get("n_items") for s in report.get("suites", [])}
    listed = {s["name"]: s.get("items") for s in manifest.get("suites", [])}
    if said == listed == counts:
        result.add("report agrees with items", True)
    else:
        result.add("report agrees with items", False, f"report {said}, manifest {listed}, "
                   f"items.jsonl {counts}")


def _regrade(manifest: dict[str, Any], items: list[dict[str, Any]],
             result: Verification) -> None:
    """Re-score every item's recorded grader scores, suite by suite and grader by grader,
    in the order they were first scored (so the same batches go through the embedder)."""
    from accord.audit._suites import exchanges, grader_record
    from accord.graders import get_grader, list_graders

    known = set(list_graders())
    recorded = {name: rec for s in manifest.get("suites", [])
                for name, rec in s.get("graders", {}).items()}
    problems: list[str] = []
    checked = 0
    by_grader: dict[str, list[dict[str, Any]]] = {}
    for it in items:
        if not isinstance(it.get("response"), str):
            continue
        for name in (it.get("scores") or {}):
            if name in known and isinstance(it["scores"][name], (int, float)):
                by_grader.setdefault(f"{it.get('suite')}\0{name}", []).append(it)
    for key, group in by_grader.items():
        name = key.split("\0")[1]
        grader = get_grader(name)
        now = grader_record(grader)
        then = recorded.get(name)
        if then is not None and (now["version"], now["sources"]) != (then.get("version"),
                                                                   then.get("sources")):
            problems.append(f"grader {name}: version or training data differs from the "
                            "audit's record (the manifest's grader hashes)")
            continue
        exs = exchanges([it["prompt"] for it in group], [it["response"] for it in group])
        scores = [float(s) for s in grader.score(exs)]
        for it, score in zip(group, scores, strict=True):
            checked += 1
            old = float(it["scores"][name])
            flipped = (old >= grader.threshold) != (score >= grader.threshold)
            if abs(old - score) > REGRADE_TOLERANCE or flipped:
                problems.append(f"item {it.get('id')}: {name} scores {score:.6f} now, "
                                f"{old:.6f} in the bundle")
    result.regraded = checked
    result.add("regrade", not problems,
               f"{checked} grader scores reproduced" if not problems else
               f"{len(problems)} differ: " + "; ".join(problems[:5]))


def _regenerate(manifest: dict[str, Any], items: list[dict[str, Any]], n: int,
                model: str | None, api_key_env: str, sample_seed: int,
                result: Verification, log: Callable[[str], None]) -> None:
    """Re-sample ``n`` random sampled items with their own seeds and compare."""
    from accord.model import SamplingConfig, load_backend

    sampled = [it for it in items if isinstance(it.get("seed"), int)
               and isinstance(it.get("response"), str)]
    if not sampled:
        result.add("regenerate", False, "no item records the seed of a sampled reply")
        return
    chosen = random.Random(sample_seed).sample(sampled, min(n, len(sampled)))
    identity = manifest.get("model", {})
    sampling = SamplingConfig(**manifest["sampling"])
    endpoint = identity.get("kind") == "endpoint"
    if endpoint:
        backend = load_backend(model or identity["name"], base_url=identity["endpoint"],
                               api_key_env=api_key_env)
    else:
        path = Path(model or identity.get("path", ""))
        if model == "smollm2" or (model is None and identity.get("name") == "smollm2"):
            from accord.model import resolve_model

            path = resolve_model("smollm2")
        if not path.exists():
            result.add("regenerate", False, f"model {path} not found here; give --model PATH "
                       "(a copy whose files hash as the manifest says)")
            return
        if model_files(path) != identity.get("files"):
            result.add("regenerate: model files", False, f"{path} does not hash as the "
                       "audited model (manifest model.files)")
            return
        result.add("regenerate: model files", True, f"{len(identity.get('files', {}))} files")
        backend = load_backend(str(path), batch_size=1)
    log(f"re-generating {len(chosen)} items" + (
        f" (all the bundle's sampled items; {n} asked)" if n > len(chosen) else ""))
    differ = []
    for it in chosen:
        reply = backend.generate([it["prompt"]], sampling, seeds=[it["seed"]])[0]
        if reply != it["response"]:
            differ.append(str(it.get("id")))
    result.regenerated = len(chosen)
    if endpoint:
        result.endpoint_mismatches = len(differ)
        result.add("regenerate (endpoint, reported)", True,
                   f"{len(chosen) - len(differ)} of {len(chosen)} replies identical"
                   + (f"; differ: {', '.join(differ[:10])}" if differ else ""))
    else:
        result.add("regenerate", not differ,
                   f"{len(chosen)} replies reproduced" if not differ else
                   f"{len(differ)} of {len(chosen)} differ: {', '.join(differ[:10])}")
