"""Value segments from a model's scores, their sizes and value shares, and their profiles.

Each customer gets the first segment whose rule they meet, in this order (defaults in brackets):

1. ``lost``: P(alive) below ``alive_low`` [0.3];
2. ``champions``: high value (CLV at least ``high_value``, by default the ``high_value_quantile``
   [0.8] quantile of CLV, i.e. the top 20 %) and P(alive) at least ``alive_high`` [0.7];
3. ``at_risk``: high value but P(alive) between ``alive_low`` and ``alive_high``: valuable
   customers whose purchases have lapsed for longer than their own rhythm suggests;
4. ``new``: no repeat purchase yet (``frequency == 0``; skipped without a frequency column) and
   acquired recently (``T <= new_max_age`` [13, a quarter in weeks]; any age without a ``T``
   column or with ``new_max_age=None``);
5. ``one_time``: no repeat purchase although acquired longer ago: one-time buyers (BG/NBD still
   gives them P(alive) = 1, as it lets customers drop out only after a purchase);
6. ``big_spenders``: expected spend per purchase in the top ``1 - high_spend_quantile`` [0.8]
   (skipped without an ``expected_spend`` column);
7. ``loyal``: at least ``loyal_min_frequency`` [2] repeat purchases and P(alive) at least
   ``alive_high``;
8. ``potential``: everyone else (alive, modest value so far).

One table of scores is a snapshot, so "P(alive) falling" is read as a middling P(alive) of a
customer whose value says they used to buy often; compare two snapshots to see the trend itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import invalid_rows_error, require_columns
from ._common import check_count, check_fraction, describe, scores_frame, segment_labels

__all__ = ["SEGMENTS", "value_segments", "segment_summary", "segment_profile"]

#: Segment names, in order of precedence.
SEGMENTS = ("lost", "champions", "at_risk", "new", "one_time", "big_spenders", "loyal", "potential")


def value_segments(scores: pd.DataFrame, *, alive_high: float = 0.7, alive_low: float = 0.3,
                   high_value_quantile: float = 0.8, high_value: float | None = None,
                   high_spend_quantile: float = 0.8, loyal_min_frequency: int = 2, new_max_age: float | None = 13.0,
                   customer_id_col: str = "customer_id", p_alive_col: str = "p_alive", value_col: str = "clv",
                   spend_col: str = "expected_spend", frequency_col: str = "frequency", age_col: str = "T") -> pd.Series:
    """Segment of each customer from P(alive), CLV, expected spend and frequency.

    Parameters
    ----------
    scores : pandas.DataFrame
        Scores table as the batch runner writes it (``customer_id``, ``p_alive``, ``clv`` and, if
        present, ``expected_spend`` and ``frequency``).
    alive_high, alive_low : float, default 0.7, 0.3
        P(alive) thresholds (``alive_low <= alive_high``).
    high_value_quantile : float, default 0.8
        Quantile of CLV above which a customer is of high value (when ``high_value`` is not given).
    high_value : float, optional
        Absolute CLV threshold of high value; overrides ``high_value_quantile``.
    high_spend_quantile : float, default 0.8
        Quantile of expected spend above which a customer is a big spender.
    loyal_min_frequency : int, default 2
        Repeat purchases needed to be loyal.
    new_max_age : float or None, default 13.0
        Largest age (``T``, time since the first purchase, in the summary's time unit: 13 weeks by
        default) of a ``new`` customer; older customers without a repeat purchase are
        ``one_time``. ``None``: every customer without a repeat purchase is ``new``.
    customer_id_col, p_alive_col, value_col, spend_col, frequency_col, age_col : str
        Column names; ``spend_col``, ``frequency_col`` and ``age_col`` are optional in ``scores``.

    Returns
    -------
    pandas.Series
        ``segment`` (categorical with categories :data:`SEGMENTS`) indexed by customer id;
        ``attrs["thresholds"]`` holds the thresholds used, quantiles resolved to values.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5],
    ...                        "p_alive": [0.9, 0.5, 0.1, 0.95, 0.8],
    ...                        "clv": [500.0, 400.0, 300.0, 20.0, 30.0],
    ...                        "frequency": [5.0, 4.0, 2.0, 0.0, 3.0]})
    >>> value_segments(scores, high_value=300.0).tolist()
    ['champions', 'at_risk', 'lost', 'new', 'loyal']
    """
    alive_high = check_fraction(alive_high, name="alive_high")
    alive_low = check_fraction(alive_low, name="alive_low", high=alive_high)
    high_value_quantile = check_fraction(high_value_quantile, name="high_value_quantile")
    high_spend_quantile = check_fraction(high_spend_quantile, name="high_spend_quantile")
    loyal_min_frequency = check_count(loyal_min_frequency, name="loyal_min_frequency")
    optional = [c for c in (spend_col, frequency_col, age_col) if c in scores.columns]
    frame = scores_frame(scores, [p_alive_col, value_col, *optional], customer_id_col=customer_id_col)
    p = frame[p_alive_col].to_numpy(dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise invalid_rows_error(p_alive_col, "P(alive) must lie between 0 and 1", (p < 0) | (p > 1), frame,
                                 "Pass the probability column of the scores table (p_alive=).")
    value = frame[value_col].to_numpy(dtype=float)
    threshold = float(np.quantile(value, high_value_quantile)) if high_value is None else float(high_value)
    high = value >= threshold
    rules = {"lost": p < alive_low, "champions": high & (p >= alive_high), "at_risk": high & (p < alive_high)}
    thresholds = {"alive_high": alive_high, "alive_low": alive_low, "high_value": threshold}
    none = np.zeros(len(frame), dtype=bool)
    frequency = frame[frequency_col].to_numpy(dtype=float) if frequency_col in frame else None
    first_only = frequency == 0 if frequency is not None else none
    if new_max_age is not None and age_col in frame:
        young = frame[age_col].to_numpy(dtype=float) <= float(new_max_age)
        thresholds["new_max_age"] = float(new_max_age)
    else:
        young = np.ones(len(frame), dtype=bool)
    rules["new"], rules["one_time"] = first_only & young, first_only & ~young
    if spend_col in frame:
        spend = frame[spend_col].to_numpy(dtype=float)
        thresholds["high_spend"] = float(np.quantile(spend, high_spend_quantile))
        rules["big_spenders"] = spend >= thresholds["high_spend"]
    else:
        rules["big_spenders"] = none
    rules["loyal"] = (frequency >= loyal_min_frequency) & (p >= alive_high) if frequency is not None else none
    thresholds["loyal_min_frequency"] = loyal_min_frequency
    choice = np.select([rules[name] for name in SEGMENTS[:-1]], list(range(len(SEGMENTS) - 1)),
                       default=len(SEGMENTS) - 1)
    labels = pd.Series(pd.Categorical.from_codes(choice, categories=list(SEGMENTS)), index=frame.index,
                       name="segment")
    labels.attrs.update({"description": "Value segment of each customer (first matching rule wins).",
                         "thresholds": thresholds})
    return labels


def segment_summary(scores: pd.DataFrame, segments: pd.Series, *, customer_id_col: str = "customer_id",
                    value_col: str = "clv", p_alive_col: str = "p_alive") -> pd.DataFrame:
    """Size and value share of each segment.

    Parameters
    ----------
    scores : pandas.DataFrame
        Scores table with ``customer_id``, ``clv`` and ``p_alive``.
    segments : pandas.Series
        Segment of each customer, e.g. from :func:`value_segments`.
    customer_id_col, value_col, p_alive_col : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        Index ``segment`` (every category of a categorical ``segments``, also empty ones):
        ``n_customers``, ``share_customers``, ``total_value``, ``share_value``, ``mean_value`` and
        ``mean_p_alive``. Customers without a segment are left out (counted in ``attrs``).

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"customer_id": [1, 2, 3, 4], "p_alive": [0.9, 0.8, 0.2, 0.6],
    ...                        "clv": [60.0, 20.0, 0.0, 20.0]})
    >>> seg = pd.Series(["top", "rest", "rest", "rest"], index=[1, 2, 3, 4])
    >>> segment_summary(scores, seg)[["share_customers", "share_value"]].to_dict("index")
    {'rest': {'share_customers': 0.75, 'share_value': 0.4}, 'top': {'share_customers': 0.25, 'share_value': 0.6}}
    """
    frame = scores_frame(scores, [value_col, p_alive_col], customer_id_col=customer_id_col)
    labels = segment_labels(segments, frame.index)
    table = frame.assign(segment=labels.array).groupby("segment", observed=False, sort=True).agg(
        n_customers=(value_col, "size"), total_value=(value_col, "sum"), mean_value=(value_col, "mean"),
        mean_p_alive=(p_alive_col, "mean"))
    n, total = table["n_customers"].sum(), table["total_value"].sum()
    table["n_customers"] = table["n_customers"].astype(np.int64)
    table["share_customers"] = table["n_customers"] / n if n else np.nan
    table["share_value"] = table["total_value"] / total if total else np.nan
    table = table[["n_customers", "share_customers", "total_value", "share_value", "mean_value", "mean_p_alive"]]
    return describe(table, "Customers and value (CLV) per segment, as counts and shares.",
                    n_without_segment=int(labels.isna().sum()))


def segment_profile(segments: pd.Series, customers: pd.DataFrame, *, attributes: list[str] | None = None,
                    customer_id_col: str = "customer_id") -> pd.DataFrame:
    """Profile of each segment by customer attributes, to find look-alike prospects.

    Categorical attributes (text, categories, booleans) give the share of the segment's customers
    in each category; numerical ones give the segment's mean.

    Parameters
    ----------
    segments : pandas.Series
        Segment of each customer, e.g. from :func:`value_segments`.
    customers : pandas.DataFrame
        One row per customer: the customer id and attributes (region, age band, channel, ...).
    attributes : list of str, optional
        Attribute columns to profile; default every column but the customer id.
    customer_id_col : str, default "customer_id"
        Customer id column of ``customers``.

    Returns
    -------
    pandas.DataFrame
        Index (``attribute``, ``value``): a category, or ``"mean"`` for a numerical attribute.
        One column per segment plus ``all`` (every segmented customer with attributes). Missing
        attribute values count as the category ``"(missing)"``.

    Examples
    --------
    >>> import pandas as pd
    >>> seg = pd.Series(["top", "top", "rest"], index=[1, 2, 3])
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3], "region": ["N", "S", "S"], "age": [30, 50, 20]})
    >>> segment_profile(seg, customers)["top"].to_dict()  # half north, half south, mean age 40
    {('region', 'N'): 0.5, ('region', 'S'): 0.5, ('age', 'mean'): 40.0}
    """
    if not isinstance(customers, pd.DataFrame):
        raise TypeError(f"customers must be a pandas DataFrame, got {type(customers).__name__}.")
    if customer_id_col not in customers.columns and customers.index.name == customer_id_col:
        customers = customers.reset_index()
    if attributes is None:
        attributes = [c for c in customers.columns if c != customer_id_col]
    require_columns(customers, [customer_id_col, *attributes], what="The customer attributes table",
                    hint="Pass attributes= naming the columns to profile.")
    frame = customers.drop_duplicates(customer_id_col).set_index(customer_id_col)
    labels = segment_labels(segments, frame.index)
    frame = frame[labels.notna().to_numpy()]
    labels = labels[labels.notna()]
    order = list(labels.cat.categories) if isinstance(labels.dtype, pd.CategoricalDtype) \
        else sorted(pd.unique(labels.astype(object)), key=str)
    group = labels.astype(object).to_numpy()
    parts = []
    for name in attributes:  # one vectorised crosstab per attribute column
        column = frame[name]
        numeric = pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype)
        if numeric:
            means = column.groupby(group).mean().reindex(order)
            block = pd.DataFrame([means.to_numpy()], columns=order, index=pd.Index(["mean"]))
            block["all"] = column.mean()
        else:
            values = column.astype(object).where(column.notna(), "(missing)").to_numpy()
            block = pd.crosstab(values, group, normalize="columns").reindex(columns=order)
            block["all"] = pd.Series(values).value_counts(normalize=True).reindex(block.index).to_numpy()
        block.index = pd.MultiIndex.from_product([[name], block.index], names=["attribute", "value"])
        parts.append(block)
    table = pd.concat(parts) if parts else pd.DataFrame(columns=[*order, "all"])
    table.columns = pd.Index(table.columns, name="segment")
    return describe(table, "Share of each segment in each category of the attributes (mean for numbers).",
                    n_customers=int(len(frame)))
