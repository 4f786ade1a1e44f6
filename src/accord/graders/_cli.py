"""``accord graders``: list, train, evaluate and run the real-text graders.

Commands only parse arguments and call the package; scikit-learn and the embedder load
inside the commands that need them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from accord.errors import AccordError

graders_app = typer.Typer(help="Real-text graders: list, train on public human labels, "
                          "evaluate, score JSONL.", no_args_is_help=True)

DataDirOpt = Annotated[Path | None, typer.Option(
    "--data", help="The public data folder (default: $ACCORD_DATA_DIR, else ../shared/data "
    "next to the repository).")]


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def _line(label: str, m: dict[str, Any]) -> str:
    line = (f"  {label:<34} n={m['n']:<5} pos={m['positives']:<5} AUC={_fmt(m['auc'])} "
            f"F1={_fmt(m['f1'])} macro-F1={_fmt(m['macro_f1'])} acc={_fmt(m['accuracy'])}")
    ci = m.get("ci95")
    if not ci:  # figures recorded by training carry no interval
        return line
    spans = [f"{shown} {ci[key][0]:.3f}-{ci[key][1]:.3f}"
             for key, shown in (("auc", "AUC"), ("macro_f1", "macro-F1")) if ci.get(key)]
    return f"{line}\n  {'':<34} 95 % bootstrap: {', '.join(spans)}" if spans else line


def _figures(name: str, figures: dict[str, Any]) -> str:
    lines = []
    for part, entry in figures.items():
        lines.append(f"{name} on {part}:")
        lines.append(_line("head", entry["head"]))
        lines += [_line(b, m) for b, m in entry["baselines"].items()]
    return "\n".join(lines)


def _read_jsonl(path: Path, *, need_label: bool) -> list[dict[str, Any]]:
    if path.is_dir():
        raise AccordError(f"{path}: is a folder; give a JSONL file")
    if not path.is_file():
        raise AccordError(f"{path}: no such file")
    rows = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AccordError(f"{path}:{number}: not JSON ({exc.msg})") from None
            if not rows and isinstance(row, dict) and "about" in row and "response" not in row:
                continue  # a header line saying what the file is (as the shipped test files)
            if not isinstance(row, dict) or not isinstance(row.get("response"), str):
                raise AccordError(f"{path}:{number}: each line must be an object with a "
                                  "string \"response\" (and optional \"prompt\")")
            prompt = row.get("prompt", "")
            if not isinstance(prompt, str | list):
                raise AccordError(f"{path}:{number}: \"prompt\" must be a string or a list "
                                  "of {role, content} messages")
            if need_label and row.get("label") not in (0, 1, True, False):
                raise AccordError(f"{path}:{number}: \"label\" must be 0/1 or true/false")
            rows.append(row)
    if not rows:
        raise AccordError(f"{path}: no rows")
    return rows


def _messages(prompt: str | list[dict[str, str]]) -> list[dict[str, str]]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}] if prompt else []
    return [dict(m) for m in prompt]


def _check_name(name: str) -> None:
    from accord.graders._registry import list_graders

    if name not in list_graders():
        raise AccordError(f"no grader named {name!r}; `accord graders list` shows them")


@graders_app.command("list")
def list_command() -> None:
    """Every registered grader: the real-text ones with their test figures first."""
    from accord.graders._heads import REAL_GRADERS, head_path
    from accord.graders._registry import list_graders

    for name, what in REAL_GRADERS.items():
        path = head_path(name)
        status = "head missing: accord graders train " + name
        if path.is_file():
            record = json.loads(path.read_text()).get("record", {})
            test = record.get("test", {})
            first = test.get("all") or next(iter(test.values()), {})
            head = first.get("head", {})
            status = (f"test AUC {_fmt(head.get('auc'))}, F1 {_fmt(head.get('f1'))} "
                      f"(n={head.get('n')}; {', '.join(record.get('sets', []))})")
        typer.echo(f"{name:<20} {what}\n{'':<20} {status}")
    others = [n for n in list_graders() if n not in REAL_GRADERS]
    typer.echo("\nother graders (demo world, screens, simulated reviewers): " + ", ".join(others))


@graders_app.command("train")
def train_command(name: Annotated[str | None, typer.Argument(
        help="One real-text grader (default: all of them).")] = None,
        data: DataDirOpt = None,
        out: Annotated[Path | None, typer.Option(
            help="Write head files here instead of the package's heads folder.")] = None,
        seed: Annotated[int, typer.Option(help="The split's seed.")] = 12) -> None:
    """Rebuild heads from the public labelled files; print their held-out test figures."""
    from accord.graders._heads import REAL_GRADERS
    from accord.graders._train import train_grader

    names = list(REAL_GRADERS) if name is None else [name]
    for n in names:
        if n not in REAL_GRADERS:
            raise AccordError(f"no real-text grader named {n!r}; trainable: "
                              f"{', '.join(REAL_GRADERS)}")
    for n in names:
        head = train_grader(n, data, seed=seed, out=out)
        typer.echo(f"{n}: threshold {head.threshold:.3f} (chosen on validation)")
        typer.echo(_figures(n, head.record["test"]))


@graders_app.command("evaluate")
def evaluate_command(name: Annotated[str, typer.Argument(help="A real-text grader.")],
                     data: Annotated[Path | None, typer.Option(
                         "--data", help="A labelled JSONL ({prompt, response, label} per "
                         "line; a first line with \"about\" and no \"response\" is a "
                         "header and skipped); default: the figures on the held-out test "
                         "split recorded in the head.")] = None,
                     as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A grader's figures on its held-out test split, or on your labelled JSONL."""
    from accord.graders._datasets import Example
    from accord.graders._heads import REAL_GRADERS, load_head

    if name not in REAL_GRADERS:
        raise AccordError(f"no real-text grader named {name!r}; evaluable: "
                          f"{', '.join(REAL_GRADERS)}")
    if data is None:
        figures = load_head(name).record.get("test", {})
    else:
        from accord.graders._base import Exchange
        from accord.graders._heads import prompt_text
        from accord.graders._train import evaluate_rows

        rows = [Example(prompt_text(Exchange(_messages(r.get("prompt", "")), "")),
                        r["response"], int(r["label"]), str(i))
                for i, r in enumerate(_read_jsonl(data, need_label=True))]
        result = evaluate_rows(name, rows)
        figures = {str(data): {"head": result["head"], "baselines": result["baselines"]}}
    if as_json:
        typer.echo(json.dumps({"grader": name, "figures": figures}, indent=1))
    else:
        typer.echo(_figures(name, figures))


@graders_app.command("score")
def score_command(name: Annotated[str, typer.Argument(help="Any registered grader.")],
                  input: Annotated[Path, typer.Option(
                      "--input", help="JSONL, one {\"prompt\": ..., \"response\": ...} per "
                      "line.")],
                  as_json: Annotated[bool, typer.Option(
                      "--json", help="Print each input line with score and label added "
                      "(default: a short table).")] = False) -> None:
    """Score each line of a JSONL file: its probability and its label at the threshold."""
    from accord.graders._base import Exchange
    from accord.graders._registry import get_grader

    _check_name(name)
    rows = _read_jsonl(input, need_label=False)
    grader = get_grader(name)
    exchanges = [Exchange(_messages(r.get("prompt", "")), r["response"]) for r in rows]
    scores = grader.score(exchanges)
    for row, score in zip(rows, scores, strict=True):
        label = score >= grader.threshold
        if as_json:
            typer.echo(json.dumps({**row, "score": round(float(score), 6), "label": label},
                                  ensure_ascii=False))
        else:
            text = row["response"].replace("\n", " ")
            typer.echo(f"{score:.3f} {'yes' if label else 'no ':<3} {text[:70]}")
