"""sBG: shifted-beta-geometric model of contract renewals (Fader & Hardie 2007).

At the end of each contract period a customer who is still active cancels with probability
``theta`` (constant for the customer), so the renewal decision at which the customer leaves,
``T``, is geometric on ``1, 2, ...``; across customers ``theta ~ Beta(alpha, beta)``. The mixing
makes the cohort's retention rate rise with tenure: the customers most likely to cancel leave
first.

Data per customer: ``tenure``, the number of renewal decisions observed, and ``churned``, whether
the last of them was a cancellation. ``churned = 1`` means ``T = tenure``; ``churned = 0`` means
the customer renewed every time, ``T > tenure`` (right-censored). A customer in the first period,
before any renewal decision, has ``tenure = 0``.

Payments are made at the start of each period, so a customer with ``T = t`` pays ``t`` times.

References
----------
Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
Interactive Marketing*, 21(1), 76-90.

Fader, P. S., & Hardie, B. G. S. (2010). Customer-base valuation in a contractual setting: the
perils of ignoring heterogeneity. *Marketing Science*, 29(1), 85-93.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln, log_expit

PARAM_NAMES = ("alpha", "beta")
RATE_PARAMS = ()  # discrete time: nothing scales with a time unit


def _float(*arrays):
    return np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in arrays))


def log_lifetime_pmf(params, t):
    """``log P(T = t) = log B(alpha + 1, beta + t - 1) - log B(alpha, beta)`` for ``t >= 1``.

    The probability that a new customer cancels at renewal decision ``t`` (after paying for ``t``
    periods): the beta mixture of the geometric ``theta (1 - theta)^(t-1)``; Fader & Hardie (2007)
    compute it by the recursion of their eq. (7).
    """
    alpha, beta = params
    return betaln(alpha + 1, beta + np.asarray(t, dtype=float) - 1) - betaln(alpha, beta)


def log_survival(params, t):
    """``log S(t) = log P(T > t) = log B(alpha, beta + t) - log B(alpha, beta)`` for ``t >= 0``.

    The probability that a new customer renews at each of the first ``t`` renewal decisions
    (the beta mixture of ``(1 - theta)^t``)."""
    alpha, beta = params
    return betaln(alpha, beta + np.asarray(t, dtype=float)) - betaln(alpha, beta)


def loglik(params, tenure, churned):
    """Per-customer log-likelihood: ``log P(T = tenure)`` if churned, else ``log S(tenure)``.

    Summed with the counts of each row this is the cohort log-likelihood of Fader & Hardie (2007),
    ``sum_t n_t log P(T = t) + n_survivors log S(t_max)``, extended to customers observed for
    different numbers of periods.

    Parameters
    ----------
    params : sequence of float
        ``(alpha, beta)``, both positive.
    tenure : array_like
        Renewal decisions observed per customer (whole numbers; at least 1 where churned).
    churned : array_like
        1 if the last observed decision was a cancellation, 0 if the customer is still active.

    Returns
    -------
    numpy.ndarray
        ``log L_i`` per customer.
    """
    tenure, churned = _float(tenure, churned)
    gone = churned > 0
    t_gone = np.where(gone, tenure, 1.0)  # keeps beta + t - 1 > 0 in the unused branch
    return np.where(gone, log_lifetime_pmf(params, t_gone), log_survival(params, tenure))


def loglik_grad(params, tenure, churned):
    """Analytic gradient of :func:`loglik` with respect to ``(alpha, beta)``.

    From ``d/da log B(a, b) = psi(a) - psi(a + b)`` and ``d/db log B(a, b) = psi(b) - psi(a + b)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 2)``: one row of partial derivatives per customer.
    """
    alpha, beta = params
    tenure, churned = _float(tenure, churned)
    gone = churned > 0
    t_gone = np.where(gone, tenure, 1.0)
    # both branches are log B(a', b') - log B(alpha, beta) with a' + b' = alpha + beta + tenure
    common = digamma(alpha + beta) - digamma(alpha + beta + tenure)
    d_alpha = np.where(gone, 1.0 / alpha, 0.0) + common  # psi(alpha + 1) - psi(alpha) = 1 / alpha
    d_beta = np.where(gone, digamma(beta + t_gone - 1), digamma(beta + tenure)) - digamma(beta) + common
    return np.stack([d_alpha, d_beta], axis=-1)


def survival(params, t):
    """``S(t)``: share of a new cohort still active after ``t`` renewal decisions."""
    return np.exp(log_survival(params, t))


def lifetime_pmf(params, t):
    """``P(T = t)``: share of a new cohort that cancels at renewal decision ``t >= 1``."""
    return np.exp(log_lifetime_pmf(params, t))


def retention_rate(params, t):
    """``r_t = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)``, Fader & Hardie (2007)
    eq. (8): the share of the customers active in period ``t`` who renew at its end. It increases
    with ``t`` towards 1 (the sorting effect of heterogeneity)."""
    alpha, beta = params
    t = np.asarray(t, dtype=float)
    return (beta + t - 1) / (alpha + beta + t - 1)


def churn_rate(params, t):
    """``1 - r_t = alpha / (alpha + beta + t - 1)``: the share of the customers active in period
    ``t`` who cancel at its end (computed directly, without the cancellation of ``1 - r_t``)."""
    alpha, beta = params
    return alpha / (alpha + beta + np.asarray(t, dtype=float) - 1)


def expected_remaining_lifetime(params, tenure):
    """Expected number of further renewals of a customer active after ``tenure`` decisions.

    Given ``T > n``, ``theta ~ Beta(alpha, beta + n)`` and ``T - n`` is geometric, so
    ``E[T - n - 1 | T > n] = E[1 / theta] - 1 = (beta + n) / (alpha - 1)``; infinite for
    ``alpha <= 1`` (the heavy tail of very loyal customers). It is :func:`derl` at a zero discount
    rate, counting the payments still to come and not the one for the current period.
    """
    alpha, beta = params
    n = np.asarray(tenure, dtype=float)
    if alpha <= 1:
        return np.full(n.shape, np.inf)
    return (beta + n) / (alpha - 1)


_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188)  # log-gamma series, 1/x^(2k+1)


def _log_beta(a, b):
    """``log B(a, b)`` accurate to about 1e-15 absolute, also for one very large argument.

    ``scipy.special.betaln`` subtracts log-gammas of size ``b log b`` there and keeps only about
    1e-10 absolute (checked with SciPy 1.17 against mpmath). With ``big = max(a, b) >= 50``,
    ``log B = lgamma(small) - (lgamma(big + small) - lgamma(big))`` and the difference is taken
    term by term from Stirling's series, where nothing large cancels.
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    small, big = np.minimum(a, b), np.maximum(a, b)
    x, y = np.maximum(big, 50.0), np.maximum(big, 50.0) + small
    ratio = (x - 0.5) * np.log1p(small / x) + small * np.log(y) - small  # lgamma(y) - lgamma(x)
    for k, c in enumerate(_STIRLING):
        ratio = ratio + c * (y ** -(2 * k + 1) - x ** -(2 * k + 1))
    return np.where(big >= 50, gammaln(small) - ratio, betaln(a, b))


def _posterior_residual(alpha, beta_post, d):
    """``(1 + d) E[(1 - theta) / (theta + d)]`` for ``theta ~ Beta(alpha, beta_post)``, ``d > 0``.

    This is the series ``sum_k z^k B(alpha, beta_post + k + 1) / B(alpha, beta_post)``,
    ``z = 1 / (1 + d)``, that :func:`derl` needs. It is integrated by the trapezoidal rule on the
    log-odds scale ``y = logit(theta)``, where the integrand is smooth and unimodal with
    exponentially decaying tails, so the rule converges geometrically in the step: the singularities
    (the pole at ``theta = -d`` and the branch points of ``theta^alpha (1 - theta)^beta``) lie at
    ``Im y = pi``, and the growth of ``(1 - theta)^beta`` off the real axis leaves a strip of about
    ``pi / 2``, hence an error of about ``exp(-pi^2 / step)``; the step is ``min(0.25, sd / 2)`` with
    ``sd`` the width of the peak. The range covers the peak and a decay of more than ``exp(-45)``
    on the right; on the left it stops where ``theta`` is too small to matter except through
    ``theta^alpha`` (the heavy tail of small ``alpha``), and the grid is continued to ``-inf`` in
    closed form as the geometric series ``f(lo) (q + q^2 + ...)``, ``q = exp(-alpha * step)``.
    Agrees with 30-digit mpmath sums to about 1e-12 relative (``tests/test_sbg.py``).

    SciPy's ``hyp2f1`` is not used: on this series (checked with SciPy 1.17.1) it returns NaN for
    large ``beta + tenure`` or ``alpha`` and, for ``alpha = 1`` and small ``d``, wrong finite values.
    """
    b = np.asarray(beta_post, dtype=float)
    mode = np.log(alpha) - np.log(b)                      # log-odds of the mode of Beta(alpha, b)
    mode_g = np.log(alpha) - np.log1p(b)                  # ... of the integrand (extra factor 1 - theta)
    sd = np.sqrt(1 / alpha + 1 / b)                       # 1 / sqrt(curvature of the log-density at its mode)
    decay = 45 + np.log1p(1 / d) + np.log1p(alpha / b) + np.log1p(1 / alpha)
    cut = -39.2 - np.log(alpha + b + 2 + 1 / d)           # theta (alpha + b + 2 + 1/d) < 1e-17 below it
    lo = np.maximum(cut, mode - 2 * np.log(2) - np.maximum(mode, 0) - 2 * decay / alpha)
    hi = mode_g + 2 * np.log(2) + np.maximum(-mode_g, 0) + 90 / (b + 1)
    step_max = np.minimum(0.25, sd / 2)
    n = int(np.max(np.ceil((hi - lo) / step_max)))
    step = (hi - lo) / n
    y = lo[:, None] + step[:, None] * np.arange(n + 1)
    log_theta = log_expit(y)
    log_f = (alpha * log_theta + (b[:, None] + 1) * log_expit(-y) + np.log1p(d)
             - np.logaddexp(log_theta, np.log(d)) - _log_beta(alpha, b)[:, None])
    f = np.exp(log_f)
    q = alpha * step                                      # grid continued to -inf on exp(alpha * y):
    left_tail = f[:, 0] * np.exp(-q) / -np.expm1(-q)     # f(lo) (e^-q + e^-2q + ...)
    return step * (f.sum(axis=1) + left_tail)


def derl(params, tenure, discount_rate):
    """Discounted expected residual lifetime of a customer active after ``tenure`` decisions.

    Fader & Hardie (2010) eq. (6), for a customer who has made ``n - 1 = tenure`` renewals and is
    at the end of period ``n``, just before the next renewal decision::

        DERL = sum_{k >= 0} S(n + k) / S(n - 1) / (1 + d)^k
             = B(alpha, beta + n) / B(alpha, beta + n - 1)
               * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))

    Payments are at the start of each period: the first counted is the one made at that renewal
    (undiscounted, if the customer renews); the payment for the current period is already made and
    not counted. Multiply by the contract value for the residual lifetime value; divide by
    ``1 + d`` to value it one period earlier, at the start of the current period.

    The value equals ``(1 + d) E[(1 - theta) / (theta + d)]`` over the customer's posterior
    ``theta ~ Beta(alpha, beta + tenure)``, which is how it is computed (see
    :func:`_posterior_residual`), once per distinct tenure.

    Parameters
    ----------
    params : sequence of float
        ``(alpha, beta)``.
    tenure : array_like
        Renewals made so far (0 for a customer in the first period).
    discount_rate : float
        Discount rate per period, ``d >= 0``. At ``d = 0`` the value is
        :func:`expected_remaining_lifetime` (infinite for ``alpha <= 1``).
    """
    alpha, beta = params
    tenure = np.asarray(tenure, dtype=float)
    if discount_rate == 0:
        return expected_remaining_lifetime(params, tenure)
    if tenure.size == 0:
        return tenure.copy()
    distinct, codes = np.unique(tenure, return_inverse=True)
    return _posterior_residual(alpha, beta + distinct, float(discount_rate))[codes].reshape(tenure.shape)


def simulate(params, n, n_periods, *, rng):
    """Draw ``(tenure, churned)`` for ``n`` new customers each observed for ``n_periods`` decisions.

    Each customer draws ``theta ~ Beta(alpha, beta)`` and the cancelling decision ``T`` from the
    geometric distribution by inversion, ``T = ceil(log U / log(1 - theta))`` (in floating point,
    so tiny ``theta`` cannot overflow an integer); observation stops after ``n_periods``.

    Parameters
    ----------
    params : sequence of float
        ``(alpha, beta)``.
    n : int
        Number of customers.
    n_periods : int or array_like
        Renewal decisions observed per customer (broadcast to ``n``).
    rng : numpy.random.Generator
        Source of randomness (pass a seeded generator for reproducibility).

    Returns
    -------
    dict of numpy.ndarray
        ``tenure`` and ``churned`` (floats, whole numbers).
    """
    alpha, beta = params
    horizon = np.broadcast_to(np.asarray(n_periods, dtype=float), (n,))
    theta = rng.beta(alpha, beta, size=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        T = np.ceil(np.log(rng.uniform(size=n)) / np.log1p(-theta))
    T = np.where(np.isnan(T), 1.0, np.maximum(T, 1.0))  # NaN only for U = 0 and theta = 1
    churned = T <= horizon
    return {"tenure": np.where(churned, T, horizon), "churned": churned.astype(float)}
