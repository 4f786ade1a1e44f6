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
    # Clamp rounding noise so k == 0 gives exactly 0 and k == n exactly 1.
    return max(0.0, centre - half), min(1.0, centre + half)
