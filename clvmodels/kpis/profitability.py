"""Customer profitability ("customer costing"): what each customer has earned net of costs, and
what they are expected to earn going forward.

Per order (one transaction row), with ``a`` the amount and ``r`` the returned (refunded) amount:

- gross margin ``(a - r) x margin`` with a margin rate, or ``a - r - cost`` with a cost column
  (the cost of the goods the customer kept);
- net value ``gross margin - cost to serve`` (a fixed cost per order, or a column).

Per customer the order values add up to the historical ``net_value``. Going forward,
``net_clv = clv x net_value / revenue``: the model's revenue CLV (run the batch runner with
``margin: 1``) times the share of revenue the customer has historically kept as net value (the
whole book's share for a customer without revenue). A customer is *unprofitable* when the net
value is below zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import invalid_rows_error, require_columns
from ._common import check_fraction, describe, numeric_column, scores_frame, segment_labels

__all__ = ["customer_profitability", "profitability_summary"]

_REMEDY = "Fix or drop these rows."


def _order_values(frame: pd.DataFrame, *, amount_col, margin, cost_col, cost_to_serve, returns_col):
    """Revenue, returns, gross margin and cost to serve of every order."""
    what = "The transactions table"
    costs = "The order costs (kpis.costs in a batch job, joined to the transactions)"
    amount = numeric_column(frame, amount_col, what=what, remedy=_REMEDY)
    returned = np.zeros_like(amount)
    if returns_col is not None:
        returned = numeric_column(frame, returns_col, what=costs,
                                  remedy="Returns are refunded amounts, recorded as positive numbers.")
        over = returned > amount * (1 + 1e-12) + 1e-9
        if over.any():
            raise invalid_rows_error(returns_col, f"must not exceed the order amount {amount_col!r}", over, frame,
                                     "Record at most the amount of the order as returned.")
    kept = amount - returned
    if cost_col is not None:
        gross = kept - numeric_column(frame, cost_col, what=costs,
                                      remedy="Costs are positive amounts; record refunds with returns_col=.")
    else:
        gross = kept * margin
    if isinstance(cost_to_serve, str):
        serve = numeric_column(frame, cost_to_serve, what=costs, remedy="Costs to serve are positive amounts.")
    else:
        try:
            serve_value = float(cost_to_serve)
        except (TypeError, ValueError):
            serve_value = float("nan")
        if not np.isfinite(serve_value) or serve_value < 0:
            raise ValueError(f"cost_to_serve must be a non-negative number per order or a column name, "
                             f"got {cost_to_serve!r}.")
        serve = np.full_like(amount, serve_value)
    return amount, returned, gross, serve


def customer_profitability(transactions: pd.DataFrame, scores: pd.DataFrame | None = None, *,
                           margin: float | None = None, cost_col: str | None = None,
                           cost_to_serve: float | str = 0.0, returns_col: str | None = None,
                           customer_id_col: str = "customer_id", monetary_value_col: str = "amount",
                           clv_col: str = "clv") -> pd.DataFrame:
    """Historical net value per customer and, with scores, net CLV going forward.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per order with the customer, the amount and any cost columns.
    scores : pandas.DataFrame, optional
        Scores table with ``customer_id`` and a revenue ``clv``; adds ``clv`` and ``net_clv``.
    margin : float, optional
        Gross margin rate in [0, 1] (e.g. 0.3). Give either ``margin`` or ``cost_col``.
    cost_col : str, optional
        Column with the cost of the goods of each order (not negative).
    cost_to_serve : float or str, default 0
        Cost of serving one order (shipping, handling, payment), or a column holding it.
    returns_col : str, optional
        Column with the amount refunded on each order (0 to the order amount).
    customer_id_col, monetary_value_col, clv_col : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        Index: customer id. ``orders``, ``revenue``, ``returns``, ``gross_margin``,
        ``cost_to_serve``, ``net_value`` and ``unprofitable`` (``net_value < 0``); with scores,
        ``clv``, ``net_clv`` and ``unprofitable_future`` (``net_clv < 0``). ``attrs`` holds the
        settings and ``share_unprofitable``.

    Examples
    --------
    a: two orders of 100 (20 of one returned), b: one order of 10; margin 30 %, 5 per order:

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [100.0, 100.0, 10.0],
    ...                    "returned": [0.0, 20.0, 0.0]})
    >>> t = customer_profitability(tx, margin=0.3, cost_to_serve=5.0, returns_col="returned")
    >>> t["net_value"].round(6).tolist()  # a: 180 x 0.3 - 2 x 5 = 44; b: 10 x 0.3 - 5 = -2
    [44.0, -2.0]
    >>> t.attrs["share_unprofitable"]
    0.5
    """
    if (margin is None) == (cost_col is None):
        raise ValueError("Give exactly one of margin= (a gross margin rate such as 0.3) or cost_col= (a column "
                         "with the cost of the goods of each order).")
    if margin is not None:
        margin = check_fraction(margin, name="margin")
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a pandas DataFrame, got {type(transactions).__name__}.")
    require_columns(transactions, [customer_id_col, monetary_value_col], what="The transactions table",
                    hint="Pass customer_id_col= and monetary_value_col= naming your columns.")
    ids = transactions[customer_id_col]
    if ids.isna().any():
        raise invalid_rows_error(customer_id_col, "customer id must not be missing", ids.isna().to_numpy(),
                                 transactions, "Fill in or drop the rows without a customer.")
    amount, returned, gross, serve = _order_values(transactions, amount_col=monetary_value_col, margin=margin,
                                                   cost_col=cost_col, cost_to_serve=cost_to_serve,
                                                   returns_col=returns_col)
    codes, customers = pd.factorize(ids, sort=True)
    n = len(customers)

    def total(values):
        return np.bincount(codes, weights=values, minlength=n)

    table = pd.DataFrame({"orders": np.bincount(codes, minlength=n), "revenue": total(amount),
                          "returns": total(returned), "gross_margin": total(gross),
                          "cost_to_serve": total(serve)}, index=pd.Index(customers, name=customer_id_col))
    table["net_value"] = table["gross_margin"] - table["cost_to_serve"]
    table["unprofitable"] = table["net_value"] < 0
    if scores is not None:
        clv = scores_frame(scores, [clv_col], customer_id_col=customer_id_col)[clv_col]
        revenue = table["revenue"].to_numpy()
        book = table["net_value"].sum() / revenue.sum() if revenue.sum() > 0 else 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            kept = np.where(revenue > 0, table["net_value"].to_numpy() / revenue, book)
        table["clv"] = clv.reindex(table.index).to_numpy()
        table["net_clv"] = table["clv"] * kept
        table["unprofitable_future"] = table["net_clv"] < 0
    return describe(
        table, "Net value per customer: gross margin (after returns) minus cost to serve; net CLV = model CLV x "
        "the customer's historical net value / revenue.",
        margin=margin, cost_col=cost_col, cost_to_serve=cost_to_serve, returns_col=returns_col,
        share_unprofitable=float(table["unprofitable"].mean()))


def profitability_summary(table: pd.DataFrame, segments: pd.Series | None = None) -> pd.DataFrame:
    """Number and share of unprofitable customers, overall and per segment.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`customer_profitability`.
    segments : pandas.Series, optional
        Segment of each customer (indexed by customer id); adds one row per segment.

    Returns
    -------
    pandas.DataFrame
        Index ``segment`` (``"all"`` first): ``n_customers``, ``net_value``, ``n_unprofitable``,
        ``share_unprofitable`` and, when the table has them, ``net_clv``,
        ``n_unprofitable_future`` and ``share_unprofitable_future``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"net_value": [44.0, -2.0, 3.0], "unprofitable": [False, True, False]},
    ...                  index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> profitability_summary(t).loc["all", ["n_unprofitable", "share_unprofitable"]].round(4).tolist()  # 1 of 3
    [1.0, 0.3333]
    """
    require_columns(table, ["net_value", "unprofitable"], what="The profitability table",
                    hint="Build it with clvmodels.kpis.customer_profitability().")
    parts = {"n_customers": ("net_value", "size"), "net_value": ("net_value", "sum"),
             "n_unprofitable": ("unprofitable", "sum"), "share_unprofitable": ("unprofitable", "mean")}
    if "net_clv" in table:
        parts.update({"net_clv": ("net_clv", "sum"), "n_unprofitable_future": ("unprofitable_future", "sum"),
                      "share_unprofitable_future": ("unprofitable_future", "mean")})
    frame = table.assign(segment="all")
    overall = frame.groupby("segment").agg(**parts)
    if segments is not None:
        labels = segment_labels(segments, table.index)
        by = table.assign(segment=labels.to_numpy()).groupby("segment", observed=True, sort=True).agg(**parts)
        overall = pd.concat([overall, by])
    overall.index.name = "segment"
    for column in ("n_customers", "n_unprofitable", "n_unprofitable_future"):
        if column in overall:
            overall[column] = overall[column].astype(np.int64)
    return describe(overall, "Customers with negative net value (historically and going forward), by segment.")
