"""Is a week-over-week change more than noise? An exact conditional test on two weekly counts.

If ads arrive as a Poisson process with the same rate in both weeks, then given the total ``n = current +
previous`` the current week's count is Binomial(n, 1/2). The two-sided exact p-value of that test (the
conditional binomial test for two Poisson counts) below ``ALPHA`` makes a change "clear"; otherwise the digest
says there is no clear change: 5 -> 7 (p = 0.77) is noise, 20 -> 45 (p = 0.002) is not.
"""

from __future__ import annotations

from scipy.stats import binomtest

ALPHA = 0.05


def change_p_value(current: int, previous: int) -> float:
    """Two-sided exact p-value for "the two weeks have the same rate" (1.0 when both are zero)."""
    total = current + previous
    if total == 0:
        return 1.0
    return float(binomtest(current, total, 0.5, alternative="two-sided").pvalue)


def is_clear_change(current: int, previous: int, alpha: float = ALPHA) -> bool:
    return current != previous and change_p_value(current, previous) < alpha
