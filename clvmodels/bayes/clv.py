"""Posterior of discounted CLV from a Bayesian purchase model and a Bayesian spend model.

For each posterior draw ``s`` the purchase parameters ``theta_s`` and the spend parameters
``phi_s`` give one CLV per customer,

``CLV_is = margin * E[spend_i | phi_s] * sum_{k=1..H} (E[X_i(k m) | theta_s] - E[X_i((k-1) m) | theta_s]) / (1 + d)^k``,

the formula of :func:`clvmodels.customer_lifetime_value`. The mean, sd and interval over ``s``
therefore carry the uncertainty of both models. The two are fitted separately; under the
Gamma-Gamma assumption (spend independent of the purchase process) with independent priors their
joint posterior is the product of the two, so pairing draw ``s`` of one with draw ``s`` of the
other (after a random choice of draws from each) is a draw from the joint posterior.

How it is computed
------------------
The expensive part is the expected purchases at ``H`` month boundaries. Under every purchase model
here the future of a customer known to be alive at ``T`` depends on the history through
``(x, T)`` only (given alive, the posterior of the purchase and dropout rates does not involve
``t_x``), so

``E[X(t) | x, t_x, T] = P(alive | x, t_x, T) * E[X(t) | alive, x, T]``

(eq. 10 of Fader, Hardie & Lee 2005 has exactly this form for BG/NBD). The second factor is
``E[X(t) | x, T, T] / P(alive | x, T, T)`` (the history with ``t_x = T``). It is analytic in
``log t`` and ``log T``, so it is evaluated per draw at a few Chebyshev points along both and
interpolated to the month boundaries and to the data's ``(x, T)`` pairs
(:mod:`clvmodels.bayes._horizons`; equal to direct evaluation to about 1e-14). Each distinct
customer row then costs one P(alive) and one expected spend per draw. 200,000 customers over
120 months with 2,000 draws take seconds, not the hours of a month-by-month loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _checks
from ..clv import MONTH_LENGTH
from ..likelihoods import gamma_gamma
from . import _horizons, _predict


def _month_length(purchase_model, data, month_length):
    if month_length is not None:
        return float(month_length)
    unit = getattr(purchase_model, "time_unit_", None) or data.attrs.get("time_unit")
    if unit not in MONTH_LENGTH:
        raise ValueError("The time unit of the purchase model is unknown, so months cannot be converted: "
                         "fit it on a summary from clvmodels.rfm_summary, or give month_length= explicitly "
                         f"(got unit {unit!r}).")
    return MONTH_LENGTH[unit]


def _joint_draws(purchase_model, spend_model, n_draws, random_state) -> tuple[np.ndarray, int]:
    """Paired draws ``[purchase params | spend params]`` and the number of purchase parameters."""
    purchase = purchase_model.posterior_draws().to_numpy()
    spend = spend_model.posterior_draws().to_numpy()
    n = min(len(purchase), len(spend)) if n_draws is None else _checks.draw_count(n_draws)
    if n < 1 or n > min(len(purchase), len(spend)):
        raise ValueError(f"n_draws must be between 1 and {min(len(purchase), len(spend))} (the smaller "
                         f"posterior), got {n_draws!r}.")
    rng = np.random.default_rng(random_state)
    pick_p = rng.choice(len(purchase), n, replace=False)
    pick_s = rng.choice(len(spend), n, replace=False)
    return np.hstack([purchase[pick_p], spend[pick_s]]), purchase.shape[1]


def _draw_by_draw(func):
    """``func`` for maths that takes scalar parameters, evaluated per draw and stacked on the
    second-last axis, where broadcasting maths puts the draws (``(S, m)`` or ``(t, S, m)``)."""
    def looped(params, *args):
        return np.concatenate([np.atleast_2d(func(tuple(p[s, 0] for p in params), *args))
                               for s in range(len(params[0]))], axis=-2)

    return looped


def _month_weights(horizon_months: int, discount_rate: float) -> np.ndarray:
    """``c`` with ``sum_k d^k (F_k - F_(k-1)) = sum_k c_k F_k`` for cumulative ``F`` (``F_0 = 0``)."""
    discount = (1 + discount_rate) ** -np.arange(1, horizon_months + 2, dtype=float)
    discount[-1] = 0.0
    return discount[:-1] - discount[1:]


class _Plan:
    """How one call evaluates its draws: distinct rows, their ``(x, T)`` pairs and the two grids.

    The costly maths runs at the grid's points only (:mod:`clvmodels.bayes._horizons`); each block
    of pairs is then read by its customers' distinct rows, in chunks of about
    :data:`~clvmodels.bayes._predict.CHUNK_CELLS` numbers.
    """

    def __init__(self, purchase_model, draws, k, unique, horizon_months, month, groups):
        self.k, self.unique = k, unique
        maths = purchase_model.maths
        self.expected_purchases, self.probability_alive = maths.expected_purchases, maths.probability_alive
        if not purchase_model.broadcasts_draws:
            self.expected_purchases = _draw_by_draw(self.expected_purchases)
            self.probability_alive = _draw_by_draw(self.probability_alive)
        rates = [purchase_model.param_names.index(name) for name in purchase_model.mle_class.rate_params]
        shift = float(draws[:, rates].min())  # the singularities in T lie at or below -shift
        pairs, self.pair_codes = _predict.distinct({"frequency": unique["frequency"], "T": unique["T"]})
        self.times = _horizons.TimeGrid.for_months(horizon_months, month, shift + float(pairs["T"].min()))
        n_times = len(self.times.times)
        self.grid = _horizons.PairGrid.for_pairs(pairs["frequency"], pairs["T"], shift,
                                                 max(1, _predict.CHUNK_CELLS // (len(draws) * n_times)))
        self.by_pair = np.argsort(self.pair_codes, kind="stable")
        self.bounds = np.searchsorted(self.pair_codes[self.by_pair], np.arange(len(pairs["T"]) + 1))
        self.draws, self.groups = draws, groups

    def cumulative_given_alive(self, params, c):
        """``E[X(t) | alive, x, T]`` at the grid's times for the points ``c``: ``(S, times, points)``."""
        x, T = c["frequency"], c["T"]
        purchases = self.expected_purchases(params[:self.k], self.times.times[:, None, None], x, T, T)
        return np.moveaxis(purchases, 0, 1) / self.probability_alive(params[:self.k], x, T, T)[:, None, :]

    def row_factor(self, margin):
        """Per distinct row and draw, the CLV's other factors: ``margin * E[spend] * P(alive)``."""
        def per_row(params, c):
            alive = self.probability_alive(params[:self.k], c["frequency"], c["recency"], c["T"])
            return margin * gamma_gamma.expected_spend(params[self.k:], c["frequency"], c["monetary_value"]) * alive

        return per_row

    def blocks(self, at_times, per_row):
        """``(rows, row_values (S, r), pair_values (S, ..., r))`` over all distinct rows.

        ``at_times`` maps the cumulative values at the grid's times ``(S, times, points)`` to what
        the caller needs per point (e.g. ``(S, points)`` for the discounted sum); those are
        interpolated to the pairs and handed out with the rows that read them.
        """
        def per_point(params, c):
            return at_times(self.cumulative_given_alive(params, c))

        evaluate_points, _ = _predict._evaluator(per_point, self.draws, self.groups)
        evaluate_rows, _ = _predict._evaluator(per_row, self.draws, self.groups)
        grid = self.grid
        for pairs, points, weights in grid.blocks:
            at_points = evaluate_points({"frequency": grid.frequency[points], "T": grid.T[points]})
            step = max(1, _predict.CHUNK_CELLS // (at_points.size // at_points.shape[-1]))
            for p0 in range(pairs.start, pairs.stop, step):
                p1 = min(p0 + step, pairs.stop)
                at_pairs = np.tensordot(at_points, weights[p0 - pairs.start:p1 - pairs.start], axes=(-1, 1))
                members = self.by_pair[self.bounds[p0]:self.bounds[p1]]
                for r0 in range(0, len(members), step):
                    rows = members[r0:r0 + step]
                    yield (rows, evaluate_rows({c: v[rows] for c, v in self.unique.items()}),
                           at_pairs[..., self.pair_codes[rows] - p0])


def _prepare(purchase_model, spend_model, data, *, horizon_months, discount_rate, month_length, n_draws,
             random_state, margin=1.0):
    """Checked inputs: ``(frame, codes, plan)`` (``codes``: each customer's distinct row)."""
    horizon_months, discount_rate, _, month_length = _checks.clv_arguments(
        horizon_months, discount_rate, margin, month_length)
    purchase_model._require_fitted()
    spend_model._require_fitted()
    if not hasattr(purchase_model, "broadcasts_draws"):
        raise TypeError(f"purchase_model must be a Bayesian continuous-time purchase model (BayesBetaGeoModel, "
                        f"BayesModifiedBetaGeoModel or BayesParetoNBDModel), got {type(purchase_model).__name__}.")
    frame, columns = purchase_model._prediction_columns(data)
    _, spend_columns = spend_model._prediction_columns(data)
    # expected spend ignores monetary_value where frequency == 0: zero it so those customers
    # share distinct histories with their purchase twins
    columns["monetary_value"] = np.where(columns["frequency"] > 0, spend_columns["monetary_value"], 0.0)
    seed = purchase_model.random_seed if random_state is None else random_state
    draws, k = _joint_draws(purchase_model, spend_model, n_draws, seed)
    unique, codes = _predict.distinct(columns)
    plan = _Plan(purchase_model, draws, k, unique, int(horizon_months),
                 _month_length(purchase_model, frame, month_length), purchase_model._slow_draws(draws[:, :k]))
    return frame, codes, plan


def customer_lifetime_value(purchase_model, spend_model, data: pd.DataFrame, *, horizon_months: int = 12,
                            discount_rate: float = 0.01, margin: float = 1.0, month_length: float | None = None,
                            ci_level: float | None = None, n_draws: int | None = None, random_state=None,
                            return_draws: bool = False, max_cells: int | None = None) -> pd.DataFrame:
    """Posterior mean, sd and credible interval of each customer's discounted CLV.

    Parameters
    ----------
    purchase_model : fitted Bayesian purchase model (e.g. :class:`~clvmodels.bayes.BayesBetaGeoModel`)
    spend_model : fitted :class:`~clvmodels.bayes.BayesGammaGammaModel`
    data : pandas.DataFrame
        Summary with ``frequency``, ``recency``, ``T`` and ``monetary_value``.
    horizon_months, discount_rate, margin, month_length
        As for :func:`clvmodels.customer_lifetime_value`.
    ci_level : float, optional
        Probability of the equal-tailed interval (default: the purchase model's ``ci_level``).
    n_draws : int, optional
        Joint draws to use (default: as many as the smaller posterior has).
    random_state : int, optional
        Seed of the choice and pairing of draws (default: the purchase model's ``random_seed``).
    return_draws : bool, default False
        Return every draw (rows) for every customer (columns) instead of the summary; meant for
        a subset of customers (at most ``max_cells`` values, 50 million by default).

    Returns
    -------
    pandas.DataFrame
        ``mean``, ``sd``, ``lower``/``upper`` per customer, indexed like ``data``.

    See Also
    --------
    value_stream : the expected value month by month.
    """
    frame, codes, plan = _prepare(purchase_model, spend_model, data, horizon_months=horizon_months,
                                  discount_rate=discount_rate, month_length=month_length, n_draws=n_draws,
                                  random_state=random_state, margin=margin)
    weights = _month_weights(int(horizon_months), discount_rate) @ plan.times.to_months

    def discounted(cumulative):  # (S, times, points) -> (S, points)
        return np.tensordot(cumulative, weights, axes=(1, 0))

    blocks = plan.blocks(discounted, plan.row_factor(margin))
    m = len(plan.pair_codes)
    if return_draws:
        _predict.check_draw_cells(len(plan.draws), len(codes), max_cells)
        _, order = _predict._evaluator(None, plan.draws, plan.groups)
        values = np.empty((len(plan.draws), m))
        for rows, factor, per_pair in blocks:
            values[np.ix_(order, rows)] = factor * per_pair
        return pd.DataFrame(values[:, codes], columns=frame.index)
    level = purchase_model.ci_level if ci_level is None else ci_level
    stats = _predict.Summary(m, level)
    for rows, factor, per_pair in blocks:
        stats.add(rows, factor * per_pair)
    return stats.table(codes, index=frame.index, name="clv", n_draws=len(plan.draws))


def value_stream(purchase_model, spend_model, data: pd.DataFrame, *, months: int = 12,
                 discount_rate: float = 0.01, margin: float = 1.0, month_length: float | None = None,
                 n_draws: int | None = None, random_state=None) -> pd.DataFrame:
    """Posterior mean of each customer's (discounted) value in each of the next ``months`` months.

    The value in month ``k`` is ``margin * E[spend] * (E[X(k m)] - E[X((k-1) m)]) / (1 + d)^k``
    averaged over the same joint draws as :func:`customer_lifetime_value`, so a row sums to that
    customer's posterior-mean CLV over ``months`` (with ``discount_rate=0``: undiscounted value).

    Parameters
    ----------
    purchase_model, spend_model, data, discount_rate, margin, month_length, n_draws, random_state
        As for :func:`customer_lifetime_value`.
    months : int, default 12
        Number of months.

    Returns
    -------
    pandas.DataFrame
        One row per customer (indexed like ``data``), one column per month ``1 .. months``.
    """
    frame, codes, plan = _prepare(purchase_model, spend_model, data, horizon_months=months,
                                  discount_rate=discount_rate, month_length=month_length, n_draws=n_draws,
                                  random_state=random_state, margin=margin)
    discount = (1 + discount_rate) ** -np.arange(1, int(months) + 1, dtype=float)
    increments = np.diff(plan.times.to_months, axis=0, prepend=0.0) * discount[:, None]  # months x times
    means = np.empty((len(plan.pair_codes), int(months)))
    n = len(plan.draws)
    for rows, factor, per_pair in plan.blocks(lambda cumulative: cumulative, plan.row_factor(margin)):
        # per_pair: (S, times, rows); the draws' mean of factor * value before mapping to months
        means[rows] = np.einsum("sr,str->rt", factor, per_pair) @ increments.T / n
    return pd.DataFrame(means[codes], index=frame.index, columns=pd.RangeIndex(1, int(months) + 1, name="month"))
