"""BG/BB: beta-geometric / beta-binomial model of discrete purchase opportunities.

Fader, Hardie & Shang (2010). Transactions can occur only at discrete opportunities (a yearly
fund drive, an annual event). While "alive", a customer transacts at each opportunity with
probability ``p ~ Beta(alpha, beta)``; at the start of each opportunity a living customer becomes
inactive for good with probability ``theta ~ Beta(gamma, delta)``. Data per customer: ``x``
repeat transactions in the ``n`` opportunities after the first (trial) one, the last of them at
opportunity ``t_x`` (``t_x = 0`` when ``x = 0``), so ``0 <= x <= t_x <= n``.

References
----------
Fader, P. S., Hardie, B. G. S., & Shang, J. (2010). Customer-base analysis in a discrete-time
noncontractual setting. *Marketing Science*, 29(6), 1086-1108. Equation numbers below refer to
this paper.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, exprel, gammaln, hyp2f1

PARAM_NAMES = ("alpha", "beta", "gamma", "delta")
RATE_PARAMS = ()  # opportunities are counted, not timed: no parameter carries a time unit
_STIRLING_FROM = 15.0  # _lgamma_diff uses Stirling's series from this argument on
_STIRLING_TAIL = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188)  # B_2k / (2k (2k-1)), k = 1..5


def _arrays(*values):
    return np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in values))


def _log_term(params, x, m, dead):
    """Log-probability of a history that stays alive through ``m`` opportunities with ``x``
    transactions in them, then (``dead = 1``) drops out at opportunity ``m + 1`` or (``dead =
    0``) is still alive: ``B(a+x, b+m-x)/B(a,b) * B(g+dead, d+m)/B(g,d)``, the terms of eq. (5)."""
    alpha, beta, gamma, delta = params
    return (betaln(alpha + x, beta + m - x) - betaln(alpha, beta)
            + betaln(gamma + dead, delta + m) - betaln(gamma, delta))


def _log_term_grad(params, x, m, dead):
    """Gradient of :func:`_log_term` with respect to ``(alpha, beta, gamma, delta)``, last axis."""
    alpha, beta, gamma, delta = params
    psi_ab, psi_abm = digamma(alpha + beta), digamma(alpha + beta + m)
    psi_gd, psi_gdm = digamma(gamma + delta), digamma(gamma + delta + m + dead)
    return np.stack([
        digamma(alpha + x) - psi_abm - digamma(alpha) + psi_ab,
        digamma(beta + m - x) - psi_abm - digamma(beta) + psi_ab,
        digamma(gamma + dead) - psi_gdm - digamma(gamma) + psi_gd,
        digamma(delta + m) - psi_gdm - digamma(delta) + psi_gd,
    ], axis=-1)


def _terms(x, t_x, n):
    """The terms of eq. (5) as ``(m, dead, mask)``: alive through ``n``, then for ``i = 0, 1, ...``
    dropped out at ``t_x + i + 1 <= n``. The loop runs over opportunities, never customers."""
    yield n, 0.0, None
    for i in range(int(np.max(n - t_x, initial=0))):
        yield t_x + i, 1.0, (n - t_x - 1) >= i


def loglik(params, x, t_x, n):
    """Per-customer log-likelihood of BG/BB, eq. (5), evaluated in log space.

    Parameters
    ----------
    params : sequence of float
        ``(alpha, beta, gamma, delta)``, all positive.
    x, t_x, n : array_like
        Repeat transactions, opportunity of the last one (0 without any) and number of
        opportunities observed after the trial opportunity; ``0 <= x <= t_x <= n``.

    Returns
    -------
    numpy.ndarray
        ``log L_i`` for each customer (broadcast shape of the inputs).
    """
    x, t_x, n = _arrays(x, t_x, n)
    total = np.full(x.shape, -np.inf)
    for m, dead, mask in _terms(x, t_x, n):
        term = _log_term(params, x, m, dead)
        total = np.logaddexp(total, term if mask is None else np.where(mask, term, -np.inf))
    return total


def _loglik_and_grad(params, x, t_x, n):
    """:func:`loglik` and its gradient; each term's gradient weighted by its share of ``L``."""
    x, t_x, n = _arrays(x, t_x, n)
    total = loglik(params, x, t_x, n)
    grad = np.zeros(x.shape + (4,))
    for m, dead, mask in _terms(x, t_x, n):
        share = np.exp(_log_term(params, x, m, dead) - total)
        if mask is not None:
            share = np.where(mask, share, 0.0)
        grad += share[..., None] * _log_term_grad(params, x, m, dead)
    return total, grad


def loglik_grad(params, x, t_x, n):
    """Analytic gradient of :func:`loglik` with respect to ``(alpha, beta, gamma, delta)``.

    ``L`` is a sum of products of beta-function ratios (eq. 5), so
    ``d log L = sum_k (L_k / L) d log L_k`` with ``d log B(a, b) / da = psi(a) - psi(a + b)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_rows, 4)``: one row of partial derivatives per customer.
    """
    return _loglik_and_grad(params, x, t_x, n)[1]


def make_objective(x, t_x, n, *, weights):
    """Fused ``sum(w * loglik)`` and its gradient for fitting (one pass over the terms).

    Returns ``f(params) -> (total, gradient)``; equals ``weights @ loglik`` and
    ``weights @ loglik_grad``.
    """
    x, t_x, n, w = _arrays(x, t_x, n, weights)

    def total(params):
        ll, grad = _loglik_and_grad(params, x, t_x, n)
        return w @ ll, w @ grad

    return total


def probability_alive(params, x, t_x, n, *, ahead=1):
    """P(alive at opportunity ``n + ahead`` | x, t_x, n); ``ahead = 1`` is eq. (11).

    ``ahead = 0`` gives the probability of having survived the last observed opportunity.
    """
    alpha, beta, gamma, delta = params
    x, t_x, n = _arrays(x, t_x, n)
    log_alive = (betaln(alpha + x, beta + n - x) - betaln(alpha, beta)
                 + betaln(gamma, delta + n + ahead) - betaln(gamma, delta))
    return np.exp(log_alive - loglik(params, x, t_x, n))


def _lgamma_diff(z, h):
    """``lnG(z + h) - lnG(z)`` for ``z > 0``, ``z + h > 0``, accurate also for tiny ``h``.

    The plain difference of ``gammaln`` loses ``log10(lnG(z) / |h|)`` digits. Instead the
    recurrence ``lnG(w + 1) = lnG(w) + ln w`` moves both arguments to ``w >= 15``, where five
    terms of Stirling's series are accurate to double precision; every piece is then ``O(h)`` (``log1p``, and the series
    tail as ``(u - v) sum_i u^i v^(p-1-i)`` with ``u - v = -h u v``). Checked against mpmath to
    about 1e-15 in absolute terms.
    """
    z = np.asarray(z, dtype=float)
    steps = np.ceil(np.maximum(_STIRLING_FROM - np.minimum(z, z + h), 0.0))
    shifted = np.zeros(z.shape)
    for j in range(int(steps.max(initial=0))):
        shifted = shifted + np.where(j < steps, np.log1p(h / (z + j)), 0.0)
    w = z + steps
    u, v = 1 / (w + h), 1 / w
    tail = sum(c * sum(u**i * v ** (2 * k - 2 - i) for i in range(2 * k - 1))
               for k, c in enumerate(_STIRLING_TAIL, start=1))
    stirling = (w - 0.5) * np.log1p(h / w) + h * np.log(w + h) - h - h * u * v * tail
    return stirling - shifted


def _sum_future_alive(gamma, delta, n, n_star):
    """``sum_{k=1}^{n*} B(gamma, delta+n+k) / B(gamma, delta)``: expected future opportunities
    alive, the dropout part of eq. (13).

    Telescoping gives ``G(g+d)/G(d) (e^{-D(n)} - e^{-D(n+n*)}) / (gamma - 1)`` with
    ``D(m) = lnG(g+d+m) - lnG(1+d+m)`` (:func:`_lgamma_diff`), the paper's form. Written as
    ``G(g+d)/G(d) e^{-D(n)} s exprel(-h s)`` with ``h = gamma - 1`` and
    ``s = (D(n+n*) - D(n)) / h`` (``psi(1+d+n+n*) - psi(1+d+n)`` at ``h = 0``), it is finite and
    accurate at and near ``gamma = 1``.
    """
    h = gamma - 1.0
    now = _lgamma_diff(1 + delta + n, h)
    if h == 0:
        s = digamma(1 + delta + n + n_star) - digamma(1 + delta + n)
    else:
        s = (_lgamma_diff(1 + delta + n + n_star, h) - now) / h
    return np.exp(gammaln(gamma + delta) - gammaln(delta) - now) * s * exprel(-h * s)


def expected_purchases(params, n_star, x, t_x, n):
    """Expected transactions in the next ``n_star`` opportunities given the history, eq. (13).

    ``E = B(a+x+1, b+n-x)/B(a,b) * sum_{k=1}^{n*} B(g, d+n+k)/B(g,d) / L(x, t_x, n)``; the sum
    is evaluated in closed form (see :func:`_sum_future_alive`, also at ``gamma = 1``).

    Parameters
    ----------
    params : sequence of float
        ``(alpha, beta, gamma, delta)``.
    n_star : float or array_like
        Number of future opportunities; broadcast against the customer arrays (a column
        ``n_star[:, None]`` gives one row per horizon).
    x, t_x, n : array_like
        Customer histories.
    """
    alpha, beta, gamma, delta = params
    x, t_x, n = _arrays(x, t_x, n)
    log_rate = betaln(alpha + x + 1, beta + n - x) - betaln(alpha, beta) - loglik(params, x, t_x, n)
    return np.exp(log_rate) * _sum_future_alive(gamma, delta, n, np.asarray(n_star, dtype=float))


def expected_purchases_new_customer(params, n):
    """Expected repeat transactions in the first ``n`` opportunities after the trial, eq. (8):
    ``alpha/(alpha+beta) * delta/(gamma-1) * (1 - G(g+d) G(1+d+n) / (G(g+d+n) G(1+d)))``."""
    return expected_purchases(params, n, 0.0, 0.0, 0.0)


def DERT(params, x, t_x, n, discount_rate):
    """DERT: present value of all future expected transactions, eq. (14).

    ``DERT(d) = B(a+x+1, b+n-x)/B(a,b) * B(g, d+n+1)/B(g,d) / (1 + d)
    * 2F1(1, delta+n+1; gamma+delta+n+1; 1/(1+d)) / L(x, t_x, n)``, i.e.
    ``sum_{k>=1} P(transaction at n+k | history) / (1 + d)^k``.

    Parameters
    ----------
    discount_rate : float or array_like
        Discount rate per opportunity (0.1 for 10 % a year with yearly opportunities); positive.
    """
    alpha, beta, gamma, delta = params
    x, t_x, n = _arrays(x, t_x, n)
    d = np.asarray(discount_rate, dtype=float)
    log_front = (betaln(alpha + x + 1, beta + n - x) - betaln(alpha, beta)
                 + betaln(gamma, delta + n + 1) - betaln(gamma, delta)
                 - np.log1p(d) - loglik(params, x, t_x, n))
    series = hyp2f1(1.0, delta + n + 1, gamma + delta + n + 1, 1.0 / (1.0 + d))
    return np.exp(log_front) * series


def simulate(params, n_customers, n_periods, *, rng):
    """Draw ``(x, t_x, n)`` for ``n_customers`` customers, each observed for ``n_periods``
    opportunities after the trial one.

    Each customer draws ``p ~ Beta(alpha, beta)`` and ``theta ~ Beta(gamma, delta)``; at every
    opportunity a living customer first drops out with probability ``theta`` and, if still alive,
    transacts with probability ``p`` (the story behind eq. 5). The loop runs over opportunities.

    Parameters
    ----------
    params : sequence of float
        ``(alpha, beta, gamma, delta)``.
    n_customers : int
        Number of customers.
    n_periods : int or array_like
        Opportunities observed after the trial, one value or one per customer.
    rng : numpy.random.Generator
        Source of randomness (pass a seeded generator for reproducibility).

    Returns
    -------
    dict of numpy.ndarray
        ``x``, ``t_x`` and ``n``.
    """
    alpha, beta, gamma, delta = params
    n = np.broadcast_to(np.asarray(n_periods, dtype=np.int64), (n_customers,))
    p = rng.beta(alpha, beta, size=n_customers)
    theta = rng.beta(gamma, delta, size=n_customers)
    alive = np.ones(n_customers, dtype=bool)
    x = np.zeros(n_customers, dtype=np.int64)
    t_x = np.zeros(n_customers, dtype=np.int64)
    for t in range(1, int(n.max(initial=0)) + 1):
        observed = t <= n
        alive &= ~(observed & (rng.random(n_customers) < theta))
        buys = observed & alive & (rng.random(n_customers) < p)
        x += buys
        t_x = np.where(buys, t, t_x)
    return {"x": x.astype(float), "t_x": t_x.astype(float), "n": n.astype(float)}


def log_probability_of_purchases(params, n, x):
    """``log P(X(n) = x)``: a new customer makes ``x`` repeat transactions in the first ``n``
    opportunities after the trial, eq. (7).

    ``P(X(n) = x) = C(n, x) B(a+x, b+n-x)/B(a,b) B(g, d+n)/B(g,d)
    + sum_{i=x}^{n-1} C(i, x) B(a+x, b+i-x)/B(a,b) B(g+1, d+i)/B(g,d)``: alive through all ``n``
    opportunities with ``x`` transactions among them, or alive through ``i`` of them (with ``x``
    transactions) and dropped out at opportunity ``i + 1``. Each term is the ``_log_term`` of
    eq. (5) times the number of purchase strings it stands for. Summed in log space; the loop
    runs over opportunities, never customers. ``-inf`` where ``x > n``.

    Parameters
    ----------
    params : sequence of float
        ``(alpha, beta, gamma, delta)``.
    n : int or array_like
        Opportunities after the trial (whole, ``>= 0``).
    x : int or array_like
        Repeat transactions (whole, ``>= 0``); broadcast against ``n``.

    Returns
    -------
    numpy.ndarray
        ``log P(X(n) = x)`` in the broadcast shape of ``n`` and ``x``.
    """
    n, x = _arrays(n, x)
    if np.any(n < 0) or np.any(x < 0) or np.any(n != np.round(n)) or np.any(x != np.round(x)):
        raise ValueError("n and x must be whole numbers >= 0 (opportunities and repeat transactions).")
    possible = x <= n
    m = np.where(possible, n, x)  # keeps every argument valid where x > n (set to -inf below)

    def log_choose(a, b):
        return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

    total = log_choose(m, x) + _log_term(params, x, m, 0.0)
    for i in range(int(np.max(n, initial=0))):
        use = possible & (i >= x) & (i < n)
        i_safe = np.where(use, float(i), x)
        term = log_choose(i_safe, x) + _log_term(params, x, i_safe, 1.0)
        total = np.logaddexp(total, np.where(use, term, -np.inf))
    return np.where(possible, total, -np.inf)


def probability_of_purchases(params, n, x):
    """``P(X(n) = x)``, eq. (7); see :func:`log_probability_of_purchases`.

    Examples
    --------
    With ``alpha = beta = gamma = delta = 1`` (``p`` and ``theta`` uniform), two opportunities:
    ``P(X(2) = 2) = E[p^2] E[(1-theta)^2] = 1/9``, ``P(X(2) = 1) = 2 E[p(1-p)] E[(1-theta)^2]
    + E[p] E[theta(1-theta)] = 1/9 + 1/12`` and ``P(X(2) = 0) = 25/36``:

    >>> import numpy as np
    >>> from clvmodels.likelihoods.bgbb import probability_of_purchases
    >>> p = probability_of_purchases((1, 1, 1, 1), 2, np.arange(3))
    >>> np.allclose(p * 36, [25, 7, 4])
    True
    """
    return np.exp(log_probability_of_purchases(params, n, x))
