"""The rule-of-thumb CLV people compute by hand, beside the model's CLV.

``heuristic CLV = margin x average order value x purchase frequency x expected lifetime``, with

- average order value ``AOV = revenue / orders`` (one transaction row is one order);
- purchase frequency ``f = orders / active customer-periods``: orders per customer per period
  while active (with a single period of data this is the familiar ``orders / customers``);
- expected lifetime ``1 / churn rate`` periods, from the pooled churn rate of
  :func:`~clvmodels.kpis.retention_table`; with a horizon of ``H`` periods the expected number of
  active periods within it, ``sum_{k=1..H} (1 - c)^(k-1) = (1 - (1 - c)^H) / c``.

The rule assumes every customer is the average customer and churns at a constant rate. The model
CLV (``clv`` of the scores table) conditions on each customer's own history, is discounted and
usually covers a fixed horizon; compare with ``horizon_periods`` set to the same horizon (e.g. 12
with monthly periods for the batch runner's default 12-month CLV). Where the two disagree most,
per segment, the rule of thumb misleads most.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import activity, check_count, check_fraction, describe, normalise_period, read_transactions, \
    scores_frame, segment_labels
from .retention import period_counts, pooled_churn_rate

__all__ = ["heuristic_clv", "expected_lifetime"]


def expected_lifetime(churn_rate, horizon_periods: int | None = None):
    """Expected number of active periods under a constant churn rate ``c``: ``1 / c``, or within a
    horizon of ``H`` periods ``(1 - (1 - c)^H) / c`` (``H`` when ``c = 0``; infinite without one).

    Examples
    --------
    >>> float(expected_lifetime(0.05))  # a 5 % monthly churn: 20 months
    20.0
    >>> float(expected_lifetime(0.5, 2))  # 1 + 0.5
    1.5
    """
    c = np.asarray(churn_rate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if horizon_periods is None:
            return np.where(c > 0, 1 / c, np.where(c == 0, np.inf, np.nan))
        h = float(horizon_periods)
        return np.where(c > 0, (1 - (1 - c) ** h) / c, np.where(c == 0, h, np.nan))


def heuristic_clv(transactions: pd.DataFrame, scores: pd.DataFrame | None = None, *,
                  segments: pd.Series | None = None, period: str = "M", inactivity_window: int = 0,
                  churn_rate: float | None = None, horizon_periods: int | None = None, margin: float = 1.0,
                  customer_id_col: str = "customer_id", datetime_col: str = "date",
                  monetary_value_col: str = "amount", clv_col: str = "clv",
                  observation_period_end=None) -> pd.DataFrame:
    """Heuristic CLV overall and per segment, side by side with the mean model CLV.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per order with customer, date and amount; validated as by
        :func:`clvmodels.rfm_summary`.
    scores : pandas.DataFrame, optional
        Scores table with ``customer_id`` and ``clv`` (as the batch runner writes it); adds
        ``model_clv`` (mean over the group's customers) and ``heuristic_to_model``.
    segments : pandas.Series, optional
        Segment of each customer (indexed by customer id), e.g. from
        :func:`~clvmodels.kpis.value_segments`; adds one row per segment.
    period : {"M", "Q", "Y"}, default "M"
        Period of the frequency and of the churn rate (lifetime is in these periods).
    inactivity_window : int, default 0
        As in :func:`~clvmodels.kpis.retention_table`.
    churn_rate : float, optional
        Churn rate per period to use instead of the observed pooled one (same for every group).
    horizon_periods : int, optional
        Cap the lifetime at this horizon (see the module docstring); default unbounded.
    margin : float, default 1.0
        Share of revenue that is profit (1 compares revenue with a revenue CLV).
    customer_id_col, datetime_col, monetary_value_col, clv_col : str
        Column names.
    observation_period_end : date-like, optional
        End of observation; default the last transaction.

    Returns
    -------
    pandas.DataFrame
        Index ``segment`` (``"all"`` first, then the segments present, each with its own order value,
        frequency and churn rate measured on its customers only): ``n_customers``,
        ``orders``, ``revenue``, ``average_order_value``, ``active_periods``,
        ``purchase_frequency``, ``churn_rate``, ``expected_lifetime``, ``heuristic_clv`` and,
        with scores, ``model_clv`` and ``heuristic_to_model``.

    Examples
    --------
    Two customers over two months: a buys 10 and 30 in January and 20 in February, b buys 40 in
    January and is lost in February (churn 1 / 2).

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"], "amount": [10.0, 30.0, 20.0, 40.0],
    ...                    "date": pd.to_datetime(["2024-01-02", "2024-01-09", "2024-02-01", "2024-01-03"])})
    >>> row = heuristic_clv(tx, observation_period_end="2024-02-29").loc["all"]
    >>> row[["average_order_value", "purchase_frequency", "expected_lifetime", "heuristic_clv"]].tolist()
    [25.0, 1.3333333333333333, 2.0, 66.66666666666666]
    """
    period = normalise_period(period)
    window = check_count(inactivity_window, name="inactivity_window")
    margin = check_fraction(margin, name="margin")
    if horizon_periods is not None:
        horizon_periods = check_count(horizon_periods, name="horizon_periods", minimum=1)
    if churn_rate is not None:
        churn_rate = check_fraction(churn_rate, name="churn_rate")
    tx = read_transactions(transactions, customer_id_col=customer_id_col, datetime_col=datetime_col,
                           monetary_value_col=monetary_value_col, observation_period_end=observation_period_end)
    act = activity(tx, period=period, window=window)
    groups = {"all": np.ones(len(tx.customer_ids), dtype=bool)}
    if segments is not None:
        labels = segment_labels(segments, tx.customer_ids)
        present = labels.dropna()
        if isinstance(labels.dtype, pd.CategoricalDtype):
            order = [c for c in labels.cat.categories if c in set(present)]
        else:
            order = list(pd.unique(present))
        values = labels.to_numpy(dtype=object)
        groups.update({label: values == label for label in order})
    model = None if scores is None else scores_frame(scores, [clv_col], customer_id_col=customer_id_col)[clv_col]
    rows = []
    for mask in groups.values():  # one pass per segment (a handful), vectorised within
        row_mask = mask[tx.codes]
        counts = period_counts(act, mask[act.customer])
        counts["complete"] = np.r_[np.ones(len(counts) - 1, dtype=bool), act.last_complete]
        orders = int(row_mask.sum())
        active = int(counts["customers_end"].sum())
        churn = pooled_churn_rate(counts) if churn_rate is None else churn_rate
        row = {"n_customers": int(mask.sum()), "orders": orders, "revenue": float(tx.amounts[row_mask].sum()),
               "active_periods": active, "churn_rate": churn}
        row["average_order_value"] = row["revenue"] / orders if orders else np.nan
        row["purchase_frequency"] = orders / active if active else np.nan
        row["expected_lifetime"] = float(expected_lifetime(churn, horizon_periods))
        row["heuristic_clv"] = margin * row["average_order_value"] * row["purchase_frequency"] \
            * row["expected_lifetime"]
        if model is not None:
            ids = tx.customer_ids[mask]
            matched = model.reindex(ids).dropna()
            row["model_clv"] = float(matched.mean()) if len(matched) else np.nan
            row["heuristic_to_model"] = row["heuristic_clv"] / row["model_clv"] if row["model_clv"] else np.nan
        rows.append(row)
    columns = ["n_customers", "orders", "revenue", "average_order_value", "active_periods", "purchase_frequency",
               "churn_rate", "expected_lifetime", "heuristic_clv"] + (["model_clv", "heuristic_to_model"]
                                                                      if model is not None else [])
    table = pd.DataFrame(rows, index=pd.Index(list(groups), name="segment"))[columns]
    return describe(
        table, "Rule-of-thumb CLV = margin x average order value x orders per active customer-period x expected "
        "lifetime (1 / churn rate" + ("" if horizon_periods is None else f", within {horizon_periods} periods")
        + "), beside the mean model CLV.",
        period=period, inactivity_window=window, margin=margin, horizon_periods=horizon_periods,
        churn_rate_given=churn_rate, observation_period_end=tx.observation_period_end.isoformat())
