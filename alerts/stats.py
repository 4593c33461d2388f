"""Count-distribution tails (Poisson, negative binomial, binomial) in pure Python, accurate far into the tails."""

from __future__ import annotations

import math
from statistics import NormalDist

_EPS = 1e-15
_TINY = 1e-300
_MAX_IT = 500
_NORMAL = NormalDist()


def _gamma_series(a: float, x: float) -> float:
    """Regularised lower incomplete gamma P(a, x) by its series (x < a + 1)."""
    term = total = 1.0 / a
    ap = a
    for _ in range(_MAX_IT):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_cf(a: float, x: float) -> float:
    """Regularised upper incomplete gamma Q(a, x) by its continued fraction (x >= a + 1)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_IT):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def gamma_p(a: float, x: float) -> float:
    """Regularised lower incomplete gamma P(a, x)."""
    if x <= 0:
        return 0.0
    return _gamma_series(a, x) if x < a + 1.0 else 1.0 - _gamma_cf(a, x)


def gamma_q(a: float, x: float) -> float:
    """Regularised upper incomplete gamma Q(a, x) = 1 - P(a, x), without cancellation."""
    if x <= 0:
        return 1.0
    return 1.0 - _gamma_series(a, x) if x < a + 1.0 else _gamma_cf(a, x)


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1.0 / d
    h = d
    for m in range(1, _MAX_IT):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def beta_i(x: float, a: float, b: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_cf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_cf(b, a, 1.0 - x) / b


def _beta_i_upper(x: float, a: float, b: float) -> float:
    """1 - I_x(a, b) computed as I_{1-x}(b, a), without cancellation."""
    return beta_i(1.0 - x, b, a)


# --- Poisson / negative binomial -------------------------------------------------------------------------------

#: Below this over-dispersion the negative binomial is replaced by the Poisson (numerically identical).
MIN_DISPERSION = 1e-4


def count_pmf(y: float, mu: float, phi: float) -> float:
    """P(Y = y) for a negative binomial with mean mu and variance mu + phi*mu^2 (Poisson when phi ~ 0)."""
    if mu <= 0:
        return 1.0 if y == 0 else 0.0
    if phi < MIN_DISPERSION:
        return math.exp(-mu + y * math.log(mu) - math.lgamma(y + 1.0))
    r = 1.0 / phi
    return math.exp(
        math.lgamma(y + r)
        - math.lgamma(r)
        - math.lgamma(y + 1.0)
        + r * math.log(r / (r + mu))
        + y * math.log(mu / (r + mu))
    )


def count_sf(y: float, mu: float, phi: float) -> float:
    """Upper tail P(Y >= y)."""
    if y <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    if phi < MIN_DISPERSION:
        return gamma_p(y, mu)
    r = 1.0 / phi
    return _beta_i_upper(r / (r + mu), r, y)


def count_cdf(y: float, mu: float, phi: float) -> float:
    """Lower tail P(Y <= y)."""
    if y < 0:
        return 0.0
    if mu <= 0:
        return 1.0
    if phi < MIN_DISPERSION:
        return gamma_q(y + 1.0, mu)
    r = 1.0 / phi
    return beta_i(r / (r + mu), r, y + 1.0)


# --- binomial (real-valued n allows an over-dispersion correction) ---------------------------------------------


def binom_pmf(k: float, n: float, p: float) -> float:
    """P(K = k) for a binomial with (possibly non-integer) size n."""
    if p <= 0:
        return 1.0 if k == 0 else 0.0
    if p >= 1:
        return 1.0 if k == n else 0.0
    if k < 0 or k > n:
        return 0.0
    return math.exp(
        math.lgamma(n + 1.0)
        - math.lgamma(k + 1.0)
        - math.lgamma(n - k + 1.0)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def binom_sf(k: float, n: float, p: float) -> float:
    """P(K >= k)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return beta_i(p, k, n - k + 1.0)


def binom_cdf(k: float, n: float, p: float) -> float:
    """P(K <= k)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return beta_i(1.0 - p, n - k, k + 1.0)


# --- residuals ----------------------------------------------------------------------------------------------------

Z_LIMIT = 8.0


def mid_p_z(lower: float, upper: float, pmf: float) -> float:
    """Normal quantile residual from mid-p tails (Dunn & Smyth): about N(0, 1) when the model holds."""
    mid_lo = max(lower - 0.5 * pmf, 0.0)
    mid_hi = max(upper - 0.5 * pmf, 0.0)
    if mid_lo < mid_hi:
        z = _NORMAL.inv_cdf(min(max(mid_lo, 1e-300), 0.5)) if mid_lo > 0 else -Z_LIMIT
    else:
        z = -_NORMAL.inv_cdf(min(max(mid_hi, 1e-300), 0.5)) if mid_hi > 0 else Z_LIMIT
    return max(-Z_LIMIT, min(Z_LIMIT, z))


def surprise(p: float) -> float:
    """-log10 of a tail probability (0 for p >= 1, capped at 300)."""
    if p >= 1.0:
        return 0.0
    if p <= 1e-300:
        return 300.0
    return -math.log10(p)
