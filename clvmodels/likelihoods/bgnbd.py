"""BG/NBD: beta-geometric / negative-binomial purchase model (Fader, Hardie & Lee 2005).

A customer buys at rate ``lambda ~ Gamma(r, alpha)`` while alive and, after each repeat purchase,
drops out with probability ``p ~ Beta(a, b)``. Data per customer: ``x`` repeat purchases, the time
``t_x`` of the last one and the length ``T`` of the observation window, all measured from the
first purchase.

References
----------
Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284. Equation numbers below
refer to this paper.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from ._unique import on_unique_pairs
from ._nbd import nbd_log_pmf, nbd_tail

PARAM_NAMES = ("r", "alpha", "a", "b")
RATE_PARAMS = ("alpha",)  # scale with the time unit
_A_NEAR_ONE = 1e-3  # expected_purchases interpolates across its removable singularity at a = 1


def _log_terms(params, x, t_x, T):
    """The two log-components of the likelihood (eq. 6): alive at ``T`` / dead after ``t_x``."""
    r, alpha, a, b = params
    repeat = x > 0
    x1 = np.where(repeat, x, 1.0)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = common + betaln(a, b + x) - (r + x) * np.log(alpha + T)
    dead = common + betaln(a + 1, b + x1 - 1) - (r + x) * np.log(alpha + t_x)
    return alive, np.where(repeat, dead, -np.inf)


def loglik(params, x, t_x, T):
    """Per-customer log-likelihood of BG/NBD, eq. (6), evaluated in log space.

    Parameters
    ----------
    params : sequence of float
        ``(r, alpha, a, b)``, all positive.
    x, t_x, T : array_like
        Repeat purchases, time of the last purchase and length of the observation window.

    Returns
    -------
    numpy.ndarray
        ``log L_i`` for each customer (broadcast shape of the inputs).
    """
    alive, dead = _log_terms(params, x, t_x, T)
    return np.logaddexp(alive, dead)


def loglik_grad(params, x, t_x, T):
    """Analytic gradient of :func:`loglik` with respect to ``(r, alpha, a, b)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 4)``: one row of partial derivatives per customer.
    """
    r, alpha, a, b = params
    x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, t_x, T)))
    alive, dead = _log_terms(params, x, t_x, T)
    total = np.logaddexp(alive, dead)
    w_alive, w_dead = np.exp(alive - total), np.exp(dead - total)
    repeat = x > 0
    x1 = np.where(repeat, x, 1.0)
    log_aT, log_at = np.log(alpha + T), np.log(alpha + t_x)

    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w_alive * log_aT - w_dead * log_at
    d_alpha = r / alpha - (r + x) * (w_alive / (alpha + T) + w_dead / (alpha + t_x))
    psi_ab, psi_abx = digamma(a + b), digamma(a + b + x)
    d_a = w_alive * (psi_ab - psi_abx) + w_dead * (digamma(a + 1) - digamma(a) + psi_ab - psi_abx)
    base_b = psi_ab - psi_abx - digamma(b)
    d_b = w_alive * (digamma(b + x) + base_b) + w_dead * (digamma(b + x1 - 1) + base_b)
    return np.stack([d_r, d_alpha, d_a, d_b], axis=-1)


def probability_alive(params, x, t_x, T):
    """P(customer still alive at ``T`` | x, t_x, T), eq. (A10) of the paper's technical note.

    Customers without repeat purchases cannot have dropped out under BG/NBD, so get 1.
    """
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)
    x1 = np.where(x > 0, x, 1.0)
    # log((alpha + T) / (alpha + t_x)) as log1p: one logarithm instead of two, and exact where t_x = T
    log_odds_dead = np.log(a / (b + x1 - 1)) + (r + x) * np.log1p((T - t_x) / (alpha + t_x))
    with np.errstate(over="ignore"):  # exp overflows to inf where death is certain: P(alive) = 0
        alive = 1.0 / (1.0 + np.exp(log_odds_dead))
    return np.where(x > 0, alive, 1.0)


def _hyp2f1(A, B, C, z):
    """``scipy.special.hyp2f1`` guarded against its failure when ``C - A - B`` is a large integer.

    SciPy (checked with 1.17) returns ``inf`` or ``nan`` for ``z > 0.9`` when ``C - A - B`` is an
    integer of about 98 or more; in :func:`expected_purchases` that happens for heavy buyers
    whenever ``r - a`` is a whole number. There the function is smooth in ``A``, so the mean of the
    values at ``A -+ 1e-8 max(1, |A|)`` stands in for it (error ``O(1e-16)``, checked against mpmath).
    """
    value = hyp2f1(A, B, C, z)
    bad = ~np.isfinite(value)
    if np.any(bad):
        step = 1e-8 * np.maximum(1.0, np.abs(A))
        value = np.where(bad, 0.5 * (hyp2f1(A + step, B, C, z) + hyp2f1(A - step, B, C, z)), value)
    return value


def _growth(a, shift, c_offset, z):
    """``(1 - (1-z)^(a-1) 2F1(a-1+shift, a-1; a+c_offset; z)) / (a - 1)``, continuous at ``a = 1``.

    The expected-purchase formulas of BG/NBD and MBG/NBD are this factor after Euler's
    transformation. It has a removable singularity at ``a = 1`` (``0/0``); for ``|a - 1| < 1e-3``
    it is interpolated by a cubic through ``a - 1 = -2e-3, -1e-3, 1e-3, 2e-3``, where the direct
    formula is still accurate (about 1e-10 against mpmath).
    """
    def direct(a_, shift_, c_, z_):
        tail = np.exp((a_ - 1) * np.log1p(-z_)) * _hyp2f1(a_ - 1 + shift_, a_ - 1, a_ + c_, z_)
        return (1 - tail) / (a_ - 1)

    a, shift, c_offset, z = np.broadcast_arrays(np.asarray(a, dtype=float), shift, c_offset, z)
    near = np.abs(a - 1) < _A_NEAR_ONE
    factor = np.array(direct(np.where(near, 1 + _A_NEAR_ONE, a), shift, c_offset, z), dtype=float)
    if np.any(near):  # cubic (Lagrange) interpolation through a - 1 = -2h, -h, h, 2h, only where needed
        a_n, shift_n, c_n, z_n = a[near], shift[near], c_offset[near], z[near]
        nodes = _A_NEAR_ONE * np.array([-2.0, -1.0, 1.0, 2.0])
        interpolated = 0.0
        for k, node in enumerate(nodes):
            weight = 1.0
            for other in np.delete(nodes, k):
                weight = weight * (a_n - 1 - other) / (node - other)
            interpolated = interpolated + weight * direct(1 + node, shift_n, c_n, z_n)
        factor[near] = interpolated
    return factor


def expected_purchases(params, t, x, t_x, T):
    """Expected purchases in ``(T, T + t]`` given the history, eq. (10).

    The Gauss hypergeometric term is evaluated after Euler's transformation,
    ``(1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``,
    whose series converges fast even for heavy buyers (large ``x``). It depends on ``(x, T)``
    only, so it is computed once per distinct pair. See :func:`_growth` for ``a`` near 1.

    Parameters
    ----------
    params : sequence of float
        ``(r, alpha, a, b)``.
    t : float or array_like
        Horizon(s) in the data's time unit; broadcast against the customer arrays (a column
        ``t[:, None]`` gives one row per horizon).
    x, t_x, T : array_like
        Customer histories.
    """
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)

    def growth(x_, T_):
        return (a + b + x_ - 1) * _growth(a, b - r, b + x_ - 1, t / (alpha + T_ + t))

    return on_unique_pairs(growth, x, T) * probability_alive(params, x, t_x, T)


def expected_purchases_new_customer(params, t):
    """Expected purchases in ``(0, t]`` by a customer just acquired, eq. (9)."""
    return expected_purchases(params, t, 0.0, 0.0, 0.0)


def simulate(params, T, *, rng):
    """Draw ``(x, t_x)`` for customers observed for ``T`` after their first purchase.

    Each customer draws ``lambda`` and ``p``; the number of repeat purchases allowed before dropout
    is geometric, the purchase count in ``(0, T]`` Poisson, and the time of the last observed
    purchase the matching uniform order statistic.

    Parameters
    ----------
    params : sequence of float
        ``(r, alpha, a, b)``.
    T : array_like
        Observation length per customer.
    rng : numpy.random.Generator
        Source of randomness (pass a seeded generator for reproducibility).

    Returns
    -------
    dict of numpy.ndarray
        ``x``, ``t_x`` and ``T``.
    """
    return _simulate(params, T, rng=rng, dropout_at_first_purchase=False)


def _simulate(params, T, *, rng, dropout_at_first_purchase):
    """Shared by BG/NBD and MBG/NBD: the dropout coin is tossed after each repeat purchase, and
    also at the first purchase when ``dropout_at_first_purchase``."""
    r, alpha, a, b = params
    T = np.asarray(T, dtype=float)
    lam = rng.gamma(r, 1.0 / alpha, size=T.shape)
    p = rng.beta(a, b, size=T.shape)
    purchases_before_dropout = rng.geometric(p) - int(dropout_at_first_purchase)
    arrivals = rng.poisson(lam * T)
    x = np.minimum(purchases_before_dropout, arrivals)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(arrivals - x, 0) + 1), 0.0)
    return {"x": x.astype(float), "t_x": t_x, "T": T}


def make_objective(x, t_x, T, *, weights):
    """Fused ``sum(w * loglik)`` and its gradient for fitting, with data-only work done once.

    Eq. (6) is ``L = A (1 + [x > 0] odds)``, with the "alive" part
    ``log A = log G(r+x) - log G(r) + r log(alpha) + log B(a, b+x) - log B(a, b) - (r+x) log(alpha+T)``
    and ``odds = a / (b+x-1) * ((alpha+T) / (alpha+t_x))^(r+x)`` (dead after ``t_x`` over alive
    at ``T``). Every gamma, beta and digamma term depends on ``x`` alone and every
    ``log(alpha+T)`` on ``T`` alone, so the ``log A`` part of the total and of the gradient is a
    sum over the distinct ``x`` and the distinct ``T`` with the weights summed per value once, at
    construction. Per row only the repeat customers' ``log1p(odds)`` remains: one ``log``, one
    ``exp`` and one ``log1p`` per row, with the per-``x`` factor spread over rows sorted by ``x``
    (``np.repeat``) and the per-``x`` gradient sums taken by ``np.add.reduceat``. Where ``odds``
    overflows (log-odds above 709, far from any fitted point), the row terms are recomputed with
    ``logaddexp``.

    Returns ``f(params) -> (total, gradient)``; equals ``weights @ loglik`` and
    ``weights @ loglik_grad`` (tested to 1e-10).
    """
    return fused_objective(x, t_x, T, weights, first_purchase_dropout=False)


def fused_objective(x, t_x, T, weights, *, first_purchase_dropout: bool):
    """:func:`make_objective` for BG/NBD, or with ``first_purchase_dropout`` for MBG/NBD.

    MBG/NBD (:mod:`clvmodels.likelihoods.mbgnbd`) lets a customer drop out at every purchase
    including the first: its likelihood is BG/NBD's with ``b + x`` in place of ``b + x - 1`` in
    the beta function and the odds (``shift = 1`` below), and the dropout term for every customer,
    not only the repeat ones.
    """
    shift = 1.0 if first_purchase_dropout else 0.0
    x, t_x, T, w = (np.asarray(v, dtype=float) for v in (x, t_x, T, weights))
    ux, cx = np.unique(x, return_inverse=True)
    uT, cT = np.unique(T, return_inverse=True)
    w_x = np.bincount(cx.ravel(), weights=w, minlength=len(ux))
    w_T = np.bincount(cT.ravel(), weights=w, minlength=len(uT))
    wx_T = np.bincount(cT.ravel(), weights=w * x, minlength=len(uT))
    total_w = w.sum()
    # customers who may have dropped out (BG/NBD: the repeat ones), sorted by x, so that a per-x
    # value is one run of rows
    rep = np.flatnonzero(x + shift > 0)
    rep = rep[np.argsort(x[rep], kind="stable")]
    x1, T1, t1, w1 = x[rep], T[rep], t_x[rep], w[rep]
    ux1, run = np.unique(x1, return_counts=True)
    starts = np.concatenate([[0], np.cumsum(run)[:-1]]).astype(np.intp)
    elapsed = T1 - t1

    def total(params):
        r, alpha, a, b = params
        log_aT = np.log(alpha + uT)
        alive_x = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + betaln(a, b + ux + shift) - betaln(a, b)
        base_a = digamma(a + b) - digamma(a + b + ux + shift)
        rw_T = r * w_T + wx_T  # sum of w (r + x) per distinct T
        ll = w_x @ alive_x - rw_T @ log_aT
        grad = np.array([
            w_x @ (digamma(r + ux) - digamma(r) + np.log(alpha)) - w_T @ log_aT,
            total_w * r / alpha - rw_T @ (1.0 / (alpha + uT)),
            w_x @ base_a,
            w_x @ (digamma(b + ux + shift) + base_a - digamma(b)),
        ])
        if len(x1) == 0:
            return ll, grad
        A, B = alpha + T1, alpha + t1
        gap = np.log(A / B)
        rx = r + x1
        log_odds = np.repeat(np.log(a) - np.log(b + ux1 - 1 + shift), run) + rx * gap
        with np.errstate(over="ignore"):
            odds = np.exp(log_odds)
        ll_rep = w1 @ np.log1p(odds)
        if np.isfinite(ll_rep):
            dead = w1 * (odds / (1.0 + odds))  # weight x P(dropped out after t_x | history)
        else:
            softplus = np.logaddexp(0.0, log_odds)
            ll_rep = w1 @ softplus
            dead = w1 * np.exp(log_odds - softplus)
        dead_x = np.add.reduceat(dead, starts)
        ll += ll_rep
        grad += np.array([
            dead @ gap,
            -(dead * rx) @ (elapsed / (A * B)),
            (digamma(a + 1) - digamma(a)) * dead_x.sum(),
            dead_x @ (digamma(b + ux1 - 1 + shift) - digamma(b + ux1 + shift)),
        ])
        return ll, grad

    return total


def make_row_objective(x, t_x, T, *, weights):
    """``f(params) -> (sum of w * loglik, per-row gradient)`` with per-row parameters (covariates).

    ``params = (r, alpha, a, b)`` where ``alpha`` and ``a`` may be arrays with one value per row
    (:func:`clvmodels.likelihoods.links.row_objective`). The same algebra as :func:`make_objective`
    (eq. 6 as ``log A + log1p(odds)``): the terms in ``x`` alone (``log G(r+x)``, ``digamma(r+x)``,
    and those in ``a`` and ``b`` when ``a`` is one number) are tabulated per distinct ``x``; per row
    remain three logarithms, one ``exp`` and one ``log1p``, instead of the separate passes of
    :func:`loglik` and :func:`loglik_grad`. The gradient is per row and unweighted, as
    :func:`loglik_grad` returns it (tested against it).
    """
    return fused_row_objective(x, t_x, T, weights, first_purchase_dropout=False)


def fused_row_objective(x, t_x, T, weights, *, first_purchase_dropout: bool):
    """:func:`make_row_objective` for BG/NBD, or with ``first_purchase_dropout`` for MBG/NBD."""
    shift = 1.0 if first_purchase_dropout else 0.0
    x, t_x, T, w = (np.asarray(v, dtype=float) for v in (x, t_x, T, weights))
    ux, cx = np.unique(x, return_inverse=True)
    cx = cx.ravel()
    may_die = ((x + shift) > 0).astype(float)  # BG/NBD: customers without repeat purchases cannot
    ux1 = np.where(ux + shift > 0, ux, 1.0 - shift)  # b + x1 - 1 + shift > 0 for every x
    elapsed = T - t_x

    def total(params):
        r, alpha, a, b = params
        alpha, a = np.asarray(alpha, dtype=float), np.asarray(a, dtype=float)
        rx = r + x
        log_alpha, log_aT = np.log(alpha), np.log(alpha + T)
        gap = log_aT - np.log(alpha + t_x)
        if a.ndim == 0:  # one a: its terms per distinct x
            alive_x = gammaln(r + ux) - gammaln(r) + betaln(a, b + ux + shift) - betaln(a, b)
            d_a_alive = (digamma(a + b) - digamma(a + b + ux + shift))[cx]
            log_A = alive_x[cx]
            log_odds = (np.log(a) - np.log(b + ux1 - 1 + shift))[cx] + rx * gap
        else:
            d_a_alive = digamma(a + b) - digamma(a + b + x + shift)
            log_A = (gammaln(r + ux) - gammaln(r))[cx] + betaln(a, b + x + shift) - betaln(a, b)
            log_odds = np.log(a) - np.log(b + ux1 - 1 + shift)[cx] + rx * gap
        log_A += r * log_alpha - rx * log_aT
        with np.errstate(over="ignore"):
            odds = np.exp(log_odds) * may_die
        softplus = np.log1p(odds)
        if np.all(np.isfinite(softplus)):
            dead = odds / (1.0 + odds)  # P(dropped out after t_x | history); 0 where it cannot
        else:  # log-odds above 709, far from any fitted point
            softplus = np.logaddexp(0.0, log_odds) * may_die
            dead = np.exp(log_odds - np.logaddexp(0.0, log_odds)) * may_die
        ll = w @ (log_A + softplus)
        d_r = (digamma(r + ux) - digamma(r))[cx] + log_alpha - log_aT + dead * gap
        d_alpha = r / alpha - rx / (alpha + T) - dead * rx * elapsed / ((alpha + T) * (alpha + t_x))
        d_a = d_a_alive + dead / a
        d_b = ((digamma(b + ux + shift) - digamma(b))[cx] + d_a_alive
               + dead * (digamma(b + ux1 - 1 + shift) - digamma(b + ux1 + shift))[cx])
        return ll, np.stack(np.broadcast_arrays(d_r, d_alpha, d_a, d_b), axis=-1)

    return total


def probability_of_purchases(params, t, n):
    """P(X(t) = n): probability of exactly ``n`` repeat purchases in ``(0, t]``, eq. (8).

    ``B(a, b+n)/B(a, b) NBD(n; t) + [n > 0] B(a+1, b+n-1)/B(a, b) P(NBD(t) >= n)``: still alive
    after ``n`` purchases, or dropped out right after the ``n``-th one (which needs at least ``n``
    arrivals of the underlying Poisson process by ``t``). See :mod:`._nbd` for the NBD terms.

    Parameters
    ----------
    params : sequence of float
        ``(r, alpha, a, b)``.
    t : float or array_like
        Time since the first purchase.
    n : int or array_like
        Number of repeat purchases (whole, non-negative); broadcast against ``t``.

    Returns
    -------
    numpy.ndarray
        Probabilities, in the broadcast shape of ``t`` and ``n``.
    """
    r, alpha, a, b = params
    n = np.asarray(n, dtype=float)
    n1 = np.maximum(n, 1.0)
    log_b = betaln(a, b)
    alive = np.exp(betaln(a, b + n) - log_b + nbd_log_pmf(r, alpha, t, n))
    dead = np.exp(betaln(a + 1, b + n1 - 1) - log_b) * nbd_tail(r, alpha, t, n1)
    return alive + np.where(n > 0, dead, 0.0)
