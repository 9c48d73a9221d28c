"""The summary each kind of model needs, and one row of scores per customer.

- continuous-time purchase models (bgnbd, pareto_nbd, mbgnbd), optionally with a spend model:
  RFM summary; P(alive), churn, expected purchases per horizon, expected spend and CLV;
- discrete-opportunity models (bgbb): discrete summary per ``summary.period``; P(alive), churn,
  expected transactions per horizon (in periods) and DERT;
- subscription models (sbg): tenures per contract period; expected remaining lifetime, DERL and,
  with amounts, CLV (DERL times the customer's mean payment per period).

Interval columns (``<column>_lower`` / ``<column>_upper``) come from parameter uncertainty when
``predictions.intervals`` is set. A Bayesian model (a posterior from :mod:`clvmodels.bayes`) scores
the same columns as posterior means over every draw, always with equal-tailed credible bounds at
``predictions.intervals.ci_level`` (0.9 when ``intervals`` is not set; its ``n_draws`` and
``seed`` apply to the MLE draws only), churn included, and CLV from joint draws of the two posteriors.

:func:`score_chunks` scores a summary a chunk of customers at a time and hands each chunk to a
writer, so memory stays bounded by the chunk size whatever the number of customers. Each chunk
depends only on its own customers and the fitted parameters (interval draws are seeded per call),
so chunking never changes a number.
"""

from __future__ import annotations

import pandas as pd

from ..clv import customer_lifetime_value
from ..data import discrete_summary, retention_summary, rfm_summary
from ..uncertainty import clv_interval, prediction_interval

DEFAULT_HORIZONS = {"purchase": [52.0], "discrete_purchase": [1.0, 5.0]}
DEFAULT_PERIOD = {"discrete_purchase": "Y", "retention": "M"}


def summarise(transactions: pd.DataFrame, config, kind: str, *, end=None) -> pd.DataFrame:
    """The customer summary for a model of ``kind`` from the configured transactions, observed up
    to ``end`` (default ``summary.observation_period_end``)."""
    inp, s = config.input, config.summary
    common = {"customer_id_col": inp.customer_id, "datetime_col": inp.datetime,
              "observation_period_end": end if end is not None else s.observation_period_end, "datetime_format": inp.datetime_format,
              "on_invalid": inp.on_invalid}
    if kind == "purchase":
        return rfm_summary(transactions, monetary_value_col=inp.monetary_value, freq=s.freq,
                           time_unit=s.time_unit, **common)
    period = s.period or DEFAULT_PERIOD[kind]
    if kind == "discrete_purchase":
        return discrete_summary(transactions, period=period, **common)
    return retention_summary(transactions, period=period, monetary_value_col=inp.monetary_value, **common)


class _Scores:
    """Columns of the score table, each with its interval when intervals are configured."""

    def __init__(self, summary: pd.DataFrame, columns, intervals):
        self.frame = summary[[c for c in columns if c in summary]].copy()
        self.intervals = intervals
        self.options = {} if intervals is None else {"ci_level": intervals.ci_level, "n_draws": intervals.n_draws,
                                                     "random_state": intervals.seed}

    def add(self, column: str, values, band=None) -> None:
        self.frame[column] = values
        if band is not None:
            self.frame[f"{column}_lower"], self.frame[f"{column}_upper"] = band.iloc[:, 1], band.iloc[:, 2]

    def interval(self, model, method: str, summary, *args):
        return None if self.intervals is None else prediction_interval(model, method, summary, *args, **self.options)


def infinite_by_model(customer_model) -> dict[str, str]:
    """Score columns whose ``+inf`` values are the model's own answer, with the reason: with an sBG
    ``alpha <= 1`` the expected remaining lifetime diverges (its discounted value, DERL, does not)."""
    if customer_model.kind == "retention" and not hasattr(customer_model, "posterior_draws") \
            and customer_model.params_["alpha"] <= 1:
        return {"expected_remaining_lifetime": (
            f"sbg's alpha = {customer_model.params_['alpha']:.4g} <= 1: the mean remaining lifetime of an active "
            "customer is infinite (heavy-tailed retention); use derl (discounted, finite) for value")}
    return {}


def score(summary: pd.DataFrame, customer_model, spend_model, predictions) -> pd.DataFrame:
    """One row per customer with the predictions of the model's kind (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        The customer id as a column, the summary's columns, then the predictions.
    """
    kind = customer_model.kind
    if hasattr(customer_model, "posterior_draws"):
        return _score_posterior(summary, customer_model, spend_model, predictions)
    if kind == "retention":
        return _score_retention(summary, customer_model, predictions)
    scores = _Scores(summary, ("frequency", "recency", "T", "n_periods", "monetary_value"), predictions.intervals)
    scores.add("p_alive", customer_model.probability_alive(summary),
               scores.interval(customer_model, "probability_alive", summary))
    scores.frame["churn_probability"] = 1 - scores.frame["p_alive"]
    unit = (summary.attrs.get("time_unit") or "").lower()
    for h in predictions.horizons or DEFAULT_HORIZONS[kind]:
        scores.add(f"expected_purchases_{h:g}{unit}", customer_model.expected_purchases(summary, h),
                   scores.interval(customer_model, "expected_purchases", summary, h))
    c = predictions.clv
    if kind == "discrete_purchase":
        scores.add("dert", customer_model.discounted_expected_residual_transactions(summary, c.discount_rate),
                   scores.interval(customer_model, "discounted_expected_residual_transactions", summary,
                                   c.discount_rate))
    elif spend_model is not None:
        scores.add("expected_spend", spend_model.expected_spend(summary),
                   scores.interval(spend_model, "expected_spend", summary))
        clv_opts = {"horizon_months": c.horizon_months, "discount_rate": c.discount_rate, "margin": c.margin}
        band = None if predictions.intervals is None else clv_interval(customer_model, spend_model, summary,
                                                                       **scores.options, **clv_opts)
        scores.add("clv", customer_lifetime_value(customer_model, spend_model, summary, **clv_opts), band)
    return scores.frame.reset_index()


def score_chunks(summary: pd.DataFrame, customer_model, spend_model, predictions, write, *,
                 chunk_size: int, progress=None) -> int:
    """Score ``summary`` ``chunk_size`` customers at a time, passing each score table to ``write``.

    Returns
    -------
    int
        The number of customers scored.
    """
    done = 0
    for start in range(0, len(summary), chunk_size):
        part = summary.iloc[start:start + chunk_size]
        write(score(part, customer_model, spend_model, predictions))
        done += len(part)
        if progress is not None:
            progress.update(len(part))
    return done


def _score_posterior(summary, customer_model, spend_model, predictions) -> pd.DataFrame:
    """Posterior means with credible bounds; each comes from the model's own prediction method."""
    from ..bayes import customer_lifetime_value as posterior_clv

    level = 0.9 if predictions.intervals is None else predictions.intervals.ci_level
    frame = summary[[c for c in ("frequency", "recency", "T", "monetary_value") if c in summary]].copy()

    def add(column, table):
        frame[column] = table["mean"]
        frame[f"{column}_lower"], frame[f"{column}_upper"] = table.iloc[:, 2], table.iloc[:, 3]

    add("p_alive", customer_model.probability_alive(summary, ci_level=level))
    frame["churn_probability"] = 1 - frame["p_alive"]
    frame["churn_probability_lower"] = 1 - frame["p_alive_upper"]
    frame["churn_probability_upper"] = 1 - frame["p_alive_lower"]
    unit = (summary.attrs.get("time_unit") or "").lower()
    for h in predictions.horizons or DEFAULT_HORIZONS["purchase"]:
        add(f"expected_purchases_{h:g}{unit}", customer_model.expected_purchases(summary, h, ci_level=level))
    if spend_model is not None:
        c = predictions.clv
        add("expected_spend", spend_model.expected_spend(summary, ci_level=level))
        add("clv", posterior_clv(customer_model, spend_model, summary, horizon_months=c.horizon_months,
                                 discount_rate=c.discount_rate, margin=c.margin, ci_level=level))
    return frame.reset_index()


def _score_retention(summary, model, predictions) -> pd.DataFrame:
    scores = _Scores(summary, ("tenure", "churned", "monetary_value"), predictions.intervals)
    c = predictions.clv
    scores.add("expected_remaining_lifetime", model.expected_remaining_lifetime(summary))
    band = scores.interval(model, "discounted_expected_residual_lifetime", summary, c.discount_rate)
    scores.add("derl", model.discounted_expected_residual_lifetime(summary, c.discount_rate), band)
    if "monetary_value" in summary:
        value = c.margin * summary["monetary_value"].to_numpy()
        scores.add("clv", scores.frame["derl"] * value, None if band is None else band.mul(value, axis=0))
    return scores.frame.reset_index()
