"""MBG/NBD: the BG/NBD variant in which a customer may also drop out right after the first purchase.

Batislam, E. P., Denizel, M., & Filiztekin, A. (2007). Empirical validation and comparison of
models for customer base analysis. *International Journal of Research in Marketing*, 24(3),
201-209. Same data and parameters as BG/NBD; dropout is possible after every purchase including
the first, so ``P(alive) < 1`` even without repeat purchases.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln

from ._unique import on_unique_pairs
from .bgnbd import _growth, _simulate, fused_objective, fused_row_objective
from ._nbd import nbd_log_pmf, nbd_tail

PARAM_NAMES = ("r", "alpha", "a", "b")
RATE_PARAMS = ("alpha",)


def _log_odds_dead(params, x, t_x, T):
    r, alpha, a, b = params
    return np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))


def loglik(params, x, t_x, T):
    """Per-customer log-likelihood: alive at ``T`` or dead right after the purchase at ``t_x``.

    ``L = B(a, b+x+1)/B(a, b) Γ(r+x) α^r / (Γ(r) (α+T)^(r+x)) [1 + a/(b+x) ((α+T)/(α+t_x))^(r+x)]``.
    """
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)
    alive = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1) - betaln(a, b)
             - (r + x) * np.log(alpha + T))
    return alive + np.logaddexp(0.0, _log_odds_dead(params, x, t_x, T))


def loglik_grad(params, x, t_x, T):
    """Analytic gradient of :func:`loglik` with respect to ``(r, alpha, a, b)``; shape ``(n, 4)``."""
    r, alpha, a, b = params
    x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, t_x, T)))
    dead = expit(_log_odds_dead(params, x, t_x, T))  # P(dead | history)
    log_ratio = np.log(alpha + T) - np.log(alpha + t_x)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - np.log(alpha + T) + dead * log_ratio
    d_alpha = r / alpha - (r + x) / (alpha + T) + dead * (r + x) * (1 / (alpha + T) - 1 / (alpha + t_x))
    d_a = digamma(a + b) - digamma(a + b + x + 1) + dead / a
    d_b = digamma(b + x + 1) - digamma(a + b + x + 1) - digamma(b) + digamma(a + b) - dead / (b + x)
    return np.stack([d_r, d_alpha, d_a, d_b], axis=-1)


def make_objective(x, t_x, T, *, weights):
    """Fused ``sum(w * loglik)`` and its gradient for fitting: BG/NBD's tabulated objective
    (:func:`clvmodels.likelihoods.bgnbd.make_objective`) with the dropout at the first purchase.
    Equals ``weights @ loglik`` and ``weights @ loglik_grad`` (tested)."""
    return fused_objective(x, t_x, T, weights, first_purchase_dropout=True)


def make_row_objective(x, t_x, T, *, weights):
    """Fused ``sum(w * loglik)`` and per-row gradient with per-row ``alpha`` and ``a`` (covariates):
    :func:`clvmodels.likelihoods.bgnbd.make_row_objective` with the dropout at the first purchase."""
    return fused_row_objective(x, t_x, T, weights, first_purchase_dropout=True)


def probability_alive(params, x, t_x, T):
    """P(alive at ``T`` | history) = ``1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x))``."""
    return expit(-_log_odds_dead(params, np.asarray(x, dtype=float), t_x, T))


def expected_purchases(params, t, x, t_x, T):
    """Expected purchases in ``(T, T+t]`` given the history (Batislam et al. 2007, eq. 9).

    ``(a+b+x)/(a-1) [1 - ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; z)] P(alive)`` with
    ``z = t/(α+T+t)``, evaluated after Euler's transformation as in BG/NBD.
    """
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)

    def growth(x_, T_):
        return (a + b + x_) * _growth(a, b + 1 - r, b + x_, t / (alpha + T_ + t))

    return on_unique_pairs(growth, x, T) * probability_alive(params, x, t_x, T)


def expected_purchases_new_customer(params, t):
    """Expected purchases in ``(0, t]`` by a new customer: ``b/(a-1) [1 - (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))]``."""
    r, alpha, a, b = params
    t = np.asarray(t, dtype=float)
    return b * _growth(a, b + 1 - r, b, t / (alpha + t))


def simulate(params, T, *, rng):
    """Draw ``(x, t_x)`` for customers observed for ``T`` after their first purchase.

    As BG/NBD, but the dropout coin is also tossed at the first purchase: the number of repeat
    purchases allowed before dropout is geometric on ``{0, 1, ...}``.
    """
    return _simulate(params, T, rng=rng, dropout_at_first_purchase=True)


def probability_of_purchases(params, t, n):
    """P(X(t) = n): probability of exactly ``n`` repeat purchases in ``(0, t]``.

    ``B(a, b+n+1)/B(a, b) NBD(n; t) + B(a+1, b+n)/B(a, b) P(NBD(t) >= n)`` (Batislam et al. 2007):
    as BG/NBD, but the dropout coin is also tossed at the first purchase, so the second term (dropped
    out right after the ``n``-th purchase) exists for ``n = 0`` too, where it is ``a/(a+b)``.

    Parameters
    ----------
    params : sequence of float
        ``(r, alpha, a, b)``.
    t : float or array_like
        Time since the first purchase.
    n : int or array_like
        Number of repeat purchases (whole, non-negative); broadcast against ``t``.
    """
    r, alpha, a, b = params
    n = np.asarray(n, dtype=float)
    log_b = betaln(a, b)
    alive = np.exp(betaln(a, b + n + 1) - log_b + nbd_log_pmf(r, alpha, t, n))
    dead = np.exp(betaln(a + 1, b + n) - log_b) * nbd_tail(r, alpha, t, n)
    return alive + dead
