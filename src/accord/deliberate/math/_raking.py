"""Post-stratification weights by raking (iterative proportional fitting).

Given each participant's opt-in answers (variable -> category) and target population
shares per variable, raking rescales weights one variable at a time so that the weighted
sample matches that variable's margins, and repeats until every margin matches at once.
It converges whenever the targets are jointly attainable; it cannot when a category
has a positive target but no participant, which we reject up front with a clear error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from accord.errors import AccordError


@dataclass
class RakingResult:
    """Raked weights.

    Attributes:
        weights: participant id -> weight, normalised to mean 1 over the raked participants;
            participants who did not answer every targeted variable keep weight 1 and are
            listed in ``unweighted``.
        iterations: full passes over the variables.
        max_margin_error: largest |weighted share − target| at the end.
        unweighted: ids left at weight 1 for lack of answers.
    """

    weights: dict[int, float]
    iterations: int
    max_margin_error: float
    unweighted: list[int]


def rake(demographics: Mapping[int, Mapping[str, str]],
         targets: Mapping[str, Mapping[str, float]], *, tol: float = 1e-6,
         max_iter: int = 1000) -> RakingResult:
    """Weights that make the sample's margins match ``targets``.

    Args:
        demographics: participant id -> {variable: category}.
        targets: variable -> {category: population share}; shares per variable sum to 1.
        tol: stop when every weighted margin is within ``tol`` of its target.
        max_iter: passes before giving up.

    Raises:
        AccordError: shares that are negative or do not sum to 1; a participant's category
            missing from the targets; a positive target with no participant in it (no
            weighting can reach it); no participant answering every variable; or no
            convergence within ``max_iter`` (targets mutually inconsistent with the sample).
    """
    if not targets:
        raise AccordError("rake: no target margins given")
    for var, shares in targets.items():
        if not shares:
            raise AccordError(f"rake: target for {var!r} has no categories")
        bad = {c: s for c, s in shares.items() if not s >= 0}
        if bad:
            raise AccordError(f"rake: target for {var!r} has negative shares {bad}")
        total = sum(shares.values())
        if abs(total - 1.0) > 1e-6:
            raise AccordError(f"rake: target shares for {var!r} sum to {total:.6g}, "
                              "they must sum to 1")
    ids = [pid for pid, d in demographics.items() if all(v in d for v in targets)]
    unweighted = sorted(pid for pid in demographics if pid not in set(ids))
    if not ids:
        raise AccordError(f"rake: no participant answered every targeted variable "
                          f"{sorted(targets)}")
    codes: dict[str, np.ndarray] = {}
    for var, shares in targets.items():
        cats = list(shares)
        index = {c: i for i, c in enumerate(cats)}
        col = np.empty(len(ids), dtype=np.int64)
        for k, pid in enumerate(ids):
            cat = demographics[pid][var]
            if cat not in index:
                raise AccordError(f"rake: participant {pid} has {var}={cat!r}, which is not "
                                  f"among the target categories {cats}")
            col[k] = index[cat]
        present = np.bincount(col, minlength=len(cats))
        empty = [c for c in cats if shares[c] > 0 and present[index[c]] == 0]
        if empty:
            raise AccordError(f"rake: impossible target for {var!r}: categories {empty} "
                              "have a positive target share but no participant")
        codes[var] = col
    target_arrays = {v: np.array(list(s.values()), dtype=float) for v, s in targets.items()}
    w = np.ones(len(ids))
    err = np.inf
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - reported
        for var, col in codes.items():
            share = np.bincount(col, weights=w, minlength=len(target_arrays[var])) / w.sum()
            ratio = np.divide(target_arrays[var], share, out=np.zeros_like(share),
                              where=share > 0)
            w = w * ratio[col]
        err = max(float(np.abs(np.bincount(col, weights=w, minlength=len(target_arrays[v]))
                               / w.sum() - target_arrays[v]).max())
                  for v, col in codes.items())
        if err <= tol:
            break
    else:
        raise AccordError(f"rake: margins did not converge in {max_iter} passes (largest "
                          f"error {err:.3g}); the targets cannot all be met by this sample")
    w = w / w.mean()
    weights = {pid: float(x) for pid, x in zip(ids, w, strict=True)}
    weights.update(dict.fromkeys(unweighted, 1.0))
    return RakingResult(weights, it, err, unweighted)
