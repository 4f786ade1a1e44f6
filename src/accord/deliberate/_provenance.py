"""Provenance from a vote to a model: for a model version, the deliberations and statements
(with their vote shares per group) ratified into the spec version it was trained for, that
version's diff from the one it was ratified on, the data sets and rewards that trained each
model of its lineage, and what measured them (meter results, published audits).

Everything comes from what the store already records: spec versions keep their provenance
records (written by :func:`accord.deliberate.ratify`), model versions their parent, spec
version, data set hashes, training signal and metrics. Published audits (``accord audit
publish``, table ``audits``) are read as a plain table when the store has it, so this module
needs nothing from ``accord.audit``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, inspect, select, table
from sqlalchemy.orm import Session

from accord.store import (
    ModelVersion,
    SpecVersion,
    get_model_version,
    lineage,
    training_signal,
)

# What the public page may show of a model version's config: the training signal names
# graders and models; paths and other settings stay with the operators.
_PUBLIC_METRIC_LIMIT = 40


def _letter(group: Any) -> str:
    """Opinion groups as the results page names them: 0 is A."""
    text = str(group)
    if text.isascii() and text.isdigit() and int(text) < 26:
        return chr(ord("A") + int(text))
    return text


def _statements(details: dict[str, Any]) -> list[dict[str, Any]]:
    """The ratified statements with their vote shares overall and per group."""
    out = []
    for s in details.get("statements") or []:
        tally = s.get("tally") or {}
        groups = {_letter(g): {"agree": t.get("agree", 0), "disagree": t.get("disagree", 0),
                               "pass": t.get("pass", 0), "agree_share": t.get("agree_share")}
                  for g, t in sorted((s.get("groups") or {}).items())}
        out.append({"number": s.get("number"), "text": s.get("text", ""),
                    "agree": tally.get("agree", 0), "disagree": tally.get("disagree", 0),
                    "pass": tally.get("pass", 0), "agree_share": tally.get("agree_share"),
                    "weighted_agree_share": (s.get("weighted_tally") or {}).get("agree_share"),
                    "groups": groups,
                    "group_informed_consensus": s.get("group_informed_consensus"),
                    "bridging": s.get("bridging")})
    return out


def _deliberations(version: SpecVersion) -> list[dict[str, Any]]:
    out = []
    for record in version.provenance or []:
        if not isinstance(record, dict) or record.get("kind") != "deliberation":
            continue
        d = record.get("details") or {}
        out.append({"deliberation": d.get("deliberation"), "question": d.get("question"),
                    "proposal": d.get("proposal"), "change": d.get("change"),
                    "change_kind": d.get("change_kind"), "item_id": d.get("item_id"),
                    "base_spec_version": d.get("base_spec_version"),
                    "ratified_by": record.get("ratified_by"),
                    "ratified_at": record.get("ratified_at"),
                    "summary": record.get("summary", ""),
                    "participants": (d.get("basis") or {}).get("participants"),
                    "votes": (d.get("basis") or {}).get("votes"),
                    "statements": _statements(d)})
    return out


def _diff(session: Session, version: SpecVersion) -> dict[str, Any] | None:
    """The version's diff from the spec its (last) ratification was applied to, when that
    base version is stored; None when it is not known."""
    from accord.spec import Spec, diff_specs

    bases = [((r.get("details") or {}).get("base_spec_hash"))
             for r in version.provenance or [] if isinstance(r, dict)]
    base_hash = next((h for h in reversed(bases) if h), None)
    if base_hash is None:
        return None
    base = session.scalars(select(SpecVersion).where(SpecVersion.hash == base_hash)).first()
    if base is None:
        return {"from": base_hash[:12], "stored": False, "changes": None, "text": ""}
    d = diff_specs(Spec.from_content(base.content), Spec.from_content(version.content))
    return {"from": base.version, "stored": True, "changes": d.to_dict(), "text": d.render()}


def _spec(session: Session, version: SpecVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {"version": version.version, "hash": version.hash, "name": version.name,
            "created_at": version.created_at.isoformat() if version.created_at else None,
            "deliberations": _deliberations(version), "diff": _diff(session, version),
            "other_provenance": [r for r in version.provenance or []
                                 if not (isinstance(r, dict) and r.get("kind")
                                         == "deliberation")]}


def _metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """Scalar figures of a model version's metrics (nested tables kept, capped)."""
    items = sorted((metrics or {}).items())[:_PUBLIC_METRIC_LIMIT]
    return dict(items)


def _audits(session: Session, names: list[str]) -> list[dict[str, Any]] | None:
    """Published audits of these model versions, or None when the store has no audits
    table (an older schema)."""
    bind = session.get_bind()
    if not inspect(bind).has_table("audits"):
        return None
    audits = table("audits", column("name"), column("auditor"), column("model_name"),
                   column("suites"), column("headline"), column("audited_at"),
                   column("manifest_sha256"), column("key_registered"))
    rows = session.execute(select(audits).where(audits.c.model_name.in_(names))
                           .order_by(audits.c.audited_at)).mappings().all()
    return [{"name": r["name"], "auditor": r["auditor"], "model": r["model_name"],
             "suites": r["suites"], "headline": r["headline"], "audited_at": r["audited_at"],
             "manifest_sha256": r["manifest_sha256"],
             "key_registered": bool(r["key_registered"]), "url": f"/audits/{r['name']}"}
            for r in rows]


def model_provenance(session: Session, model: str) -> dict[str, Any]:
    """The chain behind a model version, from the votes to the measurements.

    Args:
        session: an open session.
        model: the model version's name.

    Returns:
        JSON-ready data: ``model``; ``chain`` (base model first: name, stage, parent,
        spec version, data set hashes, metrics, created); ``spec_versions`` (each spec
        version of the chain once: the deliberations ratified into it with each
        statement's vote shares overall and per opinion group, its diff from the base it
        was ratified on, other provenance records); ``training_signal`` (graders and
        data sets of the whole lineage, :func:`accord.store.training_signal`); ``audits``
        (published audits of any model of the chain, None without an audits table).

    Raises:
        NotFoundError: no model version has that name.
    """
    target = get_model_version(session, model)
    chain = lineage(session, target)
    specs: dict[int, dict[str, Any]] = {}
    rows = []
    for mv in chain:
        spec = mv.spec_version
        if spec is not None and spec.id not in specs:
            specs[spec.id] = _spec(session, spec)  # type: ignore[assignment]
        rows.append(_model(mv))
    return {"model": target.name, "chain": rows,
            "spec_versions": [specs[k] for k in sorted(specs)],
            "training_signal": training_signal(session, target),
            "audits": _audits(session, [mv.name for mv in chain])}


def _model(mv: ModelVersion) -> dict[str, Any]:
    return {"name": mv.name, "stage": mv.stage,
            "parent": mv.parent.name if mv.parent is not None else None,
            "spec_version": mv.spec_version.version if mv.spec_version is not None else None,
            "datasets": dict(sorted((mv.datasets or {}).items())),
            "metrics": _metrics(mv.metrics or {}),
            "created_at": mv.created_at.isoformat() if mv.created_at else None}


def model_provenance_lines(data: dict[str, Any]) -> list[str]:
    """:func:`model_provenance`'s data as readable lines (``accord provenance MODEL``)."""
    lines = [f"model version {data['model']}"]
    for spec in data["spec_versions"]:
        lines.append(f"\nspec version {spec['version']} ({spec['name']})")
        if not spec["deliberations"]:
            lines.append("  no deliberation was ratified into this version")
        for d in spec["deliberations"]:
            lines.append(f"  deliberation '{d['deliberation']}': {d['question']}")
            lines.append(f"    proposal {d['proposal']}: {d['change']} — ratified by "
                         f"{d['ratified_by']} at {d['ratified_at']}")
            for s in d["statements"]:
                share = s["agree_share"]
                lines.append(f"    statement {s['number']} \"{s['text']}\": {s['agree']:g} "
                             f"agree / {s['disagree']:g} disagree / {s['pass']:g} pass"
                             + (f" ({share:.0%} agree)" if share is not None else ""))
                groups = ", ".join(f"group {g}: {t['agree_share']:.0%} agree of "
                                   f"{t['agree'] + t['disagree'] + t['pass']:g}"
                                   for g, t in s["groups"].items()
                                   if t["agree_share"] is not None)
                if groups:
                    lines.append(f"      {groups}")
        diff = spec["diff"]
        if diff is None:
            lines.append("  diff: no base version recorded")
        elif not diff["stored"]:
            lines.append(f"  diff from {diff['from']}: that version is not in the store")
        else:
            lines.append(f"  diff from {diff['from']}:")
            lines += ["    " + line for line in diff["text"].splitlines()]
    lines.append("\nmodels (base first):")
    for mv in data["chain"]:
        lines.append(f"  {mv['name']} [{mv['stage']}] spec {mv['spec_version'] or '-'}"
                     + (f", from {mv['parent']}" if mv["parent"] else ""))
        for name, digest in mv["datasets"].items():
            lines.append(f"    data set {name}: sha256 {digest}")
        figures = {k: v for k, v in mv["metrics"].items() if isinstance(v, int | float)}
        if figures:
            lines.append("    metrics: " + ", ".join(f"{k} {v:.4g}" for k, v in
                                                    sorted(figures.items())))
    signal = data["training_signal"]
    graders = signal.get("graders") or []
    lines.append("\ntraining signal (rewards and graders that trained the lineage): "
                 + (", ".join(sorted({g.get('name', '?') for g in graders})) or "none recorded"))
    if signal.get("unknown"):
        lines.append(f"  trained elsewhere (unknown signal): {', '.join(signal['unknown'])}")
    audits = data["audits"]
    if audits is None:
        lines.append("audits: this store has no audits table yet")
    else:
        lines.append("audits: " + ("none published" if not audits else ""))
        for a in audits:
            lines.append(f"  {a['name']} by {a['auditor']} on {a['model']} "
                         f"({', '.join(a['suites'] or [])}) at {a['audited_at']}: {a['url']}")
    return lines
