"""Wilson intervals, checked against values worked out by hand."""

from __future__ import annotations

import pytest

from accord.audit import wilson


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    # 5/10: centre 0.5, half-width 1.96·sqrt(0.025 + 0.009604)/1.38416 = 0.26340
    (5, 10, 0.23659, 0.76341),
    # 0/10: centre = half = (1.96²/20)/1.38416 = 0.13877, so [0, 0.27753]
    (0, 10, 0.0, 0.27753),
    (10, 10, 0.72247, 1.0),
    # 1/3: denom 1 + 3.8416/3 = 2.28053, centre 0.42692, half-width 0.36543
    (1, 3, 0.06149, 0.79235),
])
def test_wilson_matches_hand_computed_values(k, n, low, high):
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_no_observations_say_nothing():
    assert wilson(0, 0) == (0.0, 1.0)


def test_a_wider_z_gives_a_wider_interval():
    narrow, wide = wilson(30, 100, z=1.0), wilson(30, 100, z=2.576)
    assert wide[0] < narrow[0] < 0.3 < narrow[1] < wide[1]


@pytest.mark.parametrize(("k", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_impossible_counts_are_rejected(k, n):
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson(k, n)


def test_the_value_always_lies_inside_its_interval():
    # k = 0 with n = 22 once gave a low bound of 1.4e-17 above p = 0, which broke the
    # ablation's error bars (matplotlib refuses negative error lengths).
    for n in range(1, 400):
        for k in (0, 1, n // 2, n - 1, n):
            low, high = wilson(k, n)
            assert 0.0 <= low <= k / n <= high <= 1.0, (k, n, low, high)
        assert wilson(0, n)[0] == 0.0 and wilson(n, n)[1] == 1.0
