"""The Wilson score interval for a binomial proportion."""

from __future__ import annotations

import math


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval for ``k`` successes out of ``n``.

    Unlike the normal ("Wald") interval it stays inside [0, 1] and keeps sensible width at
    0 or n successes, which is where a well-behaved model's unwanted rates live.

    Args:
        k: number of successes (0 <= k <= n).
        n: number of trials; ``n == 0`` gives the uninformative ``(0.0, 1.0)``.
        z: the normal quantile; 1.96 for a 95 % interval.

    Returns:
        ``(low, high)``.

    Raises:
        ValueError: ``k`` outside ``[0, n]`` or ``n`` negative.
    """
    if n < 0 or not 0 <= k <= max(n, 0):
        raise ValueError(f"wilson: need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # Rounding noise can put the bound on the wrong side of p (k = 0, n = 22 gave a low
    # of 1.4e-17 > p = 0): k == 0 gives exactly 0, k == n exactly 1, and p lies inside.
    low = 0.0 if k == 0 else min(p, max(0.0, centre - half))
    high = 1.0 if k == n else max(p, min(1.0, centre + half))
    return low, high
