"""Acquisition economics: which channels (or campaigns) bring the most valuable customers for
what they cost.

Per group of customers (a channel, a campaign, ...), with ``CAC`` the acquisition cost of each
customer and ``CLV`` their model CLV:

- ``clv_to_cac = sum CLV / sum CAC`` (the ratio of the means; 3 or more is the usual target);
- with the transaction log, ``margin_per_period``: margin earned per customer per period since
  acquisition (``margin x revenue / customer-periods``, a customer counting every period from
  their first purchase to the observation end), and the simple payback period
  ``payback_periods = mean CAC / margin_per_period``;
- ``share_paid_back``: customers whose cumulative historical margin already covers their CAC, and
  ``median_payback_periods`` among them (periods from the acquisition period to the one in which
  it was covered, 0 for the acquisition period itself). Customers without purchases in the log
  count as not paid back and add no customer-periods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import invalid_rows_error, require_columns, require_rows
from ..exceptions import InvalidValueError
from ._common import check_fraction, describe, last_period, normalise_period, numeric_column, period_ordinal, \
    read_transactions, scores_frame

__all__ = ["acquisition_economics"]

MISSING = "(missing)"


def _customers_frame(customers: pd.DataFrame, by: list[str], *, cac_col: str, customer_id_col: str) -> pd.DataFrame:
    what = "The customer attributes table"
    if not isinstance(customers, pd.DataFrame):
        raise TypeError(f"customers must be a pandas DataFrame, got {type(customers).__name__}.")
    if customer_id_col not in customers.columns and customers.index.name == customer_id_col:
        customers = customers.reset_index()
    require_columns(customers, [customer_id_col, *by, cac_col], what=what,
                    hint="Pass by= and cac_col= naming the channel and acquisition-cost columns.")
    require_rows(customers, what=what)
    dup = customers[customer_id_col].duplicated(keep=False).to_numpy()
    if dup.any():
        raise invalid_rows_error(customer_id_col, "each customer must appear once", dup, customers,
                                 "Keep one row per customer (their acquisition channel and cost).")
    cac = numeric_column(customers, cac_col, what=what, remedy="Acquisition costs are amounts of at least 0.")
    frame = customers[[customer_id_col, *by]].copy()
    for column in by:
        frame[column] = frame[column].astype(object).where(frame[column].notna(), MISSING)
    frame["cac"] = cac
    return frame.set_index(customer_id_col)


def _payback(frame: pd.DataFrame, transactions: pd.DataFrame, *, margin: float, period: str,
             customer_id_col: str, datetime_col: str, monetary_value_col: str, observation_period_end):
    """Per customer: customer-periods since acquisition, margin earned, periods to pay back the CAC."""
    tx = read_transactions(transactions, customer_id_col=customer_id_col, datetime_col=datetime_col,
                           monetary_value_col=monetary_value_col, observation_period_end=observation_period_end)
    ordinal = period_ordinal(tx.timestamps, period)
    last, _ = last_period(tx, period)
    n = len(tx.customer_ids)
    cohort = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(cohort, tx.codes, ordinal)
    # Margin in time order within each customer, then the first period where it covers the CAC.
    order = np.lexsort((tx.timestamps, tx.codes))
    codes, when, earned = tx.codes[order], ordinal[order], margin * tx.amounts[order]
    cumulative = pd.Series(earned).groupby(codes).cumsum().to_numpy()
    cac = pd.Series(frame["cac"]).reindex(tx.customer_ids).to_numpy(dtype=float)
    covered = cumulative >= cac[codes] - 1e-9
    paid_at = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(paid_at, codes[covered], when[covered])
    paid = paid_at < np.iinfo(np.int64).max
    out = pd.DataFrame({"customer_periods": last - cohort + 1,
                        "margin": np.bincount(tx.codes, weights=margin * tx.amounts, minlength=n),
                        "paid_back": paid,
                        "payback": np.where(paid, paid_at - cohort, np.nan)}, index=tx.customer_ids)
    out = out.reindex(frame.index)  # customers without purchases: nothing earned, nothing paid back
    out["margin"] = out["margin"].fillna(0.0)
    out["paid_back"] = out["paid_back"].astype("boolean").fillna(False).astype(bool)
    return out, tx


def acquisition_economics(scores: pd.DataFrame, customers: pd.DataFrame, *, by: str | list[str] = "channel",
                          cac_col: str = "cac", customer_id_col: str = "customer_id", clv_col: str = "clv",
                          transactions: pd.DataFrame | None = None, margin: float = 1.0, period: str = "M",
                          datetime_col: str = "date", monetary_value_col: str = "amount",
                          observation_period_end=None, sort_by: str = "clv_to_cac") -> pd.DataFrame:
    """CLV, CAC, CLV:CAC and payback per acquisition channel (or campaign), ranked.

    Parameters
    ----------
    scores : pandas.DataFrame
        Scores table with ``customer_id`` and ``clv`` (as the batch runner writes it).
    customers : pandas.DataFrame
        One row per customer with the customer id, the ``by`` column(s) and the acquisition cost.
        Every customer here needs a score; scored customers absent from it are left out (counted in
        ``attrs["n_scores_without_attributes"]``).
    by : str or list of str, default "channel"
        Column(s) defining the groups, e.g. ``"channel"`` or ``["channel", "campaign"]``; missing
        values form a ``"(missing)"`` group.
    cac_col : str, default "cac"
        Acquisition cost of each customer (not negative).
    customer_id_col, clv_col : str
        Column names.
    transactions : pandas.DataFrame, optional
        Transaction log of the same customers; adds the payback columns (see the module docstring).
    margin : float, default 1.0
        Margin rate applied to historical revenue for the payback.
    period : {"M", "Q", "Y"}, default "M"
        Unit of the payback periods.
    datetime_col, monetary_value_col : str
        Date and amount columns of ``transactions``.
    observation_period_end : date-like, optional
        End of observation of ``transactions``.
    sort_by : str, default "clv_to_cac"
        Column to rank the groups by (descending); ``rank`` 1 is the best.

    Returns
    -------
    pandas.DataFrame
        Index: the ``by`` column(s). ``n_customers``, ``total_cac``, ``mean_cac``, ``total_clv``,
        ``mean_clv``, ``clv_to_cac`` (infinite when nothing was spent), with transactions
        ``margin_per_period``, ``payback_periods``, ``share_paid_back`` and
        ``median_payback_periods``, and ``rank``; sorted by rank.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"customer_id": [1, 2, 3], "clv": [90.0, 30.0, 40.0]})
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3], "channel": ["search", "search", "social"],
    ...                           "cac": [20.0, 20.0, 40.0]})
    >>> t = acquisition_economics(scores, customers)
    >>> t["clv_to_cac"].to_dict()  # search: 120 / 40; social: 40 / 40
    {'search': 3.0, 'social': 1.0}
    """
    by = [by] if isinstance(by, str) else list(by)
    margin = check_fraction(margin, name="margin")
    period = normalise_period(period)
    frame = _customers_frame(customers, by, cac_col=cac_col, customer_id_col=customer_id_col)
    clv = scores_frame(scores, [clv_col], customer_id_col=customer_id_col)[clv_col]
    unscored = ~frame.index.isin(clv.index)
    if unscored.any():
        examples = frame.index[unscored][:5].tolist()
        raise InvalidValueError(
            f"{int(unscored.sum())} of {len(frame)} customers of the attributes table have no score "
            f"(first: {examples}). Score them, or drop them from the customers table.")
    frame["clv"] = clv.reindex(frame.index).to_numpy()
    columns = ["n_customers", "total_cac", "mean_cac", "total_clv", "mean_clv", "clv_to_cac"]
    observation_end = None
    if transactions is not None:
        pay, tx = _payback(frame, transactions, margin=margin, period=period, customer_id_col=customer_id_col,
                           datetime_col=datetime_col, monetary_value_col=monetary_value_col,
                           observation_period_end=observation_period_end)
        observation_end = tx.observation_period_end.isoformat()
        frame = frame.join(pay)
        columns += ["margin_per_period", "payback_periods", "share_paid_back", "median_payback_periods"]
    grouped = frame.groupby(by, sort=True)
    table = grouped.agg(n_customers=("cac", "size"), total_cac=("cac", "sum"), mean_cac=("cac", "mean"),
                        total_clv=("clv", "sum"), mean_clv=("clv", "mean"))
    with np.errstate(divide="ignore", invalid="ignore"):
        table["clv_to_cac"] = table["total_clv"] / table["total_cac"]
        if transactions is not None:
            sums = grouped[["margin", "customer_periods"]].sum()
            table["margin_per_period"] = sums["margin"] / sums["customer_periods"]
            table["payback_periods"] = table["mean_cac"] / table["margin_per_period"]
            table["share_paid_back"] = grouped["paid_back"].mean()
            table["median_payback_periods"] = grouped["payback"].median()
    if sort_by not in table:
        raise ValueError(f"sort_by must be one of {list(table.columns)}, got {sort_by!r}.")
    table = table[columns].sort_values(sort_by, ascending=False, kind="stable")
    table["rank"] = np.arange(1, len(table) + 1)
    return describe(
        table, "Acquisition economics per " + " x ".join(by) + ": CLV, CAC, CLV:CAC"
        + (", margin per customer-period and payback" if transactions is not None else "") + ".",
        by=by, margin=margin, period=period, sort_by=sort_by,
        n_scores_without_attributes=int((~clv.index.isin(frame.index)).sum()),
        observation_period_end=observation_end)
