"""The beta distribution's CDF and quantile, for the Jeffreys confidence bound of a sampled
probability (docs/audit.md). Pure Python, so the audit needs no scientific library beyond numpy.

The regularised incomplete beta function I_x(a, b) is evaluated by its continued fraction (modified
Lentz's method), on the side of the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction
converges fast; the quantile is found by bisection on [0, 1], which cannot fail to converge because
the CDF is monotone, and is exact to the last few bits of a double.
"""

from __future__ import annotations

import math

_TINY = 1e-300
_EPSILON = 1e-16
_MAX_TERMS = 100_000


def _continued_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of I_x(a, b) (without its prefactor), by modified Lentz."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    result = d
    for m in range(1, _MAX_TERMS):
        # Even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
        numerator = m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m))
        d = 1.0 + numerator * d
        c = 1.0 + numerator / c
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = c if abs(c) > _TINY else _TINY
        result *= d * c
        # Odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
        numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0))
        d = 1.0 + numerator * d
        c = 1.0 + numerator / c
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = c if abs(c) > _TINY else _TINY
        step = d * c
        result *= step
        if abs(step - 1.0) < _EPSILON:
            return result
    raise ArithmeticError(f"incomplete beta did not converge (x={x}, a={a}, b={b})")


def regularized_incomplete_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b): the CDF at x of the Beta(a, b) distribution (a, b > 0)."""
    if a <= 0 or b <= 0:
        raise ValueError(f"Beta parameters must be positive, got a={a}, b={b}")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _continued_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _continued_fraction(1.0 - x, b, a) / b


def beta_quantile(q: float, a: float, b: float) -> float:
    """The x in [0, 1] with I_x(a, b) = q, by bisection to the precision of a double."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"a quantile needs 0 <= q <= 1, got {q}")
    if q == 0.0:
        return 0.0
    if q == 1.0:
        return 1.0
    low, high = 0.0, 1.0
    while True:
        middle = 0.5 * (low + high)
        if middle in (low, high):
            return middle
        if regularized_incomplete_beta(middle, a, b) < q:
            low = middle
        else:
            high = middle


def jeffreys_upper(successes: int, trials: int, level: float = 0.99) -> float:
    """The one-sided upper Jeffreys bound of a binomial proportion: the ``level`` quantile of
    Beta(x + 1/2, n - x + 1/2) (1 when every trial succeeded, as is conventional)."""
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1, got {successes}/{trials}")
    if successes == trials:
        return 1.0
    return beta_quantile(level, successes + 0.5, trials - successes + 0.5)
